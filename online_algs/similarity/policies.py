r"""Similarity-caching policies for the local k-NN datastore (request-then-move).

Every policy runs on a :class:`~online_algs.similarity.Datastore` with a local cache of
``capacity`` (``h``) catalog objects. A request is a query vector ``r``; the policy

1. serves it with its current cache ``S``: service cost ``C(r, S)`` (``costs`` module: the ``k``
   cheapest of local copies at distance ``c_d`` and remote copies at ``c_d + c_f``);
2. then updates its cache: movement cost ``update_cost`` (default ``c_f``) per inserted object.

``state`` is the frozenset of cached ids; the cache starts empty. ``hits`` counts requests
answered entirely from the cache. The exact answer is computed from the ``k`` nearest catalog
objects (remote index) and the ``k + 1`` nearest cached objects (local index): every object of
the answer, and of the answer of ``S`` with one object added or removed, is among them.

Serving before moving is a feasible MTS schedule delayed by one step, so every policy costs at
least the exact dynamic optimum (Theorem ``similarity.opt.lower``).
"""

from __future__ import annotations

import heapq
import os
import sys
import warnings
from collections import OrderedDict

import numpy as np

from .._validation import check_choice, check_float, check_int, check_seed
from ..base import RequestThenMove
from ..exceptions import InvalidInputError
from ..run import request_loop
from ._kernels_policies import view_answer
from .index import make_index
from .problem import Datastore

__all__ = ["SimLRU", "RndLRU", "QLRUDeltaC", "Duel", "ExactLRU", "ExactLFU"]


def _contract_instance(seed=0, n=7, d=2, T=14, k=1):
    """A tiny datastore and queries for the contract suite (exact optimum computable)."""
    rng = np.random.default_rng(seed)
    cat = rng.uniform(0, 3, size=(n, d))
    q = cat[rng.integers(0, n, size=T)] + rng.normal(0, 0.3, size=(T, d))
    return Datastore(cat, k=k, fetch_cost=1.0), q


def _user_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside online_algs (for a warning raised deep inside)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    level, f = 1, sys._getframe(1)
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(root):
        f = f.f_back
        level += 1
    return level


_NO_IDS = np.empty(0, dtype=np.int64)


