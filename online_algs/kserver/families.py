"""Request families for k-server: the cruel (k+1)-point adversary, random, clustered and drifting
requests on any metric, and the (h, k) lower-bound family of Double Coverage on a line."""

from __future__ import annotations

import numpy as np

from .._validation import check_float, check_int, check_seed
from ..base import RequestThenMove
from ..exceptions import InvalidInputError
from ..metrics import METRIC_KINDS, line, random_metric
from .offline import _metric

__all__ = ["cruel_requests", "random_requests", "clustered_requests", "drifting_requests", "dc_hk_line_family",
           "metric_kinds", "FAMILIES", "family_requests"]


def _covered(alg) -> set:
    if hasattr(alg, "covered_points"):
        return set(alg.covered_points())
    return {int(x) for x in alg.state}


def cruel_requests(alg, metric, T, points=None) -> np.ndarray:
    """The cruel (k+1)-point adversary against a deterministic online algorithm.

    Restricts requests to ``k + 1`` points (``points``; default: the algorithm's initial
    configuration plus the lowest-index other point) and always requests one of them that
    holds no server of ``alg`` (the lowest such index), feeding each request to ``alg``
    (adaptive: ``alg`` is reset and driven step by step). Replaying the returned sequence on a
    fresh copy of a deterministic ``alg`` reproduces its costs. Every deterministic algorithm
    pays ALG >= k OPT - O(k^2 diam) on it (Theorem ``kserver.deterministic.lower_bound``).

    Returns a 1-d int64 array of ``T`` requests.
    """
    if not isinstance(alg, RequestThenMove):
        raise InvalidInputError(f"The 'alg' argument of cruel_requests must be a request-then-move algorithm "
                                f"(e.g. online_algs.kserver.DoubleCoverage). Got {type(alg).__name__}.")
    m = _metric(metric, "cruel_requests")
    T = check_int("T", T, low=1, owner="cruel_requests")
    alg.reset()
    k = alg.k_
    if points is None:
        init = sorted(int(x) for x in alg._init)
        extra = next(p for p in range(m.n) if p not in set(init))
        points = sorted(init + [extra])
    else:
        points = sorted(int(p) for p in points)
        if len(set(points)) != k + 1 or min(points) < 0 or max(points) >= m.n:
            raise InvalidInputError(f"The 'points' argument of cruel_requests must hold k + 1 = {k + 1} distinct point "
                                    f"indices in [0, {m.n - 1}]. Got {points}.")
    out = np.empty(T, dtype=np.int64)
    for t in range(T):
        cov = _covered(alg)
        r = next(p for p in points if p not in cov)
        out[t] = r
        alg.serve(r)
    return out


def random_requests(metric, T, seed=None) -> np.ndarray:
    """``T`` i.i.d. uniform points of ``metric``."""
    m = _metric(metric, "random_requests")
    T = check_int("T", T, low=1, owner="random_requests")
    rng = np.random.default_rng(check_seed(seed, owner="random_requests"))
    return rng.integers(0, m.n, size=T).astype(np.int64)


def _neighbourhoods(m, size):
    order = np.argsort(m.d, axis=1, kind="stable")  # each point first (distance 0), then its nearest
    return order[:, :size]


