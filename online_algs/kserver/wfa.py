"""The Work Function Algorithm for k-server and two baselines (greedy, harmonic)."""

from __future__ import annotations

import numpy as np

from .._validation import check_seed
from ..base import RequestThenMove
from ..run import RunResult
from . import _kernels as K
from .offline import ConfigSpace, _initial, _metric, _requests

__all__ = ["WorkFunctionKServer", "GreedyKServer", "RandomKServer"]


class _PointServers(RequestThenMove):
    """Shared parts of the k-server algorithms whose servers always stand on points."""

    _abstract = True
    _record_defaults = {"series": True, "states": False}

    def _setup(self, owner):
        self._m = _metric(self.metric, owner)
        self._init = _initial(self.initial, self._m, owner)
        self.k_ = len(self._init)
        self._conf = np.sort(self._init).astype(np.int64)
        self._d = np.ascontiguousarray(self._m.d)

    def _validate_sequence(self, seq):
        return _requests(seq, self._m, type(self).__name__)

    @property
    def state(self):
        """Sorted tuple of the k occupied point indices."""
        return tuple(int(x) for x in self._conf)

    def covered_points(self) -> set:
        return set(int(x) for x in self._conf)

    def check_state(self, state) -> bool:
        if not isinstance(state, tuple) or len(state) != self.k_:
            return False
        if any(not isinstance(x, int) or not (0 <= x < self._m.n) for x in state):
            return False
        return len(set(state)) == self.k_ and list(state) == sorted(state)

    def _move(self, j, r):
        c = self._conf.tolist()
        c[j] = r
        self._conf = np.array(sorted(c), dtype=np.int64)

    def _contract_opt(self, seq):
        from .offline import offline_optimum

        return offline_optimum(self._m, seq, self._init).value

    @classmethod
    def _contract_cases(cls):
        from ..metrics import random_metric

        m1 = random_metric("general", 6, seed=1)
        m2 = random_metric("line", 7, seed=2)
        m3 = random_metric("tree", 6, seed=3)
        rng = np.random.default_rng(5)
        return [({"metric": m1, "initial": [0, 3]}, rng.integers(0, 6, size=25)),
                ({"metric": m2, "initial": [1, 4, 6]}, rng.integers(0, 7, size=30)),
                ({"metric": m3, "initial": [2, 5]}, np.array([0, 1, 0, 1, 3, 4, 3, 4, 2]))]


class WorkFunctionKServer(_PointServers):
    r"""The Work Function Algorithm (WFA) for k-server on any finite metric.

    Problem: k servers on n points (k < n), requests are points, cost = distance moved.

    Update rule: the configuration work function (lazy form)
    :math:`w_t(X) = \min_{x \in X} w_{t-1}(X - x + r_t) + d(r_t, x)` (and
    :math:`w_t(X) = w_{t-1}(X)` when :math:`r_t \in X`), :math:`w_0(X) = D(X_0, X)` the
    min-cost matching distance; when :math:`r_t` is not covered, move the server
    :math:`x \in X_{t-1}` minimising :math:`w_t(X_{t-1} - x + r_t) + d(x, r_t)` (first minimiser
    in ascending point order).

    Complexity: configurations are the C(n,k) k-subsets indexed by their colex rank
    (:class:`~online_algs.kserver.offline.ConfigSpace`; practical up to ~10^5..10^6); one request
    costs O(C(n,k) k^2) (numba kernel ``wfa_batch``; ``serve`` is its vectorised numpy slow
    twin); w_0 costs O(C(n,k) k^3) (Hungarian method).

    Guarantee: WFA <= (2k-1) OPT + C with C = 2 sum_{i<j} d(init_i, init_j) when OPT starts from
    the same configuration (Theorem ``kserver.wfa.competitive``; Koutsoupias, Papadimitriou,
    J.ACM 1995; the constant is -Phi(w_0) for their potential, derived in
    ``docs/theory/kserver.md`` §4 and checked step by step by Theorem
    ``kserver.wfa.extended_cost``); no deterministic algorithm beats k (Theorem
    ``kserver.deterministic.lower_bound``).

    Parameters
    ----------
    metric : FiniteMetric or (n, n) array
    initial : list of int
        k distinct starting points, k < n.
    """

    def __init__(self, metric, initial):
        self.metric = metric
        self.initial = initial

    def reset(self):
        self._setup("WorkFunctionKServer")
        self._space = ConfigSpace.get(self._m.n, self.k_, owner="WorkFunctionKServer")
        self._w = K.wf_init(self._space.cfg, self._conf.copy(), self._d)

    @property
    def work_function(self) -> np.ndarray:
        """Current work function, indexed like ``ConfigSpace.get(n, k).cfg`` (a copy)."""
        return self._w.copy()

    def serve(self, request):
        r = int(request)
        cfg, B, d = self._space.cfg, self._space.B, self._d
        w = self._w
        has = (cfg == r).any(axis=1)
        new = w.copy()
        rows = np.flatnonzero(~has)
        sub = cfg[rows]
        cand = np.empty((len(rows), self.k_))
        for j in range(self.k_):
            repl = sub.copy()
            repl[:, j] = r
            repl.sort(axis=1)
            rank = np.zeros(len(rows), dtype=np.int64)
            for i in range(self.k_):
                rank += B[repl[:, i], i + 1]
            cand[:, j] = w[rank] + d[r, sub[:, j]]
        new[rows] = cand.min(axis=1)
        self._w = new
        if r in self._conf:
            return 0.0, 0.0
        vals = []
        for j in range(self.k_):
            c = sorted(self._conf.tolist()[:j] + self._conf.tolist()[j + 1:] + [r])
            vals.append(new[self._space.rank(c)] + d[self._conf[j], r])
        j = int(np.argmin(vals))
        cost = float(d[self._conf[j], r])
        self._move(j, r)
        return 0.0, cost

    def _run_batch(self, seq, series, states, thin):
        T = len(seq)
        mov = np.empty(T) if series else np.empty(1)
        kept = [t + 1 for t in range(T) if (t + 1) % thin == 0 or t == T - 1] if states else []
        n_st = max(len(kept), 1)
        st = np.empty((n_st, self.k_), dtype=np.int64)
        first = self.state
        total = K.wfa_batch(self._w, self._space.cfg, self._space.B, self._d, self._conf, seq.astype(np.int64),
                            mov, bool(series), st, int(thin), bool(states))
        st_list = st_steps = None
        if states:
            st_list = [first] + [tuple(int(x) for x in row) for row in st]
            st_steps = [0] + kept
        return RunResult(algorithm=repr(self), steps=T, service_cost=0.0, movement_cost=float(total),
                         service=np.zeros(T) if series else None, movement=mov if series else None,
                         states=st_list, state_steps=None if st_steps is None else np.asarray(st_steps))


