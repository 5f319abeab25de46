r"""Offline benchmarks of no-regret caching: the best static cache and regret curves.

For a linear gain :math:`\sum_t \sum_n w_n x_{t,n} y_n` over the capped simplex with integral C,
the best static (fractional or integral) cache in hindsight is the top-C of the weighted counts
:math:`w_n \sum_t x_{t,n}`: a linear function over an integral polytope is maximised at a vertex,
and the vertices of :math:`K_C` are the C-subsets. :func:`weighted_static_optimum_lp` solves the
same LP with cvxpy/HiGHS as a cross-check.
"""

from __future__ import annotations

import numpy as np

from .._validation import COUNT_HINT, check_float_array, check_int, check_int_array
from ..exceptions import InvalidInputError, SolverError
from . import _kernels_learners as _k

__all__ = ["best_static_gain", "best_static_cache", "regret_curve", "weighted_static_optimum_lp", "weighted_counts",
           "weighted_paging_opt_lp"]


def _canon(trace, capacity, weights, n_items, owner):
    arr = np.asarray(trace)
    if arr.ndim == 2:
        X = check_float_array("trace", arr, ndim=2, nonneg=True, owner=owner, hint=COUNT_HINT)
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


def _scores(X, N, w) -> np.ndarray:
    """Weighted counts :math:`w_n \\sum_t x_{t,n}` of a canonical trace (ids or count rows)."""
    return (np.bincount(X, minlength=N).astype(float) if X.ndim == 1 else X.sum(axis=0)) * w


def _solve(prob, solver: str, owner: str) -> float:
    """Solve a cvxpy problem; a solver failure or a non-optimal status becomes a SolverError."""
    import cvxpy as cp

    try:
        prob.solve(solver=solver)
    except cp.error.SolverError as exc:
        raise SolverError(f"{owner}: {solver} failed ({exc}).", status="solver_error", solver=solver) from exc
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise SolverError(f"{owner}: {solver} returned status {prob.status}.", status=prob.status, solver=solver)
    return float(prob.value)


def weighted_counts(trace, *, weights=None, n_items=None) -> np.ndarray:
    """:math:`w_n \\sum_t x_{t,n}` for a 1-d id trace or a (T, N) count array."""
    X, N, w, _ = _canon(trace, 1, weights, n_items, "weighted_counts")
    return _scores(X, N, w)


def _sparse_counts(trace, capacity, weights, n_items, owner):
    """(distinct ids, their counts, C) for an unweighted 1-d id trace whose catalogue (max id + 1 or
    ``n_items``) is much larger than the trace; None otherwise (then the dense O(N) path is used).
    Memory O(T) instead of O(max id): ids as large as 2**40 are fine."""
    arr = np.asarray(trace)
    if weights is not None or arr.ndim != 1:
        return None
    ids = check_int_array("trace", arr, low=0, owner=owner)
    N = int(ids.max()) + 1 if n_items is None else check_int("n_items", n_items, low=2, owner=owner)
    if N <= 4 * len(ids) + 1024:
        return None
    if ids.max() >= N:
        raise InvalidInputError(f"The 'trace' argument of {owner} holds id {int(ids.max())} >= n_items = {N}; "
                                f"raise n_items or remap the ids to 0..n_items-1.")
    C = check_int("capacity", capacity, low=1, high=max(N - 1, 1), owner=owner)
    uniq, counts = np.unique(ids, return_counts=True)
    return uniq, counts.astype(float), C


def best_static_cache(trace, capacity, *, weights=None, n_items=None) -> np.ndarray:
    """Ids (sorted) of the best static cache in hindsight: the top-C weighted counts.

    O(T + N log N) (a stable sort on (-count, id)). Ties are broken towards smaller ids. An
    unweighted id trace over a catalogue much larger than T (e.g. ids up to 2**40) is counted
    with ``np.unique`` in O(T log T) time and O(T + C) memory; unrequested items (count 0) fill
    the cache from the smallest ids when C exceeds the number of distinct requested ids.
    """
    sp = _sparse_counts(trace, capacity, weights, n_items, "best_static_cache")
    if sp is not None:
        uniq, counts, C = sp
        top = uniq[np.lexsort((uniq, -counts))[:C]]
        if len(top) < C:  # zero-count items, smallest ids first (the dense tie rule)
            need = C - len(top)
            cand = np.arange(need + len(uniq), dtype=np.int64)
            top = np.concatenate([top, cand[~np.isin(cand, uniq)][:need]])
        return np.sort(top).astype(np.int64)
    X, N, w, C = _canon(trace, capacity, weights, n_items, "best_static_cache")
    s = _scores(X, N, w)
    order = np.lexsort((np.arange(N), -s))
    return np.sort(order[:C])