def clustered_requests(metric, T, seed=None, n_clusters: int = 3, p_switch: float = 0.05) -> np.ndarray:
    """Requests from clusters: ``n_clusters`` random centres, each with its ``max(2, n // (2 n_clusters))``
    nearest points; requests are uniform in the current cluster, which switches to a uniformly random
    cluster with probability ``p_switch`` per request."""
    m = _metric(metric, "clustered_requests")
    T = check_int("T", T, low=1, owner="clustered_requests")
    n_clusters = check_int("n_clusters", n_clusters, low=1, high=m.n, owner="clustered_requests")
    p_switch = check_float("p_switch", p_switch, low=0.0, high=1.0, owner="clustered_requests")
    rng = np.random.default_rng(check_seed(seed, owner="clustered_requests"))
    size = min(m.n, max(2, m.n // (2 * n_clusters)))
    centres = rng.choice(m.n, size=n_clusters, replace=False)
    nb = _neighbourhoods(m, size)
    cur = int(rng.integers(n_clusters))
    out = np.empty(T, dtype=np.int64)
    for t in range(T):
        if rng.random() < p_switch:
            cur = int(rng.integers(n_clusters))
        out[t] = nb[centres[cur], int(rng.integers(size))]
    return out


def drifting_requests(metric, T, seed=None, window: int = 3, p_move: float = 0.2) -> np.ndarray:
    """A drifting hot spot: a centre point random-walks (with probability ``p_move`` per request) to
    one of its ``window - 1`` nearest other points; each request is uniform among the centre's
    ``window`` nearest points (itself included)."""
    m = _metric(metric, "drifting_requests")
    T = check_int("T", T, low=1, owner="drifting_requests")
    window = check_int("window", window, low=1, high=m.n, owner="drifting_requests")
    p_move = check_float("p_move", p_move, low=0.0, high=1.0, owner="drifting_requests")
    rng = np.random.default_rng(check_seed(seed, owner="drifting_requests"))
    nb = _neighbourhoods(m, window)
    c = int(rng.integers(m.n))
    out = np.empty(T, dtype=np.int64)
    for t in range(T):
        if window > 1 and rng.random() < p_move:
            c = int(nb[c, int(rng.integers(1, window))])
        out[t] = nb[c, int(rng.integers(window))]
    return out


def dc_hk_line_family(D: int = 20, phases: int = 10):
    """The (h, k) = (1, 2) "spread and squeeze" family of Double Coverage on a line.

    Points ``0, 1, ..., 3D/2`` (``D`` even); DC's two servers start at 0 and D, OPT's single
    server at 0. First a squeeze: requests 1, 2, ..., D/2 (DC's two servers meet at D/2; DC pays D,
    OPT D/2). Then ``phases`` times: with DC's servers together at ``c``, request ``c + s D``
    (``s = +1, -1, +1, ...``; DC and OPT pay D), then squeeze back: requests
    ``c + s D - s i`` for ``i = 1..D/2`` (DC pays D, OPT D/2). Per phase DC pays 2D and the
    1-server OPT (forced to follow the requests) pays 3D/2: the ratio tends to
    4/3 = k(h+1)/(k+1) (derivation in ``docs/theory/kserver.md``).

    Returns ``(metric, requests, dc_initial, opt_initial)``.
    """
    D = check_int("D", D, low=2, owner="dc_hk_line_family")
    if D % 2:
        raise InvalidInputError(f"The 'D' parameter of dc_hk_line_family must be even. Got {D}; use {D + 1}.")
    phases = check_int("phases", phases, low=0, owner="dc_hk_line_family")
    half = D // 2
    metric = line(np.arange(3 * half + 1, dtype=float))
    req = list(range(1, half + 1))
    c, s = half, 1
    for _ in range(phases):
        far = c + s * D
        req.append(far)
        req.extend(far - s * i for i in range(1, half + 1))
        c = far - s * half
        s = -s
    return metric, np.asarray(req, dtype=np.int64), [0, D], [0]


def metric_kinds() -> tuple[str, ...]:
    """The metric families of :func:`online_algs.metrics.random_metric` available here (``hst``
    when the MTS package provides it)."""
    kinds = tuple(METRIC_KINDS)
    try:
        random_metric("hst", 4, seed=0)
        kinds = kinds + ("hst",)
    except Exception:  # HST generator not available yet
        pass
    return kinds


FAMILIES = ("random", "clustered", "drifting")


def family_requests(family: str, metric, T: int, seed=None) -> np.ndarray:
    """Requests of one of :data:`FAMILIES` (the cruel family needs an algorithm: :func:`cruel_requests`)."""
    if family == "random":
        return random_requests(metric, T, seed)
    if family == "clustered":
        return clustered_requests(metric, T, seed)
    if family == "drifting":
        return drifting_requests(metric, T, seed)
    raise InvalidInputError(f"The 'family' argument of family_requests must be one of {list(FAMILIES)}. "
                            f"Got {family!r}; use cruel_requests(alg, metric, T) for the adversary.")
