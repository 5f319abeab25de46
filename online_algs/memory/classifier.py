"""A small model plus a local datastore learned online: the edge inference loop."""

from __future__ import annotations

import numpy as np

from .._validation import (VECTOR_HINT, check_choice, check_float, check_float_array,
                           check_int, check_int_array, check_seed)
from ..base import CommitThenLearn
from ..exceptions import InvalidInputError
from ..caching.rounding import madow_sample
from .mixture import LambdaHedge, interpolate, knn_distribution
from .policies import POLICIES, Store, make_policy

__all__ = ["MemoryAugmentedClassifier", "Stream", "ALL_POLICIES"]

ALL_POLICIES = tuple(POLICIES) + ("omd", "full", "none")


class Stream:
    """A labelled stream: keys ``F`` (T, d) and labels ``y`` (T,); ``stream[t] -> (t, key, label)``."""

    def __init__(self, F: np.ndarray, y: np.ndarray):
        self.F = F
        self.y = y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, t: int):
        return t, self.F[t], int(self.y[t])


def gain_vector(d2: np.ndarray, labels: np.ndarray, label: int, p_model: np.ndarray, tau: float) -> np.ndarray:
    r"""Surrogate gain of keeping each candidate for a request with revealed ``label``:
    :math:`g(j) = e^{-(d_j^2 - \min_i d_i^2)/\tau} ([y_j = y] - p_{model}(y_j \mid x))`, in [-1, 1]:
    the kernel weight the candidate would add to the kNN vote, times how much its label
    improves on the model's own belief (positive when it supports the true label more than the
    model does, negative when it backs a wrong label the model already believes)."""
    w = np.exp(-(d2 - d2.min()) / tau)
    return w * ((labels == label).astype(np.float64) - p_model[labels])


