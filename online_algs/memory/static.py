"""Static datastores evaluated on a stream (offline baselines and the best static in hindsight)."""

from __future__ import annotations

import numpy as np

from .mixture import LambdaHedge, interpolate, knn_distribution

__all__ = ["evaluate_static", "static_surrogate_best"]


def evaluate_static(model, F, y, store_idx, *, k: int = 5, tau: float = 10.0, lam="learn") -> dict:
    """Prequential accuracy on the stream of a fixed datastore (rows ``store_idx`` of the stream),
    with the same interpolation as :class:`MemoryAugmentedClassifier`. An oracle baseline: the
    store may hold examples from the future."""
    F = np.asarray(F, dtype=float)
    y = np.asarray(y)
    keys, labels = F[store_idx], y[store_idx]
    hedge = LambdaHedge() if lam == "learn" else None
    pm = model.predict_proba_features(F)
    correct = 0
    for t in range(len(y)):
        if len(keys) == 0:
            p = pm[t]
        else:
            pk, _ = knn_distribution(F[t], keys, labels, pm.shape[1], k, tau)
            lt = hedge.lam if hedge is not None else float(lam)
            p = interpolate(pm[t], pk, lt)
            if hedge is not None:
                hedge.update(pm[t][y[t]], pk[y[t]])
        correct += int(np.argmax(p) == y[t])
    return {"accuracy": correct / len(y), "size": int(len(keys))}


def static_surrogate_best(model, F, y, capacity: int, *, k: int = 5, tau: float = 10.0) -> np.ndarray:
    """The best static datastore in hindsight for the surrogate gain of the ``"omd"`` policy
    (top-h stream examples by cumulative :func:`~online_algs.memory.classifier.gain_vector` over the
    4k nearest earlier candidates of each request, :func:`~online_algs.memory.classifier.candidate_gains`)."""
    from .classifier import candidate_gains

    F = np.asarray(F, dtype=float)
    y = np.asarray(y)
    G = np.zeros(len(y))
    pm = model.predict_proba_features(F)
    for t in range(1, len(y)):
        cand, g = candidate_gains(F[:t], y[:t], F[t], int(y[t]), pm[t], k, tau)
        G[cand] += g
    return np.sort(np.argsort(-G, kind="stable")[:capacity])
