r"""Offline k-server optima: min-cost flow (dense and sparse graphs) and the configuration DP,
plus the schedule verifier :func:`schedule_cost`.

Problem: k servers start at the configuration ``initial`` (k distinct points of a finite
metric ``d``); requests ``r_1..r_T`` arrive; request ``r_t`` must be covered by a server;
the cost is the total distance moved. OPT is the least cost of any schedule
``C_0 = initial, C_1, ..., C_T`` with ``r_t in C_t``:
:math:`\mathrm{OPT} = \min \sum_t D(C_{t-1}, C_t)`, ``D`` the min-cost matching distance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb

import numpy as np

from .._validation import check_choice, check_int_array
from ..exceptions import InvalidInputError, SolverError
from ..metrics import FiniteMetric, as_metric
from . import _kernels as K

__all__ = ["OfflineResult", "offline_optimum", "schedule_cost", "flow_graph", "ConfigSpace", "MAX_CONFIGS"]

#: Largest number of configurations C(n, k) the configuration methods (WFA, DP) accept.
MAX_CONFIGS = 2_000_000


# --------------------------------------------------------------------------- validation helpers
def _metric(metric, owner) -> FiniteMetric:
    return as_metric(metric, owner=owner)


def _initial(initial, m: FiniteMetric, owner: str) -> np.ndarray:
    """Validate an initial configuration: k >= 1 distinct point indices, k < n."""
    init = check_int_array("initial", initial, low=0, high=m.n - 1, owner=owner)
    k = len(init)
    if len(np.unique(init)) != k:
        vals, counts = np.unique(init, return_counts=True)
        raise InvalidInputError(f"The 'initial' argument of {owner} must hold k distinct point indices (one per "
                                f"server). Got point {int(vals[counts > 1][0])} {int(counts.max())} times; "
                                f"put the servers on distinct points.")
    if k >= m.n:
        raise InvalidInputError(f"The 'initial' argument of {owner} must hold k < n points (n = {m.n} points in the "
                                f"metric). Got k = {k}; with k >= n every point keeps a server and the problem is "
                                f"trivial: use fewer servers or a larger metric.")
    return init


def _requests(requests, m: FiniteMetric, owner: str, allow_empty: bool = False) -> np.ndarray:
    return check_int_array("requests", requests, low=0, high=m.n - 1, owner=owner, allow_empty=allow_empty)


# --------------------------------------------------------------------------- configuration space
class ConfigSpace:
    """All k-subsets of ``0..n-1``, row ``i`` of :attr:`cfg` having colex rank ``i``.

    ``rank(c_0 < ... < c_{k-1}) = sum_i C(c_i, i+1)``. Built by a numba kernel in
    O(C(n,k) k n); cached per ``(n, k)``.
    """

    _cache: dict = {}

    def __init__(self, n: int, k: int):
        self.n = n
        self.k = k
        self.size = comb(n, k)
        self.B = K.binom_table(n, k)
        self.cfg = K.config_table(n, k, self.B)

    @classmethod
    def get(cls, n: int, k: int, owner: str = "ConfigSpace") -> "ConfigSpace":
        size = comb(n, k)
        if size > MAX_CONFIGS:
            raise InvalidInputError(f"{owner} enumerates all C(n, k) = C({n}, {k}) = {size} configurations, more than "
                                    f"the limit {MAX_CONFIGS}. Use fewer points or servers (or method='flow' for "
                                    f"the offline optimum).")
        key = (n, k)
        if key not in cls._cache:
            if len(cls._cache) > 16:
                cls._cache.clear()
            cls._cache[key] = cls(n, k)
        return cls._cache[key]

    def rank(self, conf) -> int:
        c = sorted(int(x) for x in conf)
        return int(sum(self.B[v, i + 1] for i, v in enumerate(c)))


# --------------------------------------------------------------------------- result
@dataclass
class OfflineResult:
    """An offline optimum.

    Attributes
    ----------
    value : float
        The optimal cost (recomputed with the unrounded distances for ``"flow"``).
    method : str
        ``"flow"``, ``"flow_dense"`` or ``"dp"``.
    schedule : list of tuple or None
        For ``"dp"``: ``schedule[t]`` is the configuration (sorted point indices) serving
        request ``t``; :func:`schedule_cost` of it equals ``value``.
    info : dict
        ``n_edges``, ``n_nodes`` of the flow graph, ``status`` of the solver, ...
    """

    value: float
    method: str
    schedule: list | None = None
    info: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- verifier
def schedule_cost(metric, requests, initial, configs) -> float:
    r"""Cost :math:`\sum_t D(C_{t-1}, C_t)` of a configuration schedule (``C_0 = initial``).

    ``configs[t]`` is the configuration serving request ``t`` (k point indices); each step
    costs the min-cost matching distance (scipy's ``linear_sum_assignment``). Raises
    :class:`InvalidInputError` when a configuration has the wrong size or does not cover its
    request.
    """
    from scipy.optimize import linear_sum_assignment

    m = _metric(metric, "schedule_cost")
    init = _initial(initial, m, "schedule_cost")
    req = _requests(requests, m, "schedule_cost", allow_empty=True)
    if len(configs) != len(req):
        raise InvalidInputError(f"The 'configs' argument of schedule_cost must hold one configuration per request "
                                f"({len(req)}). Got {len(configs)}.")
    prev = init
    total = 0.0
    for t, c in enumerate(configs):
        c = check_int_array(f"configs[{t}]", c, low=0, high=m.n - 1, owner="schedule_cost")
        if len(c) != len(init) or len(np.unique(c)) != len(c):
            raise InvalidInputError(f"configs[{t}] of schedule_cost must hold k = {len(init)} distinct points. Got {c.tolist()}.")
        if int(req[t]) not in set(c.tolist()):
            raise InvalidInputError(f"configs[{t}] = {c.tolist()} does not cover request {int(req[t])}; "
                                    f"a schedule must put a server on every request.")
        cost = m.d[np.ix_(prev, c)]
        ri, ci = linear_sum_assignment(cost)
        total += float(cost[ri, ci].sum())
        prev = c
    return float(total)


# --------------------------------------------------------------------------- min-cost flow
def flow_graph(metric, requests, initial, *, sparse: bool = True, scale: float | None = None):
    """The min-cost-flow graph of the offline k-server problem (networkx ``DiGraph``).

    Nodes: ``"s"``, ``"t"``, ``("i", i)`` for each initial server, ``("a", j)`` and ``("b", j)``
    for each request. Edges (capacity 1 unless said):

    * ``s -> (i, i)`` cost 0; ``(i, i) -> t`` and ``(b, j) -> t`` cost 0 (a server may stop);
    * ``(i, i) -> (a, l)`` cost ``d(init_i, r_l)``; ``(b, j) -> (a, l)`` (``l > j``) cost ``d(r_j, r_l)``;
    * ``(a, j) -> (b, j)`` cost ``-L`` with ``L > 2 diam`` (strictly): covering a request is
      always worth a detour, so every request edge carries one unit;
    * ``s`` supplies k units, ``t`` absorbs them.

    Dense: every ``l > j``. Sparse (default): only ``l`` = the first occurrence after ``j``
    (after time 0 for the initial servers) of each distinct point; optimality is kept (see
    ``docs/theory/kserver_flow.md``: an exchange argument turns any optimal flow into one using
    only such edges). Weights are integers: distances times ``scale`` (default ``1e9 / diam``),
    rounded. Returns ``(G, edges)`` where ``edges`` maps an edge to its unrounded distance.
    """
    import networkx as nx

    m = _metric(metric, "flow_graph")
    init = _initial(initial, m, "flow_graph")
    req = _requests(requests, m, "flow_graph")
    d = m.d
    T = len(req)
    k = len(init)
    diam = max(m.diameter, 1e-300)
    if scale is None:
        scale = 1e9 / diam
    L = 2 * int(round(diam * scale)) + 2 * T + 1   # > 2 diam in the rounded units, strictly

    G = nx.DiGraph()
    G.add_node("s", demand=-k)
    G.add_node("t", demand=k)
    dist: dict = {}

    def add(u, v, dd):
        G.add_edge(u, v, weight=int(round(dd * scale)), capacity=1)
        dist[(u, v)] = float(dd)

    for i in range(k):
        G.add_edge("s", ("i", i), weight=0, capacity=1)
        G.add_edge(("i", i), "t", weight=0, capacity=1)
    for j in range(T):
        G.add_edge(("a", j), ("b", j), weight=-L, capacity=1)
        G.add_edge(("b", j), "t", weight=0, capacity=1)
    if sparse:
        # next[j][p] = first l > j with r_l = p, built backwards in O(T n_distinct)
        first_after: dict = {}
        targets_after = [None] * (T + 1)
        targets_after[T] = {}
        for j in range(T - 1, -1, -1):
            first_after = dict(first_after)
            first_after[int(req[j])] = j
            targets_after[j] = first_after
        # targets_after[j] = first occurrence >= j of each point; edges from j go to targets_after[j+1]
        for i in range(k):
            for p, l in targets_after[0].items():
                add(("i", i), ("a", l), d[init[i], p])
        for j in range(T):
            rj = int(req[j])
            for p, l in targets_after[j + 1].items():
                add(("b", j), ("a", l), d[rj, p])
    else:
        for i in range(k):
            for l in range(T):
                add(("i", i), ("a", l), d[init[i], req[l]])
        for j in range(T):
            rj = int(req[j])
            for l in range(j + 1, T):
                add(("b", j), ("a", l), d[rj, req[l]])
    return G, dist


def _flow_opt(m, req, init, sparse: bool) -> OfflineResult:
    import networkx as nx

    G, dist = flow_graph(m, req, init, sparse=sparse)
    try:
        _, flow = nx.network_simplex(G)
    except nx.NetworkXUnfeasible as exc:  # pragma: no cover - the graph is always feasible
        raise SolverError(f"network_simplex found the k-server flow infeasible: {exc}", status="infeasible",
                          solver="networkx.network_simplex") from exc
    except nx.NetworkXUnbounded as exc:  # pragma: no cover
        raise SolverError(f"network_simplex found the k-server flow unbounded: {exc}", status="unbounded",
                          solver="networkx.network_simplex") from exc
    T = len(req)
    missing = [j for j in range(T) if flow[("a", j)][("b", j)] != 1]
    if missing:
        raise SolverError(f"the min-cost flow left {len(missing)} request(s) uncovered (first: {missing[0]}); "
                          f"the solver returned a wrong flow.", status="uncovered", solver="networkx.network_simplex")
    value = 0.0
    for (u, v), dd in dist.items():
        if flow[u][v]:
            value += dd
    return OfflineResult(value=float(value), method="flow" if sparse else "flow_dense",
                         info={"n_edges": G.number_of_edges(), "n_nodes": G.number_of_nodes(), "status": "optimal"})


# --------------------------------------------------------------------------- configuration DP
def _dp_opt(m, req, init) -> OfflineResult:
    n = m.n
    k = len(init)
    space = ConfigSpace.get(n, k, owner="offline_optimum(method='dp')")
    C = space.size
    T = len(req)
    if C * T > 400_000_000:
        raise InvalidInputError(f"offline_optimum(method='dp') stores C(n,k) x T = {C} x {T} back-pointers, more "
                                f"than 4e8. Use method='flow' (polynomial in T) or a shorter sequence.")
    d = np.ascontiguousarray(m.d)
    w = K.wf_init(space.cfg, np.sort(init).astype(np.int64), d)
    parents = np.empty((T, C), dtype=np.int8)
    K.wf_dp(w, space.cfg, space.B, d, req.astype(np.int64), parents)
    # final configuration: a minimiser of w_T among those covering r_T (the minimum is attained there)
    cover = (space.cfg == req[-1]).any(axis=1)
    idx = np.flatnonzero(cover)
    X = int(idx[np.argmin(w[idx])])
    value = float(w[X])
    sched = [None] * T
    cur = space.cfg[X].tolist()
    for t in range(T - 1, -1, -1):
        r = int(req[t])
        Xr = space.rank(cur)
        j = int(parents[t, Xr])
        if j >= 0:  # serving configuration cur - x + r, then the server at r moves to x
            cur = sorted(cur[:j] + cur[j + 1:] + [r])
        sched[t] = tuple(cur)
    # the schedule above serves r_t in sched[t]; consecutive configurations differ by at most one point
    return OfflineResult(value=value, method="dp", schedule=sched, info={"n_configs": C})


def offline_optimum(metric, requests, initial, method: str = "flow") -> OfflineResult:
    """Offline optimal cost of serving ``requests`` with k servers starting at ``initial``.

    Parameters
    ----------
    metric : FiniteMetric or (n, n) array
    requests : 1-d int array of point indices
    initial : list of k distinct point indices (k < n)
    method : {"flow", "flow_dense", "dp"}
        ``"flow"``: min-cost flow (networkx ``network_simplex``) on the sparse graph of
        :func:`flow_graph` (O(T n) edges); ``"flow_dense"``: the same on the dense O(T^2)-edge
        graph (Chrobak, Karloff, Payne, Vishwanathan 1991); ``"dp"``: the configuration DP
        over all C(n, k) configurations (O(T C(n,k) k^2) time), which also returns an optimal
        schedule.

    Returns
    -------
    OfflineResult
        ``.value`` (the optimum), ``.method``, ``.schedule`` (``"dp"`` only), ``.info``.

    Raises :class:`~online_algs.exceptions.SolverError` (with ``.status``) when the flow
    solver fails. Guarantee: all methods agree to 1e-9 (Theorem ``kserver.opt.flow_equals_dp``).
    """
    m = _metric(metric, "offline_optimum")
    init = _initial(initial, m, "offline_optimum")
    req = _requests(requests, m, "offline_optimum", allow_empty=True)
    check_choice("method", method, ("flow", "flow_dense", "dp"), owner="offline_optimum")
    if len(req) == 0:
        return OfflineResult(value=0.0, method=method, schedule=[] if method == "dp" else None)
    if method == "dp":
        return _dp_opt(m, req, init)
    return _flow_opt(m, req, init, sparse=(method == "flow"))
