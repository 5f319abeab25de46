r"""Offline benchmarks of no-regret caching: the best static cache and regret curves.

For a linear gain :math:`\sum_t \sum_n w_n x_{t,n} y_n` over the capped simplex with integral C,
the best static (fractional or integral) cache in hindsight is the top-C of the weighted counts
:math:`w_n \sum_t x_{t,n}`: a linear function over an integral polytope is maximised at a vertex,
and the vertices of :math:`K_C` are the C-subsets. :func:`weighted_static_optimum_lp` solves the
same LP with cvxpy/HiGHS as a cross-check.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_float_array, check_int, check_int_array
from ..exceptions import InvalidInputError, SolverError
from . import _kernels_learners as _k

__all__ = ["best_static_gain", "best_static_cache", "regret_curve", "weighted_static_optimum_lp", "weighted_counts"]


def _canon(trace, capacity, weights, n_items, owner):
    arr = np.asarray(trace)
    if arr.ndim == 2:
        X = check_float_array("trace", arr, ndim=2, nonneg=True, owner=owner)
        N = X.shape[1]
        if n_items is not None and check_int("n_items", n_items, low=2, owner=owner) != N:
            raise InvalidInputError(f"The 'trace' argument of {owner} has {N} columns but n_items = {n_items}; "
                                    f"pass one count column per item.")
    else:
        ids = check_int_array("trace", arr, low=0, owner=owner)
        N = int(ids.max()) + 1 if n_items is None else check_int("n_items", n_items, low=2, owner=owner)
        if ids.max() >= N:
            raise InvalidInputError(f"The 'trace' argument of {owner} holds id {int(ids.max())} >= n_items = {N}; "
                                    f"raise n_items or remap the ids to 0..n_items-1.")
        X = ids
    if weights is None:
        w = np.ones(N)
    else:
        w = check_float_array("weights", weights, ndim=1, owner=owner)
        if len(w) != N or (w <= 0).any():
            raise InvalidInputError(f"The 'weights' argument of {owner} must hold {N} positive numbers (one per "
                                    f"item). Got {len(w)} values with minimum {float(w.min()):g}.")
    C = check_int("capacity", capacity, low=1, high=max(N - 1, 1), owner=owner)
    return X, N, w, C


def weighted_counts(trace, *, weights=None, n_items=None) -> np.ndarray:
    """:math:`w_n \\sum_t x_{t,n}` for a 1-d id trace or a (T, N) count array."""
    X, N, w, _ = _canon(trace, 1, weights, n_items, "weighted_counts")
    if X.ndim == 1:
        return np.bincount(X, minlength=N).astype(float) * w
    return X.sum(axis=0) * w


def best_static_cache(trace, capacity, *, weights=None, n_items=None) -> np.ndarray:
    """Ids (sorted) of the best static cache in hindsight: the top-C weighted counts.

    O(T + N) (``np.argpartition``). Ties are broken towards smaller ids.
    """
    X, N, w, C = _canon(trace, capacity, weights, n_items, "best_static_cache")
    s = (np.bincount(X, minlength=N).astype(float) if X.ndim == 1 else X.sum(axis=0)) * w
    order = np.lexsort((np.arange(N), -s))
    return np.sort(order[:C])


def best_static_gain(trace, capacity, *, weights=None, n_items=None) -> float:
    """Gain of the best static cache in hindsight (sum of the C largest weighted counts).

    Regret of a learner = ``best_static_gain(trace, C) - run(learner, trace).total_gain``.
    """
    X, N, w, C = _canon(trace, capacity, weights, n_items, "best_static_gain")
    s = (np.bincount(X, minlength=N).astype(float) if X.ndim == 1 else X.sum(axis=0)) * w
    return float(np.sort(s)[::-1][:C].sum())


def regret_curve(trace, capacity, gains, *, weights=None, n_items=None) -> np.ndarray:
    """Regret after each round: best static gain of the prefix ``trace[:t+1]`` minus the
    cumulative ``gains[:t+1]``.

    One-hot traces: the top-C of the prefix counts is maintained incrementally with a min-heap
    (O(log C) per round, numba). Batched traces: O(N) per round.
    """
    X, N, w, C = _canon(trace, capacity, weights, n_items, "regret_curve")
    g = check_float_array("gains", gains, ndim=1, owner="regret_curve")
    if len(g) != len(X):
        raise InvalidInputError(f"The 'gains' argument of regret_curve must have one entry per round "
                                f"({len(X)}). Got {len(g)}; pass result.gain from run(..., series=True).")
    if X.ndim == 1:
        score = np.zeros(N)
        in_set = np.zeros(N, dtype=np.bool_)
        in_set[:C] = True
        tmp = np.empty(len(X))
        best = np.empty(len(X))
        _k.topc_run(X, w, score, in_set, C, tmp, best)
    else:
        cum = np.cumsum(X * w, axis=0)
        best = -np.partition(-cum, C - 1, axis=1)[:, :C].sum(axis=1)
    return best - np.cumsum(g)


def weighted_static_optimum_lp(counts, weights, capacity, *, solver: str = "HIGHS") -> float:
    r"""The best static fractional cache by LP: :math:`\max_y \sum_n w_n c_n y_n` over
    :math:`\{0 \le y \le 1, \sum y = C\}` (cvxpy, HiGHS). Equals the top-C value (checked)."""
    import cvxpy as cp

    c = check_float_array("counts", counts, ndim=1, nonneg=True, owner="weighted_static_optimum_lp")
    w = check_float_array("weights", weights, ndim=1, shape=(len(c),), nonneg=True, owner="weighted_static_optimum_lp")
    C = check_int("capacity", capacity, low=1, high=len(c) - 1, owner="weighted_static_optimum_lp")
    y = cp.Variable(len(c))
    prob = cp.Problem(cp.Maximize((w * c) @ y), [y >= 0, y <= 1, cp.sum(y) == C])
    try:
        prob.solve(solver=solver)
    except cp.error.SolverError as exc:
        raise SolverError(f"weighted_static_optimum_lp: {solver} failed ({exc}).", status="solver_error",
                          solver=solver) from exc
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise SolverError(f"weighted_static_optimum_lp: {solver} returned status {prob.status}.",
                          status=prob.status, solver=solver)
    return float(prob.value)