class _SimilarityPolicy(RequestThenMove):
    """Shared machinery: validation, the exact answer, cache bookkeeping, the batch path."""

    _abstract = True
    _fast_view = True  # False: the numpy view (the kernel's slow twin, for tests)
    _record_defaults = {"series": False, "states": False}

    # ---------------------------------------------------------------- lifecycle
    def _reset_common(self):
        owner = self.name
        if getattr(self, "_warm_unserved", False):
            self._warm_unserved = False
            warnings.warn(f"{owner}.reset() discards the warm start of warm(ids): no request was served since. "
                          f"online_algs.run resets the policy; to run from a warm cache call reset(), warm(ids), "
                          f"then serve(query) for each query yourself (see {owner}.warm).", UserWarning,
                          stacklevel=_user_stacklevel())
        if not isinstance(self.datastore, Datastore):
            raise InvalidInputError(f"The 'datastore' parameter of {owner} must be an online_algs.similarity."
                                    f"Datastore. Got {type(self.datastore).__name__}; build one with "
                                    f"Datastore(catalog, k=..., fetch_cost=...).")
        ds = self.datastore
        self.capacity_ = ds.check_capacity(self.capacity, owner)
        check_choice("cache_index", self.cache_index, ("exact", "faiss-flat", "faiss-slots"), owner=owner)
        self._ds = ds
        self._index = make_index(self.cache_index, ds.dim, metric=ds.metric, capacity=self.capacity_)
        self._order: OrderedDict = OrderedDict()  # cached ids, least recently used first
        self._mask = np.zeros(ds.n, dtype=bool)     # the same set as a mask: vectorised lookups
        self._hits = 0
        self._inserted = 0
        self._evicted = 0

    def _validate_sequence(self, seq):
        return self._ds.check_queries(seq, self.name)

    # --------------------------------------------------------------- protocol
    def _n_remote(self) -> int:
        return self._ds.k

    def serve(self, request):
        q = self._ds.check_query(request, f"{self.name}.serve")
        self._warm_unserved = False
        E = self._ds.remote_knn(q[None, :], self._n_remote())[0]
        return self._step(q, E)

    def _run_batch(self, seq, series, states, thin):
        """Same loop as ``serve`` with the remote searches batched up front (the remote catalog is static)."""
        E_all = self._ds.remote_knn(seq, self._n_remote())
        return request_loop(self, len(seq), lambda t: self._step(seq[t], E_all[t]), series=series, states=states,
                            thin=thin)

    def _step(self, q, E):  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ state
    @property
    def state(self) -> frozenset:
        return frozenset(self._order)

    def check_state(self, state) -> bool:
        try:
            ids = [int(i) for i in state]
        except TypeError:
            return False
        n = self.datastore.n
        return (len(set(ids)) == len(ids) <= self.capacity and all(0 <= i < n for i in ids))

    def _finalize(self, result):
        result.hits = self._hits
        result.misses = result.steps - self._hits
        result.info.update(inserted=self._inserted, evicted=self._evicted)

    def _contract_opt(self, seq):
        from .offline import dynamic_optimum

        if self.datastore.n > 8:
            return None
        return dynamic_optimum(self.datastore, seq, self.capacity)["cost"]

    def warm(self, ids) -> None:
        """Fill the (freshly reset) cache with ``ids`` at no cost, e.g. to benchmark a full cache.

        Call after ``reset()`` and before serving. :func:`online_algs.run` calls ``reset()`` first,
        which empties the cache again, so ``warm`` then ``run`` does *not* start warm (``reset``
        warns when it discards a warm start no request was served from). To run from a warm
        cache, drive ``serve`` yourself::

            alg.reset()
            alg.warm(ids)
            costs = [alg.serve(q) for q in queries]   # (service, movement) per query
            total = sum(s + m for s, m in costs)

        ``alg.state`` is the cached set at any time. Validated before anything changes (ids
        unique, in the catalog, at most ``capacity`` of them).
        """
        if not hasattr(self, "_order"):
            self.reset()
        ids = self._ds.check_ids(ids, "ids", f"{self.name}.warm")
        if len(np.unique(ids)) != len(ids) or len(ids) > self.capacity_:
            raise InvalidInputError(f"The 'ids' of {self.name}.warm must be distinct and at most capacity="
                                    f"{self.capacity_}. Got {len(ids)} ids ({len(np.unique(ids))} distinct).")
        if self._order:
            raise InvalidInputError(f"{self.name}.warm needs an empty cache; call reset() first.")
        self._insert(ids)
        self._inserted = 0
        self._warm_unserved = True

    # ---------------------------------------------------------------- helpers
    def _view(self, q, E, extra=None):
        """Candidate ids (sorted), their exact distances and cached flags."""
        E = E[E >= 0]
        _, L = self._index._search(q[None, :], self._ds.k + 1)
        L = L[0][L[0] >= 0]
        parts = [E, L] if extra is None else [E, L, np.asarray(extra, dtype=np.int64)]
        cand = np.unique(np.concatenate(parts))
        dist = self._ds.distances(q, cand)
        cached = self._mask[cand]
        return cand, dist, cached

    def _view_answer(self, q, E, extra=None):
        """``_view`` and the full answer order in one numba call (Euclidean catalogs; the numpy
        ``_view`` + ``np.lexsort`` otherwise, which is also the kernel's slow twin in the tests).

        Returns ``(cand, dist, cached, full, service)``: ``full`` orders every candidate by its copy
        cost ``dist + c_f (not cached)``, ties by id; the answer is ``full[:k]``.
        """
        ds = self._ds
        if ds.metric != "euclidean" or not self._fast_view:
            cand, dist, cached = self._view(q, E, extra)
            e = dist + ds.fetch_cost * (~cached)
            full = np.lexsort((cand, e))
            return cand, dist, cached, full, float(np.sum(e[full[:ds.k]]))
        _, L = self._index._search(q[None, :], ds.k + 1)
        ex = _NO_IDS if extra is None else np.asarray(extra, dtype=np.int64)
        cand, dist, cached, full = view_answer(q, np.asarray(E, dtype=np.int64), L[0], ex, ds.catalog, self._mask,
                                               float(ds.fetch_cost))
        order = full[:ds.k]
        return cand, dist, cached, full, float(np.sum(dist[order] + ds.fetch_cost * (~cached[order])))

    def _answer(self, cand, dist, cached):
        e = dist + self._ds.fetch_cost * (~cached)
        order = np.lexsort((cand, e))[:self._ds.k]
        return order, float(np.sum(e[order]))

    def _cost(self, dist, cached) -> float:
        e = dist + self._ds.fetch_cost * (~cached)
        k = self._ds.k
        if len(e) <= k:
            return float(e.sum())
        return float(np.partition(e, k - 1)[:k].sum())

    def _refresh(self, ids):
        for o in ids:
            self._order.move_to_end(int(o))

    def _insert(self, new) -> float:
        """Insert ``new`` (uncached ids), evicting least recently used objects; return the movement cost."""
        new = np.asarray(new, dtype=np.int64).reshape(-1)
        new = new[~self._mask[new]]
        if len(new) == 0:
            return 0.0
        n_ev = len(self._order) + len(new) - self.capacity_
        ev = [self._order.popitem(last=False)[0] for _ in range(max(0, n_ev))]
        self._evict_ids(ev, pop=False)
        new = new.tolist()
        self._order.update(dict.fromkeys(new))
        self._mask[new] = True
        # the mask keeps the index consistent (new ids absent, evicted ids present): unchecked updates
        self._index._add_unchecked(np.asarray(new, dtype=np.int64), self._ds.catalog[new])
        self._inserted += len(new)
        self._on_insert(new)
        return self._ds.update_cost * len(new)

    def _on_insert(self, ids):
        """Hook for subclasses that keep extra per-object state."""

    def _on_evict(self, ids):
        """Hook for subclasses that keep extra per-object state."""

    def _evict_ids(self, ev, pop=True):
        if not ev:
            return
        if pop:
            for o in ev:
                del self._order[int(o)]
        ev_arr = np.asarray(ev, dtype=np.int64)
        self._mask[ev_arr] = False
        self._index._remove_unchecked(ev_arr)
        self._evicted += len(ev)
        self._on_evict(ev)


