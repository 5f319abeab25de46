"""Which lens fits a data set and a trace: stochastic caching, metrical task systems, or regret.

The rules read measured numbers and say which they used; they are heuristics grounded in what
each analysis assumes, not theorems:

* a **stochastic** (independent-reference) analysis assumes stationary popularity: the drift
  between windows is close to that of the same trace shuffled (same popularity, no time
  structure). Then the best static cache (top-C counts) is near optimal and LFU-like or
  no-regret learners converge to it;
* a **regret** view needs no stationarity but compares to the best *static* cache: it fits
  non-stationary traces whose popularity still has persistent structure (a Zipf exponent
  well above 0) over a large catalog, and, for vectors, a near-continuous space of low
  intrinsic dimension where similarity caching serves approximate hits;
* a **competitive (MTS / paging)** view compares to the best *dynamic* schedule: it fits
  traces dominated by locality bursts (short reuse distances relative to the catalog, high
  drift), where the offline optimum moves and a static comparator is weak.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

from .._validation import VECTOR_HINT, check_float_array, check_int_array
from ..exceptions import InvalidInputError
from .traces import popularity_drift, trace_summary

__all__ = ["recommend_lens", "characterise_trace", "characterise_vectors"]


_MIN_TRACE = 20  # trace_summary measures drift from 20 requests on
_TRACE_KEYS = ("drift_ratio", "drift_mean", "drift_shuffled", "zipf_alpha", "reuse_median_over_catalog")
_VECTOR_KEYS = ("id_levina_bickel", "id_twonn", "ambient_dim")


def _check_stats(name, stats, keys, producer, what):
    hint = f"pass {producer}({what}), {'not the trace itself' if what == 'trace' else 'not the vectors themselves'}"
    if not isinstance(stats, Mapping):
        raise InvalidInputError(f"The {name!r} argument of recommend_lens must be the dict returned by {producer}. "
                                f"Got {type(stats).__name__}; {hint}.")
    missing = [k for k in keys if k not in stats]
    if missing:
        raise InvalidInputError(f"The {name!r} argument of recommend_lens must be the dict returned by {producer}. "
                                f"It lacks the key(s) {missing}; {hint}.")
    for k in keys:
        v = stats[k]
        if isinstance(v, bool) or not isinstance(v, (numbers.Real, np.floating, np.integer)):
            raise InvalidInputError(f"The {name!r} argument of recommend_lens must map {k!r} to a real number "
                                    f"(as {producer} does). Got {type(v).__name__}; {hint}.")


def characterise_trace(trace, seed: int = 0) -> dict:
    """:func:`trace_summary` plus the drift of the shuffled trace (the stationary null) and their ratio."""
    t = check_int_array("trace", trace, low=0, owner="characterise_trace")
    if len(t) < _MIN_TRACE:
        raise InvalidInputError(f"The 'trace' argument of characterise_trace must hold at least {_MIN_TRACE} "
                                f"requests to measure popularity drift (10 windows). Got {len(t)} requests.")
    s = trace_summary(t)
    rng = np.random.default_rng(seed)
    s["drift_shuffled"] = float(np.mean(popularity_drift(rng.permutation(t))))
    s["drift_ratio"] = s["drift_mean"] / max(s["drift_shuffled"], 1e-12)
    s["reuse_median_over_catalog"] = s["reuse_median"] / max(s["distinct"], 1)
    return s


def characterise_vectors(X, *, max_points: int = 3000, seed: int = 0) -> dict:
    """Intrinsic dimension (Levina–Bickel and TwoNN with CIs) and doubling dimension of vectors."""
    from .doubling import doubling_dimension
    from .intrinsic import levina_bickel, twonn

    X = check_float_array("X", X, ndim=2, owner="characterise_vectors", hint=VECTOR_HINT)
    rng = np.random.default_rng(seed)
    if len(X) > max_points:
        X = X[rng.choice(len(X), max_points, replace=False)]
    lb = levina_bickel(X, k=10, n_boot=100, seed=seed)
    tn = twonn(X, n_boot=100, seed=seed)
    sub = X[rng.choice(len(X), min(len(X), 600), replace=False)]
    dd = doubling_dimension(sub, n_centers=30, seed=seed)
    from .doubling import frt_distortion

    frt = frt_distortion(np.unique(sub[:300], axis=0), n_samples=3, seed=seed)
    return {"points": len(X), "ambient_dim": X.shape[1], "id_levina_bickel": lb.estimate, "id_lb_ci": lb.ci,
            "id_twonn": tn.estimate, "id_twonn_ci": tn.ci, "doubling_dim": dd["median_dimension"],
            "frt_mean_stretch": frt["mean_stretch"], "frt_worst_stretch": frt["worst_stretch"], "H_300": frt["H_n"],
            "duplicates_removed": lb.n_duplicates_removed}


def recommend_lens(trace_stats: dict | None = None, vector_stats: dict | None = None) -> dict:
    """Recommend a lens from :func:`characterise_trace` and/or :func:`characterise_vectors` output.

    Returns ``{"lens": "stochastic" | "regret" | "competitive", "similarity": bool | None,
    "reasons": [...]}``. Pass the dicts those functions return (``recommend_lens(characterise_trace(trace))``),
    not the trace or the vectors themselves; at least one of the two is required.
    """
    if trace_stats is None and vector_stats is None:
        raise InvalidInputError("recommend_lens needs trace_stats and/or vector_stats; pass "
                                "characterise_trace(trace) and/or characterise_vectors(X).")
    if trace_stats is not None:
        _check_stats("trace_stats", trace_stats, _TRACE_KEYS, "characterise_trace", "trace")
    if vector_stats is not None:
        _check_stats("vector_stats", vector_stats, _VECTOR_KEYS, "characterise_vectors", "X")
    reasons: list[str] = []
    lens = None
    if trace_stats is not None:
        dr = trace_stats["drift_ratio"]
        alpha = trace_stats["zipf_alpha"]
        reuse = trace_stats["reuse_median_over_catalog"]
        if dr < 1.5:
            lens = "stochastic"
            reasons.append(f"popularity drift {trace_stats['drift_mean']:.3f} is within 1.5x of the shuffled "
                           f"trace's {trace_stats['drift_shuffled']:.3f} (ratio {dr:.2f}): stationary")
        elif reuse < 0.02 and dr >= 3.0:
            lens = "competitive"
            reasons.append(f"median reuse distance is {100 * reuse:.2f}% of the catalog and drift is {dr:.1f}x the "
                           f"shuffled trace's: locality bursts, the dynamic optimum moves")
        else:
            lens = "regret"
            reasons.append(f"drift {dr:.1f}x the shuffled trace's (non-stationary) with Zipf exponent {alpha:.2f}: "
                           f"compare to the best static cache without stationarity assumptions")
    sim = None
    if vector_stats is not None:
        idim = float(np.nanmean([vector_stats["id_levina_bickel"], vector_stats["id_twonn"]]))
        sim = idim <= 20
        reasons.append(f"intrinsic dimension {idim:.1f} (ambient {vector_stats['ambient_dim']}): "
                       + ("low enough that near neighbours are close; similarity caching serves approximate hits"
                          if sim else "high: approximate hits are far, exact caching is the safer lens"))
        if lens is None:
            lens = "regret"
            reasons.append("vectors only: a near-continuous instance space calls for the regret view")
    return {"lens": lens, "similarity": sim, "reasons": reasons}
