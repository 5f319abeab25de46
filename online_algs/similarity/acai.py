r"""AÇAI (Si Salem, Neglia, Carra, ITC 2021 / IEEE/ACM ToN): online mirror ascent on the gain of a
k-NN datastore, rounded to an integral cache; and a generic adapter that drives any no-regret
caching learner through the same gain.

The gain of a fractional cache ``y`` on request ``r`` is ``G(r, y) = C(r, 0) - C(r, y)``, a
non-negative weighted sum of ``min(k, partial sums of y)`` terms (derivation:
``docs/theory/acai_gain.md``), concave, with supergradients of sup-norm at most ``c_f`` that
vanish outside the ``K_r`` candidates ``{o : c_d(r, o) < d_(k) + c_f}``.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_choice, check_float, check_int, check_seed
from ..base import kernel_seed
from ..exceptions import InvalidInputError
from . import _kernels_acai as _ka
from .costs import candidate_mask, gain_and_supergradient
from .policies import _COMMON_DOC, _contract_instance, _SimilarityPolicy

__all__ = ["ACAI", "GainLearnerPolicy", "acai_regret_bound", "acai_default_eta"]

E_MINUS_2 = math.e - 2.0


def _depround_seeded(y, seed):
    """DepRound of a full fractional vector ``y`` (the rounding of the numpy twin and of
    GainLearnerPolicy): :func:`_kernels_acai.depround_full`, the sublinear DepRound of the lazy path
    with ``s = 1`` and nothing cached, so the same seed gives the same set as the lazy path on the
    same ``y``."""
    from ..caching.rounding import _check_fractional

    y, C = _check_fractional(y, "ACAI rounding")
    n_sel, ids = _ka.depround_full(y, seed)
    if n_sel != C:  # pragma: no cover - only far off the capped simplex
        raise InvalidInputError(f"DepRound produced {n_sel} items for capacity {C}; the fractional cache "
                                f"drifted off the capped simplex.")
    return ids


def acai_default_eta(n: int, capacity: int, k: int, fetch_cost: float, horizon: int) -> float:
    r"""The step size minimising the bound of :func:`acai_regret_bound`:
    ``eta = sqrt(h log(N/h) / ((e-2) c_f^2 min(h, k) T))``, capped at ``1 / c_f``."""
    if capacity >= n or fetch_cost == 0:
        return 1.0
    L = fetch_cost
    eta = math.sqrt(capacity * math.log(n / capacity) / (E_MINUS_2 * L * L * min(capacity, k) * horizon))
    return min(eta, 1.0 / L)


def acai_regret_bound(n: int, capacity: int, k: int, fetch_cost: float, horizon: int, eta: float) -> float:
    r"""Regret bound of the fractional OMD iterates of AÇAI against every static integral cache.

    .. math:: R_T \le \frac{h \log(N/h)}{\eta} + \eta\,(e-2)\,c_f^2 \min(h, k)\, T
              \qquad (\eta c_f \le 1)

    (``docs/theory/acai_gain.md``). With DepRound the integral caches have
    ``(1 - 1/e)``-regret at most ``(1 - 1/e) R_T`` in expectation.
    """
    if eta * fetch_cost > 1 + 1e-12:
        raise InvalidInputError(f"acai_regret_bound holds for eta * fetch_cost <= 1. Got eta={eta}, "
                                f"fetch_cost={fetch_cost}; lower eta.")
    if capacity >= n:
        return 0.0
    return capacity * math.log(n / capacity) / eta + eta * E_MINUS_2 * fetch_cost ** 2 * min(capacity, k) * horizon


class _FractionalPolicy(_SimilarityPolicy):
    """Shared by ACAI and GainLearnerPolicy: candidates, supergradient, rounding, cache moves."""

    _abstract = True
    randomized = True

    def _reset_fractional(self):
        self._reset_common()
        owner = self.name
        check_choice("rounding", self.rounding, ("depround", "coupled"), owner=owner)
        self.round_every_ = check_int("round_every", self.round_every, low=1, owner=owner)
        if self.n_candidates is not None:
            self.n_candidates_ = check_int("n_candidates", self.n_candidates, low=self._ds.k,
                                           high=self._ds.n, owner=owner)
        else:
            self.n_candidates_ = None
        self._rng = np.random.default_rng(check_seed(self.seed, owner))
        from ..caching.rounding import CoupledRounding, depround

        self._depround = depround
        self._coupled = CoupledRounding(seed=int(self._rng.integers(0, 2**31 - 1)))
        # DepRound seeds: one SplitMix64 stream per run, advanced inside the rounding kernel (lazy
        # path) or by _next_round_seed (numpy twin): the same seeds in both
        self._seed_state = np.array([kernel_seed(self._rng)], dtype=np.uint64)
        self._t = 0
        self._truncated = 0
        self._frac_gain = 0.0
        self._n_cand = 0

    def _n_remote(self) -> int:
        return self._ds.k if self.n_candidates_ is None else self.n_candidates_

    def _candidates(self, q, E):
        """Candidate ids and exact distances (all objects with dist < d_(k) + c_f)."""
        ds = self._ds
        if self.n_candidates_ is None:
            d_all = ds.distances(q)
            mask = candidate_mask(d_all, ds.k, ds.fetch_cost)
            ids = np.flatnonzero(mask)
            return ids, d_all[ids]
        ids = E[E >= 0]
        d = ds.distances(q, ids)
        mask = candidate_mask(d, ds.k, ds.fetch_cost)
        if mask.all() and len(ids) < ds.n:
            self._truncated += 1
        return ids[mask], d[mask]

    def _round(self, y):
        """Round the full vector ``y`` (numpy twin): DepRound fed with :func:`_ka.uniforms` of a seed
        drawn from the policy's generator (the stream of the lazy kernel), or coupled Madow."""
        if self.capacity_ >= self._ds.n:
            return np.arange(self._ds.n, dtype=np.int64)
        if self.rounding == "depround":
            return _depround_seeded(y, int(_ka.next_seed(self._seed_state)))
        return self._coupled(y)

    def _move_to(self, ids) -> float:
        """Make the integral cache equal to ``ids``: O(N) numpy plus O(changes) bookkeeping."""
        n = self._ds.n
        new_mask = np.zeros(n, dtype=bool)
        new_mask[ids] = True
        cur = np.zeros(n, dtype=bool)
        if self._order:
            cur[np.fromiter(self._order.keys(), dtype=np.int64, count=len(self._order))] = True
        ev = np.flatnonzero(cur & ~new_mask)
        self._evict_ids([int(o) for o in ev])
        return self._insert(np.flatnonzero(new_mask & ~cur))

    def _fractional_step(self, q, E):
        """Serve with the integral cache, then learn and re-round. Returns (service, movement)."""
        movement = 0.0
        if self._t == 0 and not self._order:  # the first integral cache is fetched before the first request
            movement += self._move_to(self._round(self._y()))
        self._t += 1
        cand, dist, cached = self._view(q, E[:self._ds.k])
        order, service = self._answer(cand, dist, cached)
        if cached[order].all():
            self._hits += 1
        ids, d = self._candidates(q, E)
        self._n_cand += len(ids)
        G, g = gain_and_supergradient(d, self._y()[ids], self._ds.k, self._ds.fetch_cost)
        self._frac_gain += G
        self._learn(ids, g)
        if self._t % self.round_every_ == 0:
            movement += self._move_to(self._round(self._y()))
        return service, movement

    def _finalize(self, result):
        super()._finalize(result)
        result.info.update(fractional_gain=self._frac_gain, truncated=self._truncated,
                           mean_candidates=self._n_cand / max(1, self._t))


