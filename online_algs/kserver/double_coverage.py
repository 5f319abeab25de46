"""Double Coverage (DC) on the line and on trees."""

from __future__ import annotations

import numpy as np

from ..base import RequestThenMove
from ..exceptions import InvalidInputError
from ..run import RunResult
from . import _kernels as K
from .offline import _initial, _metric, _requests

__all__ = ["DoubleCoverage", "dc_additive_term"]

_REL_SNAP = 1e-12  # a server within this (times the edge length) of a node is snapped onto it


def dc_additive_term(metric, initial) -> float:
    r"""The additive term of DC's guarantee: :math:`\sum_{i<j} d(\mathrm{init}_i, \mathrm{init}_j)`.

    It is the initial value of the Chrobak-Larmore potential
    :math:`\Phi = k M + \sum_{i<j} d(s_i, s_j)` when OPT starts from the same configuration
    (``M = 0``), on lines and on trees alike.
    """
    m = _metric(metric, "dc_additive_term")
    init = _initial(initial, m, "dc_additive_term")
    sub = m.d[np.ix_(init, init)]
    return float(np.triu(sub, 1).sum())


class DoubleCoverage(RequestThenMove):
    r"""Double Coverage for k-server on a line or a tree.

    Problem: k servers on a finite metric that is a line (``metric.kind == "line"``) or the
    shortest-path metric of a weighted tree (``metric.kind == "tree"``); requests are points;
    cost = total distance moved.

    Update rule. *Line*: a request outside the servers' span is served by the nearest server;
    inside, its two neighbours move toward it by the smaller of the two gaps (one arrives).
    *Tree*: every server whose path to the request holds no other server ("unobstructed";
    among servers standing at the same place only the one with the lowest index counts)
    moves toward the request at equal speed; a server stops when another server appears on its
    path; this continues until one server reaches the request (event simulation: the next
    event is the next arrival of a moving server at a tree node).

    State. Servers can stop between points. On a line, ``state`` is the sorted tuple of the k
    server *positions* (floats, in the units of ``metric.info["positions"]``). On a tree,
    ``state`` is the sorted tuple of k triples ``(a, b, offset)`` over graph node ids (points
    first, in the order of ``metric.info["nodes"]``, then the other graph nodes): a server at
    node ``a`` is ``(a, a, 0.0)``; a server inside edge ``{a, b}`` with ``a < b`` is
    ``(a, b, offset)``, ``0 < offset < length``, at ``offset`` from ``a``. After every request
    one server stands on the requested point.

    Complexity: line O(log k) per request (numba batch kernel; ``serve`` is its slow twin);
    tree O(k^2 h) per event with at most k*h events per request (h = tree height in nodes).

    Guarantee: DC <= k OPT + sum_{i<j} d(init_i, init_j) on lines and trees (Theorem
    ``kserver.dc.competitive``; Chrobak, Karloff, Payne, Vishwanathan 1991; Chrobak, Larmore
    1991); against an h-server optimum (h <= k) the ratio is k(h+1)/(k+1) (Bansal, Elias, Jez,
    Koumoutsos, Pruhs 2018): on a line DC <= k(h+1)/(k+1) OPT_h + ``dc_hk_additive_term``
    (Theorem ``kserver.dc.hk_competitive``), with equality up to the potential on the
    ``dc_hk_family`` instances (Theorems ``kserver.dc.hk_lower`` and ``kserver.dc.lower_family``).

    Parameters
    ----------
    metric : FiniteMetric
        Built by :func:`online_algs.metrics.line` or :func:`online_algs.metrics.tree`.
    initial : list of int
        The k distinct starting points (k < n).
    """

    _record_defaults = {"series": True, "states": False}

    def __init__(self, metric, initial):
        self.metric = metric
        self.initial = initial

    # ------------------------------------------------------------------ setup
    def reset(self):
        m = _metric(self.metric, "DoubleCoverage")
        if m.kind not in ("line", "tree"):
            raise InvalidInputError(f"The 'metric' parameter of DoubleCoverage must be a line or a tree metric "
                                    f"(metric.kind 'line' or 'tree'). Got kind {m.kind!r}; build it with "
                                    f"online_algs.metrics.line(positions) or online_algs.metrics.tree(graph), or use "
                                    f"WorkFunctionKServer on a general metric.")
        self._m = m
        self._init = _initial(self.initial, m, "DoubleCoverage")
        self.k_ = len(self._init)
        if m.kind == "line":
            self._pos = np.asarray(m.info["positions"], dtype=np.float64)
            self._lo, self._hi = float(self._pos.min()), float(self._pos.max())
            self._servers = np.sort(self._pos[self._init]).astype(np.float64)
        else:
            self._build_tree(m)
            self._tpos = [(int(p), int(p), 0.0) for p in self._init]  # point index == node id for points

    def _build_tree(self, m):
        g = m.info["graph"]
        wname = m.info.get("weight", "weight")
        nodes = list(m.info["nodes"])
        others = [v for v in g.nodes if v not in set(nodes)]
        allnodes = nodes + others
        self._nid = {v: i for i, v in enumerate(allnodes)}
        N = len(allnodes)
        self._N = N
        adj = [dict() for _ in range(N)]
        for u, v, data in g.edges(data=True):
            a, b = self._nid[u], self._nid[v]
            w = float(data.get(wname, 1.0))
            adj[a][b] = w
            adj[b][a] = w
        self._adj = adj
        # nxt[r][u]: next node after u on the path u -> r, for every point r (BFS from r)
        nxt = {}
        for r in range(m.n):
            par = [-1] * N
            par[r] = r
            stack = [r]
            while stack:
                u = stack.pop()
                for v in adj[u]:
                    if par[v] == -1:
                        par[v] = u
                        stack.append(v)
            nxt[r] = par
        self._nxt = nxt

    def _validate_sequence(self, seq):
        return _requests(seq, self._m, "DoubleCoverage")

    # ------------------------------------------------------------------ protocol
    def serve(self, request):
        r = int(request)
        if self._m.kind == "line":
            return 0.0, self._serve_line(float(self._pos[r]))
        return 0.0, self._serve_tree(r)

    def _serve_line(self, x: float) -> float:
        s = self._servers
        k = len(s)
        if x <= s[0]:
            cost = s[0] - x
            s[0] = x
            return float(cost)
        if x >= s[-1]:
            cost = x - s[-1]
            s[-1] = x
            return float(cost)
        i = max(j for j in range(k) if s[j] <= x)   # left neighbour (rightmost of a co-located group)
        if s[i] == x:
            return 0.0
        d1, d2 = x - s[i], s[i + 1] - x
        if d1 <= d2:
            s[i] = x
            s[i + 1] = s[i + 1] - d1
            return float(2.0 * d1)
        s[i + 1] = x
        s[i] = s[i] + d2
        return float(2.0 * d2)

    # tree ------------------------------------------------------------------
    def _route(self, p, r):
        """Nodes a server at position p visits on its way to node r, and the distance to the first."""
        a, b, off = p
        nxt = self._nxt[r]
        if a == b:
            nodes = [a]
            first = 0.0
        else:
            # the path to r leaves the edge through the endpoint closer to r
            head = b if nxt[a] == b else a
            first = (self._adj[a][b] - off) if head == b else off
            nodes = [head]
        u = nodes[0]
        while u != r:
            u = nxt[u]
            nodes.append(u)
        return nodes, first

    def _blocks(self, j_pos, j, i, i_pos, nodes):
        """Does server j (at j_pos) lie on server i's route (``nodes`` from i_pos) to the request?"""
        a, b, off = j_pos
        ia, ib, ioff = i_pos
        if a == b:  # j at a node
            if ia == ib and a == ia:  # co-located at a node: the lower index goes first
                return j < i
            return a in nodes
        # j inside edge {a, b}
        if ia != ib and (ia, ib) == (a, b):
            head = nodes[0]
            if off == ioff:
                return j < i
            return off > ioff if head == b else off < ioff
        for u, v in zip(nodes[:-1], nodes[1:]):
            if (min(u, v), max(u, v)) == (a, b):
                return True
        if ia == ib:  # i at a node: j's edge might start at i's node (covered by the loop) only
            return False
        return False

    def _serve_tree(self, r: int) -> float:
        pos = self._tpos
        k = len(pos)
        total = 0.0
        for _ in range(10 * k * max(self._N, 2) + 10):
            if any(p[0] == r and p[1] == r for p in pos):
                return float(total)
            routes = [self._route(p, r) for p in pos]
            active = []
            for i in range(k):
                nodes_i = routes[i][0]
                if not any(self._blocks(pos[j], j, i, pos[i], nodes_i) for j in range(k) if j != i):
                    active.append(i)
            # distance of each active server to the next node on its route
            steps = {}
            for i in active:
                nodes_i, first = routes[i]
                a, b, _ = pos[i]
                if a == b:
                    steps[i] = self._adj[a][nodes_i[1]]
                else:
                    steps[i] = first
            delta = min(steps.values())
            for i in active:
                total += delta
                pos[i] = self._advance(pos[i], routes[i][0], steps[i], delta)
        raise AssertionError("Double Coverage on a tree did not reach the request")  # pragma: no cover

    def _advance(self, p, nodes, to_next, delta):
        a, b, off = p
        if a == b:
            u, v = a, nodes[1]
            length = self._adj[u][v]
        else:
            length = self._adj[a][b]
            v = nodes[0]
            u = a if v == b else b
        # distance already travelled from u toward v on edge (u, v)
        done = (length - to_next) + delta
        if length - done <= _REL_SNAP * length:
            return (v, v, 0.0)
        if u < v:
            return (u, v, done)
        return (v, u, length - done)

    # ------------------------------------------------------------------ fast path (line)
    def _run_batch(self, seq, series, states, thin):
        if self._m.kind != "line":
            return None
        T = len(seq)
        xs = self._pos[seq]
        mov = np.empty(T) if series else np.empty(1)
        if not states:
            total = K.dc_line_batch(self._servers, xs, mov, bool(series))
            st_list = st_steps = None
        else:  # the kernel runs chunk by chunk of ``thin`` requests; states recorded in between
            total = 0.0
            st_list = [self.state]
            st_steps = [0]
            for a in range(0, T, thin):
                b = min(a + thin, T)
                part = np.empty(b - a) if series else np.empty(1)
                total += K.dc_line_batch(self._servers, xs[a:b], part, bool(series))
                if series:
                    mov[a:b] = part
                st_list.append(self.state)
                st_steps.append(b)
        return RunResult(algorithm=repr(self), steps=T, service_cost=0.0, movement_cost=float(total),
                         service=np.zeros(T) if series else None, movement=mov if series else None,
                         states=st_list, state_steps=None if st_steps is None else np.asarray(st_steps))

    # ------------------------------------------------------------------ state
    @property
    def state(self):
        if self._m.kind == "line":
            return tuple(float(x) for x in self._servers)
        return tuple(sorted(self._tpos))

    def covered_points(self) -> set:
        """Point indices on which a server stands."""
        if self._m.kind == "line":
            where = {float(x): i for i, x in enumerate(self._pos)}
            return {where[float(x)] for x in self._servers if float(x) in where}
        return {p[0] for p in self._tpos if p[0] == p[1] and p[0] < self._m.n}

    def check_state(self, state) -> bool:
        if not isinstance(state, tuple) or len(state) != self.k_:
            return False
        if self._m.kind == "line":
            xs = np.asarray(state, dtype=float)
            return bool(np.all(np.isfinite(xs)) and np.all(np.diff(xs) >= 0)
                        and xs[0] >= self._lo and xs[-1] <= self._hi)
        for p in state:
            if not (isinstance(p, tuple) and len(p) == 3):
                return False
            a, b, off = p
            if a == b:
                if not (0 <= a < self._N and off == 0.0):
                    return False
            elif not (a < b and b in self._adj[a] and 0.0 < off < self._adj[a][b]):
                return False
        return list(state) == sorted(state)

    def _contract_opt(self, seq):
        from .offline import offline_optimum

        return offline_optimum(self._m, seq, self._init).value

    @classmethod
    def _contract_cases(cls):
        import networkx as nx

        from ..metrics import line, tree

        ln = line([0.0, 1.0, 3.0, 4.5, 7.0, 8.0])
        g = nx.Graph()
        g.add_weighted_edges_from([("c", "x", 1.0), ("c", "y", 2.0), ("y", "z", 1.5), ("c", "u", 0.5),
                                   ("u", "v", 1.0), ("u", "q", 2.5)])
        tr = tree(g, nodes=["x", "z", "v", "q", "y"])  # c and u are inner nodes, not points
        rng = np.random.default_rng(3)
        return [({"metric": ln, "initial": [0, 5]}, np.array([2, 3, 1, 4, 2, 0, 5, 3, 3, 1])),
                ({"metric": ln, "initial": [1, 2, 4]}, rng.integers(0, 6, size=30)),
                ({"metric": tr, "initial": [0, 2]}, np.array([1, 3, 4, 0, 2, 1, 1, 3])),
                ({"metric": tr, "initial": [0, 1, 3]}, rng.integers(0, 5, size=25))]
