"""Belady's offline optimum for unit-size, unit-cost paging, and the next-use table.

:func:`belady_misses` is the optimum number of misses (fetches) of a demand-paging cache of
``capacity`` pages on a trace (Belady 1966; optimality: Mattson et al. 1970): on a miss with
a full cache, evict the cached page whose next request is furthest in the future. It is
optimal for unit sizes and unit costs only (Theorem ``caching.belady.optimal``); weighted
paging needs min-cost flow or an LP.

Also the helpers the classic policies share: trace validation and the mapping of
arbitrary non-negative ids to dense ``0..N-1``.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_int_array
from ._kernels_classic import belady_kernel, lut_kernel, next_use_kernel

__all__ = ["belady_misses", "next_use"]


def _check_trace(trace, owner: str, n_items: int | None = None) -> np.ndarray:
    """A 1-d int64 array of ids >= 0 (and <= n_items - 1 when ``n_items`` is given)."""
    high = None if n_items is None else n_items - 1
    return check_int_array("trace", trace, low=0, high=high, owner=owner, allow_empty=True)


def _id_map(seq: np.ndarray, n_items: int | None = None):
    """How kernels turn ids into dense ids ``0..N-1`` (order preserving).

    Returns ``(x, lut, ids, N)``: kernels read the dense id of step t as ``lut[x[t]]`` when
    ``lut`` is non-empty, else ``x[t]``; ``ids[j]`` is the original id of dense id ``j`` (None
    when ``n_items`` is given: ids are used as they are and ``N = n_items``). When the largest
    id is at most ``max(4T, 2^20)`` a lookup table of that size is built in O(T + max id) and the
    trace is not copied; otherwise ``np.unique`` gives an O(T) inverse array (O(T log T) time).
    """
    empty = np.zeros(0, dtype=np.int64)
    if n_items is not None:
        return seq, empty, None, int(n_items)
    T = seq.shape[0]
    if T == 0:
        return seq, empty, empty, 0
    mx = int(seq.max())
    if mx < max(4 * T, 1 << 20):
        lut, ids = lut_kernel(seq, mx + 1)
        return seq, lut, ids, int(ids.shape[0])
    ids, inv = np.unique(seq, return_inverse=True)
    return np.ascontiguousarray(inv, dtype=np.int64).reshape(-1), empty, ids.astype(np.int64), int(ids.shape[0])


def next_use(trace) -> np.ndarray:
    """``nu[t]`` = the next position ``s > t`` with ``trace[s] == trace[t]``, or ``len(trace)``.

    O(T + N) time, O(N) extra memory besides the output (N distinct ids).
    """
    seq = _check_trace(trace, "next_use")
    x, lut, _, n = _id_map(seq)
    return next_use_kernel(x, lut, n)


def belady_misses(trace, capacity) -> int:
    """Optimal miss count (Belady/MIN) of a ``capacity``-page cache on ``trace``, cold start.

    Demand paging with unit sizes and costs: every request is brought into the cache; on a
    miss with a full cache the page requested furthest in the future is evicted. Equal to
    the offline optimum (Theorem ``caching.belady.optimal``).

    Complexity: O(T log C) time (indexed heap of C pages), O(T + N) memory for the next-use
    table (N distinct ids).

    Parameters
    ----------
    trace : 1-d array of non-negative int ids
    capacity : int >= 1

    Returns
    -------
    int
    """
    capacity = check_int("capacity", capacity, low=1, owner="belady_misses")
    seq = _check_trace(trace, "belady_misses")
    x, lut, _, n = _id_map(seq)
    if x.shape[0] == 0:
        return 0
    nu = next_use_kernel(x, lut, n)
    empty_u8 = np.zeros(0, dtype=np.uint8)
    empty_i = np.zeros(0, dtype=np.int64)
    cap = min(capacity, n)  # a cache never holds more than the n distinct pages
    final = np.full(cap, -1, dtype=np.int64)
    return int(belady_kernel(x, lut, n, nu, cap, False, empty_u8, empty_i, final))
