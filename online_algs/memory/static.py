"""Static datastores evaluated on a stream (offline baselines and the best static in hindsight)."""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_float, check_int, check_int_array
from ..exceptions import InvalidInputError
from .mixture import LambdaHedge, interpolate, knn_distribution
from .reduction import _check as _check_stream

__all__ = ["evaluate_static", "static_surrogate_best"]


def _check_knn(k, tau, owner):
    check_int("k", k, low=1, owner=owner)
    check_float("tau", tau, low=0.0, low_open=True, owner=owner)


def _model_proba(model, F, y, owner):
    """The model's class probabilities on the stream; every label must be one of its classes."""
    proba = model.predict_proba_features(F)
    if y.size and y.max() >= proba.shape[1]:
        raise InvalidInputError(f"The 'y' argument of {owner} must hold labels < n_classes = {proba.shape[1]} of "
                                f"the model. Got label {int(y.max())}; fit the model on every class of the stream.")
    return proba


def evaluate_static(model, F, y, store_idx, *, k: int = 5, tau: float = 10.0, lam="learn") -> dict:
    """Prequential accuracy on the stream of a fixed datastore (rows ``store_idx`` of the stream),
    with the same interpolation as :class:`MemoryAugmentedClassifier`. An oracle baseline: the
    store may hold examples from the future."""
    own = "evaluate_static"
    F, y = _check_stream(F, y, own)
    store_idx = check_int_array("store_idx", store_idx, low=0, high=len(y) - 1, owner=own, allow_empty=True)
    _check_knn(k, tau, own)
    if isinstance(lam, str):
        check_choice("lam", lam, ("learn",), owner=own)
    else:
        check_float("lam", lam, low=0.0, high=1.0, owner=own)
    keys, labels = F[store_idx], y[store_idx]
    hedge = LambdaHedge() if lam == "learn" else None
    pm = _model_proba(model, F, y, own)
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

    own = "static_surrogate_best"
    F, y = _check_stream(F, y, own)
    capacity = check_int("capacity", capacity, low=1, owner=own)
    _check_knn(k, tau, own)
    G = np.zeros(len(y))
    pm = _model_proba(model, F, y, own)
    for t in range(1, len(y)):
        cand, g = candidate_gains(F[:t], y[:t], F[t], int(y[t]), pm[t], k, tau)
        G[cand] += g
    return np.sort(np.argsort(-G, kind="stable")[:capacity])
