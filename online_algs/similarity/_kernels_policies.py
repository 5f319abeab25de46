"""Numba kernel of the similarity policies' per-request view (candidates, exact distances, answer).

Private: no validation. Its slow twin is the numpy path ``_SimilarityPolicy._view`` +
``_SimilarityPolicy._answer`` (``tests/test_similarity_policies.py`` compares them).
"""

from __future__ import annotations

import numpy as np

from .._config import njit


@njit
def view_answer(q, E, L, extra, catalog, mask, cf):
    """The request's candidates and its answer order, Euclidean dissimilarity.

    ``cand``: the sorted distinct ids >= 0 of ``E`` (remote answer), ``L`` (local answer) and
    ``extra``; ``dist[i] = ||catalog[cand[i]] - q||_2``; ``cached = mask[cand]``; ``full``: the
    indices of ``cand`` by increasing copy cost ``e = dist + cf (not cached)``, ties by id (a stable
    sort of the id-sorted candidates, the order of ``np.lexsort((cand, e))``). O(m log m + m d)
    for m candidates in d dimensions.
    """
    m = E.shape[0] + L.shape[0] + extra.shape[0]
    buf = np.empty(m, dtype=np.int64)
    c = 0
    for i in range(E.shape[0]):
        if E[i] >= 0:
            buf[c] = E[i]
            c += 1
    for i in range(L.shape[0]):
        if L[i] >= 0:
            buf[c] = L[i]
            c += 1
    for i in range(extra.shape[0]):
        if extra[i] >= 0:
            buf[c] = extra[i]
            c += 1
    srt = np.sort(buf[:c])
    cand = np.empty(c, dtype=np.int64)
    nc = 0
    for i in range(c):
        if nc == 0 or srt[i] != cand[nc - 1]:
            cand[nc] = srt[i]
            nc += 1
    cand = cand[:nc]
    d = q.shape[0]
    dist = np.empty(nc)
    cached = np.empty(nc, dtype=np.bool_)
    e = np.empty(nc)
    for i in range(nc):
        row = catalog[cand[i]]
        # four interleaved partial sums (independent chains; fastmath stays off)
        s0 = s1 = s2 = s3 = 0.0
        j = 0
        while j + 4 <= d:
            t0 = row[j] - q[j]
            t1 = row[j + 1] - q[j + 1]
            t2 = row[j + 2] - q[j + 2]
            t3 = row[j + 3] - q[j + 3]
            s0 += t0 * t0
            s1 += t1 * t1
            s2 += t2 * t2
            s3 += t3 * t3
            j += 4
        while j < d:
            t0 = row[j] - q[j]
            s0 += t0 * t0
            j += 1
        dist[i] = np.sqrt((s0 + s1) + (s2 + s3))
        cached[i] = mask[cand[i]]
        e[i] = dist[i] + (0.0 if cached[i] else cf)
    full = np.argsort(e, kind="mergesort")
    return cand, dist, cached, full
