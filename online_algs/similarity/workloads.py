"""Workloads for the k-NN datastore: seeded functions returning ``(catalog, queries, meta)``.

* :func:`mnist_workload` -- MNIST test images (bundled, :func:`online_algs.datasets.load_mnist`)
  as the catalog, requests for items drawn by a Zipf (or drifting Zipf) popularity, each query a
  noisy copy of the requested image; optional PCA to ``dim`` dimensions.
* :func:`movielens_workload` -- MovieLens ratings replayed in time order; each rating of item
  ``i`` is a query at ``i``'s embedding (rows of a truncated SVD of the user-item matrix).
* :func:`gaussian_mixture_workload` -- synthetic clusters with Zipf cluster popularity.

``meta`` holds ``items`` (the requested catalog ids, -1 when none), ``nn_distance`` (median
distance from a catalog vector to its nearest other one: a natural scale for ``fetch_cost``)
and the parameters.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_float, check_int
from ..exceptions import InvalidInputError

__all__ = ["mnist_workload", "movielens_workload", "gaussian_mixture_workload", "zipf_popularity",
           "nn_distance_scale"]


def zipf_popularity(n: int, alpha: float) -> np.ndarray:
    """Zipf probabilities ``p_i ~ (i + 1)^-alpha`` over ``n`` ranks."""
    p = (np.arange(1, n + 1, dtype=float)) ** (-alpha)
    return p / p.sum()


def nn_distance_scale(catalog: np.ndarray, sample: int = 200, seed: int = 0) -> float:
    """Median Euclidean distance from (a sample of) catalog vectors to their nearest other vector."""
    rng = np.random.default_rng(seed)
    n = len(catalog)
    idx = rng.choice(n, size=min(sample, n), replace=False)
    from .costs import pairwise_distances

    D = pairwise_distances(catalog[idx], catalog)
    D[np.arange(len(idx)), idx] = np.inf
    return float(np.median(D.min(axis=1)))



def _requests(rng, n, T, alpha, popularity, period):
    p = zipf_popularity(n, alpha)
    perm = rng.permutation(n)
    if popularity == "zipf":
        return perm[rng.choice(n, size=T, p=p)]
    # drift: the popularity ranking is re-drawn every `period` requests
    out = np.empty(T, dtype=np.int64)
    for s in range(0, T, period):
        perm = rng.permutation(n)
        out[s:s + period] = perm[rng.choice(n, size=min(period, T - s), p=p)]
    return out


def mnist_workload(n_catalog: int = 1000, T: int = 2000, popularity: str = "zipf", alpha: float = 0.8,
                   noise: float = 0.1, dim: int | None = None, period: int = 500, seed: int = 0):
    """MNIST catalog (pixel values / 255), Zipf or drifting popularity, Gaussian-noise queries.

    Parameters
    ----------
    n_catalog : int
        Images in the catalog (a seeded subset of the 10,000 test images).
    T : int
        Requests.
    popularity : {"zipf", "drift"}
        ``"drift"`` re-draws the popularity ranking every ``period`` requests.
    alpha : float
        Zipf exponent.
    noise : float
        Standard deviation of the per-pixel Gaussian noise of a query (pixel scale 0..1).
    dim : int or None
        Project on the first ``dim`` principal components (of the catalog) if given.
    seed : int
    """
    from ..datasets import load_mnist

    owner = "mnist_workload"
    n_catalog = check_int("n_catalog", n_catalog, low=2, high=10_000, owner=owner)
    T = check_int("T", T, low=1, owner=owner)
    check_choice("popularity", popularity, ("zipf", "drift"), owner=owner)
    alpha = check_float("alpha", alpha, low=0.0, owner=owner)
    noise = check_float("noise", noise, low=0.0, owner=owner)
    period = check_int("period", period, low=1, owner=owner)
    rng = np.random.default_rng(seed)
    X, y = load_mnist()
    idx = np.sort(rng.choice(len(X), size=n_catalog, replace=False))
    cat = X[idx].astype(np.float64) / 255.0
    items = _requests(rng, n_catalog, T, alpha, popularity, period)
    queries = cat[items] + rng.normal(0.0, noise, size=(T, cat.shape[1]))
    if dim is not None:
        dim = check_int("dim", dim, low=1, high=cat.shape[1], owner=owner)
        mean = cat.mean(axis=0)
        _, _, Vt = np.linalg.svd(cat - mean, full_matrices=False)
        P = Vt[:dim].T
        cat = (cat - mean) @ P
        queries = (queries - mean) @ P
    meta = {"items": items, "labels": y[idx], "catalog_rows": idx, "nn_distance": nn_distance_scale(cat, seed=seed),
            "popularity": popularity, "alpha": alpha, "noise": noise}
    return np.ascontiguousarray(cat), np.ascontiguousarray(queries), meta


def movielens_workload(dim: int = 32, n_items: int = 1000, T: int | None = 5000, noise: float = 0.0,
                       seed: int = 0):
    """MovieLens ratings replayed in time order over item embeddings.

    Catalog: the ``n_items`` most rated movies, embedded by a rank-``dim`` truncated SVD of the
    (user x item) rating matrix (rows of ``V sqrt(Sigma)``). Queries: the embedding of the movie
    of each rating, in time order (ratings of other movies skipped), plus optional Gaussian noise
    of standard deviation ``noise`` times the median nearest-neighbour distance. ``T=None`` keeps
    all ratings of the catalog's movies.
    """
    from ..datasets import load_movielens

    owner = "movielens_workload"
    dim = check_int("dim", dim, low=1, owner=owner)
    n_items = check_int("n_items", n_items, low=2, owner=owner)
    noise = check_float("noise", noise, low=0.0, owner=owner)
    data = load_movielens()
    user, item, rating = data["user"], data["item"], data["rating"]
    ids, counts = np.unique(item, return_counts=True)
    if n_items > len(ids):
        raise InvalidInputError(f"The 'n_items' parameter of {owner} must be <= {len(ids)} (movies with ratings). "
                                f"Got {n_items}.")
    top = ids[np.lexsort((ids, -counts))[:n_items]]
    top = np.sort(top)
    keep = np.isin(item, top)
    u_ids, u_idx = np.unique(user[keep], return_inverse=True)
    i_idx = np.searchsorted(top, item[keep])
    M = np.zeros((len(u_ids), n_items))
    M[u_idx, i_idx] = rating[keep]
    if dim > min(M.shape):
        raise InvalidInputError(f"The 'dim' parameter of {owner} must be <= {min(M.shape)}. Got {dim}.")
    U, s, Vt = np.linalg.svd(M, full_matrices=False)
    # fix the sign of each component (SVD signs are arbitrary): largest |entry| of V positive
    sign = np.sign(Vt[np.arange(len(s)), np.argmax(np.abs(Vt), axis=1)])
    Vt = Vt * sign[:, None]
    cat = (Vt[:dim].T * np.sqrt(s[:dim]))
    items = i_idx if T is None else i_idx[:check_int("T", T, low=1, owner=owner)]
    scale = nn_distance_scale(cat, seed=seed)
    rng = np.random.default_rng(seed)
    queries = cat[items] + (rng.normal(0.0, noise * scale / np.sqrt(dim), size=(len(items), dim)) if noise else 0.0)
    meta = {"items": np.asarray(items, dtype=np.int64), "movie_ids": top, "nn_distance": scale,
            "singular_values": s[:dim]}
    return np.ascontiguousarray(cat), np.ascontiguousarray(queries, dtype=np.float64), meta


def gaussian_mixture_workload(n_catalog: int = 500, T: int = 2000, dim: int = 8, n_clusters: int = 20,
                              alpha: float = 1.0, spread: float = 0.3, query_noise: float = 0.3,
                              drift_period: int | None = None, seed: int = 0):
    """Synthetic catalog of ``n_clusters`` Gaussian clusters (centres ~ N(0, I)), queries around the
    clusters with Zipf(``alpha``) cluster popularity (re-ranked every ``drift_period`` requests)."""
    owner = "gaussian_mixture_workload"
    n_catalog = check_int("n_catalog", n_catalog, low=2, owner=owner)
    T = check_int("T", T, low=1, owner=owner)
    dim = check_int("dim", dim, low=1, owner=owner)
    n_clusters = check_int("n_clusters", n_clusters, low=1, high=n_catalog, owner=owner)
    alpha = check_float("alpha", alpha, low=0.0, owner=owner)
    spread = check_float("spread", spread, low=0.0, owner=owner)
    query_noise = check_float("query_noise", query_noise, low=0.0, owner=owner)
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.0, size=(n_clusters, dim)) * 2.0
    lab = rng.integers(0, n_clusters, size=n_catalog)
    cat = centres[lab] + rng.normal(0.0, spread, size=(n_catalog, dim))
    if drift_period is None:
        cl = _requests(rng, n_clusters, T, alpha, "zipf", T)
    else:
        cl = _requests(rng, n_clusters, T, alpha, "drift", check_int("drift_period", drift_period, low=1, owner=owner))
    queries = centres[cl] + rng.normal(0.0, query_noise, size=(T, dim))
    meta = {"items": np.full(T, -1, dtype=np.int64), "clusters": cl, "nn_distance": nn_distance_scale(cat, seed=seed)}
    return cat, queries, meta
