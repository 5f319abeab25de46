"""Numba kernels of the classic paging policies and of Belady.

Every kernel takes a trace ``x`` and an id map ``lut``: the dense id of ``x[t]`` is
``lut[x[t]]`` when ``lut`` is non-empty, else ``x[t]`` itself (the public classes build the map
from arbitrary non-negative ids, see :func:`lut_kernel`); dense ids lie in ``0..n-1`` for the
number of distinct ids ``n``. Policy kernels also take the capacity ``cap`` and a ``record``
flag. When ``record`` is true it writes ``hit[t]`` (1 on a hit, 0 on a
miss) and ``victim[t]`` (the dense id evicted at step t, or -1) so that the caller can
rebuild the per-step series and the visited states; otherwise ``hit``/``victim`` may be
empty arrays and nothing of size O(T) is touched. At the end the kernel writes the dense ids
of the cached pages into ``final`` (length ``cap``, pre-filled with -1 by the caller). The
return value is the miss count.

Kernels never validate. Their slow, obviously correct twins are the ``serve`` methods of
the classes in :mod:`online_algs.caching.classic` (``run(..., fast=False)``) and, for
:func:`belady_kernel` / :func:`next_use_kernel`, the functions of ``tests/naive_caching.py``.
State is O(n) (arrays indexed by dense id) plus O(cap).
"""

from __future__ import annotations

import numpy as np

from .._config import njit

# ------------------------------------------------------------ doubly linked lists
# lists in two arrays ``nxt``/``prv`` indexed by dense id, each with a sentinel ``head``
# (head.next = the front / MRU end, head.prev = the back / LRU end); shared by LRU and ARC


@njit
def _dl_unlink(nxt, prv, v):
    p = prv[v]
    q = nxt[v]
    nxt[p] = q
    prv[q] = p


@njit
def _dl_push_front(nxt, prv, head, v):
    f = nxt[head]
    nxt[v] = f
    prv[v] = head
    prv[f] = v
    nxt[head] = v


# --------------------------------------------------------------------------- LRU


@njit
def lru_kernel(x, lut, n, cap, record, hit, victim, final):
    """LRU with a doubly linked list in arrays; sentinel ``n`` (head.next = MRU, head.prev = LRU)."""
    T = x.shape[0]
    uselut = lut.shape[0] > 0
    nxt = np.empty(n + 1, dtype=np.int64)
    prv = np.empty(n + 1, dtype=np.int64)
    inc = np.zeros(n, dtype=np.bool_)
    head = n
    nxt[head] = head
    prv[head] = head
    count = 0
    misses = 0
    for t in range(T):
        v = x[t]
        if uselut:
            v = lut[v]
        if inc[v]:  # move to the front
            _dl_unlink(nxt, prv, v)
            _dl_push_front(nxt, prv, head, v)
            if record:
                hit[t] = 1
                victim[t] = -1
            continue
        misses += 1
        ev = -1
        if count == cap:
            ev = prv[head]
            _dl_unlink(nxt, prv, ev)
            inc[ev] = False
        else:
            count += 1
        _dl_push_front(nxt, prv, head, v)
        inc[v] = True
        if record:
            hit[t] = 0
            victim[t] = ev
    j = 0
    v = nxt[head]
    while v != head:
        final[j] = v
        j += 1
        v = nxt[v]
    return misses


# -------------------------------------------------------------------------- FIFO


@njit
def fifo_kernel(x, lut, n, cap, record, hit, victim, final):
    """FIFO with a ring buffer of ``cap`` slots; ``pos`` is the oldest slot once full."""
    T = x.shape[0]
    uselut = lut.shape[0] > 0
    ring = np.empty(cap, dtype=np.int64)
    inc = np.zeros(n, dtype=np.bool_)
    count = 0
    pos = 0
    misses = 0
    for t in range(T):
        v = x[t]
        if uselut:
            v = lut[v]
        if inc[v]:
            if record:
                hit[t] = 1
                victim[t] = -1
            continue
        misses += 1
        ev = -1
        if count < cap:
            ring[count] = v
            count += 1
        else:
            ev = ring[pos]
            inc[ev] = False
            ring[pos] = v
            pos += 1
            if pos == cap:
                pos = 0
        inc[v] = True
        if record:
            hit[t] = 0
            victim[t] = ev
    for j in range(count):
        final[j] = ring[j]
    return misses


# ------------------------------------------------------------------------- CLOCK


