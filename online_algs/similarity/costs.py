r"""The cost model of the local k-NN datastore (AÇAI-style answers that mix local and remote objects).

Every catalog object :math:`o` has a *local copy* (cost :math:`c_d(r, o)`, usable when ``o`` is
cached) and a *remote copy* (cost :math:`c_d(r, o) + c_f`). The answer to a request ``r`` is
the ``k`` cheapest usable copies of **distinct** objects, i.e. the ``k`` objects of smallest

.. math::  e_o(S) = c_d(r, o) + c_f\,[o \notin S],

and its serving cost is :math:`C(r, S) = \sum_{o \in \mathrm{answer}} e_o(S)`. (The remote copy
of a cached object is never used: its local copy is cheaper and returning one object twice is
not an answer.) ``c_d`` is the Euclidean distance by default.

The gain of a (fractional) cache :math:`x \in [0, 1]^N` is :math:`G(r, x) = C(r, 0) - C(r, x)`
with the piecewise-linear concave extension derived in ``docs/theory/acai_gain.md``:

.. math::  G(r, x) = \int_0^\infty \big[\min(k, U_t(x)) - \min(k, U_t(0))\big]\,dt,\qquad
           U_t(x) = \#\{o: c_d(r,o) + c_f \le t\} + \sum_{o:\, c_d(r,o) \le t < c_d(r,o) + c_f} x_o .

It is a non-negative weighted sum of ``min(k, partial sums of x)`` terms; only the objects with
:math:`c_d(r, o) < d_{(k)} + c_f` (:math:`d_{(k)}` the k-th smallest distance) can carry gain.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._validation import VECTOR_HINT, check_float, check_float_array, check_int
from ..exceptions import InvalidInputError

__all__ = ["METRICS", "pairwise_distances", "serving_cost", "answer", "gain", "gain_and_supergradient",
           "candidate_mask", "cost_from_distances"]

#: dissimilarities understood by name (a callable ``f(query (d,), vectors (n, d)) -> (n,)`` also works)
METRICS = ("euclidean", "sqeuclidean", "cityblock", "cosine")


def check_metric(metric: Any, owner: str | None = None):
    """A metric name of :data:`METRICS` or a callable."""
    if callable(metric):
        return metric
    if metric not in METRICS:
        who = f" of {owner}" if owner else ""
        raise InvalidInputError(f"The 'metric' parameter{who} must be one of {list(METRICS)} or a callable "
                                f"f(query, vectors) -> distances. Got {metric!r} instead.")
    return metric


def pairwise_distances(queries: np.ndarray, vectors: np.ndarray, metric="euclidean") -> np.ndarray:
    """Dissimilarities between the rows of ``queries`` (m, d) and ``vectors`` (n, d): shape (m, n).

    Euclidean distances are computed from direct differences in float64 (no Gram-matrix
    cancellation), so equal points are at distance exactly 0. Inputs are trusted (validated by
    the callers). O(m n d) time.
    """
    q = np.atleast_2d(np.asarray(queries, dtype=np.float64))
    v = np.atleast_2d(np.asarray(vectors, dtype=np.float64))
    if callable(metric):
        n = v.shape[0]
        out = np.empty((q.shape[0], n))
        name = getattr(metric, "__name__", type(metric).__name__)
        for i in range(q.shape[0]):
            got = metric(q[i], v)
            try:
                row = np.asarray(got, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InvalidInputError(f"The 'metric' callable ({name}) must return an array of {n} real "
                                        f"dissimilarities, one per vector. Got {type(got).__name__} that is not "
                                        f"numeric: {exc}") from exc
            if row.shape != (n,):
                raise InvalidInputError(f"The 'metric' callable ({name}) must return shape ({n},): one dissimilarity "
                                        f"per row of the {n} vectors it is given (f(query, vectors) -> distances). "
                                        f"Got shape {row.shape}; vectorise it over the rows of 'vectors'.")
            bad = ~np.isfinite(row) | (row < 0)
            if bad.any():
                j = int(np.argmax(bad))
                raise InvalidInputError(f"The 'metric' callable ({name}) must return finite non-negative "
                                        f"dissimilarities. Got {row[j]} for vector {j} (query {i}).")
            out[i] = row
        return out
    if v.shape[0] == 0:
        return np.empty((q.shape[0], 0))
    if metric == "cosine":
        qn = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-300)
        vn = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-300)
        return np.clip(1.0 - qn @ vn.T, 0.0, 2.0)
    out = np.empty((q.shape[0], v.shape[0]))
    # chunk over vectors to bound memory at m * chunk * d
    chunk = max(1, int(2_000_000 // max(1, q.shape[0] * q.shape[1])))
    for s in range(0, v.shape[0], chunk):
        diff = q[:, None, :] - v[None, s:s + chunk, :]
        if metric == "cityblock":
            out[:, s:s + chunk] = np.abs(diff).sum(axis=2)
        else:
            sq = np.einsum("ijk,ijk->ij", diff, diff)
            out[:, s:s + chunk] = sq if metric == "sqeuclidean" else np.sqrt(sq)
    return out


def cost_from_distances(dist: np.ndarray, cached: np.ndarray, k: int, fetch_cost: float) -> float:
    """Serving cost of an integral cache from the distances of (a superset of the relevant)
    catalog objects: the sum of the ``k`` smallest ``dist + fetch_cost * (not cached)``."""
    e = dist + fetch_cost * (~cached)
    if e.shape[0] <= k:
        return float(np.sum(e))
    return float(np.sum(np.partition(e, k - 1)[:k]))


def _check_common(query, catalog, k, fetch_cost, metric, owner):
    cat = check_float_array("catalog", catalog, ndim=2, owner=owner, hint=VECTOR_HINT)
    q = check_float_array("query", query, ndim=1, owner=owner, hint=VECTOR_HINT)
    if q.shape[0] != cat.shape[1]:
        raise InvalidInputError(f"The 'query' argument of {owner} must have the catalog's dimension "
                                f"{cat.shape[1]}. Got a vector of dimension {q.shape[0]}; embed queries and "
                                f"catalog with the same model.")
    k = check_int("k", k, low=1, high=cat.shape[0], owner=owner)
    fetch_cost = check_float("fetch_cost", fetch_cost, low=0.0, owner=owner)
    metric = check_metric(metric, owner)
    return q, cat, k, fetch_cost, metric


def _check_cached(cached_ids, n, capacity_hint, owner):
    ids = np.asarray(list(cached_ids) if isinstance(cached_ids, (set, frozenset)) else cached_ids)
    if ids.size == 0:
        return np.zeros(n, dtype=bool)
    from .._validation import check_int_array

    ids = check_int_array("cached_ids", ids.ravel(), low=0, high=n - 1, owner=owner,
                          hint=f"cached ids are catalog row indices 0..{n - 1}.")
    if len(np.unique(ids)) != len(ids):
        raise InvalidInputError(f"The 'cached_ids' argument of {owner} must not repeat an id. Got "
                                f"{len(ids)} ids of which {len(np.unique(ids))} distinct; pass a set.")
    mask = np.zeros(n, dtype=bool)
    mask[ids] = True
    return mask


def answer(query, cached_ids, catalog, k: int, fetch_cost: float, metric="euclidean"):
    """The k-NN answer of the datastore: ``(ids, from_cache, costs)``, cheapest first.

    ``ids`` are catalog row indices, ``from_cache[j]`` says whether object ``ids[j]`` is served
    from the local cache (cost = its distance) or fetched (cost = distance + ``fetch_cost``).
    Ties are broken by id. O(N d + N log k).
    """
    return _answer(query, cached_ids, catalog, k, fetch_cost, metric, "answer")


def _answer(query, cached_ids, catalog, k, fetch_cost, metric, owner):
    q, cat, k, fetch_cost, metric = _check_common(query, catalog, k, fetch_cost, metric, owner)
    mask = _check_cached(cached_ids, cat.shape[0], None, owner)
    d = pairwise_distances(q[None, :], cat, metric)[0]
    e = d + fetch_cost * (~mask)
    order = np.lexsort((np.arange(len(e)), e))[:k]
    return order.astype(np.int64), mask[order], e[order]


def serving_cost(query, cached_ids, catalog, k: int, fetch_cost: float, metric="euclidean") -> float:
    r"""Serving cost of one k-NN request by a local cache in front of the remote catalog.

    .. math:: C(r, S) = \sum_{o \in A} \big(c_d(r, o) + c_f\,[o \notin S]\big),

    ``A`` the ``k`` objects of smallest ``c_d(r, o) + c_f [o not in S]`` (every object has a
    local copy usable when cached and a remote copy costing ``fetch_cost`` more).

    Parameters
    ----------
    query : array-like of shape (d,)
    cached_ids : iterable of int
        Catalog row indices of the cached objects (``S``).
    catalog : array-like of shape (N, d)
    k : int
        Answer size, ``1 <= k <= N``.
    fetch_cost : float
        ``c_f >= 0``, paid for each answer object taken from the remote catalog.
    metric : str or callable
        Dissimilarity ``c_d``: ``"euclidean"`` (default), ``"sqeuclidean"``, ``"cityblock"``,
        ``"cosine"`` or ``f(query, vectors) -> distances``.

    Returns
    -------
    float

    Complexity O(N d + N log k). Checked against a brute force over all k-subsets (tests and
    Theorem ``similarity.gain.exact``).

    Examples
    --------
    >>> import numpy as np
    >>> cat = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0]])
    >>> serving_cost([0.9, 0.0], {0}, cat, k=2, fetch_cost=1.0)   # local 0 (0.9) + remote 1 (0.1 + 1)
    2.0
    """
    ids, _, costs = _answer(query, cached_ids, catalog, k, fetch_cost, metric, "serving_cost")
    return float(np.sum(costs))


def candidate_mask(dist: np.ndarray, k: int, fetch_cost: float) -> np.ndarray:
    """Objects that can carry gain: ``dist < d_(k) + fetch_cost`` (``d_(k)`` the k-th smallest)."""
    if dist.shape[0] <= k:
        return np.ones(dist.shape[0], dtype=bool)
    dk = np.partition(dist, k - 1)[k - 1]
    return dist < dk + fetch_cost


def _sweep(dist: np.ndarray, x: np.ndarray, k: int, fetch_cost: float):
    """Shared sweep: sorted event values, U_t(x) and U_t(0) on each interval, positions."""
    n = dist.shape[0]
    vals = np.concatenate([dist, dist + fetch_cost])
    inc = np.concatenate([x, 1.0 - x])
    inc0 = np.concatenate([np.zeros(n), np.ones(n)])
    # local copies before remote copies at equal value (matters only when fetch_cost == 0)
    order = np.lexsort((np.arange(2 * n), vals))
    v = vals[order]
    U = np.cumsum(inc[order])[:-1]
    U0 = np.cumsum(inc0[order])[:-1]
    widths = np.diff(v)
    pos = np.empty(2 * n, dtype=np.int64)
    pos[order] = np.arange(2 * n)
    return widths, U, U0, pos


def gain(dist, x, k: int, fetch_cost: float) -> float:
    r"""The gain :math:`G(r, x) = C(r, 0) - C(r, x)` of a fractional cache ``x`` (concave extension).

    ``dist`` are the distances of the request to the catalog objects (or to a candidate superset
    of the objects with ``dist < d_(k) + fetch_cost``; at least ``k`` of them), ``x`` the cached
    fractions of those objects. O(N log N). Equals the serving-cost difference for 0/1 ``x``
    (Theorem ``similarity.gain.exact``).
    """
    dist = np.asarray(dist, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    widths, U, U0, _ = _sweep(dist, x, k, fetch_cost)
    return float(np.sum(widths * (np.minimum(k, U) - np.minimum(k, U0))))


def gain_and_supergradient(dist, x, k: int, fetch_cost: float, tol: float = 1e-12):
    r"""``(G(r, x), g)`` with ``g`` a supergradient of the concave gain at ``x``.

    ``g_o = \int 1[c_d(r,o) \le t < c_d(r,o) + c_f]\,1[U_t(x) < k]\,dt`` (the length of the part of
    ``o``'s window where the answer still takes more copies), so ``0 <= g_o <= c_f`` and
    ``G(r, y) <= G(r, x) + g . (y - x)`` for every ``y`` in ``[0, 1]^N``.
    """
    dist = np.asarray(dist, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    n = dist.shape[0]
    widths, U, U0, pos = _sweep(dist, x, k, fetch_cost)
    G = float(np.sum(widths * (np.minimum(k, U) - np.minimum(k, U0))))
    active = widths * (U < k - tol)
    W = np.concatenate([[0.0], np.cumsum(active)])
    g = W[pos[n:]] - W[pos[:n]]
    return G, np.maximum(g, 0.0)