_COMMON_DOC = """
    Parameters
    ----------
    datastore : Datastore
        Catalog, remote index and cost model (``k``, ``fetch_cost``, ``update_cost``).
    capacity : int
        Cache size ``h``, ``k <= h <= N``.
    cache_index : {"exact", "faiss-flat", "faiss-slots"}
        Backend of the local cache index (numpy brute force, Faiss ``IndexIDMap2(IndexFlatL2)``,
        or Faiss flat slots written in place: the fastest evictions).
"""


class SimLRU(_SimilarityPolicy):
    __doc__ = r"""SIM-LRU for k-NN answers (Garetto, Leonardi, Neglia, INFOCOM 2020).

    Problem: serve k-NN requests from a local cache of ``h`` catalog objects (cost model in the
    module docstring). Update rule: the answer's cached objects are refreshed (moved to the
    most-recently-used end); its remote objects, fetched anyway, are inserted, evicting the
    least recently used objects. With ``k = 1`` this is the paper's rule (approximate hit
    refreshes ``y``, miss inserts the nearest catalog object).

    Complexity: one local (k+1)-NN and one remote k-NN search per request, plus O(k log k).
    Guarantee: no competitive ratio is known (the paper studies it under the independent
    reference model); it costs at least the exact dynamic optimum (Theorem ``similarity.opt.lower``).
    """ + _COMMON_DOC

    def __init__(self, datastore, capacity, cache_index="exact"):
        self.datastore = datastore
        self.capacity = capacity
        self.cache_index = cache_index

    def reset(self):
        self._reset_common()

    def _step(self, q, E):
        cand, dist, cached, full, service = self._view_answer(q, E)
        order = full[:self._ds.k]
        loc = cached[order]
        self._refresh(cand[order][loc])
        new = cand[order][~loc]
        if len(new) == 0:
            self._hits += 1
        return service, self._insert(new)

    @classmethod
    def _contract_cases(cls):
        ds, q = _contract_instance(0)
        ds2, q2 = _contract_instance(1, n=8, d=3, T=12, k=2)
        return [({"datastore": ds, "capacity": 2}, q), ({"datastore": ds2, "capacity": 3}, q2)]