@njit
def clock_kernel(x, lut, n, cap, record, hit, victim, final):
    """CLOCK (second chance): ring of ``cap`` slots with a reference bit each.

    A hit sets the page's bit. On a miss with a full cache the hand clears set bits and
    advances until it finds a clear bit; that page is evicted, the new page takes its slot
    with a clear bit, and the hand moves past it. While filling, pages take slots 0, 1, ...
    """
    T = x.shape[0]
    uselut = lut.shape[0] > 0
    ring = np.empty(cap, dtype=np.int64)
    ref = np.zeros(cap, dtype=np.bool_)
    slot = np.full(n, -1, dtype=np.int64)
    count = 0
    hand = 0
    misses = 0
    for t in range(T):
        v = x[t]
        if uselut:
            v = lut[v]
        s = slot[v]
        if s >= 0:
            ref[s] = True
            if record:
                hit[t] = 1
                victim[t] = -1
            continue
        misses += 1
        ev = -1
        if count < cap:
            ring[count] = v
            ref[count] = False
            slot[v] = count
            count += 1
        else:
            while ref[hand]:
                ref[hand] = False
                hand += 1
                if hand == cap:
                    hand = 0
            ev = ring[hand]
            slot[ev] = -1
            ring[hand] = v
            ref[hand] = False
            slot[v] = hand
            hand += 1
            if hand == cap:
                hand = 0
        if record:
            hit[t] = 0
            victim[t] = ev
    for j in range(count):
        final[j] = ring[j]
    return misses


# ------------------------------------------------------------- indexed max-heap
# ``heap[0:size]`` holds dense ids, ``pos[v]`` is v's slot (-1 when absent), ``key[v]`` its key;
# shared by LFU (key -(freq T + last)) and Belady (key next_use n + id)


@njit
def _max_sift_down(heap, pos, key, i, size):
    while True:
        l = 2 * i + 1
        if l >= size:
            break
        m = l
        r = l + 1
        if r < size and key[heap[r]] > key[heap[l]]:
            m = r
        a = heap[i]
        b = heap[m]
        if key[b] > key[a]:
            heap[i] = b
            heap[m] = a
            pos[b] = i
            pos[a] = m
            i = m
        else:
            break


@njit
def _max_sift_up(heap, pos, key, i):
    while i > 0:
        q = (i - 1) // 2
        a = heap[i]
        b = heap[q]
        if key[a] > key[b]:
            heap[i] = b
            heap[q] = a
            pos[b] = i
            pos[a] = q
            i = q
        else:
            break


@njit
def _heap_admit(heap, pos, key, v, size, cap):
    """Insert ``v`` (its key already set); a full heap (``size == cap``) gives up its root for it.
    Returns ``(size, evicted id or -1)``."""
    if size < cap:
        heap[size] = v
        pos[v] = size
        _max_sift_up(heap, pos, key, size)
        return size + 1, -1
    ev = heap[0]
    pos[ev] = -1
    heap[0] = v
    pos[v] = 0
    _max_sift_down(heap, pos, key, 0, size)
    return size, ev


# --------------------------------------------------------------------------- LFU


@njit
def lfu_kernel(x, lut, n, cap, record, hit, victim, final):
    """LFU with an indexed binary heap keyed by (in-cache frequency, last access time).

    Frequencies count requests since the page entered the cache (reset on eviction);
    ties go to the least recently used page. The heap is the indexed max-heap (shared with Belady) on the
    key ``-(freq * T + last)`` (``last < T``: the lexicographic order, all keys distinct).
    O(log cap) per request.
    """
    T = x.shape[0]
    uselut = lut.shape[0] > 0
    heap = np.empty(cap, dtype=np.int64)
    pos = np.full(n, -1, dtype=np.int64)
    freq = np.zeros(n, dtype=np.int64)
    key = np.zeros(n, dtype=np.int64)
    size = 0
    misses = 0
    for t in range(T):
        v = x[t]
        if uselut:
            v = lut[v]
        i = pos[v]
        if i >= 0:
            freq[v] += 1
            key[v] = -(freq[v] * T + t)  # the key falls: sift towards the leaves
            _max_sift_down(heap, pos, key, i, size)
            if record:
                hit[t] = 1
                victim[t] = -1
            continue
        misses += 1
        freq[v] = 1
        key[v] = -(T + t)
        size, ev = _heap_admit(heap, pos, key, v, size, cap)
        if record:
            hit[t] = 0
            victim[t] = ev
    for j in range(size):
        final[j] = heap[j]
    return misses


# ---------------------------------------------------------------- random eviction


