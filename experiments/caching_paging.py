"""Classic paging policies against Belady: hit ratio and competitive ratio against cache size.

For each trace and cache size k every classic policy (LRU, FIFO, CLOCK, LFU, RandomEviction,
Marking, ARC) and Belady run from a cold cache. Rows: hits, misses, hit ratio and the ratio
misses / Belady's misses. Traces: the bundled real traces (web07, web12, cloudphysics, a prefix
of orm-busy; prefixes of ``length`` requests: 10^6 in the full grid, 10^5 in the quick one), a
Zipf(0.9) trace, and the (k+1)-page cycle on which every deterministic policy here misses every
request while Marking pays ~H_k per phase. On the cycle the ratio T / OPT approaches the bound k
of Theorem ``caching.lru.competitive`` (drawn in the ratio plot) only when T >> k^2: Belady's
misses are the k+1 cold misses plus ~T/k, so the cold misses dominate for large k. The rows
therefore also give ``distinct`` (the cold misses every policy pays) and the ratio with them
excluded, ``warm_ratio = (misses - distinct) / (OPT - distinct)``, which is ~k on the cycle for
every T.
"""

from __future__ import annotations

import os

import numpy as np

from experiments.api import Experiment

POLICIES = ["LRU", "FIFO", "CLOCK", "LFU", "RandomEviction", "Marking", "ARC"]
REAL = ["web07", "web12", "cloudphysics", "orm-busy"]


def _trace(trace: str, k: int, length: int, seed: int) -> np.ndarray:
    from online_algs.caching import traces as tr

    if trace in REAL:
        return tr.load_real_trace(trace)[:length]
    if trace == "zipf":
        return tr.zipf_trace(100_000, length, alpha=0.9, seed=seed)
    if trace == "cycle":
        return tr.cycle_trace(k, length)
    raise ValueError(f"unknown trace {trace!r}")


def cell(trace: str, capacity: int, length: int, seed: int) -> list[dict]:
    import online_algs
    from online_algs.caching import PAGING_POLICIES, belady_misses

    x = _trace(trace, int(capacity), int(length), int(seed))
    T = int(len(x))
    distinct = int(len(np.unique(x)))  # cold misses: every policy (Belady too) pays them
    opt = belady_misses(x, int(capacity))

    def warm(m):
        return (m - distinct) / (opt - distinct) if opt > distinct else float("nan")

    rows = [{"policy": "Belady", "T": T, "hits": T - opt, "misses": opt, "hit_ratio": (T - opt) / T,
             "ratio_to_opt": 1.0, "opt_misses": opt, "distinct": distinct, "warm_ratio": warm(opt)}]
    for name in POLICIES:
        cls = PAGING_POLICIES[name]
        alg = cls(capacity=int(capacity), seed=int(seed)) if cls.randomized else cls(capacity=int(capacity))
        res = online_algs.run(alg, x)
        rows.append({"policy": name, "T": T, "hits": int(res.hits), "misses": int(res.misses),
                     "hit_ratio": res.hits / T, "ratio_to_opt": res.misses / opt if opt else float("nan"),
                     "opt_misses": opt, "distinct": distinct, "warm_ratio": warm(int(res.misses))})
    return rows


def _styles():
    from ._plot import MARKERS

    # earlier policies are drawn wider, so a curve hidden by a later, nearly equal one still shows at its edges
    return {pol: dict(color=f"C{i}", marker=MARKERS[i % len(MARKERS)], lw=2.8 - 0.3 * i, ms=6.0 - 0.4 * i)
            for i, pol in enumerate(POLICIES)}