class RndLRU(_SimilarityPolicy):
    __doc__ = r"""RND-LRU for k-NN answers (Garetto, Leonardi, Neglia, INFOCOM 2020).

    Update rule: as :class:`SimLRU`; in addition, when the answer uses cached objects and is
    not the exact k-NN answer, the request is treated as a miss with probability
    ``beta = min(1, beta_scale * gap / (k c_f))`` (``gap`` = summed distance of the answer minus
    that of the exact k nearest catalog objects): the exact k nearest objects are then inserted
    too. ``k = 1``: an approximate hit at distance ``C_a`` is a miss with probability ~ ``C_a / C_r``.

    Complexity: as SimLRU. Guarantee: none known; lower-bounded by the exact optimum
    (Theorem ``similarity.opt.lower``).
    """ + _COMMON_DOC + """    beta_scale : float
        Multiplier of the miss probability (> 0).
    seed : int or None
    """
    randomized = True

    def __init__(self, datastore, capacity, beta_scale=1.0, cache_index="exact", seed=None):
        self.datastore = datastore
        self.capacity = capacity
        self.beta_scale = beta_scale
        self.cache_index = cache_index
        self.seed = seed

    def reset(self):
        self._reset_common()
        self.beta_scale_ = check_float("beta_scale", self.beta_scale, low=0.0, low_open=True, owner=self.name)
        self._rng = np.random.default_rng(check_seed(self.seed, self.name))

    def _step(self, q, E):
        cand, dist, cached, full, service = self._view_answer(q, E)
        order = full[:self._ds.k]
        loc = cached[order]
        self._refresh(cand[order][loc])
        new = list(cand[order][~loc])
        if len(new) == 0:
            self._hits += 1
        if loc.any():
            k = self._ds.k
            gap = float(dist[order].sum() - np.sort(dist)[:k].sum())
            cf = self._ds.fetch_cost
            beta = (1.0 if gap > 0 else 0.0) if cf == 0 else min(1.0, self.beta_scale_ * gap / (k * cf))
            if self._rng.random() < beta:
                exact = cand[np.lexsort((cand, dist))[:k]]
                new += [o for o in exact if not cached[np.searchsorted(cand, o)] and o not in new]
        return service, self._insert(new[:self.capacity_])

    @classmethod
    def _contract_cases(cls):
        ds, q = _contract_instance(2)
        return [({"datastore": ds, "capacity": 2, "seed": 3}, q)]