@njit
def random_kernel(x, lut, n, cap, record, hit, victim, final, seed):
    """Evict the page in slot ``floor(u * cap)``, u uniform in [0, 1) (numba's MT19937)."""
    np.random.seed(seed)
    T = x.shape[0]
    uselut = lut.shape[0] > 0
    slots = np.empty(cap, dtype=np.int64)
    where = np.full(n, -1, dtype=np.int64)
    count = 0
    misses = 0
    for t in range(T):
        v = x[t]
        if uselut:
            v = lut[v]
        if where[v] >= 0:
            if record:
                hit[t] = 1
                victim[t] = -1
            continue
        misses += 1
        ev = -1
        if count < cap:
            slots[count] = v
            where[v] = count
            count += 1
        else:
            r = int(np.random.random() * cap)
            if r >= cap:
                r = cap - 1
            ev = slots[r]
            where[ev] = -1
            slots[r] = v
            where[v] = r
        if record:
            hit[t] = 0
            victim[t] = ev
    for j in range(count):
        final[j] = slots[j]
    return misses


# ----------------------------------------------------------------------- Marking


@njit
def marking_kernel(x, lut, n, cap, record, hit, victim, final, seed):
    """Randomized marking. Slots ``[0, u)`` hold the unmarked cached pages, ``[u, count)``
    the marked ones. Marking a page swaps it to slot ``u - 1`` and decrements ``u``; a new
    phase (miss with every cached page marked) sets ``u = cap``. Eviction picks the unmarked
    slot ``floor(r * u)``, r uniform in [0, 1). O(1) per request.
    """
    np.random.seed(seed)
    T = x.shape[0]
    uselut = lut.shape[0] > 0
    slots = np.empty(cap, dtype=np.int64)
    where = np.full(n, -1, dtype=np.int64)
    count = 0
    u = 0
    misses = 0
    for t in range(T):
        v = x[t]
        if uselut:
            v = lut[v]
        s = where[v]
        if s >= 0:
            if s < u:  # unmarked: mark it
                w = slots[u - 1]
                slots[u - 1] = v
                slots[s] = w
                where[w] = s
                where[v] = u - 1
                u -= 1
            if record:
                hit[t] = 1
                victim[t] = -1
            continue
        misses += 1
        ev = -1
        if count < cap:
            slots[count] = v
            where[v] = count
            count += 1
        else:
            if u == 0:
                u = cap  # new phase: unmark all
            r = int(np.random.random() * u)
            if r >= u:
                r = u - 1
            ev = slots[r]
            # the new page is marked: put it at slot u-1 and shrink the unmarked region
            w = slots[u - 1]
            slots[r] = w
            where[w] = r
            slots[u - 1] = v
            where[v] = u - 1
            where[ev] = -1  # last: w == ev when r == u - 1
            u -= 1
        if record:
            hit[t] = 0
            victim[t] = ev
    for j in range(count):
        final[j] = slots[j]
    return misses


# --------------------------------------------------------------------------- ARC

# list ids: 0 = T1, 1 = T2, 2 = B1, 3 = B2, -1 = none; sentinels at n + list id


@njit
def _arc_replace(nxt, prv, where, size, n, in_b2, p):
    """REPLACE of Megiddo & Modha: demote the LRU page of T1 or T2 to its ghost list."""
    if size[0] >= 1 and ((in_b2 and size[0] == p) or size[0] > p):
        src = 0
        dst = 2
    else:
        src = 1
        dst = 3
    ev = prv[n + src]
    _dl_unlink(nxt, prv, ev)
    size[src] -= 1
    _dl_push_front(nxt, prv, n + dst, ev)
    size[dst] += 1
    where[ev] = dst
    return ev


