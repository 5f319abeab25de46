r"""Fractional k-server on HSTs, weighted paging, online rounding and LP optima.

Weighted paging (Bansal, Buchbinder, Naor) is k-server on a weighted star; its fractional
primal-dual algorithm raises a dual ``y`` and lets every missing fraction grow as
``dx_q/dy = (x_q + 1/k)/c_q``. The same step is the Bregman projection of the anti-server
vector onto ``{x_r = 0, sum x = n - k, 0 <= x <= 1}`` under the shifted weighted entropy
``sum_q c_q (x_q + 1/k) log(x_q + 1/k)`` (derivation: ``docs/theory/weighted_paging.md``).
:class:`FractionalKServerHST` applies that projection on a hierarchically separated tree with
request-dependent weights ``c_q = d_T(q, lca(q, r))`` (the cost for a unit of server mass to
leave ``q``'s side of the tree towards ``r``), a documented *variant* of the multiscale mirror
descent of Bubeck, Cohen, Lee, Lee, Madry (STOC 2018), see ``docs/theory/fractional_kserver.md``.
:class:`MultiscaleKServerHST` (issue #5) follows the multiscale template itself: one Bregman
projection per request under a fixed multiscale entropy over the anti-server masses of all
subtrees (section 5 of that page), with :class:`RoundedMultiscaleKServerHST` its online rounding
and :func:`multiscale_project` one projection with a choice of solver (kernel or slow twins).

Cost conventions
----------------
* Weighted paging: a page is *evicted* at cost ``c_q`` per unit (``x_q`` increase); fetching
  is free (BBN's convention). ``info["fetch_cost"]`` reports the fetch cost and
  ``info["star_cost"]`` the k-server cost on ``weighted_star(costs / 2)`` (half a fetch plus
  half an eviction per move), so both conventions are available.
* k-server on an HST: movement ``sum_u w_u |dz_u|`` over the subtree server masses ``z_u``
  (the earth-mover distance on the tree); no service cost.

Offline optima: :func:`weighted_paging_lp` (cvxpy, HIGHS), :func:`weighted_paging_opt`
(exact integral optimum by dynamic programming over cache configurations),
:func:`kserver_hst_lp` (the fractional k-server LP on a tree) and
:func:`kserver_lazy_dp` (integral k-server optimum over lazy schedules, tiny instances).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import check_choice, check_float, check_float_array, check_int, check_int_array, check_seed
from ..base import RequestThenMove
from ..exceptions import InvalidInputError, SolverError
from ..metrics import FiniteMetric
from ..run import RunResult
from . import _kernels_fractional as _K

__all__ = ["FractionalWeightedPaging", "RoundedWeightedPaging", "FractionalKServerHST", "RoundedKServerHST",
           "MultiscaleKServerHST", "RoundedMultiscaleKServerHST", "multiscale_project", "weighted_paging_lp",
           "weighted_paging_opt", "kserver_hst_lp", "kserver_lazy_dp", "LPResult", "hst_exit_costs", "bbn_step"]

_TOL = 1e-9


# ---------------------------------------------------------------------------------------------
# validation helpers (own module: no change to the shared _validation)
# ---------------------------------------------------------------------------------------------
def _check_costs(costs, owner):
    c = check_float_array("costs", costs, ndim=1, owner=owner)
    if (c <= 0).any():
        i = int(np.argmax(c <= 0))
        raise InvalidInputError(f"The 'costs' argument of {owner} must hold positive fetch/eviction costs. "
                                f"Got costs[{i}] = {c[i]}; give every page a cost > 0 (e.g. np.maximum(costs, 1e-9)).")
    if c.size < 2:
        raise InvalidInputError(f"The 'costs' argument of {owner} must describe at least 2 pages (one cost per "
                                f"page). Got {c.size}.")
    return c


def _check_k(k, n, owner):
    return check_int("k", k, low=1, high=n - 1, owner=owner)


def _check_initial(initial, n, k, owner, required_len=True):
    if initial is None:
        return np.arange(k, dtype=np.int64)
    arr = np.asarray(initial)
    if arr.ndim != 1:
        raise InvalidInputError(f"The 'initial' argument of {owner} must be a 1-d array of {k} distinct point ids. "
                                f"Got an array of shape {arr.shape}.")
    init = check_int_array("initial", arr, low=0, high=n - 1, owner=owner)
    if required_len and init.size != k:
        raise InvalidInputError(f"The 'initial' argument of {owner} must hold exactly k = {k} point ids (one per "
                                f"server / cache slot). Got {init.size}; pass k distinct ids in 0..{n - 1}.")
    if np.unique(init).size != init.size:
        vals, cnt = np.unique(init, return_counts=True)
        raise InvalidInputError(f"The 'initial' argument of {owner} must hold distinct point ids. Got "
                                f"{int(vals[cnt > 1][0])} {int(cnt.max())} times; a point holds at most one server.")
    return init


def _check_requests(seq, n, owner):
    return check_int_array("requests", seq, low=0, high=n - 1, owner=owner)


def _check_hst_points(hst, point_map, owner, name="point_map"):
    """``hst`` must be an HST; ``point_map`` (HST point of each instance point) ids in its leaves' range."""
    from ..mts.hst import HST

    if not isinstance(hst, HST):
        raise InvalidInputError(f"The 'hst' argument of {owner} must be an online_algs.mts.HST. Got "
                                f"{type(hst).__name__}; build one with online_algs.mts.hst.random_hst(n, seed).")
    if point_map is None:
        return np.arange(hst.n_leaves)
    return check_int_array(name, point_map, low=0, high=hst.n_leaves - 1, owner=owner)


