"""Statistics of request traces: popularity law, drift, reuse distances, one-hit wonders,
working-set growth. They say whether a stochastic (stationary) analysis, a competitive (MTS)
view or a regret view fits a trace (see :mod:`online_algs.analysis.recommend`).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_int_array
from ..exceptions import InvalidInputError
from ._kernels import reuse_distances as _reuse_kernel

__all__ = ["zipf_exponent", "popularity_drift", "reuse_distance", "reuse_distance_histogram", "one_hit_wonder_share",
           "working_set_growth", "trace_summary"]


def _trace(trace, owner):
    t = check_int_array("trace", trace, low=0, owner=owner)
    return t


def zipf_exponent(trace, *, top: int | None = None, min_count: int = 2) -> float:
    r"""Zipf exponent :math:`\alpha` of a trace's popularity, P(rank r) ∝ r^{-alpha}.

    Fitted by maximum likelihood of the discrete power law over the ranks 1..m of the items
    with at least ``min_count`` requests (or the ``top`` most popular), by a 1-d bounded
    search on the exact log-likelihood. Complexity: O(T + N log N) for the sorted counts (N the
    largest id + 1), then O(m) per likelihood evaluation. Theorem ``analysis.traces.zipf_recovery``
    checks it recovers alpha on synthetic Zipf traces.
    """
    from scipy.optimize import minimize_scalar

    t = _trace(trace, "zipf_exponent")
    counts = np.sort(np.bincount(t))[::-1]
    min_count = check_int("min_count", min_count, low=1, owner="zipf_exponent")
    counts = counts[counts >= min_count] if top is None else counts[:check_int("top", top, low=2, owner="zipf_exponent")]
    m = len(counts)
    if m < 2:
        raise InvalidInputError("zipf_exponent needs at least 2 items with enough requests; the trace is too short "
                                "or has no repeats (lower min_count).")
    logr = np.log(np.arange(1, m + 1))
    total = counts.sum()

    def nll(a):
        # -(sum_c c_r * (-a log r) - total * log Z(a)), Z = sum_r r^-a over the fitted ranks
        z = np.log(np.exp(-a * logr).sum())
        return -(-(a * (counts * logr).sum()) - total * z)

    res = minimize_scalar(nll, bounds=(0.0, 5.0), method="bounded", options={"xatol": 1e-6})
    return float(res.x)


def popularity_drift(trace, n_windows: int = 10, top: int = 100) -> np.ndarray:
    """Drift of popularity between consecutive windows: the total-variation distance between
    the empirical request distributions restricted to the union of each window's ``top`` items.
    Returns ``n_windows - 1`` values in [0, 1]; near 0 means stationary."""
    t = _trace(trace, "popularity_drift")
    n_windows = check_int("n_windows", n_windows, low=2, owner="popularity_drift")
    top = check_int("top", top, low=1, owner="popularity_drift")
    if len(t) < n_windows:
        raise InvalidInputError(f"popularity_drift needs at least n_windows={n_windows} requests; got {len(t)}.")
    N = int(t.max()) + 1
    windows = np.array_split(t, n_windows)
    out = []
    prev = None
    for w in windows:
        p = np.bincount(w, minlength=N).astype(float)
        p /= p.sum()
        if prev is not None:
            keep = np.union1d(np.argsort(prev)[::-1][:top], np.argsort(p)[::-1][:top])
            a, b = prev[keep], p[keep]
            a = a / a.sum() if a.sum() > 0 else a
            b = b / b.sum() if b.sum() > 0 else b
            out.append(0.5 * float(np.abs(a - b).sum()))
        prev = p
    return np.asarray(out)


def reuse_distance(trace) -> np.ndarray:
    """LRU stack distance of each request (distinct items since the last request of the same
    item), -1 for first requests. A request hits an LRU cache of size C iff 0 <= distance < C.
    Numba kernel, O(T log T)."""
    t = _trace(trace, "reuse_distance")
    return _reuse_kernel(t, int(t.max()) + 1)


def reuse_distance_histogram(trace, bins=None) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of finite reuse distances over log-spaced bins; returns (counts, edges)."""
    rd = reuse_distance(trace)
    rd = rd[rd >= 0]
    if bins is None:
        hi = max(int(rd.max()) + 2 if len(rd) else 2, 2)
        bins = np.unique(np.round(np.logspace(0, np.log10(hi), 30)).astype(int))
        bins = np.r_[0, bins]
    return np.histogram(rd, bins=bins)


def one_hit_wonder_share(trace) -> float:
    """Share of distinct items requested exactly once."""
    t = _trace(trace, "one_hit_wonder_share")
    c = np.bincount(t)
    c = c[c > 0]
    return float((c == 1).sum() / len(c))


def working_set_growth(trace, n_points: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Number of distinct items seen after t requests, at ``n_points`` log-spaced t."""
    t = _trace(trace, "working_set_growth")
    n_points = check_int("n_points", n_points, low=1, owner="working_set_growth")
    first = np.zeros(len(t), dtype=bool)
    _, idx = np.unique(t, return_index=True)
    first[idx] = True
    cum = np.cumsum(first)
    ts = np.unique(np.round(np.logspace(0, np.log10(len(t)), n_points)).astype(int))
    return ts, cum[ts - 1]


def trace_summary(trace) -> dict:
    """The numbers the lens recommendation reads, for one trace."""
    t = _trace(trace, "trace_summary")
    T = len(t)
    N = int(len(np.unique(t)))
    rd = reuse_distance(t)
    finite = rd[rd >= 0]
    ts, ws = working_set_growth(t)
    half = ts >= max(2, ts[-1] // 10)
    slope = float(np.polyfit(np.log(ts[half]), np.log(ws[half]), 1)[0]) if half.sum() >= 2 else float("nan")
    try:
        alpha = zipf_exponent(t)
    except InvalidInputError:
        alpha = float("nan")
    drift = popularity_drift(t) if T >= 20 else np.array([np.nan])
    return {
        "requests": T,
        "distinct": N,
        "zipf_alpha": alpha,
        "drift_mean": float(np.mean(drift)),
        "one_hit_wonders": one_hit_wonder_share(t),
        "reuse_median": float(np.median(finite)) if len(finite) else float("nan"),
        "reuse_p90": float(np.quantile(finite, 0.9)) if len(finite) else float("nan"),
        "cold_share": float((rd < 0).mean()),
        "working_set_slope": slope,
    }
