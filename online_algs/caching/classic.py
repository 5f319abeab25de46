r"""Classic paging policies: LRU, FIFO, LFU, CLOCK, random eviction, randomized Marking, ARC,
and Belady's offline optimum.

Problem (paging, unit sizes and costs). A cache holds at most ``capacity`` = k pages. Requests
``x_1, x_2, ...`` are non-negative integer page ids. A request for a cached page is a *hit*
(cost 0); otherwise it is a *miss*: the page is fetched (cost 1) and, if the cache is full,
one cached page is evicted first. Cost of a policy = number of misses.

Cost convention of :func:`online_algs.run`: service 0, movement 1 per miss (a fetch).
``result.hits`` / ``result.misses`` are filled; with ``series=True`` the per-step movement is
the miss indicator and ``result.info["hit_series"]`` the boolean hit series. ``state`` is the
frozenset of cached ids. Every policy starts from an empty cache.

Ids may be any non-negative integers: the batch fast path maps them to ``0..N-1`` (N distinct
ids) through a lookup table read inside its numba kernel (the trace is not copied when the
largest id is at most ``max(4T, 2^20)``; beyond, ``np.unique`` builds an O(T) inverse), so
state is O(N + k) (O(max id) for the table). Pass ``n_items``
when ids are already dense in ``0..n_items-1``: no remapping, ids outside are rejected.

Every class has a numba batch kernel (``online_algs.caching._kernels_classic``) and a
step-by-step ``serve`` method written with plain Python containers: its slow, obviously
correct twin (``run(..., fast=False)``), compared in the tests and in Theorem
``caching.classic.twin``.
"""

from __future__ import annotations

from collections import OrderedDict, deque

import numpy as np

from .._validation import check_int, check_seed
from ..base import RequestThenMove, kernel_seed
from ..exceptions import InvalidInputError
from ..run import RunResult
from . import _kernels_classic as K
from . import traces as _traces  # noqa: F401  (makes ``online_algs.caching.traces`` an attribute)
from .belady import _check_trace, _id_map, belady_misses, next_use

__all__ = ["LRU", "FIFO", "LFU", "CLOCK", "RandomEviction", "Marking", "ARC", "Belady", "belady_misses",
           "next_use", "PAGING_POLICIES"]


def _contract_traces():
    rng = np.random.default_rng(3)
    z = np.minimum(rng.zipf(1.3, size=80) - 1, 11).astype(np.int64)
    return [
        ({"capacity": 3}, np.array([0, 1, 2, 3, 0, 1, 4, 0, 1, 2, 3, 4, 4, 2], dtype=np.int64)),
        ({"capacity": 4}, z),
        ({"capacity": 2}, np.array([10**12, 7, 10**12, 3, 7, 7, 10**12, 5, 3], dtype=np.int64)),
        ({"capacity": 3, "n_items": 6}, np.array([5, 0, 1, 5, 2, 3, 0, 5, 4, 1, 0], dtype=np.int64)),
        ({"capacity": 1}, np.array([2, 2, 1, 2, 1, 1], dtype=np.int64)),
    ]


