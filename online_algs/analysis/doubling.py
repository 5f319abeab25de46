"""Doubling dimension of a finite point set from ball-cover counts, and tree-embedding distortion."""

from __future__ import annotations

import numpy as np

from .._validation import VECTOR_HINT, check_float_array, check_int, check_seed
from ..exceptions import InvalidInputError

__all__ = ["doubling_dimension", "greedy_net_size", "frt_distortion"]


def greedy_net_size(D: np.ndarray, members: np.ndarray, radius: float) -> int:
    """Size of a greedy ``radius``-net of ``members`` (indices into the distance matrix ``D``):
    scan the members in order; a member farther than ``radius`` from every chosen centre becomes
    a centre. The net covers the members with balls of that radius, and its centres are
    pairwise > radius apart, so its size is within the doubling constant's range."""
    centres: list[int] = []
    for m in members:
        if not centres or D[m, centres].min() > radius:
            centres.append(int(m))
    return len(centres)


def doubling_dimension(points=None, *, distances=None, n_centers: int = 50, n_radii: int = 8,
                       seed: int | None = 0) -> dict:
    r"""Estimate the doubling dimension :math:`\log_2 \lambda` of a finite metric.

    :math:`\lambda` is the least number such that every ball B(x, r) is covered by
    :math:`\lambda` balls of radius r/2. For ``n_centers`` random centres and ``n_radii``
    radii between the 5% and 95% quantiles of the distances, a greedy r/2-net of B(x, r)
    is built; its size N(x, r) satisfies :math:`\lambda \le N \le \lambda^2`-type bounds, so
    :math:`\log_2 \max N` estimates the doubling dimension (within a factor 2) and
    :math:`\log_2` of the median N is reported beside it.

    Give either ``points`` (n, dim) (Euclidean) or ``distances`` (n, n). O(n^2) memory.
    Empirical (no constant): Theorem ``analysis.doubling.grid`` checks it grows with the
    dimension of uniform grids.
    """
    if (points is None) == (distances is None):
        raise InvalidInputError("doubling_dimension takes exactly one of points= or distances=.")
    if points is not None:
        from scipy.spatial.distance import cdist

        P = check_float_array("points", points, ndim=2, owner="doubling_dimension", hint=VECTOR_HINT)
        D = cdist(P, P)
    else:
        D = check_float_array("distances", distances, ndim=2, owner="doubling_dimension")
        if D.shape[0] != D.shape[1]:
            raise InvalidInputError(f"distances must be square; got shape {D.shape}.")
    n = D.shape[0]
    if n < 3:
        raise InvalidInputError(f"doubling_dimension needs at least 3 points; got {n}.")
    n_centers = check_int("n_centers", n_centers, low=1, owner="doubling_dimension")
    n_radii = check_int("n_radii", n_radii, low=1, owner="doubling_dimension")
    rng = np.random.default_rng(check_seed(seed, owner="doubling_dimension"))
    off = D[np.triu_indices(n, 1)]
    lo, hi = np.quantile(off, [0.05, 0.95])
    if hi <= 0:
        raise InvalidInputError("all distances are zero: deduplicate the points.")
    radii = np.geomspace(max(lo, hi * 1e-6), hi, n_radii)
    centres = rng.choice(n, size=min(n_centers, n), replace=False)
    sizes = []
    for c in centres:
        for r in radii:
            members = np.flatnonzero(D[c] <= r)
            members = members[rng.permutation(len(members))]
            sizes.append(greedy_net_size(D, members, r / 2.0))
    sizes = np.asarray(sizes)
    return {"dimension": float(np.log2(sizes.max())), "median_dimension": float(np.log2(np.median(sizes))),
            "max_cover": int(sizes.max()), "radii": radii}


def frt_distortion(points=None, *, metric=None, n_samples: int = 5, seed: int | None = 0) -> dict:
    """Mean and worst stretch d_T / d of FRT tree embeddings of a point set (or metric),
    averaged over ``n_samples`` random trees (uses :func:`online_algs.mts.frt_embedding`)."""
    from .. import metrics as _metrics
    from ..mts import hst as _hst

    if metric is None:
        metric = _metrics.euclidean(points)
    n_samples = check_int("n_samples", n_samples, low=1, owner="frt_distortion")
    rng = np.random.default_rng(check_seed(seed, owner="frt_distortion"))
    means, worst, least = [], [], []
    for _ in range(n_samples):
        tree, leaf_of = _hst.frt_embedding(metric, seed=int(rng.integers(2**31 - 1)))
        dist = _hst.distortion(metric, tree, leaf_of)
        means.append(dist.mean)
        worst.append(dist.max)
        least.append(dist.min)
    n = metric.n
    H = float(np.sum(1.0 / np.arange(1, n + 1)))
    return {"mean_stretch": float(np.mean(means)), "worst_stretch": float(np.max(worst)),
            "least_stretch": float(np.min(least)), "H_n": H}
