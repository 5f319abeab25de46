"""Competitive ratio of k-server algorithms against k, on line, tree and HST metrics.

For each metric family (``line``, ``tree``, ``hst`` when the HST module provides it), each number of
servers k (on n = 2k + 2 points) and each request family, every algorithm of :data:`ALGORITHMS`
that accepts the metric starts from points ``0..k-1`` and its cost is divided by the exact offline
optimum (``offline_optimum``: configuration DP). Request families:

* ``random``: i.i.d. uniform points;
* ``clustered``: three clusters, switching with probability 0.05 per request;
* ``cruel``: the (k+1)-point cruel adversary, adaptive against each deterministic algorithm;
  randomized algorithms face the sequence generated against WFA, marked ``cruel(WFA)``.

The plot draws the bound k (Theorems ``kserver.dc.competitive`` and
``kserver.deterministic.lower_bound``) and 2k-1 (Theorem ``kserver.wfa.competitive``).

``ALGORITHMS`` maps a name to an :class:`AlgSpec`; another module adds an algorithm with one line,
e.g. ``ALGORITHMS["Entropic"] = AlgSpec(lambda metric, init, seed: MyAlg(metric, init, seed=seed))``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

from experiments.api import Experiment


@dataclass(frozen=True)
class AlgSpec:
    """How to build a k-server algorithm for the experiment.

    make : (metric, initial, seed) -> algorithm
    kinds : metric kinds it accepts (None: every kind)
    adaptive : True for deterministic algorithms (they face their own cruel adversary)
    """

    make: Callable
    kinds: tuple | None = None
    adaptive: bool = False


def _dc(metric, init, seed):
    from online_algs.kserver import DoubleCoverage

    return DoubleCoverage(metric, init)


def _wfa(metric, init, seed):
    from online_algs.kserver import WorkFunctionKServer

    return WorkFunctionKServer(metric, init)


def _greedy(metric, init, seed):
    from online_algs.kserver import GreedyKServer

    return GreedyKServer(metric, init)


def _harmonic(metric, init, seed):
    from online_algs.kserver import RandomKServer

    return RandomKServer(metric, init, seed=seed)


ALGORITHMS: dict[str, AlgSpec] = {
    "DC": AlgSpec(_dc, kinds=("line", "tree"), adaptive=True),
    "WFA": AlgSpec(_wfa, adaptive=True),
    "Greedy": AlgSpec(_greedy, adaptive=True),
    "Harmonic": AlgSpec(_harmonic),
}

try:  # part 2's rounded entropic k-server on HSTs (any metric through an FRT embedding)
    from online_algs.kserver import RoundedKServerHST as _RK  # noqa: F401

    def _entropic(metric, init, seed):
        from online_algs.kserver import RoundedKServerHST

        return RoundedKServerHST(metric, init, embedding_seed=seed, seed=seed)

    ALGORITHMS["RoundedKServerHST"] = AlgSpec(_entropic)
except ImportError:  # pragma: no cover
    pass

try:  # issue #5: the multiscale projection on HSTs, rounded (any metric through an FRT embedding)
    from online_algs.kserver import RoundedMultiscaleKServerHST as _RM  # noqa: F401

    def _multiscale(metric, init, seed):
        from online_algs.kserver import RoundedMultiscaleKServerHST

        return RoundedMultiscaleKServerHST(metric, init, embedding_seed=seed, seed=seed)

    ALGORITHMS["RoundedMultiscaleKServerHST"] = AlgSpec(_multiscale)
except ImportError:  # pragma: no cover
    pass


def _kinds() -> list[str]:
    from online_algs.kserver import metric_kinds

    return [k for k in ("line", "tree", "hst") if k in metric_kinds()]


KINDS = _kinds()
FAMILIES = ["random", "clustered", "cruel"]


def cell(kind: str, k: int, family: str, T: int, seed: int) -> list[dict]:
    import online_algs
    from online_algs.kserver import clustered_requests, cruel_requests, offline_optimum, random_requests
    from online_algs.metrics import random_metric

    k, T, seed = int(k), int(T), int(seed)
    n = 2 * k + 2
    m = random_metric(kind, n, seed=seed)
    init = list(range(k))
    if family == "random":
        shared = random_requests(m, T, seed=seed)
    elif family == "clustered":
        shared = clustered_requests(m, T, seed=seed)
    else:
        shared = cruel_requests(_wfa(m, init, seed), m, T)
    opt_shared = offline_optimum(m, shared, init, method="dp").value
    rows = []
    for name, spec in ALGORITHMS.items():
        if spec.kinds is not None and kind not in spec.kinds:
            continue
        alg = spec.make(m, init, seed)
        req, opt, fam = shared, opt_shared, family
        if family == "cruel":
            if spec.adaptive:
                req = cruel_requests(spec.make(m, init, seed), m, T)
                opt = offline_optimum(m, req, init, method="dp").value
            else:
                fam = "cruel(WFA)"
        res = online_algs.run(alg, req, series=False, states=False)
        rows.append({"algorithm": name, "n": n, "request_family": fam, "alg_cost": res.total_cost, "opt": opt,
                     "ratio": res.total_cost / opt if opt > 0 else float("nan"), "bound_k": k,
                     "bound_2k_1": 2 * k - 1})
    return rows


def plot(df, outdir: str) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(outdir, exist_ok=True)
    from ._plot import draw_ratio_curves, figure_legend, integer_ticks, ratio_grid

    g, kinds, fams, algs, style = ratio_grid(df, "k", KINDS, FAMILIES, ALGORITHMS)
    colors = {a: style[a]["color"] for a in algs}
    merged = set()
    fig, axes = plt.subplots(len(fams), len(kinds), figsize=(3.2 * len(kinds), 2.7 * len(fams)), squeeze=False,
                             sharex=True)
    ks = np.sort(g["k"].unique())
    for i, fam in enumerate(fams):
        for j, kind in enumerate(kinds):
            ax = axes[i, j]
            sub = g[(g["kind"] == kind) & (g["family"] == fam)]
            draw_ratio_curves(ax, sub, "k", algs, style, merged, f"{kind} / {fam}")
            ax.plot(ks, ks, "k--", lw=1, label="k")
            ax.plot(ks, 2 * ks - 1, "k:", lw=1, label="2k-1")
            ax.set_yscale("log", base=2)
            integer_ticks(ax, ks)
            ax.set_title(f"{kind} / {fam}", fontsize=8)
            if i == len(fams) - 1:
                ax.set_xlabel("k")
            if j == 0:
                ax.set_ylabel("ALG / OPT")
    figure_legend(fig, axes)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    path = os.path.join(outdir, "kserver_ratio.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [(path, "k-server competitive ratio (cost / exact optimum, n = 2k+2 points) against k, per metric "
                   "family (columns) and request family (rows); dashed k (Theorems kserver.dc.competitive, "
                   "kserver.deterministic.lower_bound), dotted 2k-1 (Theorem kserver.wfa.competitive). Randomized "
                   "algorithms face the cruel sequence generated against WFA. Earlier algorithms of the legend are "
                   "drawn wider, so a curve under a nearly equal one (e.g. DC and WFA against their cruel "
                   "sequences) shows at its edges"
                   + (f"; identical curves are drawn once: {'; '.join(sorted(merged))}" if merged else "") + ".")]


def summary(df) -> str:
    from .report import df_to_markdown

    d = df[df["k"] >= 2]  # k = 1: one server, every algorithm is optimal (ratio 1), which says nothing
    if not len(d):
        return "_(only k = 1 cells: every ratio is 1)_"
    g = (d.groupby(["algorithm", "family"], sort=True)
         .agg(max_ratio=("ratio", "max"), mean_ratio=("ratio", "mean"),
              max_ratio_over_k=("ratio", lambda r: float(np.max(r / d.loc[r.index, "k"]))))
         .reset_index())
    ks = sorted(int(k) for k in d["k"].unique())
    return (f"Over k = {', '.join(map(str, ks))} (the k = 1 cells, where every algorithm is optimal and the ratio is "
            "1, are left out). `max_ratio_over_k`: the largest ratio / k; 1 is the deterministic bound k "
            "(Theorems kserver.dc.competitive for DC on lines and trees, kserver.deterministic.lower_bound), WFA's "
            "theorem allows 2k - 1 (kserver.wfa.competitive), and greedy has no competitive ratio.\n\n"
            + df_to_markdown(g))


EXPERIMENT = Experiment(
    name="kserver_ratio",
    description="k-server algorithms (Double Coverage, WFA, greedy, harmonic, and the rounded HST algorithms "
                "RoundedKServerHST (entropic BBN-style projection) and RoundedMultiscaleKServerHST (multiscale "
                "projection)) "
                "vs the exact optimum: competitive ratio against k on line, tree and HST metrics, random, clustered "
                "and cruel requests.",
    grid={"kind": KINDS, "k": [1, 2, 3, 4, 5], "family": FAMILIES, "T": [3000], "seed": [0, 1, 2]},
    quick_grid={"kind": KINDS, "k": [1, 2, 3, 4], "family": FAMILIES, "T": [400], "seed": [0]},
    cell=cell, plot=plot, summary=summary, tags=("kserver",), time_budget=60.0,
)