class ACAI(_FractionalPolicy):
    __doc__ = r"""AÇAI: online mirror ascent with negative entropy on the k-NN gain, DepRound to a cache.

    Problem: choose, before each request, a cache of ``h`` catalog objects; gain
    ``G(r, x) = C(r, 0) - C(r, x)`` (module docstring). Update rule (request ``r_t``):

    1. serve ``r_t`` with the integral cache ``S_t``;
    2. ``g`` = supergradient of ``G(r_t, .)`` at the fractional state ``y_t`` (non-zero only on
       the ``K_r`` candidates ``c_d(r, o) < d_(k) + c_f``, ``0 <= g <= c_f``);
    3. ``y <- y * exp(eta g)`` on the candidates, then the negative-entropy Bregman projection onto
       ``{y in [0,1]^N, sum y = h}`` (``min(1, c y)``, exact);
    4. every ``round_every`` requests ``S_{t+1}`` = DepRound(``y_{t+1}``) (exact marginals
       ``P(o in S) = y_o``, negatively correlated), or coupled Madow rounding
       (``rounding="coupled"``: exact marginals, same ``U`` every round, no ``1 - 1/e`` claim);
       movement = ``update_cost`` per fetched object. The first cache ``S_1`` = round(``h/N``) is
       fetched at step 1.

    Implementation (``docs/theory/acai_gain.md`` sections 8 and 10; numba kernels in
    ``_kernels_acai``): the state is lazy, ``y = min(1, s v)`` with one global scale ``s``
    (saturated objects ``v = inf``). Only the candidates grow in step 3, so the projection scale
    ``c <= 1`` is found from the sorted candidates plus the aggregate mass of the others, and every
    other object is rescaled by ``s <- c s``: O(K_r log K_r) per request, amortised O(1) per
    saturation. ``v`` is renormalised (``v <- s v``, ``s <- 1``) when ``s`` leaves
    ``[1e-100, 1e100]`` (counted in ``result.info["renormalized"]``) and re-summed every 4096
    requests. With ``n_candidates`` and the Euclidean metric, the answer, the candidates, the gain,
    the supergradient and the OMD step run in one kernel call per request.

    DepRound is sublinear: the objects with ``y > 1/2`` are paired first in ``1 - y``, then those
    with ``y <= 1/2``, then the two leftovers (a valid DepRound pairing order); a run of merges is
    resolved by two searches in Fenwick trees of ``v`` (where its mass reaches 1, and its carrier
    drawn by mass). The classes follow the current ``y`` (a heap of the big objects by ``v``), and
    the result is diffed against the cache through the objects decided against their class
    default and those whose class changed. Evictions and inserts go to the local index in one
    batched call each (the slot index: inside the rounding kernel). The numpy slow twin (set
    ``_reference = True``) keeps the full vector, rounds it with the same kernel from a fresh
    state and gives the same caches for the same seed (Theorem ``similarity.acai.lazy``).

    Complexity per request: O(K_r log K_r + K_r log N) for the gain, the supergradient, the OMD
    step and the upkeep of the rounding state; O((1 + M_S + M_B) log N + changes) for DepRound,
    ``M_S = sum of y over y <= 1/2``, ``M_B = sum of 1 - y over y > 1/2`` (the fractional mass, not
    N; O(N) every 4096 requests for the rebuild); O(N d) for the exact candidate set
    (``n_candidates=None``) or one remote search of ``n_candidates`` neighbours, plus the
    distances of those candidates.

    Guarantee: with ``round_every=1`` and DepRound (any pairing order keeps DepRound's marginals and
    negative correlation), the ``(1 - 1/e)``-regret against the best static cache is at most
    ``(1 - 1/e)`` times :func:`acai_regret_bound` (``O(c_f sqrt(h min(h,k) log(N/h) T))``) in
    expectation (Theorem ``similarity.acai.regret``; the rounding step is Theorem
    ``similarity.depround.marginals``; the gain is Theorem ``similarity.gain.exact``; the lazy
    state is Theorem ``similarity.acai.lazy``). ``round_every = R > 1`` adds at most
    ``(1 - 1/e) (R - 1)/2 (e - 1) eta c_f^2 min(h, k) T`` (``docs/theory/acai_gain.md`` section 10;
    not checked).
    """ + _COMMON_DOC + """    eta : float or None
        Step size; ``None`` uses :func:`acai_default_eta` with ``horizon``.
    horizon : int
        Expected number of requests (only for the default ``eta``).
    n_candidates : int or None
        Candidates per request: ``None`` computes the exact candidate set from all N
        distances; an int takes the remote index's ``n_candidates`` nearest (truncation counted in
        ``result.info["truncated"]``).
    round_every : int
        Re-round every that many requests (1: the guarantee's setting; larger values fetch less, the
        cache then has the marginals of the last rounded ``y`` and the bound an extra term).
    rounding : {"depround", "coupled"}
        ``"depround"`` (default: exact marginals and negative correlation, the premise of the
        ``1 - 1/e`` guarantee; sublinear) or ``"coupled"`` (Madow with a shared uniform, exact
        marginals, O(N) numpy, no ``1 - 1/e`` claim).
    seed : int or None
    """

    def __init__(self, datastore, capacity, eta=None, horizon=1000, n_candidates=None, round_every=1,
                 rounding="depround", cache_index="exact", seed=None):
        self.datastore = datastore
        self.capacity = capacity
        self.eta = eta
        self.horizon = horizon
        self.n_candidates = n_candidates
        self.round_every = round_every
        self.rounding = rounding
        self.cache_index = cache_index
        self.seed = seed

    #: run the numpy slow twin (full y vector, ``_learn``, ``_round``, ``_move_to``: O(N) per request)
    _reference = False
    #: numpy twin only: project on the candidates plus an aggregate of the rest (exact, see ``_learn``);
    #: False = full-vector projection (implies the numpy twin)
    _reduced_projection = True
    #: recompute the lazy state's sum of v exactly every that many lazy steps (round-off drift)
    _refresh_every = 4096
    #: lazy path: the sublinear DepRound (True) or the previous O(N) pass (``depround_lazy``, id order,
    #: one uniform per merge run; kept for the benchmark's before/after row, same law up to the order)
    _sublinear_rounding = True

    def reset(self):
        self._reset_fractional()
        ds = self._ds
        owner = self.name
        self.horizon_ = check_int("horizon", self.horizon, low=1, owner=owner)
        if self.eta is None:
            self.eta_ = acai_default_eta(ds.n, self.capacity_, ds.k, ds.fetch_cost, self.horizon_)
        else:
            self.eta_ = check_float("eta", self.eta, low=0.0, low_open=True, owner=owner)
        from ..caching.projections import project_capped_simplex_kl

        self._project = project_capped_simplex_kl
        self._lazy = not (self._reference or not self._reduced_projection)
        self._renormalized = 0
        self._warmed = False
        self._slot_arrays = self._lazy and self.cache_index == "faiss-slots"
        if self._slot_arrays:  # the lazy path never reads _order: array bookkeeping for the slot index
            from .index import make_index

            self._index = make_index("faiss-slots", ds.dim, capacity=self.capacity_, id_bound=ds.n)
        self._set_fractional(np.full(ds.n, self.capacity_ / ds.n))

    def _set_fractional(self, y):
        n = self._ds.n
        if not self._lazy:
            self._yv = y
            return
        self._v = np.empty(n)
        self._satpos = np.empty(n, dtype=np.int64)
        self._satlist = np.empty(n, dtype=np.int64)
        self._st = np.zeros(2)        # [scale s, sum of v over the unsaturated items]
        self._cnt = np.zeros(1, dtype=np.int64)   # number of saturated items
        _ka.lazy_init(np.asarray(y, dtype=np.float64), self._v, self._satpos, self._satlist, self._st, self._cnt)
        self._cached = np.zeros(n, dtype=np.uint8)
        self._fetched = np.empty(n, dtype=np.int64)
        self._evicted_buf = np.empty(n, dtype=np.int64)
        self._presat = np.empty(n, dtype=np.int64)
        self._rs = _ka.new_rstate(n)
        self._rs_args = tuple(self._rs[key] for key in ("cls", "tv", "VS", "VB", "CB", "hv", "hid", "ri", "dirty",
                                                         "dmark"))
        self._rs_build()
        self._steps_since_refresh = 0

    def _rs_build(self):
        """Rebuild the sublinear rounding's state from the lazy state (O(N)); the next rounding diffs
        every object against the cache."""
        rs = self._rs
        _ka.rstate_build(self._v, self._satpos, self._st[0], rs["cls"], rs["tv"], rs["VS"], rs["VB"], rs["CB"],
                         rs["hv"], rs["hid"], rs["ri"], rs["dmark"])

    def _y(self):
        if not self._lazy:
            return self._yv
        y = np.empty(self._ds.n)
        _ka.materialize(self._v, self._st[0], y)
        return y

    def _learn(self, ids, g):
        """Numpy twin of :func:`_kernels_acai.omd_lazy_step` (O(N) per request)."""
        if self.capacity_ >= self._ds.n:
            return
        y = self._yv
        yt = y[ids] * np.exp(self.eta_ * g)
        rest = float(y.sum() - y[ids].sum())
        if not self._reduced_projection or rest <= 0 or len(ids) + rest + 2 >= 0.25 * len(y):
            y[ids] = yt
            self._yv = self._project(y, self.capacity_)
            return
        # Only the candidates grew (g >= 0), so the scale c of the KL projection min(1, c y~) is <= 1 and
        # every other coordinate (<= 1) stays unsaturated: c is the scale of the projection of
        # [y~_candidates, rest/p, ..., rest/p] (p pieces of the other coordinates' mass, each <= 1).
        p = int(np.ceil(rest)) + 1
        _, c = self._project(np.concatenate([yt, np.full(p, rest / p)]), self.capacity_, return_scale=True)
        y *= c
        np.minimum(y, 1.0, out=y)
        y[ids] = np.minimum(1.0, c * yt)

    # ------------------------------------------------------------------ lazy (kernel) path
    def _lazy_learn(self, ids, d) -> float:
        """Gain, supergradient and OMD step on the lazy state: O(K log K) for K candidates."""
        ds = self._ds
        if self.capacity_ >= ds.n:
            return _ka.acai_learn(ids, d, ds.k, ds.fetch_cost, self.eta_, float(self.capacity_), False, self._v,
                                  self._satpos, self._satlist, self._st, self._cnt)
        G = _ka.acai_learn_rs(ids, d, ds.k, ds.fetch_cost, self.eta_, float(self.capacity_), self._v, self._satpos,
                              self._satlist, self._st, self._cnt, self._presat, *self._rs_args)
        self._after_learn()
        return G

    def _after_learn(self):
        """Renormalisation of the lazy state and rebuilds of the rounding state (rare, O(N))."""
        self._steps_since_refresh += 1
        s = self._st[0]
        if s < _ka.SCALE_MIN or s > _ka.SCALE_MAX or self._steps_since_refresh >= self._refresh_every:
            # v <- s v, s <- 1 (the scale under/overflows after ~230 / log(1/c) steps) and an exact
            # re-summation of v (round-off drift of the running sum): O(N) every _refresh_every steps;
            # the rounding state (Fenwick trees of v) is rebuilt with it
            if s < _ka.SCALE_MIN or s > _ka.SCALE_MAX:
                self._renormalized += 1
            _ka.renormalize(self._v, self._satpos, self._st)
            self._steps_since_refresh = 0
            self._rs_build()
        elif self._rs["ri"][_ka.RI_OVERFLOW]:  # the heap of big objects is full of stale entries
            self._rs_build()

    def _lazy_round(self) -> float:
        """Re-round the lazy state and apply the difference to the cache and its index (batched)."""
        n = self._ds.n
        if self.capacity_ >= n:
            fetched = np.flatnonzero(self._cached == 0)
            evicted = np.empty(0, dtype=np.int64)
        elif self.rounding == "depround" and not self._sublinear_rounding:
            n_sel, nf, ne = _ka.depround_lazy(self._v, self._st[0], int(_ka.next_seed(self._seed_state)),
                                              self._cached, self._fetched, self._evicted_buf)
            fetched, evicted = self._fetched[:nf].copy(), self._evicted_buf[:ne].copy()
        elif self.rounding == "depround":
            rs = self._rs
            if self._slot_arrays:  # rounding, evictions and inserts in one kernel call
                ix = self._index
                n_sel, nf, ne = _ka.acai_round_slots(
                    self._v, self._st[0], int(self._cnt[0]), self._seed_state, rs["cls"], rs["VS"], rs["VB"],
                    rs["CB"], rs["ri"], rs["dirty"], rs["dmark"], rs["exc"], rs["mark"], rs["sel_s"], rs["drop_b"],
                    self._cached, self._fetched, self._evicted_buf, self._ds.catalog, ix._xb,
                    np.float32(ix.SENTINEL), ix._slot_id, ix._slot_arr, ix._free_arr, ix._nfree)
                fetched = evicted = None
            else:
                n_sel, nf, ne = _ka.depround_fen(self._v, self._st[0], int(self._cnt[0]),
                                                 int(_ka.next_seed(self._seed_state)), rs["cls"], rs["VS"], rs["VB"],
                                                 rs["CB"], rs["ri"], rs["dirty"], rs["dmark"], rs["exc"], rs["mark"],
                                                 rs["sel_s"], rs["drop_b"], self._cached, self._fetched,
                                                 self._evicted_buf)
                fetched, evicted = self._fetched[:nf], self._evicted_buf[:ne]
            if n_sel != self.capacity_:  # pragma: no cover - only if the state drifted off the simplex
                raise InvalidInputError(f"ACAI: DepRound selected {n_sel} objects for capacity {self.capacity_}; "
                                        f"the fractional state drifted off the capped simplex.")
            if fetched is None:  # the kernel already moved the index
                self._evicted += int(ne)
                self._inserted += int(nf)
                return self._ds.update_cost * int(nf)
            return self._apply_moves(fetched, evicted, set_cached=False)
        else:
            new = np.zeros(n, dtype=bool)
            new[self._coupled(self._y())] = True
            cur = self._cached.astype(bool)
            fetched = np.flatnonzero(new & ~cur)
            evicted = np.flatnonzero(cur & ~new)
        return self._apply_moves(fetched, evicted)

    def _view_and_candidates(self, q, E):
        """``_view(q, E[:k])`` and ``_candidates(q, E)`` with one distance computation for both
        (the remote ``n_candidates`` nearest and the local k+1 nearest) and the cached flags read
        from the 0/1 cache array."""
        ds = self._ds
        k = ds.k
        Ev = E[E >= 0]
        _, L = self._index._search(q[None, :], k + 1)
        L = L[0][L[0] >= 0]
        U, cand, pos_c, pos_e = _ka.view_ids(Ev, L, k)
        dU = ds.distances(q, U)
        dist = dU[pos_c]
        cached = self._cached[cand].astype(bool)
        d = dU[pos_e]
        mask = candidate_mask(d, k, ds.fetch_cost)
        if mask.all() and len(Ev) < ds.n:
            self._truncated += 1
        return cand, dist, cached, Ev[mask], d[mask]

    def _fused_request(self, q, E) -> float:
        """:func:`_kernels_acai.acai_request`: the answer, the candidates and the learning step in one
        kernel call (``_view_and_candidates``, ``_answer`` and ``_lazy_learn`` fused). Returns the
        service cost."""
        ds = self._ds
        _, L = self._index._search(q[None, :], ds.k + 1)
        learn = self.capacity_ < ds.n
        service, hit, G, n_ids, trunc, nE = _ka.acai_request(
            q, E, L[0], ds.k, ds.fetch_cost, ds.catalog, self._cached, self.eta_, float(self.capacity_), learn,
            self._v, self._satpos, self._satlist, self._st, self._cnt, self._presat, *self._rs_args)
        self._hits += bool(hit)
        self._n_cand += int(n_ids)
        self._frac_gain += G
        if trunc and nE < ds.n:
            self._truncated += 1
        if learn:
            self._after_learn()
        return float(service)

    def _apply_moves(self, fetched, evicted, set_cached=True) -> float:
        """Evict then insert, one batched index call each (``remove`` before ``add``: the slots free
        first). The ids come from the 0/1 array ``_cached`` that mirrors the index (the DepRound
        kernel updates it itself: ``set_cached=False``), so the index's input validation is skipped.
        The slot index with array bookkeeping (``cache_index="faiss-slots"``) copies the catalog rows
        in one numba call."""
        if len(evicted):
            self._index._remove_unchecked(evicted)
            if set_cached:
                self._cached[evicted] = 0
            self._evicted += len(evicted)
        if len(fetched):
            if self._slot_arrays:
                self._index._add_rows(fetched, fetched, self._ds.catalog)
            else:
                self._index._add_unchecked(fetched, self._ds.catalog[fetched])
            if set_cached:
                self._cached[fetched] = 1
            self._inserted += len(fetched)
            return self._ds.update_cost * len(fetched)
        return 0.0

    @property
    def state(self) -> frozenset:
        if getattr(self, "_lazy", False):
            return frozenset(np.flatnonzero(self._cached).tolist())
        return super().state

    def _view(self, q, E, extra=None):
        if not getattr(self, "_lazy", False):
            return super()._view(q, E, extra)
        E = E[E >= 0]
        _, L = self._index._search(q[None, :], self._ds.k + 1)
        L = L[0][L[0] >= 0]
        cand = np.unique(np.concatenate([E, L]))
        return cand, self._ds.distances(q, cand), self._cached[cand].astype(bool)

    def _step(self, q, E):
        if not self._lazy:
            return self._fractional_step(q, E)
        movement = 0.0
        if self._t == 0 and not self._warmed:  # the first integral cache is fetched before the first request
            movement += self._lazy_round()
        self._t += 1
        ds = self._ds
        if self.n_candidates_ is not None and ds.metric == "euclidean":
            service = self._fused_request(q, E)
        else:
            if self.n_candidates_ is None:
                cand, dist, cached = self._view(q, E[:ds.k])
                ids, d = self._candidates(q, E)
            else:
                cand, dist, cached, ids, d = self._view_and_candidates(q, E)
            order, service = self._answer(cand, dist, cached)
            if cached[order].all():
                self._hits += 1
            self._n_cand += len(ids)
            self._frac_gain += self._lazy_learn(ids.astype(np.int64), d)
        if self._t % self.round_every_ == 0:
            movement += self._lazy_round()
        return service, movement

    def warm(self, ids) -> None:
        """Start from the integral cache ``ids`` (``len(ids) == capacity``) and the fractional state
        ``(1 - 1e-3) 1_ids + 1e-3 h/N``. As for every policy, :func:`online_algs.run` resets and so
        discards it: call ``reset()``, ``warm(ids)``, then ``serve`` yourself (see
        ``_SimilarityPolicy.warm``)."""
        if not hasattr(self, "_lazy"):
            self.reset()
        ids = self._ds.check_ids(ids, "ids", "ACAI.warm")
        if len(np.unique(ids)) != self.capacity_ or len(ids) != self.capacity_:
            raise InvalidInputError(f"The 'ids' of ACAI.warm must be {self.capacity_} distinct ids (the capacity). "
                                    f"Got {len(ids)} ids.")
        if self._lazy and (self._t > 0 or self._cached.any()):
            raise InvalidInputError("ACAI.warm needs an empty cache; call reset() first.")
        super().warm(ids)
        self._warmed = True
        eps = 1e-3
        y = np.full(self._ds.n, eps * self.capacity_ / self._ds.n)
        y[ids] += 1.0 - eps
        self._set_fractional(y)
        if self._lazy:
            self._cached[ids] = 1

    @property
    def fractional_state(self) -> np.ndarray:
        """A copy of the fractional cache ``y``."""
        return np.array(self._y())

    def _finalize(self, result):
        super()._finalize(result)
        if self._lazy:
            result.info["renormalized"] = self._renormalized

    @classmethod
    def _contract_cases(cls):
        ds, q = _contract_instance(7)
        ds2, q2 = _contract_instance(8, n=8, d=3, T=12, k=2)
        return [({"datastore": ds, "capacity": 2, "horizon": 14, "seed": 0}, q),
                ({"datastore": ds2, "capacity": 3, "n_candidates": 5, "rounding": "coupled", "seed": 1}, q2)]