class QLRUDeltaC(_SimilarityPolicy):
    __doc__ = r"""qLRU-DeltaC for k-NN answers (Garetto, Leonardi, Neglia, INFOCOM 2020).

    Update rule: serve with ``S``; every cached object ``z`` of the answer is refreshed with
    probability ``(C(r, S \ {z}) - C(r, S)) / c_f`` (its marginal saving on this request); every
    object ``o`` of the exact k nearest that is not cached is inserted (evicting the LRU object)
    with probability ``q (C(r, S) - C(r, S + o)) / c_f``. Probabilities are clipped to [0, 1].
    With ``k = 1`` these are the paper's rules. As ``q -> 0`` the cache converges to a local
    optimum of the expected cost under the independent reference model (paper; reported by
    Theorem ``similarity.qlru.local_opt``, and lower-bounded by ``similarity.opt.lower``).

    Complexity: as SimLRU plus O(k^2) cost evaluations per request.
    """ + _COMMON_DOC + """    q : float
        Insertion damping, ``0 < q <= 1``.
    seed : int or None
    """
    randomized = True

    def __init__(self, datastore, capacity, q=0.1, cache_index="exact", seed=None):
        self.datastore = datastore
        self.capacity = capacity
        self.q = q
        self.cache_index = cache_index
        self.seed = seed

    def reset(self):
        self._reset_common()
        self.q_ = check_float("q", self.q, low=0.0, high=1.0, low_open=True, owner=self.name)
        self._rng = np.random.default_rng(check_seed(self.seed, self.name))

    def _prob(self, delta):
        cf = self._ds.fetch_cost
        if cf == 0:
            return 1.0 if delta > 0 else 0.0
        return min(1.0, max(0.0, delta / cf))

    def _step(self, q, E):
        cand, dist, cached, full, service = self._view_answer(q, E)
        k, cf = self._ds.k, self._ds.fetch_cost
        e = dist + cf * (~cached)
        order = full[:k]
        loc = cached[order]
        if not (~loc).any():
            self._hits += 1
        e_k = e[order[-1]]
        e_next = e[full[k]] if len(full) > k else np.inf
        # one uniform per cached answer object (in answer order), then one per uncached object of
        # E (in E order): the stream of the scalar draws of _step_reference, in one call
        jl = order[loc]
        Ev = E[E >= 0]
        je = np.searchsorted(cand, Ev)
        unc = ~cached[je]
        je = je[unc]
        u = self._rng.random(len(jl) + len(je))
        # C(S \ z) - C(S) for a cached answer object z: z's slot goes to the next cheapest copy,
        # which is the (k+1)-th cheapest or z's own remote copy
        dj = dist[jl]
        refresh = u[:len(jl)] < self._probs(np.minimum(e_next, dj + cf) - dj)
        for o in cand[jl[refresh]].tolist():
            self._order.move_to_end(o)
        in_answer = np.zeros(len(cand), dtype=bool)
        in_answer[order] = True
        # C(S) - C(S + o): o's copy gets cheaper by c_f (in the answer) or replaces the k-th copy
        saving = np.where(in_answer[je], cf, np.maximum(0.0, e_k - dist[je]))
        new = Ev[unc][u[len(jl):] < self.q_ * self._probs(saving)]
        return service, self._insert(new)

    def _probs(self, delta):
        """:meth:`_prob` of an array of marginal savings."""
        cf = self._ds.fetch_cost
        if cf == 0:
            return (delta > 0).astype(float)
        return np.minimum(np.maximum(delta / cf, 0.0), 1.0)   # np.clip costs ~5 us on short arrays

    def _step_reference(self, q, E):
        """The same rule with every marginal cost recomputed from scratch (the slow twin in tests)."""
        cand, dist, cached = self._view(q, E)
        order, service = self._answer(cand, dist, cached)
        loc = cached[order]
        if not (~loc).any():
            self._hits += 1
        for j in order[loc]:
            c2 = cached.copy()
            c2[j] = False
            if self._rng.random() < self._prob(self._cost(dist, c2) - service):
                self._order.move_to_end(int(cand[j]))
        new = []
        for o in E[E >= 0]:
            j = int(np.searchsorted(cand, o))
            if cached[j]:
                continue
            c2 = cached.copy()
            c2[j] = True
            if self._rng.random() < self.q_ * self._prob(service - self._cost(dist, c2)):
                new.append(int(o))
        return service, self._insert(new)

    @classmethod
    def _contract_cases(cls):
        ds, q = _contract_instance(3)
        return [({"datastore": ds, "capacity": 2, "q": 0.5, "seed": 1}, q)]