# ---------------------------------------------------------------------------------------------
# the step, slow twin (plain numpy): used by serve()
# ---------------------------------------------------------------------------------------------
def bbn_step(x, r, c, delta, target):
    r"""One primal-dual step of Bansal-Buchbinder-Naor, plain numpy (the kernel's slow twin).

    Returns the new anti-server vector ``x'`` (a copy) with ``x'_r = 0`` and
    ``x'_q = min(1, (x_q + delta) e^{y/c_q} - delta)`` for ``q != r``, ``y >= 0`` the smallest
    value with ``sum_{q != r} x'_q >= target`` (bisection on ``y``). O(n) per bisection step,
    at most ``_BISECT_ITERS`` steps. The algorithm it serves: Theorem ``kserver.paging.weighted``.
    """
    x = np.asarray(x, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    r = check_int("r", r, low=0, high=len(x) - 1, owner="bbn_step")
    xold = x.copy()
    new = x.copy()
    new[r] = 0.0
    others = np.arange(len(x)) != r
    if float(new[others].sum()) >= target:
        return new

    def grow(y):
        v = (xold + delta) * np.exp(y / c) - delta
        return np.where(v > 1.0, 1.0, np.where(v < xold, xold, v))

    active = others & (xold < 1.0)
    hi = float(np.max(c[active] * np.log((1.0 + delta) / (xold[active] + delta)))) if active.any() else 0.0
    hi = hi * (1.0 + 1e-12) + 1e-300
    lo = 0.0
    for _ in range(_K._BISECT_ITERS):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if float(grow(mid)[others].sum()) < target:
            lo = mid
        else:
            hi = mid
    g = grow(hi)
    new[others] = g[others]
    excess = float(new[others].sum()) - target
    while excess > 0.0:
        gain = np.where(others, new - xold, 0.0)
        q = int(np.argmax(gain))
        if gain[q] <= 0.0:
            break
        take = min(excess, float(gain[q]))
        new[q] -= take
        excess -= take
    return new


# ---------------------------------------------------------------------------------------------
# trees
# ---------------------------------------------------------------------------------------------
class _Tree:
    """An HST seen from the points of the k-server instance (point i at node ``leaf[i]``)."""

    def __init__(self, hst, point_to_hst_point, metric):
        self.hst = hst
        self.leaf = np.ascontiguousarray(np.asarray(hst.leaves)[np.asarray(point_to_hst_point)], dtype=np.int64)
        self.parent = np.ascontiguousarray(hst.parent, dtype=np.int64)
        self.order = np.ascontiguousarray(hst.order, dtype=np.int64)
        self.length = np.ascontiguousarray(hst.length, dtype=np.float64)
        self.metric = metric  # the real metric (None when the input was the HST itself)
        self.n = self.leaf.size
        self.n_nodes = self.parent.size
        self.exit = hst_exit_costs(hst, point_to_hst_point)
        # DFS leaf order (points), for systematic sampling: every subtree is a contiguous block
        pon = np.full(self.n_nodes, -1, dtype=np.int64)
        pon[self.leaf] = np.arange(self.n)
        dfs = []
        stack = [int(hst.root)]
        while stack:
            v = stack.pop()
            ch = hst.children(v)
            if ch.size == 0:
                dfs.append(int(pon[v]))
            else:
                stack.extend(int(u) for u in ch[::-1])
        self.dfs = np.asarray(dfs, dtype=np.int64)

    def masses(self, server_mass):
        z = np.zeros(self.n_nodes)
        z[self.leaf] = server_mass
        for v in self.order[:0:-1]:
            z[self.parent[v]] += z[v]
        return z

    def emd(self, a, b):
        za, zb = self.masses(a), self.masses(b)
        return float(np.dot(self.length, np.abs(za - zb)))


def hst_exit_costs(hst, point_to_hst_point=None) -> np.ndarray:
    r"""``E[r, q] = d_T(q, lca(q, r))``: the cost for server mass at point ``q`` to climb to the
    lowest common ancestor with ``r`` (``E[r, r]`` is set to 1, unused). On a star (depth-1
    HST) ``E[r, q]`` is the leaf weight ``w_q``: the weighted-paging cost. O(n^2 + n_nodes)."""
    p = _check_hst_points(hst, point_to_hst_point, "hst_exit_costs", "point_to_hst_point")
    dT = hst.distance_matrix()[np.ix_(p, p)]
    rd = np.asarray(hst.rootdist)[np.asarray(hst.leaves)[p]]
    E = 0.5 * (dT + rd[None, :] - rd[:, None])
    lo = np.asarray(hst.length)[np.asarray(hst.leaves)[p]]
    E = np.maximum(E, lo[None, :])
    np.fill_diagonal(E, 1.0)
    return np.ascontiguousarray(E)


def _as_tree(space, embedding_seed, owner):
    from ..mts.hst import HST, frt_embedding

    if isinstance(space, HST):
        return _Tree(space, np.arange(space.n_leaves), None)
    if isinstance(space, FiniteMetric) and space.kind == "hst" and isinstance(space.info.get("hst"), HST):
        return _Tree(space.info["hst"], np.arange(space.n), None)
    arr = None
    if not isinstance(space, FiniteMetric):
        try:
            arr = np.asarray(space, dtype=np.float64)
        except (TypeError, ValueError):
            arr = None
    if isinstance(space, FiniteMetric) or (arr is not None and arr.ndim == 2):
        metric = space if isinstance(space, FiniteMetric) else FiniteMetric(arr)
        seed = check_seed(embedding_seed, owner=owner)
        hst, lop = frt_embedding(metric, seed=seed)
        return _Tree(hst, lop, metric)
    raise InvalidInputError(f"The 'hst' parameter of {owner} must be an online_algs.mts.HST, a FiniteMetric (embedded "
                            f"into a random HST by frt_embedding) or an (n, n) distance matrix. Got "
                            f"{type(space).__name__}; build one with online_algs.mts.hst.random_hst(n, seed).")


# ---------------------------------------------------------------------------------------------
# common machinery
# ---------------------------------------------------------------------------------------------
class _FractionalBase(RequestThenMove):
    _abstract = True
    _record_defaults = {"series": True, "states": False}
    _tree_mode = False

    def _setup_common(self, n, k):
        self.n_ = n
        self.k_ = k
        self.delta_ = 1.0 / k
        self.target_ = float(n - k)
        x = np.ones(n)
        x[self.initial_] = 0.0
        self._x = x
        self._acc = {"fetch": 0.0, "star": 0.0, "frac": 0.0, "repairs": 0, "hits": 0, "tree": 0.0}

    def _rates(self, r):
        return self._C[r] if self._per_request else self._C[0]

    def _validate_sequence(self, seq):
        return _check_requests(seq, self.n_, type(self).__name__)

    def _tree_arrays(self):
        if self._tree_mode:
            tr = self.tree_
            return tr.leaf, tr.parent, tr.order, tr.length
        z = np.zeros(1, dtype=np.int64)
        return np.zeros(self.n_, dtype=np.int64), np.full(1, -1, dtype=np.int64), z, np.zeros(1)


class _RoundedState:
    """The rounding shared by the rounded algorithms: systematic sampling of the fractional state
    along ``self._perm`` with one offset U per run; the state is the point ids holding a server
    (``self._sel`` is 0/1)."""

    def _start_rounding(self, perm):
        """Draw U from ``seed`` and round the initial fractional state along ``perm``."""
        self.seed_ = check_seed(self.seed, owner=type(self).__name__)
        self._rng = np.random.default_rng(self.seed_)
        self._U = float(self._rng.random())
        self._perm = perm
        self._sel = np.zeros(self.n_, dtype=np.uint8)
        self._acc["repairs"] += _K.systematic_select(self._x, self._perm, self._U, -1, self._sel)

    def _round_step(self, r):
        """One fractional step on request ``r`` and its rounding (the slow twin of ``run_rounded``).
        Returns the fractional state and the selection, before and after."""
        old_sel = self._sel.copy()
        if old_sel[r]:
            self._acc["hits"] += 1
        xold = self._x
        self._x = self._frac_step(xold, r)
        self._sel = _systematic_slow(self._x, self._perm, self._U, r)
        return xold, self._x, old_sel, self._sel

    def _frac_step(self, xold, r):
        """The fractional step being rounded (a new array): the BBN projection by default."""
        return bbn_step(xold, r, self._rates(r), self.delta_, self.target_)

    @property
    def state(self):
        return tuple(int(q) for q in np.flatnonzero(self._sel))

    def check_state(self, state):
        s = list(state)
        return len(s) == self.k_ == len(set(s)) and all(0 <= q < self.n_ for q in s)

    @staticmethod
    def _config_states(cfg, T, thin):
        """The recorded states of a batch run from its (T + 1, n) 0/1 configurations."""
        return [tuple(int(q) for q in np.flatnonzero(cfg[i])) for i in _state_steps(T, thin)]


class FractionalWeightedPaging(_FractionalBase):
    r"""Fractional weighted paging by the primal-dual algorithm of Bansal, Buchbinder and Naor.

    Problem: pages ``0..n-1`` with eviction costs ``c_p > 0``, a cache of ``k`` slots (initially
    ``initial``), a request sequence; ``x_p in [0, 1]`` is the missing fraction of page ``p``,
    ``sum_p x_p = n - k``. Serving request ``p`` needs ``x_p = 0``.

    Update rule: set ``x_p = 0`` (fetch, free) and raise a dual ``y`` from 0 while
    ``sum_{q != p} x_q < n - k``; each ``x_q`` grows as ``dx_q/dy = (x_q + 1/k)/c_q`` until it
    reaches 1, i.e. ``x_q(y) = min(1, (x_q + 1/k) e^{y/c_q} - 1/k)``, with ``y`` found by one
    scalar root-find. This is the Bregman projection onto ``{x_p = 0, sum x = n-k, 0<=x<=1}``
    under ``sum_q c_q (x_q + 1/k) log(x_q + 1/k)``. Cost: eviction cost
    ``sum_q c_q (increase of x_q)``; ``info`` also has ``fetch_cost`` and ``star_cost``.

    Complexity: O(n * B) per request (B evaluations of the root-find on ``y``: about 12 in the
    numba kernel (Illinois), about 55 in the bisection twin ``serve``; at most 200).

    Guarantee: ``cost <= 2 ln(1 + k) * OPT_LP <= 2 ln(1 + k) * OPT`` (strictly, no additive term)
    for the eviction-cost optimum (Theorem ``kserver.paging.weighted``; primal-dual proof in
    ``docs/theory/weighted_paging.md``; Bansal, Buchbinder, Naor, FOCS 2007 / J.ACM 2012
    state O(log k)). The cost is at least the LP optimum (Theorem
    ``kserver.fractional.at_least_opt``).

    Parameters
    ----------
    costs : array-like of float, shape (n,)
        Positive eviction cost of each page.
    k : int
        Cache size, ``1 <= k <= n - 1``.
    initial : array-like of int, shape (k,), optional
        Pages in the cache at the start (default ``0..k-1``).
    """

    def __init__(self, costs, k, initial=None):
        self.costs = costs
        self.k = k
        self.initial = initial

    def reset(self):
        owner = type(self).__name__
        self.costs_ = _check_costs(self.costs, owner)
        n = self.costs_.size
        k = _check_k(self.k, n, owner)
        self.initial_ = _check_initial(self.initial, n, k, owner)
        self._setup_common(n, k)
        self._C = self.costs_[None, :].copy()
        self._per_request = False

    def serve(self, request):
        r = int(request)
        xold = self._x
        new = bbn_step(xold, r, self.costs_, self.delta_, self.target_)
        d = new - xold
        mask = np.arange(self.n_) != r
        ev = float(np.sum(self.costs_[mask] * np.maximum(d[mask], 0.0)))
        self._acc["fetch"] += float(self.costs_[r] * xold[r])
        self._acc["star"] += 0.5 * float(np.sum(self.costs_ * np.abs(d)))
        self._x = new
        return 0.0, ev

    def _run_batch(self, seq, series, states, thin):
        leaves, parent, order, length = self._tree_arrays()
        cost, fetch, star, st, x = _K.run_fractional(self._x, seq, self._C, self._per_request, self.delta_,
                                                     self.target_, False, leaves, parent, order, length,
                                                     thin, states)
        self._x = x
        self._acc["fetch"] = float(fetch.sum())
        self._acc["star"] = float(star.sum())
        return _result(self, seq, cost, series, states, st, thin)

    @property
    def state(self):
        return self._x.copy()

    def check_state(self, state):
        x = np.asarray(state, dtype=float)
        return (x.shape == (self.n_,) and bool(np.all(x >= -_TOL)) and bool(np.all(x <= 1 + _TOL))
                and abs(float(x.sum()) - self.target_) <= _TOL * max(1.0, self.target_))

    def _finalize(self, result):
        result.info["fetch_cost"] = self._acc["fetch"]
        result.info["star_cost"] = self._acc["star"]
        result.info["cost_convention"] = "eviction"

    @classmethod
    def _contract_cases(cls):
        return [({"costs": np.array([1.0, 2.0, 0.5, 3.0, 1.5]), "k": 2}, np.array([2, 3, 0, 4, 1, 2, 3, 3, 0, 1])),
                ({"costs": np.array([1.0, 4.0, 1.0, 2.0]), "k": 3, "initial": np.array([3, 1, 0])},
                 np.array([2, 0, 1, 3, 2, 2, 1]))]

    def _contract_opt(self, seq):
        return weighted_paging_lp(self.costs_, self.k_, seq, self.initial_).value


class RoundedWeightedPaging(_RoundedState, FractionalWeightedPaging):
    r"""Randomized integral weighted paging: the BBN fractional cache rounded online by coupled
    systematic sampling.

    Rounding scheme: draw ``U ~ Unif[0, 1)`` once (at ``reset``); after every fractional step
    the cache is the systematic sample of the cache masses ``1 - x_q`` in page order: page
    ``q`` is cached iff an integer ``m`` has ``U + m`` in ``[C_{q-1}, C_q)`` (``C`` the
    cumulative masses). Marginals are kept exactly: ``P(q cached) = 1 - x_q`` at every step;
    the requested page (mass 1) is always cached; the cache has exactly ``k`` pages. The same
    ``U`` at every step couples consecutive caches.

    Movement: eviction cost of the integral cache (``info["fetch_cost"]``: fetch cost,
    ``info["fractional_cost"]``: the fractional eviction cost). Per step,
    ``E|d count_q| <= |dC_{q-1}| + |dC_q|``, so the expected rounded cost is at most
    ``sum_q c_q (|dC_{q-1}| + |dC_q|)`` summed over steps (an exact, computable bound; the
    factor rounded/fractional is reported, not bounded by a constant:
    Theorem ``kserver.rounding.movement``; marginals: Theorem ``kserver.rounding.marginals``).

    Complexity: O(n * B) per request (numba kernel). Parameters as
    :class:`FractionalWeightedPaging`, plus ``seed`` (None or int).
    """

    randomized = True
    _record_defaults = {"series": True, "states": False}

    def __init__(self, costs, k, initial=None, seed=None):
        self.costs = costs
        self.k = k
        self.initial = initial
        self.seed = seed

    def reset(self):
        super().reset()
        self._start_rounding(np.arange(self.n_, dtype=np.int64))

    def serve(self, request):
        r = int(request)
        xold, new, old_sel, sel = self._round_step(r)
        self._acc["frac"] += self._frac_cost(xold, new, r)
        return 0.0, self._move_cost(old_sel, sel)

    def _frac_cost(self, xold, new, r):
        d = new - xold
        mask = np.arange(self.n_) != r
        return float(np.sum(self.costs_[mask] * np.maximum(d[mask], 0.0)))

    def _move_cost(self, old_sel, sel):
        out = (old_sel == 1) & (sel == 0)
        inn = (old_sel == 0) & (sel == 1)
        self._acc["fetch"] += float(self.costs_[inn].sum())
        return float(self.costs_[out].sum())

    def _run_batch(self, seq, series, states, thin):
        leaves, parent, order, length = self._tree_arrays()
        cost, fetch, fcost, cfg, hits, rep = _K.run_rounded(
            self._x, seq, self._C, self._per_request, self.delta_, self.target_, self._tree_mode, leaves, parent,
            order, length, self._perm, self._U, self.costs_)
        self._acc["fetch"] = float(fetch.sum())
        self._acc["frac"] = float(fcost.sum())
        self._acc["hits"] = int(hits)
        self._acc["repairs"] += int(rep)
        st = self._config_states(cfg, len(seq), thin) if states else None
        self._sel = cfg[-1].copy()
        return _result(self, seq, cost, series, states, st, thin, states_are_list=True)

    def _finalize(self, result):
        result.info["fetch_cost"] = self._acc["fetch"]
        result.info["fractional_cost"] = self._acc["frac"]
        result.info["repairs"] = self._acc["repairs"]
        result.info["cost_convention"] = "eviction"
        result.hits = self._acc["hits"]
        result.misses = result.steps - self._acc["hits"]

    @classmethod
    def _contract_cases(cls):
        return [({"costs": np.array([1.0, 2.0, 0.5, 3.0, 1.5]), "k": 2, "seed": 3},
                 np.array([2, 3, 0, 4, 1, 2, 3, 3, 0, 1])),
                ({"costs": np.array([1.0, 4.0, 1.0, 2.0]), "k": 3, "initial": np.array([3, 1, 0]), "seed": None},
                 np.array([2, 0, 1, 3, 2, 2, 1]))]


def _systematic_slow(x, perm, U, r):
    """Plain-python systematic sampling (twin of the kernel), with the same float repair."""
    n = len(x)
    sel = np.zeros(n, dtype=np.uint8)
    cum = 0.0
    prev = math.ceil(0.0 - U)
    for q in perm:
        cum += 1.0 - float(x[q])
        cur = math.ceil(cum - U)
        sel[q] = 1 if cur - prev >= 1 else 0
        prev = cur
    k = int(round(n - float(np.sum(x))))
    if r >= 0 and not sel[r]:
        sel[r] = 1
    while int(sel.sum()) > k:
        cand = [q for q in range(n) if sel[q] and q != r]
        sel[min(cand, key=lambda q: 1.0 - x[q])] = 0
    while int(sel.sum()) < k:
        cand = [q for q in range(n) if not sel[q]]
        sel[max(cand, key=lambda q: 1.0 - x[q])] = 1
    return sel


def _state_steps(T, thin):
    idx = [0] + [t + 1 for t in range(T) if (t + 1) % thin == 0 or t == T - 1]
    return idx


def _result(alg, seq, cost, series, states, st, thin, states_are_list=False):
    T = len(seq)
    res = RunResult(algorithm=repr(alg), steps=T, service_cost=0.0, movement_cost=float(np.sum(cost)),
                    service=np.zeros(T) if series else None, movement=np.asarray(cost, dtype=float) if series else None)
    if states:
        res.state_steps = np.asarray(_state_steps(T, thin))
        res.states = list(st) if states_are_list else [np.array(row) for row in st]
    return res


# ---------------------------------------------------------------------------------------------
# k-server on HSTs
# ---------------------------------------------------------------------------------------------
class FractionalKServerHST(_FractionalBase):
    r"""Fractional k-server on a hierarchically separated tree by a request-dependent entropic
    projection (a documented variant of multiscale entropic mirror descent).

    Problem: ``k`` servers on the leaves (points) of a tree with edge lengths ``w_u``; the state
    is ``z_u`` = fractional number of servers in the subtree of ``u`` (``z_root = k``,
    ``z_u = sum`` over children, ``0 <= z_leaf <= 1``); after serving request ``r``,
    ``z_leaf(r) = 1``. Movement = ``sum_u w_u |dz_u|`` (the earth-mover distance on the tree).

    Update rule (anti-servers ``x_q = 1 - z_leaf(q)``): on request ``r`` set ``x_r = 0`` and
    project back onto ``{sum x = n - k, 0 <= x <= 1}`` under the shifted weighted entropy
    ``sum_q E_rq (x_q + 1/k) log(x_q + 1/k)`` with ``E_rq = d_T(q, lca(q, r))``: one dual
    ``y`` and ``x_q(y) = min(1, (x_q + 1/k) e^{y / E_rq} - 1/k)`` (the BBN step with the cost
    of leaving ``q``'s side of the tree towards ``r``). Server mass thus leaves far subtrees
    exponentially more slowly than near ones. On a depth-1 HST (a star) it is exactly
    :class:`FractionalWeightedPaging` with ``costs = leaf edge lengths``. It is *not* the
    BCLLM mirror map (which uses conditional masses ``z_u / z_parent`` and a fixed
    regulariser); see ``docs/theory/fractional_kserver.md``.

    Any finite metric is accepted: it is embedded into a random HST with
    ``frt_embedding(metric, embedding_seed)``; the fractional algorithm then runs on the tree
    and its movement is the tree movement (which dominates the real one).

    Complexity: O(n * B + n_nodes) per request (numba kernel), O(n^2) memory for the exit costs.

    Guarantee: feasibility is exact (to 1e-12 after 10^5 requests, Theorem
    ``kserver.fractional.feasible``); cost >= the fractional LP optimum on the tree
    (Theorem ``kserver.fractional.at_least_opt``). Its competitive ratio is *empirical*:
    measured against ``(log k)^2`` at fixed size (Theorem ``kserver.fractional.ratio_k``) and
    against the HST size at fixed ``k`` (Theorem ``kserver.fractional.ratio_size``); the
    O((log k)^2) bound of Bubeck, Cohen, Lee, Lee, Madry (STOC 2018) is for their exact
    algorithm and is not claimed here.

    Parameters
    ----------
    hst : HST, FiniteMetric or (n, n) array
        The tree (points = leaves in ``hst.leaves`` order) or a metric to embed.
    initial : array-like of int, shape (k,)
        Distinct points holding the servers at the start; ``k = len(initial)``, ``1 <= k <= n-1``.
    embedding_seed : int or None
        Seed of the FRT embedding when ``hst`` is a metric (ignored for an HST).
    """

    _tree_mode = True

    def __init__(self, hst, initial, embedding_seed=0):
        self.hst = hst
        self.initial = initial
        self.embedding_seed = embedding_seed

    def reset(self):
        owner = type(self).__name__
        self.tree_ = _tree_cache(self.hst, self.embedding_seed, owner)
        n = self.tree_.n
        if n < 2:
            raise InvalidInputError(f"The 'hst' parameter of {owner} must have at least 2 points. Got {n}.")
        if self.initial is None:
            raise InvalidInputError(f"The 'initial' parameter of {owner} is required: pass the k distinct points that "
                                    f"hold the servers at the start, e.g. np.arange(k).")
        arr = np.asarray(self.initial)
        if arr.ndim != 1 or arr.size < 1 or arr.size > n - 1:
            if arr.ndim != 1:
                why = f"Got an array of shape {arr.shape}; pass a 1-d list of point ids, e.g. np.arange(k)."
            elif arr.size < 1:
                why = "Got no points (k = 0): there must be at least one server; pass e.g. [0]."
            else:
                why = (f"Got {arr.size} points; with k >= n every point holds a server and nothing ever moves, "
                       f"so use at most {n - 1}.")
            raise InvalidInputError(f"The 'initial' argument of {owner} must hold k distinct points with "
                                    f"1 <= k <= n - 1 = {n - 1} (k = len(initial)). {why}")
        k = arr.size
        self.initial_ = _check_initial(arr, n, k, owner)
        self._setup_common(n, k)
        self._C = self.tree_.exit
        self._per_request = True

    def serve(self, request):
        r = int(request)
        xold = self._x
        new = bbn_step(xold, r, self._rates(r), self.delta_, self.target_)
        self._x = new
        return 0.0, self.tree_.emd(1.0 - xold, 1.0 - new)

    def _run_batch(self, seq, series, states, thin):
        leaves, parent, order, length = self._tree_arrays()
        cost, fetch, star, st, x = _K.run_fractional(self._x, seq, self._C, True, self.delta_, self.target_, True,
                                                     leaves, parent, order, length, thin, states)
        self._x = x
        return _result(self, seq, cost, series, states, st, thin)

    @property
    def state(self):
        return self.tree_.masses(1.0 - self._x)

    @property
    def server_mass(self):
        """Server mass of each point (``1 - x``), shape (n,)."""
        return 1.0 - self._x

    def check_state(self, state):
        z = np.asarray(state, dtype=float)
        tr = self.tree_
        if z.shape != (tr.n_nodes,):
            return False
        if abs(z[tr.order[0]] - self.k_) > _TOL * max(1.0, self.k_):
            return False
        agg = np.zeros(tr.n_nodes)
        for v in tr.order[1:]:
            agg[tr.parent[v]] += z[v]
        internal = np.ones(tr.n_nodes, dtype=bool)
        internal[tr.leaf] = False
        if np.any(np.abs(agg[internal] - z[internal]) > _TOL * max(1.0, self.k_)):
            return False
        zl = z[tr.leaf]
        return bool(np.all(zl >= -_TOL) and np.all(zl <= 1 + _TOL))

    def _finalize(self, result):
        result.info["embedded"] = self.tree_.metric is not None

    @classmethod
    def _contract_cases(cls):
        from ..mts.hst import HST, random_hst

        return [({"hst": random_hst(7, seed=1), "initial": np.array([0, 3])}, np.array([1, 2, 4, 6, 5, 1, 0, 3, 2, 6])),
                ({"hst": HST.balanced(2, 3), "initial": np.array([8, 1, 4])}, np.array([0, 2, 3, 7, 5, 0, 6, 1, 2])),
                ({"hst": np.array([[0, 1, 3, 4], [1, 0, 2, 3], [3, 2, 0, 1.5], [4, 3, 1.5, 0.0]]),
                  "initial": np.array([0]), "embedding_seed": 5}, np.array([3, 1, 2, 0, 3]))]

    def _contract_opt(self, seq):
        return kserver_hst_lp(self.tree_.hst, seq, _hst_points(self.tree_, self.initial_),
                              point_map=_hst_points(self.tree_, np.arange(self.n_))).value


class RoundedKServerHST(_RoundedState, FractionalKServerHST):
    r"""Randomized integral k-server on an HST: :class:`FractionalKServerHST` rounded online by
    systematic sampling along a DFS order of the leaves.

    Rounding scheme: ``U ~ Unif[0, 1)`` drawn once; after each fractional step the servers sit
    on the points ``q`` whose cumulative interval ``[C_{j-1}, C_j)`` (server masses in DFS
    leaf order) contains some ``U + m``. Since every subtree is a contiguous block of the DFS
    order, the number of servers in subtree ``u`` is ``floor(z_u)`` or ``ceil(z_u)`` at every
    step, with mean exactly ``z_u``; the requested point (mass 1) always holds a server.

    Movement: the tree earth-mover cost ``sum_u w_u |dN_u|`` of the server counts (on an HST
    input), or, when the input was a metric, the real-metric cost of the configuration
    change (a min-cost matching; ``info["tree_movement"]`` keeps the tree cost). Per step
    ``E|dN_u| <= |dS_u| + |dS_u + dz_u|`` (``S_u`` the mass before ``u``'s block), which
    gives the computable bound of Theorem ``kserver.rounding.movement``; marginals:
    Theorem ``kserver.rounding.marginals``.

    Complexity: O(n * B + n_nodes) per request, plus an O(m^3) matching of the m moved
    servers on a metric input.
    """

    randomized = True

    def __init__(self, hst, initial, embedding_seed=0, seed=None):
        self.hst = hst
        self.initial = initial
        self.embedding_seed = embedding_seed
        self.seed = seed

    def reset(self):
        super().reset()
        self._start_rounding(self.tree_.dfs)

    def serve(self, request):
        r = int(request)
        xold, new, old_sel, sel = self._round_step(r)
        self._acc["frac"] += self.tree_.emd(1.0 - xold, 1.0 - new)
        tree_cost = self.tree_.emd(old_sel.astype(float), sel.astype(float))
        self._acc["tree"] += tree_cost
        if self.tree_.metric is None:
            return 0.0, tree_cost
        return 0.0, _matching_cost(self.tree_.metric.d, old_sel, sel)

    def _run_batch(self, seq, series, states, thin):
        leaves, parent, order, length = self._tree_arrays()
        cost, fetch, fcost, cfg, hits, rep = _K.run_rounded(
            self._x, seq, self._C, True, self.delta_, self.target_, True, leaves, parent, order, length,
            self._perm, self._U, np.zeros(self.n_))
        self._acc["frac"] = float(fcost.sum())
        self._acc["hits"] = int(hits)
        self._acc["repairs"] += int(rep)
        self._acc["tree"] = float(cost.sum())
        if self.tree_.metric is not None:
            d = self.tree_.metric.d
            cost = np.array([_matching_cost(d, cfg[t], cfg[t + 1]) for t in range(len(seq))])
        st = self._config_states(cfg, len(seq), thin) if states else None
        self._sel = cfg[-1].copy()
        return _result(self, seq, cost, series, states, st, thin, states_are_list=True)

    def _finalize(self, result):
        result.info["embedded"] = self.tree_.metric is not None
        result.info["tree_movement"] = self._acc["tree"]
        result.info["fractional_movement"] = self._acc["frac"]
        result.info["repairs"] = self._acc["repairs"]
        result.hits = self._acc["hits"]
        result.misses = result.steps - self._acc["hits"]

    @classmethod
    def _contract_cases(cls):
        return [({**p, "seed": 4}, s) for p, s in FractionalKServerHST._contract_cases()]

    def _contract_opt(self, seq):
        if self.tree_.metric is None:
            return super()._contract_opt(seq)
        if math.comb(self.n_, self.k_) > 5000:
            return None
        return kserver_lazy_dp(self.tree_.metric, seq, self.initial_)


# ---------------------------------------------------------------------------------------------
# multiscale entropic projection (BGMN / BCLLM style) on HSTs
# ---------------------------------------------------------------------------------------------
#: default ``level_boost``: eta_u = 1 + level_boost * ln(max(1, k / |L_u|)) (chosen by measurement,
#: docs/theory/fractional_kserver.md section 5.5)
_LEVEL_BOOST = 4.0


def _ms_arrays(tree, k, boost):
    """Kernel arrays of the multiscale regulariser on ``tree`` (a ``_Tree``) for ``k`` servers:
    ``pon`` (point of each node, -1 inside), entropy weights ``c_u = w_u / eta_u`` with
    ``eta_u = 1 + boost * ln(max(1, k / |L_u|))``, shifts ``s_u = |L_u| / k`` (``|L_u|`` points
    below ``u``; the root's entries are unused)."""
    nn = tree.n_nodes
    pon = np.full(nn, -1, dtype=np.int64)
    pon[tree.leaf] = np.arange(tree.n)
    nlb = np.zeros(nn)
    nlb[tree.leaf] = 1.0
    for v in tree.order[:0:-1]:
        nlb[tree.parent[v]] += nlb[v]
    eta = 1.0 + boost * np.log(np.maximum(1.0, float(k) / np.maximum(nlb, 1.0)))
    c = np.ascontiguousarray(tree.length, dtype=np.float64) / eta
    c[tree.order[0]] = 1.0
    s = nlb / float(k)
    return pon, c, s


def _check_point_leaves(tree, owner):
    """The kernel needs every childless node of the tree to be a point of the instance."""
    childless = np.ones(tree.n_nodes, dtype=bool)
    childless[tree.parent[tree.parent >= 0]] = False
    if int(childless.sum()) != tree.n:
        raise InvalidInputError(f"The tree of {owner} has {int(childless.sum())} leaves but the instance has "
                                f"{tree.n} points; every leaf of the HST must be a point (use the HST itself or "
                                f"a metric on all of its leaves).")


class _MultiscaleMixin:
    """The multiscale projection as the fractional step of a tree k-server class."""

    def reset(self):
        super().reset()
        owner = type(self).__name__
        _check_point_leaves(self.tree_, owner)
        self.level_boost_ = check_float("level_boost", self.level_boost, low=0.0, owner=owner)
        self._ms = _ms_arrays(self.tree_, self.k_, self.level_boost_)
        self._work = np.empty((9, self.tree_.n_nodes))
        self._act = np.empty(self.tree_.n_nodes, dtype=np.int8)
        self._acc["newton"] = 0

    def _frac_step(self, xold, r):
        new = np.array(xold, dtype=np.float64)
        if new[r] > 0.0:
            tr = self.tree_
            it = _K.ms_project(new, r, self.target_, tr.leaf, tr.parent, tr.order, *self._ms, self._work, self._act)
            self._acc["newton"] = max(self._acc["newton"], int(it))
        return new

    def _newton_info(self, result):
        it = int(self._acc["newton"])
        result.info["newton_steps_max"] = it
        if it > _K._MS_MAX_NEWTON:
            import warnings

            from ..exceptions import NumericalWarning

            warnings.warn(f"{type(self).__name__}: a multiscale projection stopped after {_K._MS_MAX_NEWTON} Newton "
                          f"steps with a dual residual above 1e-9; its state is feasible but may be off the exact "
                          f"projection.", NumericalWarning, stacklevel=3)


class MultiscaleKServerHST(_MultiscaleMixin, FractionalKServerHST):
    r"""Fractional k-server on a hierarchically separated tree by Bregman projections under a
    multiscale entropy (the discrete, projection-based view of Buchbinder, Gupta, Molinaro, Naor,
    SODA 2019, of the multiscale mirror descent of Bubeck, Cohen, Lee, Lee, Madry, STOC 2018).

    Problem: ``k`` servers on the leaves (points) of a tree with edge lengths ``w_u``; the state is
    ``z_u`` = fractional number of servers below ``u`` (``z_root = k``, ``z_u = sum`` over the
    children, ``0 <= z_leaf <= 1``); after request ``r``, ``z_leaf(r) = 1``. Movement
    ``sum_u w_u |dz_u|`` (the earth-mover distance on the tree).

    Update rule: with anti-server masses ``y_u = |L_u| - z_u`` (``|L_u|`` points below ``u``),
    the new point is the Bregman projection

    .. math:: y' = \arg\min \{ D_\Phi(y, y^{old}) : y \in P,\ y_r = 0 \},\qquad
              \Phi(y) = \sum_{u \ne root} \frac{w_u}{\eta_u} (y_u + s_u) \log(y_u + s_u),

    with shifts ``s_u = |L_u| / k`` and ``eta_u = 1 + level_boost * ln(max(1, k / |L_u|))``; ``P``
    is the anti-server tree polytope (``y_root = n - k``, ``y_u = sum`` over children,
    ``0 <= y_leaf <= 1``). Its KKT conditions give, with one dual potential ``R_u`` per internal
    node (``R = 0`` at leaves), ``y'_v = (y_v + s_v) e^{eta_v (R_parent(v) - R_v) / w_v} - s_v``
    (points clipped to ``[0, 1]``, the request at 0); the potentials solve the conservation
    equations. The kernel finds them by a primal-dual active-set method: for fixed sets of points
    at 0 / at 1, damped Newton ascent on the smooth concave dual, whose Hessian is a tree matrix
    (one O(n_nodes) elimination per Newton step); then the sets are updated from the KKT signs
    until none changes. On a depth-1 HST (a weighted star) the step is exactly the BBN step of
    :class:`FractionalWeightedPaging` with costs = leaf edge lengths. Derivation:
    ``docs/theory/fractional_kserver.md`` section 5.

    Complexity: O(n_nodes * N) per request, N Newton steps over all active-set rounds (at most 24
    seen over about 870,000 projections; capped at 200, beyond which a ``NumericalWarning`` is
    raised and the state, still feasible, may be off the exact projection);
    ``info["newton_steps_max"]`` reports the largest N of a run.

    Guarantee: exact feasibility (Theorem ``kserver.fractional.multiscale.feasible``); the
    projection equals a generic nested root-find solver to 1e-8 (Theorem
    ``kserver.fractional.multiscale.projection``); cost >= the tree LP optimum (Theorem
    ``kserver.fractional.multiscale.at_least_opt``). The competitive ratio is *empirical*: against
    ``(ln(1+k))^2`` at a fixed HST size (Theorem ``kserver.fractional.multiscale.ratio_k``) and
    against the HST size at fixed ``k`` (Theorem ``kserver.fractional.multiscale.ratio_size``).
    BCLLM prove O((log k)^2) for their algorithm; these shifts and weights are derived here and
    no constant is claimed.

    Parameters
    ----------
    hst : HST, FiniteMetric or (n, n) array
        The tree (points = leaves in ``hst.leaves`` order) or a metric, embedded by
        ``frt_embedding(metric, embedding_seed)``.
    initial : array-like of int, shape (k,)
        Distinct points holding the servers at the start; ``1 <= k <= n - 1``.
    embedding_seed : int or None
        Seed of the FRT embedding when ``hst`` is a metric.
    level_boost : float, default 4.0
        ``>= 0``; how much more mobile subtrees with fewer than ``k`` points are than their edge
        length says (``eta_u`` above). 0 gives the plain weights ``w_u``.
    """

    def __init__(self, hst, initial, embedding_seed=0, level_boost=_LEVEL_BOOST):
        self.hst = hst
        self.initial = initial
        self.embedding_seed = embedding_seed
        self.level_boost = level_boost

    def serve(self, request):
        r = int(request)
        xold = self._x
        self._x = self._frac_step(xold, r)
        return 0.0, self.tree_.emd(1.0 - xold, 1.0 - self._x)

    def _run_batch(self, seq, series, states, thin):
        tr = self.tree_
        cost, st, x, it = _K.run_multiscale(self._x, seq, self.target_, tr.leaf, tr.parent, tr.order, *self._ms,
                                            tr.length, thin, states)
        self._x = x
        self._acc["newton"] = max(self._acc["newton"], int(it))
        return _result(self, seq, cost, series, states, st, thin)

    def _finalize(self, result):
        super()._finalize(result)
        self._newton_info(result)

    @classmethod
    def _contract_cases(cls):
        from ..mts.hst import HST, random_hst

        return [({"hst": random_hst(7, seed=1), "initial": np.array([0, 3])}, np.array([1, 2, 4, 6, 5, 1, 0, 3, 2, 6])),
                ({"hst": HST.balanced(2, 3), "initial": np.array([8, 1, 4])}, np.array([0, 2, 3, 7, 5, 0, 6, 1, 2])),
                ({"hst": random_hst(6, seed=3), "initial": np.array([2])}, np.array([0, 5, 2, 2, 4, 1])),
                ({"hst": random_hst(9, seed=4), "initial": np.array([1, 5, 7, 8]), "level_boost": 0.0},
                 np.array([0, 2, 3, 6, 4, 0, 1, 8])),
                ({"hst": np.array([[0, 1, 3, 4], [1, 0, 2, 3], [3, 2, 0, 1.5], [4, 3, 1.5, 0.0]]),
                  "initial": np.array([0, 2]), "embedding_seed": 5}, np.array([3, 1, 2, 0, 3]))]


class RoundedMultiscaleKServerHST(_MultiscaleMixin, RoundedKServerHST):
    r"""Randomized integral k-server on an HST: :class:`MultiscaleKServerHST` rounded online by the
    same coupled systematic sampling along a DFS leaf order as :class:`RoundedKServerHST`.

    The rounding only reads the fractional server masses, so it applies unchanged: every subtree
    holds ``floor(z_u)`` or ``ceil(z_u)`` servers, each point holds a server with probability
    exactly its mass (Theorem ``kserver.fractional.multiscale.rounding``), the requested point
    always holds one, and the expected tree movement is at most the endpoint bound
    ``sum_t sum_u w_u (|dS_u| + |dE_u|)``; the factor rounded / fractional movement is reported
    (Theorem ``kserver.fractional.multiscale.rounding``). On a metric input the movement is the
    real-metric cost of the configuration change (``info["tree_movement"]`` keeps the tree cost).

    Complexity: O(n_nodes * N) per request (numba), plus a matching of the moved servers on a
    metric input. Parameters as :class:`MultiscaleKServerHST` (including ``level_boost``), plus
    ``seed`` (None or int).
    """

    def __init__(self, hst, initial, embedding_seed=0, level_boost=_LEVEL_BOOST, seed=None):
        self.hst = hst
        self.initial = initial
        self.embedding_seed = embedding_seed
        self.level_boost = level_boost
        self.seed = seed

    def _run_batch(self, seq, series, states, thin):
        tr = self.tree_
        cost, fcost, cfg, hits, rep, it = _K.run_multiscale_rounded(
            self._x, seq, self.target_, tr.leaf, tr.parent, tr.order, *self._ms, tr.length, self._perm, self._U)
        self._acc["frac"] = float(fcost.sum())
        self._acc["hits"] = int(hits)
        self._acc["repairs"] += int(rep)
        self._acc["tree"] = float(cost.sum())
        self._acc["newton"] = max(self._acc["newton"], int(it))
        if tr.metric is not None:
            d = tr.metric.d
            cost = np.array([_matching_cost(d, cfg[t], cfg[t + 1]) for t in range(len(seq))])
        st = self._config_states(cfg, len(seq), thin) if states else None
        self._sel = cfg[-1].copy()
        return _result(self, seq, cost, series, states, st, thin, states_are_list=True)

    def _finalize(self, result):
        super()._finalize(result)
        self._newton_info(result)

    @classmethod
    def _contract_cases(cls):
        return [({**p, "seed": 4}, s) for p, s in MultiscaleKServerHST._contract_cases()]


def multiscale_project(hst, x, request, method="newton", level_boost=_LEVEL_BOOST):
    r"""The multiscale Bregman projection of one request, by one of three solvers.

    Given the anti-server vector ``x`` (shape (n,), ``0 <= x <= 1``, ``sum x = n - k`` for an
    integer ``1 <= k <= n - 1``) on the points of ``hst`` and a request ``r``, returns
    ``argmin { D_Phi(y, y(x)) : y in P, y_r = 0 }`` as a new anti-server vector, where
    ``Phi(y) = sum_{u != root} (w_u / eta_u) (y_u + |L_u|/k) log(y_u + |L_u|/k)`` over the subtree
    anti-server masses, ``eta_u = 1 + level_boost * ln(max(1, k / |L_u|))`` (the step of
    :class:`MultiscaleKServerHST`).

    ``method``: ``"newton"`` (the numba kernel: damped Newton on the dual potentials,
    O(n_nodes) per step), ``"nested"`` (the slow generic twin: the same KKT conditions solved by
    nested ``scipy.optimize.brentq`` root finds, one per internal node, recursively; exponential
    in the depth, for trees of at most 40 nodes), ``"cvxpy"`` (the primal convex program with
    exponential-cone terms, solver CLARABEL; 1e-6 to 1e-4 accurate on these entropies). Theorem
    ``kserver.fractional.multiscale.projection`` compares them.
    """
    from ..mts.hst import HST

    owner = "multiscale_project"
    check_choice("method", method, ("newton", "nested", "cvxpy"), owner=owner)
    if not isinstance(hst, HST):
        raise InvalidInputError(f"The 'hst' argument of {owner} must be an online_algs.mts.HST. Got "
                                f"{type(hst).__name__}; build one with online_algs.mts.hst.random_hst(n, seed).")
    tree = _Tree(hst, np.arange(hst.n_leaves), None)
    n = tree.n
    x = check_float_array("x", x, ndim=1, shape=(n,), owner=owner)
    if (x < -_TOL).any() or (x > 1 + _TOL).any():
        i = int(np.argmax((x < -_TOL) | (x > 1 + _TOL)))
        raise InvalidInputError(f"The 'x' argument of {owner} must hold anti-server masses in [0, 1]. Got x[{i}] = "
                                f"{x[i]}; pass 1 - (server mass of each point).")
    m = float(x.sum())
    k = n - int(round(m))
    if abs(m - round(m)) > 1e-9 * max(1.0, n) or not 1 <= k <= n - 1:
        raise InvalidInputError(f"The 'x' argument of {owner} must sum to n - k for an integer 1 <= k <= n - 1 "
                                f"(n = {n}). Got sum(x) = {m}; the servers' total mass must be a whole number.")
    x = np.clip(x, 0.0, 1.0)
    r = check_int("request", request, low=0, high=n - 1, owner=owner)
    boost = check_float("level_boost", level_boost, low=0.0, owner=owner)
    m = float(n - k)
    pon, c, s = _ms_arrays(tree, k, boost)
    if method == "newton":
        out = x.copy()
        if out[r] > 0.0:
            _K.ms_project(out, r, m, tree.leaf, tree.parent, tree.order, pon, c, s, np.empty((9, tree.n_nodes)),
                          np.empty(tree.n_nodes, dtype=np.int8))
        return out
    if method == "nested":
        if tree.n_nodes > 40:
            raise InvalidInputError(f"method='nested' of {owner} is exponential in the depth and takes trees of at "
                                    f"most 40 nodes. Got {tree.n_nodes}; use method='newton'.")
        return _ms_nested(tree, x, r, m, pon, c, s)
    return _ms_cvxpy(tree, x, r, m, c, s)


def _ms_nested(tree, x, r, m, pon, c, s):
    """KKT of the multiscale projection by nested brentq: ``total(v, rho)`` is the anti-server mass
    of subtree ``v`` when its parent's potential is ``rho``; an internal node finds its own potential
    ``R`` with ``(y0_v + s_v) e^{(rho - R)/c_v} - s_v = sum_children total(child, R)`` (left side
    decreasing, right side non-decreasing in ``R``), the root its potential with
    ``sum_children total = m``."""
    from scipy.optimize import brentq

    y0 = tree.masses(x)
    rnode = int(tree.leaf[r])
    kids = [[] for _ in range(tree.n_nodes)]
    for v in tree.order[1:]:
        kids[int(tree.parent[v])].append(int(v))
    out = np.zeros(tree.n_nodes)

    def total(v, rho, record):
        if pon[v] >= 0:
            val = 0.0 if v == rnode else min(1.0, max(0.0, (y0[v] + s[v]) * math.exp(rho / c[v]) - s[v]))
            if record:
                out[v] = val
            return val

        def own(R):
            return (y0[v] + s[v]) * math.exp((rho - R) / c[v]) - s[v]

        def f(R):
            return own(R) - sum(total(u, R, False) for u in kids[v])

        R = brentq(f, *_bracket(f, decreasing=True), xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
        if record:
            for u in kids[v]:
                total(u, R, True)
        return own(R)

    root = int(tree.order[0])

    def froot(lam):
        return sum(total(u, lam, False) for u in kids[root]) - m

    lam = brentq(froot, *_bracket(froot, decreasing=False), xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
    for u in kids[root]:
        total(u, lam, True)
    return out[tree.leaf].copy()


def _bracket(f, decreasing):
    """An interval [lo, hi] on which the monotone ``f`` changes sign (doubling outwards)."""
    lo, hi = -1.0, 1.0
    sgn = -1.0 if decreasing else 1.0
    for _ in range(200):
        if sgn * f(lo) <= 0.0:
            break
        lo *= 2.0
    for _ in range(200):
        if sgn * f(hi) >= 0.0:
            break
        hi *= 2.0
    return lo, hi


def _ms_cvxpy(tree, x, r, m, c, s):
    """The primal program: minimise sum_u c_u [rel_entr(y_u + s_u, y0_u + s_u) - (y_u - y0_u)] over the
    point masses, with node masses y = A x, 0 <= x <= 1, x_r = 0, sum x = m (CLARABEL)."""
    import cvxpy as cp
    import scipy.sparse as sp

    n, nn = tree.n, tree.n_nodes
    rows, cols = [], []
    for i in range(n):
        v = int(tree.leaf[i])
        while v >= 0:
            rows.append(v)
            cols.append(i)
            v = int(tree.parent[v])
    A = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(nn, n))
    keep = np.flatnonzero(tree.parent >= 0)
    A = A[keep]
    y0 = tree.masses(x)[keep]
    cw, sw = c[keep], s[keep]
    X = cp.Variable(n)
    Y = A @ X
    obj = cp.sum(cp.multiply(cw, cp.rel_entr(Y + sw, y0 + sw) - (Y - y0)))
    prob = cp.Problem(cp.Minimize(obj), [X >= 0, X <= 1, X[r] == 0, cp.sum(X) == m])
    try:
        prob.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    except cp.error.SolverError as exc:
        raise SolverError(f"multiscale_project: CLARABEL failed ({exc}).", status="solver_error",
                          solver="CLARABEL") from exc
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise SolverError(f"multiscale_project: CLARABEL returned status {prob.status!r}.", status=prob.status,
                          solver="CLARABEL")
    return np.clip(np.asarray(X.value, dtype=float), 0.0, 1.0)


def _hst_points(tree, pts):
    """HST point index (position in hst.leaves) of each instance point."""
    pos = np.full(tree.n_nodes, -1, dtype=np.int64)
    pos[np.asarray(tree.hst.leaves)] = np.arange(tree.hst.n_leaves)
    return pos[tree.leaf[np.asarray(pts, dtype=np.int64)]]


_TREE_CACHE: dict = {}


def _tree_cache(space, seed, owner):
    """Build (or reuse) the tree of an HST / metric; exit costs are O(n^2), keep them.

    Only immutable inputs (HST, FiniteMetric) are cached, keyed by identity and embedding seed;
    a plain array is embedded afresh on every reset (it could have been modified in place)."""
    from ..mts.hst import HST

    if not isinstance(space, (HST, FiniteMetric)):
        return _as_tree(space, seed, owner)
    key = (id(space), seed if isinstance(space, FiniteMetric) else None)
    hit = _TREE_CACHE.get(key)
    if hit is not None and hit[0] is space:
        return hit[1]
    tr = _as_tree(space, seed, owner)
    if len(_TREE_CACHE) > 64:
        _TREE_CACHE.clear()
    _TREE_CACHE[key] = (space, tr)
    return tr


def _matching_cost(d, old_sel, new_sel):
    """Min-cost matching between the servers that left and the ones that arrived (real metric)."""
    out = np.flatnonzero((old_sel == 1) & (new_sel == 0))
    inn = np.flatnonzero((old_sel == 0) & (new_sel == 1))
    if out.size == 0:
        return 0.0
    if out.size == 1:
        return float(d[out[0], inn[0]])
    from scipy.optimize import linear_sum_assignment

    sub = d[np.ix_(out, inn)]
    i, j = linear_sum_assignment(sub)
    return float(sub[i, j].sum())


# ---------------------------------------------------------------------------------------------
# offline optima
# ---------------------------------------------------------------------------------------------
@dataclass
class LPResult:
    """Optimum of an LP relaxation: ``value``, the trajectory ``x`` (T+1 rows), solver ``status``."""

    value: float
    x: np.ndarray
    status: str


def _solve(prob, what):
    import cvxpy as cp

    try:
        prob.solve(solver="HIGHS")
    except cp.error.SolverError as exc:
        raise SolverError(f"{what}: HIGHS failed ({exc}).", status="solver_error", solver="HIGHS") from exc
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise SolverError(f"{what}: HIGHS returned status {prob.status!r}.", status=prob.status, solver="HIGHS")
    return float(prob.value)


def weighted_paging_lp(costs, k, requests, initial=None, convention="eviction") -> LPResult:
    r"""LP relaxation of weighted paging (cvxpy, HIGHS).

    Variables ``x_{t,q} in [0, 1]`` (missing fraction of page ``q`` after request ``t``),
    ``x_0`` fixed by ``initial``; ``x_{t, r_t} = 0``. ``convention="eviction"``: cache at most
    ``k`` (``sum_q x_{t,q} >= n - k``), cost ``sum_{t,q} c_q (x_{t,q} - x_{t-1,q})^+``.
    ``convention="star"``: exactly ``k`` servers (``sum_q x_{t,q} = n - k``), cost
    ``sum_{t,q} (c_q / 2) |x_{t,q} - x_{t-1,q}|``: the fractional k-server LP on
    ``weighted_star(costs / 2)``. The eviction LP's constraint matrix (in interval variables)
    is an interval matrix, so its optimum equals the integral optimum (Theorem
    ``kserver.paging.lp_le_opt`` checks ``LP <= OPT`` and reports the gap).
    Complexity: one LP with T n variables and O(T n) constraints (cvxpy, HIGHS).
    """
    import cvxpy as cp

    owner = "weighted_paging_lp"
    c = _check_costs(costs, owner)
    n = c.size
    k = _check_k(k, n, owner)
    init = _check_initial(initial, n, k, owner)
    req = _check_requests(requests, n, owner)
    check_choice("convention", convention, ("eviction", "star"), owner=owner)
    T = req.size
    x0 = np.ones(n)
    x0[init] = 0.0
    X = cp.Variable((T, n))
    prev = cp.vstack([x0[None, :], X[:-1, :]]) if T > 1 else x0[None, :]
    D = X - prev
    M = np.zeros((T, n))
    M[np.arange(T), req] = 1.0
    cons = [X >= 0, X <= 1, cp.sum(cp.multiply(M, X)) == 0]
    if convention == "eviction":
        cons.append(cp.sum(X, axis=1) >= n - k)
        obj = cp.sum(cp.pos(D) @ c)
    else:
        cons.append(cp.sum(X, axis=1) == n - k)
        obj = cp.sum(cp.abs(D) @ (0.5 * c))
    prob = cp.Problem(cp.Minimize(obj), cons)
    val = _solve(prob, owner)
    return LPResult(value=val, x=np.vstack([x0, X.value]), status=prob.status)


def weighted_paging_opt(costs, k, requests, initial=None, max_configs=20000) -> float:
    """Exact integral optimum of weighted paging (eviction cost) by dynamic programming over the
    cache configurations of lazy schedules: O(T * C(n, k) * k). Raises InvalidInputError when
    ``C(n, k) > max_configs`` (use :func:`weighted_paging_lp`, whose optimum is integral).
    Guarantee: equals the eviction LP optimum (Theorem ``kserver.paging.lp_le_opt``)."""
    owner = "weighted_paging_opt"
    c = _check_costs(costs, owner)
    n = c.size
    k = _check_k(k, n, owner)
    init = _check_initial(initial, n, k, owner)
    req = _check_requests(requests, n, owner)
    max_configs = check_int("max_configs", max_configs, low=1, owner=owner)
    if math.comb(n, k) > max_configs:
        raise InvalidInputError(f"weighted_paging_opt enumerates C(n, k) = {math.comb(n, k)} cache configurations, "
                                f"more than max_configs = {max_configs}. Use weighted_paging_lp (its optimum is integral) "
                                f"or raise max_configs.")
    return _lazy_dp(init, req, lambda q, r: float(c[q]))


def kserver_lazy_dp(d, requests, initial, max_configs=20000) -> float:
    """Exact integral k-server optimum on a (small) metric by dynamic programming over lazy
    schedules (one server moves to each uncovered request): O(T * C(n, k) * k). Lazy schedules
    are optimal for k-server (triangle inequality)."""
    owner = "kserver_lazy_dp"
    if isinstance(d, FiniteMetric):
        D = d.d
    else:
        try:
            D = FiniteMetric(d).d
        except InvalidInputError as exc:
            raise InvalidInputError(f"The 'd' argument of {owner} is not a valid metric: {exc}") from exc
    n = D.shape[0]
    init = _check_initial(initial, n, len(np.atleast_1d(initial)), owner)
    req = _check_requests(requests, n, owner)
    max_configs = check_int("max_configs", max_configs, low=1, owner=owner)
    if math.comb(n, init.size) > max_configs:
        raise InvalidInputError(f"kserver_lazy_dp enumerates C(n, k) = {math.comb(n, init.size)} configurations, "
                                f"more than max_configs = {max_configs}; use a min-cost-flow optimum instead.")
    return _lazy_dp(init, req, lambda q, r: float(D[q, r]))


def _lazy_dp(init, req, move_cost) -> float:
    """Least cost over lazy schedules: configurations of ``len(init)`` points; a request outside the
    configuration replaces one of its points q at cost ``move_cost(q, r)``. O(T * C(n, k) * k)."""
    cur = {frozenset(int(q) for q in init): 0.0}
    for r in req:
        r = int(r)
        nxt: dict = {}
        for S, v in cur.items():
            if r in S:
                if v < nxt.get(S, math.inf):
                    nxt[S] = v
                continue
            for q in S:
                S2 = (S - {q}) | {r}
                w = v + move_cost(q, r)
                if w < nxt.get(S2, math.inf):
                    nxt[S2] = w
        cur = nxt
    return float(min(cur.values()))


def kserver_hst_lp(hst, requests, initial, point_map=None) -> LPResult:
    r"""Fractional k-server LP on a tree (cvxpy, HIGHS).

    Variables: server mass ``y_{t,i} in [0, 1]`` of each point after request ``t``
    (``y_0`` = indicator of ``initial``), ``sum_i y_{t,i} = k``, ``y_{t, r_t} = 1``; node masses
    ``z_{t,u} = sum of y over the leaves below u`` (the tree polytope). Cost
    ``sum_{t,u} w_u |z_{t,u} - z_{t-1,u}|``. Its optimum is a lower bound on every fractional
    and integral k-server solution on the tree metric (Theorem ``kserver.fractional.at_least_opt``).
    Complexity: one LP with T n variables and O(T n_nodes) movement terms (cvxpy, HIGHS).

    Parameters
    ----------
    hst : online_algs.mts.HST
    requests : array-like of int
        Points of the instance.
    initial : array-like of int, shape (k,)
    point_map : array-like of int, optional
        HST point (index into ``hst.leaves``) of each instance point (default identity); the
        ``requests`` and ``initial`` are instance points.
    """
    import cvxpy as cp
    import scipy.sparse as sp

    owner = "kserver_hst_lp"
    pm = _check_hst_points(hst, point_map, owner)
    n = pm.size
    req = _check_requests(requests, n, owner)
    init = _check_initial(initial, n, len(np.asarray(initial)), owner)
    T = req.size
    # incidence: A[i, u] = 1 if instance point i lies below node u
    rows, cols = [], []
    leaves = np.asarray(hst.leaves)[pm]
    par = np.asarray(hst.parent)
    for i, v in enumerate(leaves):
        v = int(v)
        while v >= 0:
            rows.append(i)
            cols.append(v)
            v = int(par[v])
    A = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, hst.n_nodes))
    w = np.asarray(hst.length, dtype=float)
    keep = np.flatnonzero(w > 0)
    A = A[:, keep]
    w = w[keep]
    y0 = np.zeros(n)
    y0[init] = 1.0
    Y = cp.Variable((T, n))
    prev = cp.vstack([y0[None, :], Y[:-1, :]]) if T > 1 else y0[None, :]
    Dz = (Y - prev) @ A
    M = np.zeros((T, n))
    M[np.arange(T), req] = 1.0
    cons = [Y >= 0, Y <= 1, cp.sum(Y, axis=1) == init.size, cp.sum(cp.multiply(M, Y)) == T]
    prob = cp.Problem(cp.Minimize(cp.sum(cp.abs(Dz) @ w)), cons)
    val = _solve(prob, owner)
    return LPResult(value=val, x=np.vstack([y0, Y.value]), status=prob.status)