def best_static_gain(trace, capacity, *, weights=None, n_items=None) -> float:
    """Gain of the best static cache in hindsight (sum of the C largest weighted counts).

    Regret of a learner = ``best_static_gain(trace, C) - run(learner, trace).total_gain``.
    """
    sp = _sparse_counts(trace, capacity, weights, n_items, "best_static_gain")
    if sp is not None:
        return float(np.sort(sp[1])[::-1][:sp[2]].sum())
    X, N, w, C = _canon(trace, capacity, weights, n_items, "best_static_gain")
    s = _scores(X, N, w)
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
    return _solve(prob, solver, "weighted_static_optimum_lp")


def weighted_paging_opt_lp(trace, capacity, weights=None, *, n_items=None, solver: str = "HIGHS") -> float:
    r"""Offline optimum of weighted (dynamic) paging by an integral LP.

    Problem: a cache of ``capacity`` C starts empty; request :math:`r_t` must be in the cache at
    time t; fetching item i costs :math:`w_i` (every fetch, including the first). OPT is the least
    total fetch cost. For unit weights it equals Belady's number of misses.

    Formulation: for every pair of consecutive requests to the same item, an interval
    :math:`I = (t_1, t_2)` and a variable :math:`x_I \in [0, 1]` (1 = evicted during I and fetched
    again at :math:`t_2`). At each time t the kept intervals that strictly contain t share the C - 1
    slots left by :math:`r_t`: :math:`\sum_{I \ni t}(1 - x_I) \le C - 1`. Cost:
    :math:`\sum_i w_i [i \text{ requested}] + \sum_I w_{i(I)} x_I`. The constraint matrix has the
    consecutive-ones property in t (an interval matrix), so it is totally unimodular and the LP
    optimum is integral: the LP value is OPT (Theorem ``caching.offline.weighted_paging_lp``: equals a
    DP over cache contents and, for unit weights, Belady). Solved with cvxpy/HiGHS; O(T) variables,
    O(sum of interval lengths) non-zeros.

    Parameters
    ----------
    trace : array-like of int, shape (T,)
    capacity : int >= 1
    weights : array-like of shape (N,), optional
        Positive fetch costs (default 1).
    n_items : int, optional
        N (default ``max(trace) + 1``).
    """
    import cvxpy as cp
    import scipy.sparse as sp

    ids = check_int_array("trace", trace, low=0, owner="weighted_paging_opt_lp")
    N = int(ids.max()) + 1 if n_items is None else check_int("n_items", n_items, low=1, owner="weighted_paging_opt_lp")
    if ids.max() >= N:
        raise InvalidInputError(f"The 'trace' argument of weighted_paging_opt_lp holds id {int(ids.max())} >= "
                                f"n_items = {N}; raise n_items or remap the ids.")
    C = check_int("capacity", capacity, low=1, owner="weighted_paging_opt_lp")
    if weights is None:
        w = np.ones(N)
    else:
        w = check_float_array("weights", weights, ndim=1, shape=(N,), owner="weighted_paging_opt_lp")
        if (w <= 0).any():
            raise InvalidInputError(f"The 'weights' argument of weighted_paging_opt_lp must be positive fetch costs. "
                                    f"Got weights[{int(np.argmax(w <= 0))}] = {w[w <= 0][0]}.")
    T = len(ids)
    last = np.full(N, -1, dtype=np.int64)
    starts, ends, items = [], [], []
    for t in range(T):
        i = ids[t]
        if last[i] >= 0 and t - last[i] > 1:
            starts.append(last[i])
            ends.append(t)
            items.append(i)
        last[i] = t
    cold = float(w[np.unique(ids)].sum())
    M = len(starts)
    if M == 0:
        return cold
    rows, cols = [], []
    for k in range(M):
        r = np.arange(starts[k] + 1, ends[k])
        rows.append(r)
        cols.append(np.full(len(r), k))
    A = sp.csr_matrix((np.ones(sum(len(r) for r in rows)), (np.concatenate(rows), np.concatenate(cols))), shape=(T, M))
    need = np.asarray(A.sum(axis=1)).ravel() - (C - 1)  # sum_{I contains t} x_I >= |{I contains t}| - (C - 1)
    mask = need > 0
    if not mask.any():
        return cold
    x = cp.Variable(M)
    cost = w[np.asarray(items)]
    prob = cp.Problem(cp.Minimize(cost @ x), [A[mask] @ x >= need[mask], x >= 0, x <= 1])
    return cold + _solve(prob, solver, "weighted_paging_opt_lp")