class Duel(_SimilarityPolicy):
    __doc__ = r"""DUEL for k-NN answers (after Garetto, Leonardi, Neglia, INFOCOM 2020).

    Update rule: while the cache is not full, the nearest uncached catalog object of a request is
    inserted. Then, when the nearest uncached object ``c`` of the exact k nearest is not already
    a candidate and fewer than ``max_duels`` duels run, ``c`` challenges a cached object ``y``
    drawn uniformly among those not defending. For the next ``duel_length`` requests both
    accumulate the savings they bring over the common baseline ``S \ {y}``:
    ``c`` earns ``C(r, S\y) - C(r, S\y + c)``, ``y`` earns ``C(r, S\y) - C(r, S)``. At the end the
    winner keeps (or takes) the slot; a swap costs one insertion.

    Complexity: as SimLRU plus O(max_duels k log k) per request. Guarantee: none known;
    lower-bounded by the exact optimum (Theorem ``similarity.opt.lower``).
    """ + _COMMON_DOC + """    duel_length : int
        Requests a duel lasts (>= 1).
    max_duels : int
        Concurrent duels (>= 1).
    seed : int or None
    """
    randomized = True

    def __init__(self, datastore, capacity, duel_length=20, max_duels=2, cache_index="exact", seed=None):
        self.datastore = datastore
        self.capacity = capacity
        self.duel_length = duel_length
        self.max_duels = max_duels
        self.cache_index = cache_index
        self.seed = seed

    def reset(self):
        self._reset_common()
        self.duel_length_ = check_int("duel_length", self.duel_length, low=1, owner=self.name)
        self.max_duels_ = check_int("max_duels", self.max_duels, low=1, owner=self.name)
        self._rng = np.random.default_rng(check_seed(self.seed, self.name))
        self._duels: list[list] = []  # [candidate, defender, requests left, candidate score, defender score]
        self._swaps = 0
        self._slots: list[int] = []   # cached ids in an array, for O(1) uniform draws
        self._pos: dict[int, int] = {}

    def _on_insert(self, ids):
        for o in ids:
            self._pos[int(o)] = len(self._slots)
            self._slots.append(int(o))

    def _on_evict(self, ids):
        for o in ids:
            i = self._pos.pop(int(o))
            last = self._slots.pop()
            if i < len(self._slots):
                self._slots[i] = last
                self._pos[last] = i

    def _step(self, q, E):
        extra = [d[0] for d in self._duels] + [d[1] for d in self._duels]
        cand, dist, cached, full, service = self._view_answer(q, E, extra=extra)
        order = full[:self._ds.k]
        if cached[order].all():
            self._hits += 1
        movement = 0.0
        finished = []
        for duel in self._duels:
            c, y = duel[0], duel[1]
            jc, jy = int(np.searchsorted(cand, c)), int(np.searchsorted(cand, y))
            base = cached.copy()
            base[jy] = False
            c_base = self._cost(dist, base)
            base[jc] = True
            duel[3] += c_base - self._cost(dist, base)
            duel[4] += c_base - service
            duel[2] -= 1
            if duel[2] == 0:
                finished.append(duel)
        for duel in finished:
            self._duels.remove(duel)
            if duel[3] > duel[4]:
                self._evict_ids([duel[1]])
                movement += self._insert([duel[0]])
                self._swaps += 1
        candidates = {d[0] for d in self._duels}
        defenders = {d[1] for d in self._duels}
        nearest = [int(o) for o in E[E >= 0] if int(o) not in self._order and int(o) not in candidates]
        if nearest:
            c = nearest[0]
            if len(self._order) < self.capacity_:
                movement += self._insert([c])
            elif len(self._duels) < self.max_duels_ and len(self._slots) > len(defenders):
                while True:  # uniform over the cached objects not defending (rejection: few defenders)
                    y = self._slots[int(self._rng.integers(len(self._slots)))]
                    if y not in defenders:
                        break
                self._duels.append([c, y, self.duel_length_, 0.0, 0.0])
        return service, movement

    def _finalize(self, result):
        super()._finalize(result)
        result.info["swaps"] = self._swaps

    @classmethod
    def _contract_cases(cls):
        ds, q = _contract_instance(4, T=20)
        return [({"datastore": ds, "capacity": 2, "duel_length": 3, "seed": 0}, q)]