class _PagingPolicy(RequestThenMove):
    """Shared machinery of the paging policies (not an algorithm)."""

    _abstract = True
    _record_defaults = {"series": False, "states": False}

    def __init__(self, capacity, n_items=None):
        self.capacity = capacity
        self.n_items = n_items

    # ---------------------------------------------------------------- lifecycle
    def reset(self):
        owner = type(self).__name__
        self.capacity_ = check_int("capacity", self.capacity, low=1, owner=owner)
        self.n_items_ = None if self.n_items is None else check_int("n_items", self.n_items, low=1, owner=owner)
        self._batch_final = None
        self._setup_random()
        self._init_state()

    def _setup_random(self):
        pass

    def _init_state(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _validate_sequence(self, seq):
        return _check_trace(seq, type(self).__name__, self.n_items_)

    def serve(self, request):
        hit = self._access(int(request))
        return 0.0, (0.0 if hit else 1.0)

    def _access(self, v: int) -> bool:  # pragma: no cover - abstract
        """Serve page ``v``; return True on a hit."""
        raise NotImplementedError

    # ------------------------------------------------------------------- state
    @property
    def state(self):
        if self._batch_final is not None:
            return self._batch_final
        return frozenset(self._cached())

    def _cached(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def check_state(self, state):
        try:
            items = list(state)
        except TypeError:
            return False
        if len(items) != len(set(items)) or len(items) > self.capacity_:
            return False
        for v in items:
            if not isinstance(v, (int, np.integer)) or v < 0:
                return False
            if self.n_items_ is not None and v >= self.n_items_:
                return False
        return True

    # -------------------------------------------------------------- fast path
    def _kernel_call(self, x, lut, n, cap, record, hit, victim, final):  # pragma: no cover - abstract
        raise NotImplementedError

    def _run_batch(self, seq, series, states, thin):
        T = int(seq.shape[0])
        x, lut, ids, n = _id_map(seq, self.n_items_)
        record = bool(series or states)
        hit = np.zeros(T if record else 0, dtype=np.uint8)
        victim = np.zeros(T if record else 0, dtype=np.int64)
        cap = min(self.capacity_, max(n, 1))  # a cache never holds more than the n distinct pages
        final = np.full(cap, -1, dtype=np.int64)
        misses = int(self._kernel_call(x, lut, n, cap, record, hit, victim, final)) if T else 0
        res = RunResult(algorithm=repr(self), steps=T, service_cost=0.0, movement_cost=float(misses))
        if series:
            res.service = np.zeros(T)
            res.movement = 1.0 - hit.astype(np.float64)
        if states:
            res.states, res.state_steps = _rebuild_states(seq, ids, hit, victim, thin)
        fin = final[final >= 0]
        self._batch_final = frozenset(int(v) for v in (fin if ids is None else ids[fin]))
        return res

    def _finalize(self, result):
        result.misses = int(round(result.movement_cost))
        result.hits = int(result.steps - result.misses)
        if result.movement is not None:
            result.info["hit_series"] = np.asarray(result.movement) == 0.0

    # ---------------------------------------------------------- contract tests
    @classmethod
    def _contract_cases(cls):
        return _contract_traces()

    def _contract_opt(self, seq):
        return float(belady_misses(seq, self.capacity_))


def _rebuild_states(seq, ids, hit, victim, thin):
    """Visited states from the kernel's hit and victim records (every ``thin`` steps and the last)."""
    T = seq.shape[0]
    cur: set[int] = set()
    out = [frozenset()]
    steps = [0]
    for t in range(T):
        if not hit[t]:
            ev = int(victim[t])
            if ev >= 0:
                cur.discard(int(ev if ids is None else ids[ev]))
            cur.add(int(seq[t]))
        if (t + 1) % thin == 0 or t == T - 1:
            out.append(frozenset(cur))
            steps.append(t + 1)
    return out, np.asarray(steps)


# =============================================================================== LRU
class LRU(_PagingPolicy):
    r"""Least-recently-used paging.

    Problem: paging with a cache of ``capacity`` = k unit-size pages (see the module doc).
    Update rule: on a miss with a full cache, evict the page whose last request is the oldest.
    Complexity: O(1) per request (doubly linked list in arrays), O(N + k) state.
    Guarantee: LRU is k/(k-h+1)-competitive against an optimal h-cache, h <= k: misses <=
    k/(k-h+1) OPT_h + k; k-competitive for h = k, the best a deterministic policy achieves
    (the (k+1)-page cycle). Theorem ``caching.lru.competitive`` (Sleator & Tarjan 1985).

    Parameters
    ----------
    capacity : int >= 1
    n_items : int >= 1, optional
        When given, ids must lie in ``0..n_items-1`` and are not remapped.

    Examples
    --------
    >>> import online_algs
    >>> from online_algs.caching import LRU
    >>> online_algs.run(LRU(capacity=2), [0, 1, 0, 2, 1]).misses
    4
    """

    def _init_state(self):
        self._od = OrderedDict()

    def _access(self, v):
        od = self._od
        if v in od:
            od.move_to_end(v)
            return True
        if len(od) == self.capacity_:
            od.popitem(last=False)
        od[v] = None
        return False

    def _cached(self):
        return self._od.keys()

    def _kernel_call(self, x, lut, n, cap, record, hit, victim, final):
        return K.lru_kernel(x, lut, n, cap, record, hit, victim, final)


# ============================================================================== FIFO
class FIFO(_PagingPolicy):
    r"""First-in-first-out paging.

    Update rule: on a miss with a full cache, evict the page that entered the cache first
    (hits do not change the order). Complexity: O(1) per request (ring buffer), O(N + k) state.
    Guarantee: FIFO is conservative, hence k/(k-h+1)-competitive against an optimal h-cache
    like LRU: Theorem ``caching.lru.competitive`` (Sleator & Tarjan 1985; Young 1994).

    Parameters
    ----------
    capacity : int >= 1
    n_items : int >= 1, optional
    """

    def _init_state(self):
        self._q = deque()
        self._in = set()

    def _access(self, v):
        if v in self._in:
            return True
        if len(self._q) == self.capacity_:
            self._in.discard(self._q.popleft())
        self._q.append(v)
        self._in.add(v)
        return False

    def _cached(self):
        return self._in

    def _kernel_call(self, x, lut, n, cap, record, hit, victim, final):
        return K.fifo_kernel(x, lut, n, cap, record, hit, victim, final)


# ============================================================================= CLOCK
class CLOCK(_PagingPolicy):
    r"""CLOCK (second chance) paging.

    Update rule: each cached page has a reference bit, set on a hit. The pages form a circle
    in insertion order with a hand at the oldest; on a miss with a full cache the hand clears
    set bits and advances until it reaches a page with a clear bit, which is evicted; the new
    page takes its place with a clear bit and the hand moves past it. (Equivalently: FIFO in
    which a page with its bit set is re-queued at the tail with the bit cleared.)
    Complexity: amortized O(1) per request (each advance of the hand clears a bit set by an
    earlier hit), worst case O(k); O(N + k) state.
    Guarantee: conservative, hence k/(k-h+1)-competitive against an optimal h-cache:
    Theorem ``caching.lru.competitive`` (Young 1994).

    Parameters
    ----------
    capacity : int >= 1
    n_items : int >= 1, optional
    """

    def _init_state(self):
        self._q = deque()       # [page, bit] in hand order (left = hand)
        self._where = {}        # page -> its [page, bit] cell

    def _access(self, v):
        cell = self._where.get(v)
        if cell is not None:
            cell[1] = True
            return True
        if len(self._q) == self.capacity_:
            while self._q[0][1]:
                c = self._q.popleft()
                c[1] = False
                self._q.append(c)
            old = self._q.popleft()
            del self._where[old[0]]
        cell = [v, False]
        self._q.append(cell)
        self._where[v] = cell
        return False

    def _cached(self):
        return self._where.keys()

    def _kernel_call(self, x, lut, n, cap, record, hit, victim, final):
        return K.clock_kernel(x, lut, n, cap, record, hit, victim, final)


# =============================================================================== LFU
class LFU(_PagingPolicy):
    r"""Least-frequently-used paging (in-cache frequencies, ties by least recent use).

    Update rule: each cached page counts its requests since it entered the cache (a fetched
    page starts at 1; the count is forgotten on eviction). On a miss with a full cache, evict
    the page with the smallest count; among equal counts, the one whose last request is the
    oldest. Complexity: O(log k) per request (indexed binary heap), O(N + k) state.
    Guarantee: none: LFU is not competitive. On ``k-1`` pages requested m times each followed
    by m alternations of two new pages, LFU misses on every alternation while OPT misses
    k + 1 times, so the ratio grows linearly in m: Theorem ``caching.lfu.not_competitive``.

    Parameters
    ----------
    capacity : int >= 1
    n_items : int >= 1, optional
    """

    def _init_state(self):
        self._freq = {}
        self._last = {}
        self._t = 0

    def _access(self, v):
        t = self._t
        self._t += 1
        if v in self._freq:
            self._freq[v] += 1
            self._last[v] = t
            return True
        if len(self._freq) == self.capacity_:
            ev = min(self._freq, key=lambda u: (self._freq[u], self._last[u]))
            del self._freq[ev]
            del self._last[ev]
        self._freq[v] = 1
        self._last[v] = t
        return False

    def _cached(self):
        return self._freq.keys()

    def _kernel_call(self, x, lut, n, cap, record, hit, victim, final):
        return K.lfu_kernel(x, lut, n, cap, record, hit, victim, final)


# ========================================================================= randomized
class _RandomizedPolicy(_PagingPolicy):
    _abstract = True
    randomized = True

    def __init__(self, capacity, n_items=None, seed=None):
        self.capacity = capacity
        self.n_items = n_items
        self.seed = seed

    def _setup_random(self):
        self._rng = np.random.default_rng(check_seed(self.seed, owner=type(self).__name__))
        self._kseed = kernel_seed(self._rng)
        # the serve twin draws the same MT19937 stream as numba's np.random in the kernel
        self._rs = np.random.RandomState(self._kseed)

    def _draw_index(self, m: int) -> int:
        r = int(self._rs.random_sample() * m)
        return min(r, m - 1)

    @classmethod
    def _contract_cases(cls):
        return [({**p, "seed": 5}, s) for p, s in _contract_traces()]


class RandomEviction(_RandomizedPolicy):
    r"""Random eviction: on a miss with a full cache, evict a uniformly random cached page.

    Update rule: slots hold the cached pages; the victim is slot ``floor(u k)``, u uniform in
    [0, 1); the new page takes the victim's slot. Complexity: O(1) per request, O(N + k) state.
    Guarantee: k-competitive in expectation (Raghavan & Snir 1989): E[misses] <= k OPT + k,
    and, like every randomized policy, no better than H_k on uniformly random requests over
    k + 1 pages: Theorems ``caching.lru.competitive`` (the mean over seeds) and
    ``caching.randomized.lower_bound``.

    Parameters
    ----------
    capacity : int >= 1
    n_items : int >= 1, optional
    seed : None or int >= 0
    """

    def _init_state(self):
        self._slots = []
        self._where = {}

    def _access(self, v):
        if v in self._where:
            return True
        if len(self._slots) < self.capacity_:
            self._where[v] = len(self._slots)
            self._slots.append(v)
            return False
        r = self._draw_index(self.capacity_)
        del self._where[self._slots[r]]
        self._slots[r] = v
        self._where[v] = r
        return False

    def _cached(self):
        return self._where.keys()

    def _kernel_call(self, x, lut, n, cap, record, hit, victim, final):
        return K.random_kernel(x, lut, n, cap, record, hit, victim, final, self._kseed)


class Marking(_RandomizedPolicy):
    r"""Randomized marking (Fiat, Karp, Luby, McGeoch, Sleator, Young 1991).

    Update rule: a requested page is marked. On a miss with a full cache: if every cached page
    is marked, a new phase starts and all marks are cleared; then a uniformly random unmarked
    page is evicted. Implementation: the unmarked pages occupy slots ``[0, u)``; marking swaps a
    page to slot ``u - 1`` and decrements ``u``; the victim is slot ``floor(r u)``, r uniform in
    [0, 1). Complexity: O(1) per request, O(N + k) state.
    Guarantee: E[misses] <= (2 H_k - 1) OPT + k against an oblivious adversary (the 2H_k - 1
    constant is Achlioptas, Chrobak & Noga 2000): Theorem ``caching.marking.competitive``; and
    no randomized policy beats H_k: Theorem ``caching.randomized.lower_bound``.

    Parameters
    ----------
    capacity : int >= 1
    n_items : int >= 1, optional
    seed : None or int >= 0

    Examples
    --------
    >>> import online_algs
    >>> from online_algs.caching import Marking
    >>> online_algs.run(Marking(capacity=2, seed=0), [0, 1, 0, 1]).misses
    2
    """

    def _init_state(self):
        self._slots = []     # slots[0:u] unmarked, slots[u:] marked
        self._where = {}
        self._u = 0

    def _swap(self, i, j):
        s = self._slots
        s[i], s[j] = s[j], s[i]
        self._where[s[i]] = i
        self._where[s[j]] = j

    def _access(self, v):
        s = self._where.get(v)
        if s is not None:
            if s < self._u:  # unmarked -> mark
                self._swap(s, self._u - 1)
                self._u -= 1
            return True
        if len(self._slots) < self.capacity_:
            self._where[v] = len(self._slots)
            self._slots.append(v)   # beyond u: marked
            return False
        if self._u == 0:
            self._u = self.capacity_   # new phase
        r = self._draw_index(self._u)
        del self._where[self._slots[r]]
        self._slots[r] = v
        self._where[v] = r
        self._swap(r, self._u - 1)
        self._u -= 1
        return False

    def _cached(self):
        return self._where.keys()

    def _kernel_call(self, x, lut, n, cap, record, hit, victim, final):
        return K.marking_kernel(x, lut, n, cap, record, hit, victim, final, self._kseed)


# =============================================================================== ARC
class ARC(_PagingPolicy):
    r"""Adaptive Replacement Cache (Megiddo & Modha, FAST 2003).

    Update rule (the paper's Fig. 4): cached pages are split into T1 (seen once recently) and
    T2 (seen at least twice), with ghost lists B1, B2 of recently evicted ids; p is the target
    size of T1. A hit moves the page to the MRU end of T2. A ghost hit in B1 raises
    p by max(|B2|/|B1|, 1) (capped at k), one in B2 lowers it by max(|B1|/|B2|, 1) (floored at
    0); REPLACE then demotes the LRU page of T1 to B1 if |T1| > p (or |T1| = p on a B2 hit),
    else the LRU page of T2 to B2. A complete miss trims the ghost lists so that
    |T1| + |B1| <= k and |T1| + |T2| + |B1| + |B2| <= 2k. p is kept as a float.
    Complexity: O(1) per request (four linked lists in shared arrays), O(N + k) state.
    Guarantee: no competitive constant is claimed here; its ratio to Belady is reported per
    trace by the empirical Theorem ``caching.arc.empirical``.

    Parameters
    ----------
    capacity : int >= 1
    n_items : int >= 1, optional
    """

    def _init_state(self):
        self._L = [OrderedDict() for _ in range(4)]  # T1, T2, B1, B2; last = MRU
        self._p = 0.0

    def _where(self, v):
        for i, L in enumerate(self._L):
            if v in L:
                return i
        return -1

    def _replace(self, in_b2):
        T1, T2, B1, B2 = self._L
        if len(T1) >= 1 and ((in_b2 and len(T1) == self._p) or len(T1) > self._p):
            u, _ = T1.popitem(last=False)
            B1[u] = None
        else:
            u, _ = T2.popitem(last=False)
            B2[u] = None

    def _access(self, v):
        T1, T2, B1, B2 = self._L
        c = self.capacity_
        w = self._where(v)
        if w in (0, 1):
            del self._L[w][v]
            T2[v] = None
            return True
        if w == 2:
            d = len(B2) / len(B1) if len(B2) > len(B1) else 1.0
            self._p = min(float(c), self._p + d)
            self._replace(False)
            del B1[v]
            T2[v] = None
            return False
        if w == 3:
            d = len(B1) / len(B2) if len(B1) > len(B2) else 1.0
            self._p = max(0.0, self._p - d)
            self._replace(True)
            del B2[v]
            T2[v] = None
            return False
        l1 = len(T1) + len(B1)
        tot = l1 + len(T2) + len(B2)
        if l1 == c:
            if len(T1) < c:
                B1.popitem(last=False)
                self._replace(False)
            else:
                T1.popitem(last=False)
        elif tot >= c:
            if tot == 2 * c:
                B2.popitem(last=False)
            self._replace(False)
        T1[v] = None
        return False

    def _cached(self):
        return list(self._L[0]) + list(self._L[1])

    def _kernel_call(self, x, lut, n, cap, record, hit, victim, final):
        return K.arc_kernel(x, lut, n, cap, record, hit, victim, final)


# ============================================================================ Belady
class Belady(_PagingPolicy):
    r"""Belady's MIN, the offline optimum of unit-size, unit-cost demand paging.

    Offline: it knows the whole trace. Update rule: on a miss with a full cache, evict the
    cached page whose next request is furthest in the future (pages never requested again
    first; ties among them go to the largest id). Complexity: O(T) next-use table, then
    O(log k) per request (indexed max-heap); O(T + N) memory. The ``serve`` twin scans the
    cache on each eviction (O(k)) with a next-use table computed by a plain Python pass.
    Guarantee: its miss count is the optimum (Belady 1966; Mattson et al. 1970), equal to a
    brute-force optimum on small traces and at most every other policy's:
    Theorem ``caching.belady.optimal``. See also :func:`belady_misses`.

    Parameters
    ----------
    capacity : int >= 1
    n_items : int >= 1, optional
    """

    def _init_state(self):
        self._trace = None
        self._nu = None
        self._t = 0
        self._cache = {}

    def _validate_sequence(self, seq):
        seq = super()._validate_sequence(seq)
        self._trace = seq
        return seq

    def _access(self, v):
        if self._trace is None or self._t >= self._trace.shape[0] or int(self._trace[self._t]) != v:
            raise InvalidInputError("Belady is an offline policy: serve() must receive the trace given to "
                                    "online_algs.run, in order. Use online_algs.run(Belady(capacity=...), trace).")
        if self._nu is None:  # plain Python next-use table (the twin of next_use_kernel)
            T = self._trace.shape[0]
            nu = [T] * T
            seen = {}
            for t in range(T - 1, -1, -1):
                u = int(self._trace[t])
                nu[t] = seen.get(u, T)
                seen[u] = t
            self._nu = nu
        t = self._t
        self._t += 1
        if v in self._cache:
            self._cache[v] = self._nu[t]
            return True
        if len(self._cache) == self.capacity_:
            ev = max(self._cache, key=lambda u: (self._cache[u], u))
            del self._cache[ev]
        self._cache[v] = self._nu[t]
        return False

    def _cached(self):
        return self._cache.keys()

    def _kernel_call(self, x, lut, n, cap, record, hit, victim, final):
        nu = K.next_use_kernel(x, lut, n)
        return K.belady_kernel(x, lut, n, nu, cap, record, hit, victim, final)


#: the online classic policies, by name (Belady excluded: it is offline)
PAGING_POLICIES = {"LRU": LRU, "FIFO": FIFO, "CLOCK": CLOCK, "LFU": LFU, "RandomEviction": RandomEviction,
                   "Marking": Marking, "ARC": ARC}
