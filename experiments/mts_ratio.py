"""Competitive ratio of every MTS algorithm against the number of states n, on every metric family.

For each metric family (``uniform``, ``line``, ``star``, ``tree``, ``euclidean``, ``general`` and
``hst`` when the HST module provides it), each n and each task family, every algorithm of
:data:`ALGORITHMS` that accepts the metric runs from state 0 and its cost is divided by the exact
offline optimum (``offline_optimum``, the work-function DP). Task families:

* ``random``: i.i.d. costs uniform in ``[0, diam]``;
* ``elementary``: unit elementary tasks scaled by the mean distance (the H_n lower-bound family on
  uniform metrics);
* ``cruel``: the cruel taskmaster, ``eps = min distance / 2`` on the current state, adaptive against
  each deterministic algorithm; randomized and fractional algorithms face the (oblivious) sequence
  generated against WFA, marked ``cruel(WFA)``.

The plot draws the deterministic bound ``2n - 1`` (Theorem ``mts.wfa.competitive``; reached by the
cruel taskmaster, Theorem ``mts.wfa.cruel_lower``) and ``2 H_n`` (Theorem ``mts.randomized.uniform``).

``ALGORITHMS`` maps a name to an :class:`AlgSpec`; another module adds an algorithm with one line,
e.g. ``ALGORITHMS["MyAlg"] = AlgSpec(lambda metric, seed: MyAlg(metric, seed=seed), kinds=("star",))``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

from experiments.api import Experiment


@dataclass(frozen=True)
class AlgSpec:
    """How to build an MTS algorithm for the experiment.

    make : (metric, seed) -> algorithm (a RequestThenMove on the metric's states, start 0)
    kinds : metric kinds it accepts (None: every kind)
    adaptive : True when deterministic with an integer state (it then faces its own cruel taskmaster)
    quick_kinds : kinds used in the quick grid (None: the same as ``kinds``)
    """

    make: Callable
    kinds: tuple | None = None
    adaptive: bool = False
    quick_kinds: tuple | None = None


def _wfa(metric, seed):
    from online_algs.mts import WorkFunctionAlgorithm

    return WorkFunctionAlgorithm(metric)


def _greedy(metric, seed):
    from online_algs.mts import Greedy

    return Greedy(metric)


def _randomized(metric, seed):
    from online_algs.mts import RandomizedUniformMTS

    return RandomizedUniformMTS(metric, seed=seed)


def _entropic_star(metric, seed):
    from online_algs.mts import EntropicStarMTS

    return EntropicStarMTS(metric)


def _entropic_hst(metric, seed):
    from online_algs.mts import EntropicHSTMTS

    return EntropicHSTMTS(metric, seed=seed)


def _multiscale_hst(metric, seed):
    from online_algs.mts import MultiscaleHSTMTS

    return MultiscaleHSTMTS(metric, seed=seed)


ALGORITHMS: dict[str, AlgSpec] = {
    "WFA": AlgSpec(_wfa, adaptive=True),
    "Greedy": AlgSpec(_greedy, adaptive=True),
    "RandomizedUniform": AlgSpec(_randomized, kinds=("uniform",)),
}

try:  # part 2's entropic algorithms, when the package provides them
    from online_algs.mts import EntropicHSTMTS as _EH  # noqa: F401
    from online_algs.mts import EntropicStarMTS as _ES  # noqa: F401

    ALGORITHMS["EntropicStar"] = AlgSpec(_entropic_star, kinds=("uniform", "star"))
    # a transport LP per task on non-HST metrics: kept out of the quick grid (the figure's caption says so)
    ALGORITHMS["EntropicHST"] = AlgSpec(_entropic_hst, quick_kinds=("uniform", "star", "hst"))
    from online_algs.mts import MultiscaleHSTMTS as _MH  # noqa: F401

    ALGORITHMS["MultiscaleHST"] = AlgSpec(_multiscale_hst, quick_kinds=("uniform", "star", "hst"))
except ImportError:  # pragma: no cover
    pass


def _kinds() -> list[str]:
    from online_algs.metrics import METRIC_KINDS, random_metric

    kinds = list(METRIC_KINDS)
    try:
        random_metric("hst", 4, seed=0)
        kinds.append("hst")
    except Exception:  # pragma: no cover - HST module not available
        pass
    return kinds


KINDS = _kinds()
FAMILIES = ["random", "elementary", "cruel"]


def cell(kind: str, n: int, family: str, T: int, seed: int, quick: bool = False) -> list[dict]:
    import online_algs
    from online_algs.metrics import random_metric
    from online_algs.mts import cruel_taskmaster, harmonic, offline_optimum, uniform_random_tasks, unit_elementary_tasks

    n, T, seed = int(n), int(T), int(seed)
    m = random_metric(kind, n, seed=seed)
    mean_d = float(m.d.sum() / max(1, n * (n - 1)))
    base = {"bound_2n_1": 2 * n - 1, "bound_2Hn": 2 * harmonic(n)}
    rows = []
    shared = None
    if family == "random":
        shared = uniform_random_tasks(n, T, seed=seed, high=m.diameter)
    elif family == "elementary":
        shared = unit_elementary_tasks(n, T, seed=seed) * mean_d
    else:
        eps = 0.5 * m.min_distance
        shared, _ = cruel_taskmaster(_wfa(m, seed), m, T, eps)
    opt_shared = offline_optimum(m, shared).value
    for name, spec in ALGORITHMS.items():
        kinds = spec.quick_kinds if (quick and spec.quick_kinds is not None) else spec.kinds
        if kinds is not None and kind not in kinds:
            continue
        alg = spec.make(m, seed)
        c, opt, fam = shared, opt_shared, family
        if family == "cruel":
            if spec.adaptive:
                c, _ = cruel_taskmaster(alg, m, T, 0.5 * m.min_distance)
                opt = offline_optimum(m, c).value
            else:
                fam = "cruel(WFA)"
        res = online_algs.run(alg, c, series=False, states=False)
        rows.append({**base, "algorithm": name, "task_family": fam, "alg_cost": res.total_cost, "opt": opt,
                     "ratio": res.total_cost / opt if opt > 0 else float("nan")})
    return rows


def plot(df, outdir: str) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(outdir, exist_ok=True)
    from ._plot import draw_ratio_curves, figure_legend, integer_ticks, ratio_grid

    g, kinds, fams, algs, style = ratio_grid(df, "n", KINDS, FAMILIES, ALGORITHMS)
    colors = {a: style[a]["color"] for a in algs}
    merged = set()
    fig, axes = plt.subplots(len(fams), len(kinds), figsize=(2.9 * len(kinds), 2.6 * len(fams)), squeeze=False,
                             sharex=True)
    ns = np.sort(g["n"].unique())
    h = np.array([np.sum(1.0 / np.arange(1, k + 1)) for k in ns])
    for i, fam in enumerate(fams):
        for j, kind in enumerate(kinds):
            ax = axes[i, j]
            sub = g[(g["kind"] == kind) & (g["family"] == fam)]
            draw_ratio_curves(ax, sub, "n", algs, style, merged, f"{kind} / {fam}")
            ax.plot(ns, 2 * ns - 1, "k--", lw=1, label="2n-1")
            ax.plot(ns, 2 * h, "k:", lw=1, label="2H_n")
            ax.set_yscale("log", base=2)
            integer_ticks(ax, ns)
            ax.set_title(f"{kind} / {fam}", fontsize=8)
            if i == len(fams) - 1:
                ax.set_xlabel("n")
            if j == 0:
                ax.set_ylabel("ALG / OPT")
    figure_legend(fig, axes)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    path = os.path.join(outdir, "mts_ratio.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [(path, "MTS competitive ratio (cost / exact optimum) against n, per metric family (columns) and task "
                   "family (rows); dashed 2n-1 (deterministic bound, Theorem mts.wfa.competitive), dotted 2H_n "
                   "(randomized uniform bound, Theorem mts.randomized.uniform). Randomized and fractional "
                   "algorithms face the cruel sequence generated against WFA. " + _coverage(df)
                   + " Earlier algorithms of the legend are drawn wider, so a curve under a nearly equal one shows "
                   "at its edges" + (f"; identical curves are drawn once: {'; '.join(sorted(merged))}" if merged else "")
                   + ".")]


def _coverage(df) -> str:
    """Which algorithms ran on only some metric families (from the rows), and why."""
    kinds_all = [k for k in KINDS if k in set(df["kind"])]
    quick = "quick" in df.columns and df["quick"].astype(bool).any()
    parts = []
    for a in dict.fromkeys(list(ALGORITHMS) + sorted(set(df["algorithm"]))):
        ks = [k for k in kinds_all if ((df["algorithm"] == a) & (df["kind"] == k)).any()]
        if ks and len(ks) < len(kinds_all):
            spec = ALGORITHMS.get(a)
            why = ""
            if quick and spec is not None and spec.quick_kinds is not None and (
                    spec.kinds is None or set(spec.kinds) - set(spec.quick_kinds)):
                why = " (the quick grid keeps it off the other metrics, where it solves a transport LP per task)"
            parts.append(f"{a} on {', '.join(ks)} only{why}")
    return ("Not every algorithm runs on every metric family: " + "; ".join(parts) + ".") if parts else ""


def summary(df) -> str:
    from .report import df_to_markdown

    g = (df.groupby(["algorithm", "family"], sort=True)
         .agg(max_ratio=("ratio", "max"), mean_ratio=("ratio", "mean"),
              max_ratio_over_2n_1=("ratio", lambda r: float(np.max(r / (2 * df.loc[r.index, "n"] - 1)))))
         .reset_index())
    cov = _coverage(df)
    return (cov + "\n\n" if cov else "") + df_to_markdown(g)


EXPERIMENT = Experiment(
    name="mts_ratio",
    description="MTS algorithms (WFA, randomized uniform, greedy, entropic) vs the exact optimum: competitive "
                "ratio against n on every metric family (each algorithm on the families it accepts; the quick grid "
                "runs EntropicHST and MultiscaleHST on uniform, star and HST metrics only), random/elementary tasks "
                "and the cruel taskmaster.",
    grid={"kind": KINDS, "n": [2, 3, 4, 6, 8, 12, 16], "family": FAMILIES, "T": [5000], "seed": [0, 1, 2],
          "quick": [False]},
    quick_grid={"kind": KINDS, "n": [2, 4, 8], "family": FAMILIES, "T": [500], "seed": [0], "quick": [True]},
    cell=cell, plot=plot, summary=summary, tags=("mts",), time_budget=60.0,
)
