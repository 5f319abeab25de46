"""Offline instance-reduction baselines (Wilson & Martinez, Machine Learning 2000): what an
oracle that sees the whole stream would store. CNN, ENN, DROP3; kNN votes are majorities with
ties to the smallest label."""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

from .._validation import LABEL_HINT, VECTOR_HINT, check_float_array, check_int, check_int_array, check_seed
from ..exceptions import InvalidInputError

__all__ = ["cnn", "enn", "drop3", "trim"]


def _check(F, y, owner):
    F = check_float_array("F", F, ndim=2, owner=owner, hint=VECTOR_HINT)
    y = check_int_array("y", y, low=0, owner=owner, hint=LABEL_HINT)
    if len(F) != len(y):
        raise InvalidInputError(f"{owner}: F has {len(F)} rows but y has {len(y)} labels.")
    return F, y


def _vote(labels: np.ndarray) -> int:
    return int(np.bincount(labels).argmax())


def cnn(F, y, seed: int = 0) -> np.ndarray:
    """Hart's condensed nearest neighbour: start from one random example; sweep the data in a
    random order adding every example the current subset's 1-NN misclassifies, until a sweep
    adds nothing. Returns the indices kept (consistent: the subset classifies every example
    right by 1-NN). O(n^2) per sweep."""
    F, y = _check(F, y, "cnn")
    rng = np.random.default_rng(check_seed(seed, owner="cnn"))
    order = rng.permutation(len(y))
    keep = [int(order[0])]
    changed = True
    while changed:
        changed = False
        for i in order:
            d = ((F[keep] - F[i]) ** 2).sum(axis=1)
            if y[keep[int(np.argmin(d))]] != y[i]:
                keep.append(int(i))
                changed = True
    return np.array(sorted(set(keep)), dtype=np.int64)


def enn(F, y, k: int = 3) -> np.ndarray:
    """Wilson's edited nearest neighbour: drop every example that the majority of its k nearest
    other examples misclassify. Returns the indices kept."""
    F, y = _check(F, y, "enn")
    k = check_int("k", k, low=1, high=max(1, len(y) - 1), owner="enn")
    D = cdist(F, F)
    np.fill_diagonal(D, np.inf)
    nb = np.argsort(D, axis=1)[:, :k]
    keep = [i for i in range(len(y)) if _vote(y[nb[i]]) == y[i]]
    return np.array(keep, dtype=np.int64)


def drop3(F, y, k: int = 3) -> np.ndarray:
    """DROP3: an ENN noise filter, then examples in decreasing distance to their nearest enemy are
    removed when at least as many of their associates (examples, of the whole data set, that have
    them among their k+1 nearest neighbours in the current subset) are classified correctly
    without them as with them. Returns the indices kept. O(n^2 log n) time, O(n^2) memory."""
    F, y = _check(F, y, "drop3")
    n = len(y)
    k = check_int("k", k, low=1, high=max(1, n - 2), owner="drop3")
    D = cdist(F, F)
    np.fill_diagonal(D, np.inf)
    order_all = np.argsort(D, axis=1)  # neighbours of each example, nearest first (self last)
    in_s = np.zeros(n, dtype=bool)
    in_s[enn(F, y, k)] = True
    # neighbour lists: the k+1 nearest members of S (excluding self), for every example of the data
    ptr = np.zeros(n, dtype=np.int64)  # scan position in order_all[i]
    nbrs: list[list[int]] = []
    for i in range(n):
        lst = []
        j = 0
        while len(lst) < k + 1 and j < n - 1:
            c = int(order_all[i, j])
            j += 1
            if in_s[c]:
                lst.append(c)
        ptr[i] = j
        nbrs.append(lst)
    assoc: list[set] = [set() for _ in range(n)]
    for i in range(n):
        for c in nbrs[i]:
            assoc[c].add(i)
    enemy = np.array([D[i, y != y[i]].min() if (y != y[i]).any() else np.inf for i in range(n)])
    cand = [int(i) for i in np.flatnonzero(in_s)]
    cand.sort(key=lambda i: -enemy[i])
    for p in cand:
        with_p = without_p = 0
        for a in assoc[p]:
            lst = nbrs[a]
            if _vote(y[lst[:k]]) == y[a]:
                with_p += 1
            rest = [c for c in lst if c != p][:k]
            if rest and _vote(y[rest]) == y[a]:
                without_p += 1
        if without_p >= with_p:
            in_s[p] = False
            for a in list(assoc[p]):
                lst = nbrs[a]
                lst.remove(p)
                j = ptr[a]
                while len(lst) < k + 1 and j < n - 1:
                    c = int(order_all[a, j])
                    j += 1
                    if in_s[c] and c not in lst:
                        lst.append(c)
                        assoc[c].add(a)
                ptr[a] = j
            assoc[p] = set()
    return np.flatnonzero(in_s).astype(np.int64)


def trim(indices: np.ndarray, capacity: int, seed: int = 0) -> np.ndarray:
    """At most ``capacity`` of ``indices``: a uniformly random subset when there are more."""
    capacity = check_int("capacity", capacity, low=1, owner="trim")
    if len(indices) <= capacity:
        return np.asarray(indices)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(indices, capacity, replace=False))