@njit
def arc_kernel(x, lut, n, cap, record, hit, victim, final):
    """ARC (Megiddo & Modha, FAST 2003, Fig. 4) with four linked lists in shared arrays.

    ``p`` (the target size of T1) is a float updated by ``max(|B2|/|B1|, 1)`` on a B1 ghost
    hit and ``max(|B1|/|B2|, 1)`` on a B2 ghost hit, as in the paper. O(1) per request.
    """
    T = x.shape[0]
    uselut = lut.shape[0] > 0
    nxt = np.empty(n + 4, dtype=np.int64)
    prv = np.empty(n + 4, dtype=np.int64)
    for h in range(4):
        nxt[n + h] = n + h
        prv[n + h] = n + h
    where = np.full(n, -1, dtype=np.int64)
    size = np.zeros(4, dtype=np.int64)
    p = 0.0
    c = cap
    misses = 0
    for t in range(T):
        v = x[t]
        if uselut:
            v = lut[v]
        w = where[v]
        if w == 0 or w == 1:  # case I: cache hit, move to MRU of T2
            _dl_unlink(nxt, prv, v)
            size[w] -= 1
            _dl_push_front(nxt, prv, n + 1, v)
            size[1] += 1
            where[v] = 1
            if record:
                hit[t] = 1
                victim[t] = -1
            continue
        misses += 1
        ev = -1
        if w == 2:  # case II: ghost hit in B1
            d = 1.0
            if size[3] > size[2]:
                d = size[3] / size[2]
            p = min(float(c), p + d)
            ev = _arc_replace(nxt, prv, where, size, n, False, p)
            _dl_unlink(nxt, prv, v)
            size[2] -= 1
            _dl_push_front(nxt, prv, n + 1, v)
            size[1] += 1
            where[v] = 1
        elif w == 3:  # case III: ghost hit in B2
            d = 1.0
            if size[2] > size[3]:
                d = size[2] / size[3]
            p = max(0.0, p - d)
            ev = _arc_replace(nxt, prv, where, size, n, True, p)
            _dl_unlink(nxt, prv, v)
            size[3] -= 1
            _dl_push_front(nxt, prv, n + 1, v)
            size[1] += 1
            where[v] = 1
        else:  # case IV: a complete miss
            l1 = size[0] + size[2]
            tot = size[0] + size[1] + size[2] + size[3]
            if l1 == c:
                if size[0] < c:
                    g = prv[n + 2]
                    _dl_unlink(nxt, prv, g)
                    size[2] -= 1
                    where[g] = -1
                    ev = _arc_replace(nxt, prv, where, size, n, False, p)
                else:
                    ev = prv[n + 0]
                    _dl_unlink(nxt, prv, ev)
                    size[0] -= 1
                    where[ev] = -1
            elif tot >= c:
                if tot == 2 * c:
                    g = prv[n + 3]
                    _dl_unlink(nxt, prv, g)
                    size[3] -= 1
                    where[g] = -1
                ev = _arc_replace(nxt, prv, where, size, n, False, p)
            _dl_push_front(nxt, prv, n + 0, v)
            size[0] += 1
            where[v] = 0
        if record:
            hit[t] = 0
            victim[t] = ev
    j = 0
    for h in range(2):
        v = nxt[n + h]
        while v != n + h:
            final[j] = v
            j += 1
            v = nxt[v]
    return misses


# ------------------------------------------------------------------------ Belady


@njit
def next_use_kernel(x, lut, n):
    """``nu[t]`` = smallest s > t with ``x[s] == x[t]``, or ``T`` when there is none. O(T + n)."""
    T = x.shape[0]
    uselut = lut.shape[0] > 0
    nu = np.empty(T, dtype=np.int64)
    seen = np.full(n, T, dtype=np.int64)
    for t in range(T - 1, -1, -1):
        v = x[t]
        if uselut:
            v = lut[v]
        nu[t] = seen[v]
        seen[v] = t
    return nu


@njit
def belady_kernel(x, lut, n, nu, cap, record, hit, victim, final):
    """Belady/MIN with demand fetching: on a miss with a full cache evict the cached page
    whose next request is furthest (key ``next_use * n + id``: ties among pages never
    requested again go to the largest id). Indexed max-heap of ``cap`` entries:
    O(log cap) per request, O(n + cap) state besides the next-use table ``nu``.
    """
    T = x.shape[0]
    uselut = lut.shape[0] > 0
    heap = np.empty(cap, dtype=np.int64)
    pos = np.full(n, -1, dtype=np.int64)
    key = np.zeros(n, dtype=np.int64)
    size = 0
    misses = 0
    for t in range(T):
        v = x[t]
        if uselut:
            v = lut[v]
        k = nu[t] * n + v
        i = pos[v]
        if i >= 0:
            key[v] = k  # next use moves later: the key grows
            _max_sift_up(heap, pos, key, i)
            if record:
                hit[t] = 1
                victim[t] = -1
            continue
        misses += 1
        key[v] = k
        size, ev = _heap_admit(heap, pos, key, v, size, cap)
        if record:
            hit[t] = 0
            victim[t] = ev
    for j in range(size):
        final[j] = heap[j]
    return misses


# ------------------------------------------------------------------------- remapping


@njit
def lut_kernel(seq, size):
    """Order-preserving id map for ids in ``0..size-1``: returns ``(lut, ids)`` with ``ids`` the
    sorted distinct ids of ``seq`` and ``ids[lut[v]] == v`` for every id v in ``seq``
    (``lut[v] = -1`` for absent ids). O(T + size) time, O(size) memory: the trace itself is not
    copied (kernels read ``lut[x[t]]``). Twin: ``np.unique(seq, return_inverse=True)``."""
    T = seq.shape[0]
    lut = np.full(size, -1, dtype=np.int64)
    for t in range(T):
        lut[seq[t]] = 0
    n = 0
    for i in range(size):
        if lut[i] == 0:
            lut[i] = n
            n += 1
    ids = np.empty(n, dtype=np.int64)
    for i in range(size):
        if lut[i] >= 0:
            ids[lut[i]] = i
    return lut, ids
