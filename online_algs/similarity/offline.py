r"""Offline benchmarks of the k-NN datastore.

* :func:`greedy_static` -- greedy static cache (the static gain is monotone submodular, so greedy
  is within ``1 - 1/e`` of the best static cache), exact marginal gains, O(h T N).
* :func:`lp_static_bound` -- LP relaxation of the best static cache (cvxpy + HiGHS): an upper
  bound on the static gain of every integral cache (the concave gain is linear-programmable).
* :func:`best_static` -- the best static cache in hindsight (exact by enumeration on tiny
  catalogs; greedy plus the LP bound otherwise), the comparator of the regret checks.
* :func:`dynamic_optimum` -- the exact dynamic optimum (serve, insert at ``update_cost`` each,
  start from the empty cache) by dynamic programming over the caches of at most ``h`` objects:
  the MTS of :func:`online_algs.similarity.adapters.as_mts` solved exactly.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .._validation import check_choice, check_int
from ..exceptions import InvalidInputError, SolverError
from .costs import candidate_mask, pairwise_distances
from .problem import Datastore

__all__ = ["empty_costs", "static_gain", "greedy_static", "lp_static_bound", "best_static", "dynamic_optimum",
           "enumerate_caches", "movement_matrix", "MAX_STATES"]

#: largest number of cache states the exact dynamic programme accepts
MAX_STATES = 20_000


def _check(ds, queries, capacity, owner):
    if not isinstance(ds, Datastore):
        raise InvalidInputError(f"The 'datastore' argument of {owner} must be a Datastore. Got {type(ds).__name__}.")
    q = ds.check_queries(queries, owner)
    h = ds.check_capacity(capacity, owner)
    return q, h


def empty_costs(ds: Datastore, queries) -> np.ndarray:
    """``C(r_t, empty)`` for every query: the k nearest distances plus ``k c_f``."""
    q = ds.check_queries(queries, "empty_costs")
    D = pairwise_distances(q, ds.catalog, ds.metric)
    k = ds.k
    near = np.partition(D, k - 1, axis=1)[:, :k] if ds.n > k else D
    return near.sum(axis=1) + k * ds.fetch_cost


def static_gain(ds: Datastore, queries, ids) -> float:
    """Total gain ``sum_t C(r_t, empty) - C(r_t, S)`` of the static cache ``S = ids``."""
    q = ds.check_queries(queries, "static_gain")
    ids = ds.check_ids(ids, "ids", "static_gain")
    c = ds.costs_of_states(q, [ids])[:, 0]
    return float(np.sum(empty_costs(ds, q) - c))


def greedy_static(ds: Datastore, queries, capacity) -> dict:
    r"""Greedy static cache: add, ``h`` times, the object of largest exact marginal gain.

    Marginal gain of ``o`` on request ``t`` with answer ``A_t``: ``c_f`` if ``o`` is a remote
    object of ``A_t``; else ``max(0, max A_t - c_d(r_t, o))`` (``o``'s local copy replaces the
    answer's most expensive copy). The total gain is monotone submodular (a sum of concave
    functions of modular ones), so greedy is within ``1 - 1/e`` of the best static cache
    (Nemhauser, Wolsey, Fisher 1978). O(h T N) time, O(T N) memory. Ties: smallest id.

    Returns dict with ``ids`` (in greedy order), ``gain``, ``cost`` (total serving cost).
    """
    q, h = _check(ds, queries, capacity, "greedy_static")
    D = pairwise_distances(q, ds.catalog, ds.metric)
    T, N = D.shape
    k, cf = ds.k, ds.fetch_cost
    order = np.argsort(D, axis=1, kind="stable")[:, :k]
    ans_id = order.copy()
    ans_cost = np.take_along_axis(D, order, axis=1) + cf
    ans_remote = np.ones((T, k), dtype=bool)
    cached = np.zeros(N, dtype=bool)
    chosen = []
    total0 = float(ans_cost.sum())
    rows = np.arange(T)
    for _ in range(h):
        mx = ans_cost.max(axis=1)
        g = np.maximum(0.0, mx[:, None] - D)
        # objects that are remote members of an answer gain c_f there instead
        rid = np.where(ans_remote, ans_id, -1)
        for j in range(k):
            sel = rid[:, j] >= 0
            g[rows[sel], rid[sel, j]] = cf
        tot = g.sum(axis=0)
        tot[cached] = -np.inf
        o = int(np.argmax(tot))
        chosen.append(o)
        cached[o] = True
        # update the answers
        inans = (ans_id == o) & ans_remote
        has = inans.any(axis=1)
        ans_cost[inans] -= cf
        ans_remote[inans] = False
        arg = np.argmax(ans_cost, axis=1)
        rep = (~has) & (D[:, o] < ans_cost[rows, arg])
        ans_id[rows[rep], arg[rep]] = o
        ans_cost[rows[rep], arg[rep]] = D[rep, o]
        ans_remote[rows[rep], arg[rep]] = False
    cost = float(ans_cost.sum())
    return {"ids": np.asarray(chosen, dtype=np.int64), "gain": total0 - cost, "cost": cost}


def lp_static_bound(ds: Datastore, queries, capacity, solver: str = "HIGHS") -> dict:
    r"""Upper bound on the best static gain: the LP relaxation of the static cache over the capped simplex.

    The concave extension of the serving cost is itself a small LP (fill the ``k`` answer slots
    with local copies of capacity ``x_o`` and remote copies of capacity ``1 - x_o``, cheapest first;
    ``docs/theory/acai_gain.md``), so

    .. math:: \min_{x, a, b} \sum_t \sum_{o \in K_t} c_{t,o} a_{t,o} + (c_{t,o} + c_f) b_{t,o}
              \ \text{s.t.}\ a_{t,o} \le x_o,\ a_{t,o} + b_{t,o} \le 1,\ \sum_o a_{t,o} + b_{t,o} = k,\
              \sum_o x_o = h,\ 0 \le x \le 1,\ a, b \ge 0

    (``K_t`` the candidates of request ``t``) is the minimum total serving cost over fractional
    caches; every integral cache is feasible, so ``sum_t C(r_t, 0)`` minus it bounds the best static
    gain from above (Theorem ``similarity.static.greedy`` checks it against exact enumeration).
    O(T K) variables. Returns dict ``bound``, ``x``. Raises :class:`SolverError`.
    """
    import cvxpy as cp
    import scipy.sparse as sp

    q, h = _check(ds, queries, capacity, "lp_static_bound")
    N, k, cf = ds.n, ds.k, ds.fetch_cost
    D = pairwise_distances(q, ds.catalog, ds.metric)
    rows, cols, dv = [], [], []
    for t in range(q.shape[0]):
        c = np.flatnonzero(candidate_mask(D[t], k, cf))
        rows.append(np.full(len(c), t))
        cols.append(c)
        dv.append(D[t, c])
    rows, cols, dv = np.concatenate(rows), np.concatenate(cols), np.concatenate(dv)
    P = len(rows)
    Sel = sp.csr_matrix((np.ones(P), (np.arange(P), cols)), shape=(P, N))
    Grp = sp.csr_matrix((np.ones(P), (rows, np.arange(P))), shape=(q.shape[0], P))
    x = cp.Variable(N)
    a = cp.Variable(P)
    b = cp.Variable(P)
    cons = [a <= Sel @ x, a + b <= 1, Grp @ (a + b) == k, cp.sum(x) == h, x >= 0, x <= 1, a >= 0, b >= 0]
    prob = cp.Problem(cp.Minimize(dv @ a + (dv + cf) @ b), cons)
    try:
        prob.solve(solver=solver)
    except cp.error.SolverError as exc:
        raise SolverError(f"lp_static_bound: the LP solver {solver} failed: {exc}", status="solver_error",
                          solver=solver) from exc
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise SolverError(f"lp_static_bound: the LP ended with status {prob.status!r}; try solver='CLARABEL'.",
                          status=prob.status, solver=solver)
    e0 = empty_costs(ds, q)
    return {"bound": float(e0.sum() - prob.value), "x": np.clip(np.asarray(x.value).ravel(), 0.0, 1.0)}


def best_static(ds: Datastore, queries, capacity, method: str = "auto", max_subsets: int = 5000) -> dict:
    """The best static cache in hindsight (maximum total gain).

    ``method="exact"`` enumerates every h-subset (allowed up to ``max_subsets`` of them);
    ``"greedy"`` returns the greedy cache with ``upper`` = the LP bound; ``"auto"`` picks exact
    when it fits. Returns dict ``ids``, ``gain``, ``cost``, ``upper`` (a bound >= the best
    static gain; equal to ``gain`` when exact) and ``exact``.
    """
    q, h = _check(ds, queries, capacity, "best_static")
    check_choice("method", method, ("auto", "exact", "greedy"), owner="best_static")
    n_sub = math.comb(ds.n, h)
    if method == "exact" and n_sub > max_subsets:
        raise InvalidInputError(f"best_static(method='exact') would enumerate C({ds.n}, {h}) = {n_sub} caches, "
                                f"more than max_subsets={max_subsets}; use method='greedy' (with the LP bound).")
    e0 = empty_costs(ds, q)
    if method == "exact" or (method == "auto" and n_sub <= max_subsets):
        subsets = list(itertools.combinations(range(ds.n), h))
        costs = ds.costs_of_states(q, subsets).sum(axis=0)
        j = int(np.argmin(costs))
        gain = float(e0.sum() - costs[j])
        return {"ids": np.asarray(subsets[j], dtype=np.int64), "gain": gain, "cost": float(costs[j]),
                "upper": gain, "exact": True}
    g = greedy_static(ds, q, h)
    lp = lp_static_bound(ds, q, h)
    return {"ids": g["ids"], "gain": g["gain"], "cost": g["cost"], "upper": max(lp["bound"], g["gain"]),
            "exact": False}


def enumerate_caches(n: int, capacity: int, full: bool = False) -> list[frozenset]:
    """Every cache of at most (``full``: exactly) ``capacity`` objects of ``0..n-1``, by size then lexicographic."""
    sizes = [capacity] if full else range(capacity + 1)
    return [frozenset(c) for s in sizes for c in itertools.combinations(range(n), s)]


def dynamic_optimum(ds: Datastore, queries, capacity, *, movement: str = "insert",
                    return_schedule: bool = False) -> dict:
    r"""Exact dynamic optimum by dynamic programming over the caches of at most ``h`` objects.

    .. math:: \mathrm{OPT} = \min_{S_1..S_T} \sum_t m(S_{t-1}, S_t) + C(r_t, S_t),\quad S_0 = \emptyset

    ``movement="insert"``: ``m(S, S') = update_cost |S' \ S|`` (the policies' accounting);
    ``"symmetric"``: ``(update_cost / 2) |S \triangle S'|`` (the metric of the MTS adapter).
    From the empty cache the two differ by ``(update_cost / 2) |S_T|`` on every schedule
    (``docs/similarity.md``). Every policy that serves with its cache then updates it costs at
    least this (Theorem ``similarity.opt.lower``). O(T n_states^2); ``n_states <= MAX_STATES``.

    Returns dict ``cost`` (and ``schedule``: list of frozensets ``S_1..S_T`` when asked).
    """
    q, h = _check(ds, queries, capacity, "dynamic_optimum")
    check_choice("movement", movement, ("insert", "symmetric"), owner="dynamic_optimum")
    n_states = sum(math.comb(ds.n, s) for s in range(h + 1))
    if n_states > MAX_STATES:
        raise InvalidInputError(f"dynamic_optimum needs {n_states} cache states (N={ds.n}, h={h}), more than "
                                f"MAX_STATES={MAX_STATES}; use a smaller catalog or the static bounds.")
    states = enumerate_caches(ds.n, h)
    C = ds.costs_of_states(q, states)
    M = movement_matrix(states, ds.update_cost, movement)
    V = M[0] + C[0]  # from S_0 = empty (state 0)
    back = []
    for t in range(1, len(q)):
        tot = V[:, None] + M
        arg = np.argmin(tot, axis=0)
        back.append(arg)
        V = tot[arg, np.arange(len(states))] + C[t]
    j = int(np.argmin(V))
    out = {"cost": float(V[j]), "n_states": len(states)}
    if return_schedule:
        path = [j]
        for arg in reversed(back):
            path.append(int(arg[path[-1]]))
        out["schedule"] = [states[i] for i in reversed(path)]
    return out


def movement_matrix(states, update_cost: float, movement: str = "insert") -> np.ndarray:
    """``M[i, j]`` = cost of moving from ``states[i]`` to ``states[j]``."""
    n = len(states)
    size = np.array([len(s) for s in states])
    inter = np.zeros((n, n))
    idx = {}
    for j, s in enumerate(states):
        for o in s:
            idx.setdefault(o, []).append(j)
    for o, js in idx.items():
        js = np.asarray(js)
        inter[np.ix_(js, js)] += 1
    added = size[None, :] - inter
    if movement == "insert":
        return update_cost * added
    removed = size[:, None] - inter
    return 0.5 * update_cost * (added + removed)