class GainLearnerPolicy(_FractionalPolicy):
    __doc__ = r"""Drive a no-regret caching learner (OGD, OMD, ...) through the k-NN gain.

    Problem: as :class:`ACAI`. Update rule: the learner's fractional cache ``y_t``
    (``learner.predict()``) is rounded to ``S_t``; after serving ``r_t`` the learner receives the
    linearised request ``g_t`` = supergradient of ``G(r_t, .)`` at ``y_t`` as a batched request
    (a length-N non-negative weight vector: ``learner.update(g_t)`` with gain ``g_t . y``). Since
    ``G(r_t, x*) - G(r_t, y_t) <= g_t . (x* - y_t)``, the learner's linear regret bound on the
    sequence ``g_t`` bounds the concave regret (Theorem ``similarity.acai.regret``, where it is
    checked with the library's learners).

    Complexity: the learner's update on an N-vector plus the candidate computation.
    """ + _COMMON_DOC + """    learner : CommitThenLearn
        A caching learner over ``N`` items with capacity ``h`` that accepts length-N weight
        vectors as requests (e.g. :class:`online_algs.caching.OMD`).
    n_candidates, round_every, rounding, seed : as in :class:`ACAI`.
    """

    def __init__(self, datastore, capacity, learner, n_candidates=None, round_every=1, rounding="depround",
                 cache_index="exact", seed=None):
        self.datastore = datastore
        self.capacity = capacity
        self.learner = learner
        self.n_candidates = n_candidates
        self.round_every = round_every
        self.rounding = rounding
        self.cache_index = cache_index
        self.seed = seed

    def reset(self):
        from ..base import CommitThenLearn

        self._reset_fractional()
        if not isinstance(self.learner, CommitThenLearn):
            raise InvalidInputError(f"The 'learner' parameter of GainLearnerPolicy must be a no-regret caching "
                                    f"learner (a CommitThenLearn such as online_algs.caching.OMD). Got "
                                    f"{type(self.learner).__name__}.")
        self.learner.reset()
        y = np.asarray(self.learner.predict(), dtype=float)
        if y.shape != (self._ds.n,) or abs(y.sum() - self.capacity_) > 1e-6 * max(1, self.capacity_):
            raise InvalidInputError(f"The learner of GainLearnerPolicy must hold a fractional cache of "
                                    f"{self._ds.n} items summing to capacity={self.capacity_}. Got shape {y.shape} "
                                    f"and sum {y.sum():.6g}; build it with the datastore's N and the same capacity.")
        self._ycache = y

    def _y(self):
        return self._ycache

    def _learn(self, ids, g):
        full = np.zeros(self._ds.n)
        full[ids] = g
        self.learner.update(full)
        self._ycache = np.clip(np.asarray(self.learner.predict(), dtype=float), 0.0, 1.0)

    def _step(self, q, E):
        return self._fractional_step(q, E)

    @classmethod
    def _contract_cases(cls):
        try:
            from ..caching.learners import OMD
        except ImportError:  # pragma: no cover - until the caching learners land
            return []
        ds, q = _contract_instance(9)
        return [({"datastore": ds, "capacity": 2, "learner": OMD(n_items=ds.n, capacity=2, eta=0.5),
                  "seed": 2}, q)]
