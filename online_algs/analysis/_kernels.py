"""Numba kernels of the analysis package (no validation inside)."""

from __future__ import annotations

import numpy as np

from .._config import njit


@njit
def reuse_distances(trace: np.ndarray, n_items: int) -> np.ndarray:
    """LRU stack (reuse) distance of every request: the number of distinct items requested since
    the previous request of the same item; -1 for a first request. Fenwick tree over time,
    O(T log T)."""
    T = trace.shape[0]
    tree = np.zeros(T + 1, dtype=np.int64)
    last = np.full(n_items, -1, dtype=np.int64)
    out = np.empty(T, dtype=np.int64)
    for t in range(T):
        x = trace[t]
        p = last[x]
        if p < 0:
            out[t] = -1
        else:
            # count of "live" positions in (p, t): each item's latest request is marked 1
            s = 0
            i = t  # prefix sum over positions [0, t-1] -> index t
            while i > 0:
                s += tree[i]
                i -= i & (-i)
            s2 = 0
            i = p + 1  # prefix [0, p]
            while i > 0:
                s2 += tree[i]
                i -= i & (-i)
            out[t] = s - s2
            # unmark p
            i = p + 1
            while i <= T:
                tree[i] -= 1
                i += i & (-i)
        i = t + 1
        while i <= T:
            tree[i] += 1
            i += i & (-i)
        last[x] = t
    return out