def candidate_gains(F_seen: np.ndarray, labels_seen: np.ndarray, key: np.ndarray, label: int, p_model: np.ndarray,
                    k: int, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """The ``4k`` nearest earlier examples of a request (``cand``, rows of ``F_seen``) and their
    surrogate gains :func:`gain_vector`: what the ``"omd"`` policy learns from, and what the best
    static datastore in hindsight sums. O(t d) for t earlier examples."""
    d2 = ((F_seen - key) ** 2).sum(axis=1)
    t = len(F_seen)
    K = min(4 * k, t)
    cand = np.argpartition(d2, K - 1)[:K] if K < t else np.arange(t)
    return cand, gain_vector(d2[cand], labels_seen[cand], label, p_model, tau)


class MemoryAugmentedClassifier(CommitThenLearn):
    r"""A small model with a local datastore of labelled examples, interpolated kNN-LM style.

    Problem: examples (x_t, y_t) arrive at the edge; the predictor commits to its datastore
    S_t (at most ``capacity`` = h examples), predicts
    :math:`p_t = \lambda_t p_{kNN}(\cdot \mid x_t; S_t) + (1 - \lambda_t) p_{model}(\cdot \mid x_t)`
    with :math:`p_{kNN}(y) \propto \sum_{i \in kNN(x_t)} [y_i = y] e^{-\|x_t - k_i\|^2/\tau}`,
    earns the gain 1[argmax p_t = y_t] (accuracy), then the label is revealed and the policy
    updates the datastore. An empty datastore predicts with the model alone.

    Policies (``policy``): ``"fifo"``, ``"lru"``, ``"reservoir"``, ``"error"`` (online condensed NN),
    ``"qlru"`` (qLRU-DeltaC with the loss as approximation cost), ``"omd"`` (no-regret: online
    mirror descent with negative entropy over all stream positions, {sum x = h}, on the linear
    surrogate gain :func:`gain_vector` (kernel weight times the label's improvement over the model) restricted
    to the ``4k`` nearest seen candidates, rounded by coupled systematic sampling), ``"full"`` (every
    example seen: the unbounded datastore), ``"none"`` (model only).
    ``lam``: a number in [0, 1], or ``"learn"`` (Bayes mixture over a grid, Theorem
    ``memory.lambda.regret``).

    Complexity: O(h d) per prediction (brute-force kNN over the datastore; ``"full"`` O(t d));
    ``"omd"`` adds O(t d) for the candidates' gains and O(T log T) for the projection.

    Guarantees: lambda = 0 reproduces the model and the mixture is a distribution (Theorem
    ``memory.mixture.identity``); the learned lambda's log loss is within ln|grid| of the best
    fixed lambda on the grid (Theorem ``memory.lambda.regret``); the ``"omd"`` policy's regret on
    the surrogate gain against the best static datastore in hindsight is reported with its slope
    against T (Theorem ``memory.omd.regret``, empirical).

    Parameters
    ----------
    model : fitted object with ``predict_proba_features(F)`` and ``n_classes_`` (e.g. ``SmallModel``)
    capacity : int, h >= 1
    policy : str
    k : int, neighbours
    tau : float, kernel temperature in squared-distance units
    lam : float in [0, 1] or "learn"
    q : float, insertion rate of ``"qlru"``
    eta : float or None, step size of ``"omd"`` (default sqrt(h ln(T/h) / T))
    seed : int or None
    """

    randomized = True
    objective = "gain"
    _record_defaults = {"series": True, "states": False}

    def __init__(self, model, capacity: int, policy: str = "lru", k: int = 5, tau: float = 10.0,
                 lam="learn", q: float = 0.5, eta: float | None = None, seed: int | None = None):
        self.model = model
        self.capacity = capacity
        self.policy = policy
        self.k = k
        self.tau = tau
        self.lam = lam
        self.q = q
        self.eta = eta
        self.seed = seed

    # ------------------------------------------------------------------ setup
    def reset(self) -> None:
        own = "MemoryAugmentedClassifier"
        if not hasattr(self.model, "predict_proba_features") or not hasattr(self.model, "n_classes_"):
            raise InvalidInputError(f"The 'model' of {own} must be fitted and provide predict_proba_features(F) and "
                                    f"n_classes_ (e.g. online_algs.memory.SmallModel().fit(X, y)).")
        self.capacity_ = check_int("capacity", self.capacity, low=1, owner=own)
        check_choice("policy", self.policy, ALL_POLICIES, owner=own)
        self.k_ = check_int("k", self.k, low=1, owner=own)
        self.tau_ = check_float("tau", self.tau, low=0.0, low_open=True, owner=own)
        if isinstance(self.lam, str):
            check_choice("lam", self.lam, ("learn",), owner=own)
            self._hedge = LambdaHedge()
        else:
            check_float("lam", self.lam, low=0.0, high=1.0, owner=own)
            self._hedge = None
        self.q_ = check_float("q", self.q, low=0.0, high=1.0, owner=own)
        if self.eta is not None:
            check_float("eta", self.eta, low=0.0, low_open=True, owner=own)
        check_seed(self.seed, owner=own)
        self._rng = np.random.default_rng(self.seed)
        self.n_classes_ = int(self.model.n_classes_)
        self._store = None
        self._policy = None
        self._omd = None
        self.log_loss_ = 0.0
        self.fetches_ = 0

    def _validate_sequence(self, sequence):
        own = "MemoryAugmentedClassifier"
        if isinstance(sequence, Stream):
            F, y = sequence.F, sequence.y
        else:
            try:
                F, y = sequence
            except (TypeError, ValueError):
                raise InvalidInputError(f"{own} runs on a labelled stream: pass (F, y) with F the (T, d) keys "
                                        f"(model.features(X)) and y the (T,) labels.") from None
        F = check_float_array("F", F, ndim=2, owner=own, hint=VECTOR_HINT)
        y = check_int_array("y", y, low=0, high=self.n_classes_ - 1, owner=own,
                            hint=f"labels are class indices 0..{self.n_classes_ - 1} of the model (fitted on "
                                 f"{self.n_classes_} classes): refit the model on every class or remap the labels.")
        if len(F) != len(y):
            raise InvalidInputError(f"{own}: F has {len(F)} rows but y has {len(y)} labels.")
        d = getattr(self.model, "components_", None)
        if d is not None and F.shape[1] != d.shape[0]:
            raise InvalidInputError(f"{own}: keys have dimension {F.shape[1]}, the model's features have "
                                    f"{d.shape[0]}; pass model.features(X).")
        dim = F.shape[1]
        T = len(y)
        cap = self.capacity_ if self.policy not in ("full",) else T
        self._store = Store(max(cap, 1), dim)
        if self.policy in POLICIES:
            self._policy = make_policy(self.policy, self.capacity_, self._rng, q=self.q_)
        if self.policy == "omd":
            if self.capacity_ >= T:
                raise InvalidInputError(f"{own}: the 'omd' policy needs capacity < stream length ({T}); "
                                        f"got {self.capacity_}.")
            h = self.capacity_
            eta = self.eta if self.eta is not None else float(np.sqrt(h * np.log(T / h) / T))
            self._omd = {"y": np.full(T, h / T), "eta": eta, "u": float(self._rng.random()), "F": F, "lab": y,
                         "G": np.zeros(T), "surrogate": np.zeros(T), "cached": np.zeros(T, dtype=bool)}
        self._T = T
        return Stream(F, y)

    # -------------------------------------------------------------- protocol
    @property
    def current_lambda(self) -> float:
        return self._hedge.lam if self._hedge is not None else float(self.lam)

    def predict(self):
        """The committed decision: the set of stream ids in the datastore."""
        return frozenset() if self._store is None else self._store.id_set()

    @property
    def state(self):
        return self.predict()

    def check_state(self, state) -> bool:
        cap = self.capacity_ if self.policy != "full" else getattr(self, "_T", 10**12)
        return len(state) <= cap and all(i >= 0 for i in state)

    def _distributions(self, key):
        p_model = self.model.predict_proba_features(key[None, :])[0]
        keys, labels = self._store.view()
        if len(keys) == 0 or self.policy == "none":
            return p_model, None, np.zeros(0, dtype=np.int64)
        p_knn, nb = knn_distribution(key, keys, labels, self.n_classes_, self.k_, self.tau_)
        return p_model, p_knn, nb

    def predict_proba(self, key):
        p_model, p_knn, _ = self._distributions(np.asarray(key, dtype=float))
        return p_model if p_knn is None else interpolate(p_model, p_knn, self.current_lambda)

    def update(self, request) -> float:
        t, key, label = request
        p_model, p_knn, nb = self._distributions(key)
        lam = self.current_lambda
        p = p_model if p_knn is None else interpolate(p_model, p_knn, lam)
        gain = float(np.argmax(p) == label)
        self.log_loss_ += -np.log(max(p[label], 1e-300))
        if self._hedge is not None and p_knn is not None:
            self._hedge.update(p_model[label], p_knn[label])
        loss = 1.0 - float(p[label])
        if self._policy is not None:
            if self.policy == "error":
                self._policy.wrong = gain == 0.0
            before = self._store.id_set()
            self._policy.after(self._store, key, label, t, t, nb, loss)
            self.fetches_ += len(self._store.id_set() - before)
        elif self.policy == "full":
            self._store.insert(key, label, t, t)
            self.fetches_ += 1
        elif self.policy == "omd":
            self._omd_step(t, key, label, p_model)
        return gain

    def _omd_step(self, t, key, label, p_model):
        from ..caching.projections import project_capped_simplex_kl

        o = self._omd
        h = self.capacity_
        y = o["y"]
        if t > 0:
            cand, g = candidate_gains(o["F"][:t], o["lab"][:t], key, label, p_model, self.k_, self.tau_)
            o["surrogate"][t] = float(y[cand] @ g)
            o["G"][cand] += g
            y[cand] *= np.exp(o["eta"] * g)
            o["y"] = y = project_capped_simplex_kl(y, h)
        # the datastore: coupled systematic sampling of y, restricted to examples seen so far (<= t)
        chosen = madow_sample(y, o["u"])
        chosen = chosen[chosen <= t]
        new = np.zeros(len(y), dtype=bool)
        new[chosen] = True
        added = np.flatnonzero(new & ~o["cached"])
        self.fetches_ += len(added)
        o["cached"] = new
        st = self._store
        st.size = 0
        for j in np.flatnonzero(new):
            st.insert(o["F"][j], o["lab"][j], j, t)

    def _finalize(self, result) -> None:
        result.info["log_loss"] = float(self.log_loss_)
        result.info["fetches"] = int(self.fetches_)
        result.info["final_lambda"] = self.current_lambda
        result.info["accuracy"] = (result.total_gain or 0.0) / max(result.steps, 1)
        if self._omd is not None:
            o = self._omd
            best = float(np.sort(o["G"])[::-1][:self.capacity_].sum())
            result.info["surrogate_gain"] = float(o["surrogate"].sum())
            result.info["best_static_surrogate"] = best
            result.info["surrogate_regret"] = best - float(o["surrogate"].sum())
            result.info["eta"] = o["eta"]

    # ------------------------------------------------------------ contracts
    @classmethod
    def _contract_cases(cls):
        from .synthetic import gaussian_stream

        model, F, y = gaussian_stream(seed=0)
        cases = []
        for pol in ALL_POLICIES:
            cases.append(({"model": model, "capacity": 6, "policy": pol, "k": 3, "tau": 1.0, "seed": 3},
                          (F, y)))
        cases.append(({"model": model, "capacity": 4, "policy": "lru", "k": 2, "tau": 1.0, "lam": 0.5,
                       "seed": 1}, (F, y)))
        return cases
