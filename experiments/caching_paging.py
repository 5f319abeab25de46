"""Classic paging policies against Belady: hit ratio and competitive ratio against cache size.

For each trace and cache size k every classic policy (LRU, FIFO, CLOCK, LFU, RandomEviction,
Marking, ARC) and Belady run from a cold cache. Rows: hits, misses, hit ratio and the ratio
misses / Belady's misses. Traces: the bundled real traces (web07, web12, cloudphysics, a 10^6
prefix of orm-busy), a Zipf(0.9) trace, and the (k+1)-page cycle on which every deterministic
policy is forced to ratio ~k (the bound of Theorem ``caching.lru.competitive``, drawn in the
ratio plot) while Marking pays ~H_k per phase.
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
    opt = belady_misses(x, int(capacity))
    rows = [{"policy": "Belady", "T": T, "hits": T - opt, "misses": opt, "hit_ratio": (T - opt) / T,
             "ratio_to_opt": 1.0, "opt_misses": opt}]
    for name in POLICIES:
        cls = PAGING_POLICIES[name]
        alg = cls(capacity=int(capacity), seed=int(seed)) if cls.randomized else cls(capacity=int(capacity))
        res = online_algs.run(alg, x)
        rows.append({"policy": name, "T": T, "hits": int(res.hits), "misses": int(res.misses),
                     "hit_ratio": res.hits / T, "ratio_to_opt": res.misses / opt if opt else float("nan"),
                     "opt_misses": opt})
    return rows


def plot(df, outdir: str) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(outdir, exist_ok=True)
    out = []
    g = df.groupby(["trace", "capacity", "policy"], sort=True)[["hit_ratio", "ratio_to_opt"]].mean().reset_index()
    traces = [t for t in REAL + ["zipf"] if t in set(g["trace"])]
    if traces:
        ncol = min(3, len(traces))
        nrow = -(-len(traces) // ncol)
        fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
        for ax, t in zip(axes.flat, traces):
            sub = g[g["trace"] == t]
            for pol in ["Belady"] + POLICIES:
                s = sub[sub["policy"] == pol]
                if len(s):
                    ax.plot(s["capacity"], s["hit_ratio"], marker="o", ms=3, label=pol,
                            lw=2.2 if pol == "Belady" else 1.0, color="k" if pol == "Belady" else None)
            ax.set_xscale("log", base=2)
            ax.set_title(t, fontsize=9)
            ax.set_xlabel("cache size k")
            ax.set_ylabel("hit ratio")
        for ax in list(axes.flat)[len(traces):]:
            ax.axis("off")
        axes.flat[0].legend(fontsize=7)
        fig.tight_layout()
        path = os.path.join(outdir, "paging_hit_ratio.png")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        out.append((path, "Hit ratio against cache size for every classic policy and Belady (the optimum, black)."))
    fams = [t for t in ("cycle", "zipf") if t in set(g["trace"])]
    if fams:
        fig, axes = plt.subplots(1, len(fams), figsize=(4.6 * len(fams), 3.4), squeeze=False)
        for ax, t in zip(axes.flat, fams):
            sub = g[g["trace"] == t]
            for pol in POLICIES:
                s = sub[sub["policy"] == pol]
                ax.plot(s["capacity"], s["ratio_to_opt"], marker="o", ms=3, label=pol)
            ks = np.sort(sub["capacity"].unique())
            ax.plot(ks, ks, "k--", lw=1.2, label="bound k")
            ax.set_xscale("log", base=2)
            ax.set_yscale("log", base=2)
            ax.set_title(f"{t}: misses / Belady misses", fontsize=9)
            ax.set_xlabel("cache size k")
        axes.flat[0].legend(fontsize=7)
        fig.tight_layout()
        path = os.path.join(outdir, "paging_competitive_ratio.png")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        out.append((path, "Competitive ratio (misses / Belady) against cache size; dashed: the deterministic bound k "
                          "(Theorem caching.lru.competitive), reached on the (k+1)-cycle."))
    return out


def summary(df) -> str:
    from .report import df_to_markdown

    g = (df[df["policy"] != "Belady"].groupby(["trace", "policy"], sort=True)
         .agg(mean_hit_ratio=("hit_ratio", "mean"), max_ratio_to_opt=("ratio_to_opt", "max"))
         .reset_index())
    return df_to_markdown(g)


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