def plot(df, outdir: str) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ._plot import integer_ticks, merge_identical

    os.makedirs(outdir, exist_ok=True)
    out = []
    sty = _styles()
    g = df.groupby(["trace", "capacity", "policy"], sort=True)[["hit_ratio", "ratio_to_opt"]].mean().reset_index()
    traces = [t for t in REAL + ["zipf"] if t in set(g["trace"])]
    merged_notes = []
    if traces:
        ncol = min(3, len(traces))
        nrow = -(-len(traces) // ncol)
        fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
        for ax, t in zip(axes.flat, traces):
            sub = g[g["trace"] == t]
            b = sub[sub["policy"] == "Belady"]
            if len(b):
                ax.plot(b["capacity"], b["hit_ratio"], marker="o", ms=3, lw=2.2, color="k", label="Belady")
            curves = {pol: (sub[sub["policy"] == pol]["capacity"].to_numpy(), sub[sub["policy"] == pol]["hit_ratio"]
                            .to_numpy()) for pol in POLICIES if (sub["policy"] == pol).any()}
            for labels, x, y in merge_identical(curves):
                ax.plot(x, y, label=" = ".join(labels), **sty[labels[0]])
                if len(labels) > 1:
                    merged_notes.append(f"{' = '.join(labels)} on {t}")
            ax.set_xscale("log", base=2)
            integer_ticks(ax, sub["capacity"])
            ax.set_title(t, fontsize=9)
            ax.set_xlabel("cache size k")
            ax.set_ylabel("hit ratio")
            if ax is not axes.flat[0] and any(" = " in lb for lb in ax.get_legend_handles_labels()[1]):
                ax.legend(fontsize=6)  # this panel merges identical curves: its own legend
        spare = list(axes.flat)[len(traces):]
        for ax in spare:
            ax.axis("off")
        h, lb = axes.flat[0].get_legend_handles_labels()
        if spare:
            spare[0].legend(h, lb, loc="center", fontsize=8)
        else:
            axes.flat[0].legend(fontsize=6)
        fig.tight_layout()
        path = os.path.join(outdir, "paging_hit_ratio.png")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        cap = ("Hit ratio against cache size for every classic policy and Belady (the optimum, black); the policies "
               "listed first are drawn wider, so a curve under a nearly equal one shows at its edges.")
        if merged_notes:
            cap += " Policies joined by '=' have identical curves (" + "; ".join(merged_notes) + ")."
        out.append((path, cap))
    fams = [t for t in ("cycle", "zipf") if t in set(g["trace"])]
    if fams:
        fig, axes = plt.subplots(1, len(fams), figsize=(4.8 * len(fams), 3.6), squeeze=False)
        notes = []
        for ax, t in zip(axes.flat, fams):
            sub = g[g["trace"] == t]
            ks = np.sort(sub["capacity"].unique())
            curves = {pol: (sub[sub["policy"] == pol]["capacity"].to_numpy(),
                            sub[sub["policy"] == pol]["ratio_to_opt"].to_numpy())
                      for pol in POLICIES if (sub["policy"] == pol).any()}
            for labels, x, y in merge_identical(curves):
                ax.plot(x, y, label=" = ".join(labels), **sty[labels[0]])
                if len(labels) > 1:
                    notes.append(f"{' = '.join(labels)} coincide on {t}")
            if t == "cycle":  # the bound is drawn where it is (nearly) reached; on Zipf it would squash the data
                ax.plot(ks, ks, "k--", lw=1.2, label="bound k")
            ax.set_xscale("log", base=2)
            if t == "cycle":
                ax.set_yscale("log", base=2)
            integer_ticks(ax, ks)
            ax.set_title(f"{t}: misses / Belady misses", fontsize=9)
            ax.set_xlabel("cache size k")
            ax.legend(fontsize=6)
        fig.tight_layout()
        path = os.path.join(outdir, "paging_competitive_ratio.png")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        cap = ("Competitive ratio (misses / Belady misses) against cache size. Dashed, cycle panel only: the "
               "deterministic bound k (Theorem caching.lru.competitive: misses <= k OPT + k). On the (k+1)-cycle the deterministic "
               "policies miss every request, and their ratio T / OPT approaches k only when T >> k^2 (Belady's k+1 "
               "cold misses dominate its ~T/k other misses otherwise)")
        cyc = df[(df["trace"] == "cycle") & (df["policy"] == "LRU")]
        if len(cyc):
            Ts = sorted(int(v) for v in cyc["T"].unique())
            ks_all = sorted(int(k) for k in cyc["capacity"].unique())
            near = sorted({int(k) for k, r in zip(cyc["capacity"], cyc["ratio_to_opt"]) if r >= 0.9 * k})
            far = [k for k in ks_all if k not in near]
            cap += (f": with T = {', '.join(f'{v:,}' for v in Ts)} requests here the ratio is within 10% of k for "
                    f"k in {near or 'none'}" + (f" and further below it for k in {far}" if far else "")
                    + "; with the cold misses excluded (max_warm_ratio in the summary) it is ~k for every k")
        cap += (". As in the hit-ratio figure, the policies listed first are drawn wider. The Zipf panel has its own, linear scale (ratios near 1; the bound k is far above and not drawn)."
                + (" " + "; ".join(notes) + " (drawn once)." if notes else ""))
        out.append((path, cap))
    return out


def summary(df) -> str:
    from .report import df_to_markdown

    d = df[df["policy"] != "Belady"]
    agg = dict(T=("T", "max"), mean_hit_ratio=("hit_ratio", "mean"), max_ratio_to_opt=("ratio_to_opt", "max"))
    if "warm_ratio" in d.columns:
        agg["max_warm_ratio"] = ("warm_ratio", "max")
    g = d.groupby(["trace", "policy"], sort=True).agg(**agg).reset_index()
    return ("`T`: requests per run; `max_ratio_to_opt`: the largest misses / Belady misses over the cache sizes "
            "k; `max_warm_ratio`: the same with the cold misses (the trace's distinct pages, paid by every policy, "
            "Belady included) subtracted from both. Theorem caching.lru.competitive bounds misses by k OPT + k, so "
            "on the (k+1)-cycle the raw ratio approaches k from below only when T >> k^2, while the warm ratio is "
            "~k for every T (it can exceed k by a little: Belady's warm misses, about (T - k - 1)/k, are rounded "
            "down; the theorem's additive k covers that).\n\n"
            + df_to_markdown(g))


EXPERIMENT = Experiment(
    name="caching_paging",
    description="Classic paging policies vs Belady: hit ratio and competitive ratio against cache size on real "
                "traces, Zipf and (k+1)-cycles.",
    grid={"trace": REAL + ["zipf", "cycle"], "capacity": [4, 16, 64, 256, 1024, 4096],
          "length": [1_000_000], "seed": [0, 1, 2]},
    quick_grid={"trace": REAL + ["zipf", "cycle"], "capacity": [4, 16, 64, 256, 1024],
                "length": [100_000], "seed": [0]},
    cell=cell, plot=plot, summary=summary, tags=("caching",), time_budget=60.0,
)
