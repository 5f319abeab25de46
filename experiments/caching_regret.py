"""No-regret caching: regret against T (log-log) for OGD, OMD, FTPL and a rounded OGD.

For each trace (the bundled real traces, prefixes of length T with ids remapped to 0..N-1, and
the adversarial pairs family N = 2C), each horizon T and each learner tuned for that horizon,
the regret against the best static cache in hindsight is measured together with the bound of
the learner's theorem: OGD ``sqrt(2 min(C, N-C) T)`` (Theorem ``caching.ogd.regret``), OMD
``sqrt(2 C log(N/C) T)`` (first order, Theorem ``caching.omd.regret``), FTPL
``1.51 (ln N)^(1/4) sqrt(C T)`` (in expectation, Theorem ``caching.ftpl.regret``). The rounded
variant is OGD with coupled Madow rounding (integral cache; its expected regret equals OGD's;
fetches per round are reported).
"""

from __future__ import annotations

import math
import os

import numpy as np

from experiments.api import Experiment

REAL = ["web07", "web12", "cloudphysics", "orm-busy"]
ALGS = ["OGD", "OMD", "FTPL", "OGD+coupled"]
ROUNDED_MAX_T = 8_192  # the rounded wrapper is O(N) per round in Python


def _trace(trace: str, capacity: int, T: int, seed: int):
    from online_algs.caching import traces as tr

    if trace == "adversarial_pairs":
        return tr.adversarial_pairs_trace(capacity, T, seed=seed), 2 * capacity
    x = tr.load_real_trace(trace)[:T]
    _, ids = np.unique(x, return_inverse=True)
    return ids.astype(np.int64), int(ids.max()) + 1


def _bound(alg: str, N: int, C: int, T: int) -> float:
    if alg.startswith("OGD"):
        return math.sqrt(2 * min(C, N - C) * T)
    if alg == "OMD":
        return math.sqrt(2 * C * math.log(N / C) * T)
    return 1.51 * math.log(N) ** 0.25 * math.sqrt(C * T)


def cell(trace: str, algorithm: str, capacity: int, T: int, seed: int) -> list[dict]:
    import online_algs
    from online_algs.caching import FTPL, OGD, OMD, Rounded, best_static_gain

    capacity, T, seed = int(capacity), int(T), int(seed)
    if algorithm == "OGD+coupled" and T > ROUNDED_MAX_T:
        return []
    x, N = _trace(trace, capacity, T, seed)
    C = min(capacity, N - 1)
    if algorithm == "OGD":
        alg = OGD(N, C, horizon=len(x))
    elif algorithm == "OMD":
        alg = OMD(N, C, horizon=len(x))
    elif algorithm == "FTPL":
        alg = FTPL(N, C, horizon=len(x), seed=seed)
    else:
        alg = Rounded(OGD(N, C, horizon=len(x)), method="coupled", seed=seed)
    res = online_algs.run(alg, x, series=False)
    best = best_static_gain(x, C, n_items=N)
    row = {"N": N, "C": C, "T_real": int(len(x)), "gain": res.total_gain, "best_static": best,
           "regret": best - res.total_gain, "bound": _bound(algorithm, N, C, len(x)),
           "fetches_per_round": float(res.info["total_fetches"] / len(x)) if "total_fetches" in res.info else float("nan")}
    row["regret_over_bound"] = row["regret"] / row["bound"]
    return [row]


def plot(df, outdir: str) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(outdir, exist_ok=True)
    g = df.groupby(["trace", "capacity", "algorithm", "T_real"], sort=True)[["regret", "bound"]].mean().reset_index()
    keys = sorted({(t, c) for t, c in zip(g["trace"], g["capacity"])})
    if not keys:
        return []
    ncol = min(3, len(keys))
    nrow = -(-len(keys) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.4 * ncol, 3.4 * nrow), squeeze=False)
    colors = dict(zip(ALGS, ["C0", "C1", "C2", "C3"]))
    for ax, (t, c) in zip(axes.flat, keys):
        sub = g[(g["trace"] == t) & (g["capacity"] == c)]
        for a in ALGS:
            s = sub[sub["algorithm"] == a]
            if not len(s):
                continue
            ax.plot(s["T_real"], np.maximum(s["regret"], 1e-1), marker="o", ms=3, color=colors[a], label=a)
            if a != "OGD+coupled":
                ax.plot(s["T_real"], s["bound"], ls="--", lw=0.9, color=colors[a])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{t}, C={c}", fontsize=9)
        ax.set_xlabel("T")
        ax.set_ylabel("regret (dashed: bound)")
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    path = os.path.join(outdir, "caching_regret.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [(path, "Regret against the best static cache vs T (log-log) for OGD, OMD, FTPL and OGD with coupled "
                   "rounding; dashed: each learner's theorem bound (caching.ogd.regret, caching.omd.regret, "
                   "caching.ftpl.regret). Regrets <= 0.1 are drawn at 0.1.")]


def summary(df) -> str:
    from .report import df_to_markdown

    g = (df.groupby(["trace", "algorithm"], sort=True)
         .agg(max_regret_over_bound=("regret_over_bound", "max"), mean_fetches=("fetches_per_round", "mean"))
         .reset_index())
    return df_to_markdown(g)


EXPERIMENT = Experiment(
    name="caching_regret",
    description="No-regret caching (OGD, OMD, FTPL, rounded OGD): regret vs T on real traces and the adversarial "
                "pairs family, with the theorems' bounds.",
    grid={"trace": REAL + ["adversarial_pairs"], "algorithm": ALGS, "capacity": [50, 500],
          "T": [1024, 4096, 16384, 65536, 262144, 1048576], "seed": [0, 1, 2]},
    quick_grid={"trace": ["web07", "adversarial_pairs"], "algorithm": ALGS, "capacity": [50],
                "T": [1024, 4096, 16384], "seed": [0]},
    cell=cell, plot=plot, summary=summary, tags=("caching",), time_budget=60.0,
)