class ExactLRU(_SimilarityPolicy):
    __doc__ = r"""Exact-id LRU: a request for query ``r`` is a request for its nearest catalog object ``o*``.

    Update rule: ``o*`` cached -> refresh it; otherwise insert it, evicting the least recently
    used object. Service cost is the datastore's k-NN serving cost with the current cache (the
    answer may still use approximate local objects). Classic LRU is h-competitive for paging
    (Sleator & Tarjan 1985) but not for this cost; its cost is lower-bounded by the exact
    optimum (Theorem ``similarity.opt.lower``). Complexity: as SimLRU.
    """ + _COMMON_DOC

    def __init__(self, datastore, capacity, cache_index="exact"):
        self.datastore = datastore
        self.capacity = capacity
        self.cache_index = cache_index

    def reset(self):
        self._reset_common()

    def _step(self, q, E):
        cand, dist, cached, full, service = self._view_answer(q, E)
        order = full[:self._ds.k]
        if cached[order].all():
            self._hits += 1
        o = int(E[0])
        if o in self._order:
            self._order.move_to_end(o)
            return service, 0.0
        return service, self._insert([o])

    @classmethod
    def _contract_cases(cls):
        ds, q = _contract_instance(5)
        return [({"datastore": ds, "capacity": 3}, q)]


class ExactLFU(_SimilarityPolicy):
    __doc__ = r"""Exact-id LFU: request = nearest catalog object ``o*``; evict the least frequently requested.

    Frequencies count every request of an object since the start (perfect LFU); ties are broken
    by the older last request. Update rule: ``o*`` cached -> count it; otherwise insert it,
    evicting the cached object of smallest count. Complexity: O(log h) heap operations plus the
    searches. Guarantee: none for this cost; lower-bounded by the exact optimum
    (Theorem ``similarity.opt.lower``).
    """ + _COMMON_DOC

    def __init__(self, datastore, capacity, cache_index="exact"):
        self.datastore = datastore
        self.capacity = capacity
        self.cache_index = cache_index

    def reset(self):
        self._reset_common()
        self._count: dict[int, int] = {}
        self._last: dict[int, int] = {}
        self._heap: list = []
        self._t = 0

    def _step(self, q, E):
        cand, dist, cached, full, service = self._view_answer(q, E)
        order = full[:self._ds.k]
        if cached[order].all():
            self._hits += 1
        self._t += 1
        o = int(E[0])
        self._count[o] = self._count.get(o, 0) + 1
        self._last[o] = self._t
        movement = 0.0
        if o not in self._order:
            if len(self._order) >= self.capacity_:
                while True:
                    cnt, last, v = heapq.heappop(self._heap)
                    if v in self._order and self._count[v] == cnt and self._last[v] == last:
                        break
                self._evict_ids([v])
            movement = self._insert([o])
        heapq.heappush(self._heap, (self._count[o], self._last[o], o))
        return service, movement

    @classmethod
    def _contract_cases(cls):
        ds, q = _contract_instance(6)
        return [({"datastore": ds, "capacity": 2}, q)]