class GreedyKServer(_PointServers):
    r"""Greedy k-server: the nearest server moves to the request.

    Update rule: if :math:`r_t` is not covered, move :math:`\arg\min_{x \in X} d(x, r_t)`
    (lowest point index on ties). Complexity: O(k) per request.

    Guarantee: none: greedy is not competitive (two close points and a far server give an
    unbounded ratio); its ratio on each family is reported (Theorem ``kserver.greedy.empirical``)
    and, like every deterministic algorithm, it stays >= k on the cruel family (Theorem
    ``kserver.deterministic.lower_bound``).

    Parameters
    ----------
    metric : FiniteMetric or (n, n) array
    initial : list of int
    """

    def __init__(self, metric, initial):
        self.metric = metric
        self.initial = initial

    def reset(self):
        self._setup("GreedyKServer")

    def serve(self, request):
        r = int(request)
        if r in self._conf:
            return 0.0, 0.0
        dist = self._d[self._conf, r]
        j = int(np.argmin(dist))
        cost = float(dist[j])
        self._move(j, r)
        return 0.0, cost


class RandomKServer(_PointServers):
    r"""The Harmonic algorithm: a random server moves, with probability inversely proportional to
    its distance.

    Update rule: if :math:`r_t` is not covered, move server :math:`x` with probability
    :math:`\frac{1/d(x, r_t)}{\sum_{y \in X} 1/d(y, r_t)}` (numpy ``Generator`` seeded by
    ``seed``). Complexity: O(k) per request.

    Guarantee: O(2^k log k)-competitive against an adaptive online adversary (Bartal, Grove,
    J.ACM 2000); no constant is checked here: its ratio on each family is reported (Theorem
    ``kserver.harmonic.empirical``).

    Parameters
    ----------
    metric : FiniteMetric or (n, n) array
    initial : list of int
    seed : int or None
    """

    randomized = True

    def __init__(self, metric, initial, seed=None):
        self.metric = metric
        self.initial = initial
        self.seed = seed

    def reset(self):
        self._setup("RandomKServer")
        self._rng = np.random.default_rng(check_seed(self.seed, owner="RandomKServer"))

    def serve(self, request):
        r = int(request)
        if r in self._conf:
            return 0.0, 0.0
        dist = self._d[self._conf, r]
        if (dist <= 0).any():  # a pseudo-metric: a server at distance 0 moves for free
            j = int(np.argmax(dist <= 0))
        else:
            p = 1.0 / dist
            p = p / p.sum()
            j = int(self._rng.choice(self.k_, p=p))
        cost = float(dist[j])
        self._move(j, r)
        return 0.0, cost
