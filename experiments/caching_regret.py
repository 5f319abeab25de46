"""No-regret caching: regret against T (log-log) for OGD, OMD, FTPL and a rounded OGD.

For each trace (the bundled real traces, prefixes of length T with ids remapped to 0..N-1, and
the adversarial pairs family N = 2C), each horizon T and each learner tuned for that horizon,
the regret against the best static cache in hindsight is measured together with the bound of
the learner's theorem: OGD ``sqrt(2 min(C, N-C) T)`` (Theorem ``caching.ogd.regret``), OMD
``sqrt(2 C log(N/C) T)`` (first order, Theorem ``caching.omd.regret``), FTPL
``1.51 (ln N)^(1/4) sqrt(C T)`` (in expectation, Theorem ``caching.ftpl.regret``). The rounded
variant is OGD with coupled Madow rounding (integral cache; its expected regret equals OGD's;
fetches per round are reported). It is O(N) per round in Python, so its cells with
T > ``ROUNDED_MAX_T`` are not computed: they return one row with ``skipped = True`` (NaN values),
and the summary lists them. On the pairs family the plot also draws the lower bound
``sqrt(C T / (2 pi))`` on the expected regret of every policy (Theorem ``caching.regret.lower_bound``).

Grids: full: the four real traces and the pairs family, C in {50, 500}, T = 2^10 .. 2^20, seeds
0-2; quick: web07 and the pairs family, C = 50, T in {1024, 4096, 16384}, seed 0.
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
    nan = float("nan")
    if algorithm == "OGD+coupled" and T > ROUNDED_MAX_T:  # reported as skipped, not silently dropped
        return [{"N": nan, "C": nan, "T_real": nan, "gain": nan, "best_static": nan, "regret": nan, "bound": nan,
                 "fetches_per_round": nan, "regret_over_bound": nan, "lower_bound": nan, "skipped": True}]
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
    # the pairs family's lower bound on every policy's expected regret (N = 2C)
    row["lower_bound"] = math.sqrt(C * len(x) / (2 * math.pi)) if trace == "adversarial_pairs" else nan
    row["skipped"] = False
    return [row]


def _done(df):
    return df[~df["skipped"].astype(bool)] if "skipped" in df.columns else df


def plot(df, outdir: str) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(outdir, exist_ok=True)
    df = _done(df)
    cols = ["regret", "bound"] + (["lower_bound"] if "lower_bound" in df.columns else [])
    g = df.groupby(["trace", "capacity", "algorithm", "T_real"], sort=True)[cols].mean().reset_index()
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
            i = ALGS.index(a)
            ax.plot(s["T_real"], np.maximum(s["regret"], 1e-1), marker="os^v"[i], ms=6 - i, lw=2.4 - 0.4 * i,
                    color=colors[a], label=a)  # earlier ones wider: nearly equal curves stay visible
            if a != "OGD+coupled":
                ax.plot(s["T_real"], s["bound"], ls="--", lw=0.9, color=colors[a])
        if t == "adversarial_pairs" and "lower_bound" in sub.columns:
            lb = sub.groupby("T_real")["lower_bound"].mean()
            ax.plot(lb.index, lb.values, ls=":", lw=1.6, color="k", label="lower bound sqrt(CT/2pi)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{t}, C={c}", fontsize=9)
        ax.set_xlabel("T")
        ax.set_ylabel("regret (dashed: bound)")
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    handles, labels = [], []
    for ax in axes.flat:
        for hd, lb in zip(*ax.get_legend_handles_labels()):
            if lb not in labels:
                handles.append(hd)
                labels.append(lb)
    axes.flat[0].legend(handles, labels, fontsize=7)
    fig.tight_layout()
    path = os.path.join(outdir, "caching_regret.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    traces = sorted({t for t, _ in keys})
    cap = (f"Regret against the best static cache vs T (log-log) for OGD, OMD, FTPL and OGD with coupled rounding, "
           f"on {', '.join(traces)}; dashed: each learner's theorem bound (caching.ogd.regret, caching.omd.regret, "
           "caching.ftpl.regret; OGD+coupled has OGD's bound, in expectation)")
    if "adversarial_pairs" in traces:
        cap += ("; dotted black, pairs family: the lower bound sqrt(CT/(2 pi)) on the expected regret of every "
                "policy (caching.regret.lower_bound; one run per seed can fall below it)")
    top = df[df["algorithm"] == "OGD+coupled"]["T_real"].max() if (df["algorithm"] == "OGD+coupled").any() else None
    if top is not None and top < df["T_real"].max():
        cap += f". OGD+coupled stops at T = {int(top)} (cells with T > {ROUNDED_MAX_T} are skipped, see the summary)"
    return [(path, cap + ". Regrets <= 0.1 are drawn at 0.1.")]


def summary(df) -> str:
    from .report import df_to_markdown

    sk = df["skipped"].astype(bool) if "skipped" in df.columns else df["algorithm"].map(lambda _: False)
    g = (df.assign(_skip=sk).groupby(["trace", "algorithm"], sort=True)
         .agg(cells=("_skip", "size"), skipped=("_skip", "sum"), max_regret_over_bound=("regret_over_bound", "max"),
              fetches_per_round=("fetches_per_round", "mean"))
         .reset_index())
    g["skipped"] = g["skipped"].astype(int)
    g["fetches_per_round"] = g["fetches_per_round"].astype(object).where(g["algorithm"] == "OGD+coupled", None)
    text = ("`max_regret_over_bound`: the largest regret / theorem bound over the computed cells; "
            "`fetches_per_round`: mean fetches per request of the integral (rounded) learner, `-` for the fractional "
            "learners OGD, OMD and FTPL (no integral cache, no fetches).")
    if sk.any():
        s = df[sk]
        where = ", ".join(f"{t} T={int(T)}" for t, T in sorted({(t, T) for t, T in zip(s["trace"], s["T"])}))
        text += (f" **Skipped:** {int(sk.sum())} OGD+coupled cell(s) with T > ROUNDED_MAX_T = {ROUNDED_MAX_T} (the "
                 f"rounded wrapper is O(N) per round in Python): {where}.")
    return text + "\n\n" + df_to_markdown(g)


EXPERIMENT = Experiment(
    name="caching_regret",
    description="No-regret caching (OGD, OMD, FTPL, rounded OGD): regret vs T with the theorems' upper bounds, and "
                "the pairs family's lower bound. Full grid: the four real traces and the adversarial pairs family, "
                "C = 50 and 500, T up to 2^20, seeds 0-2; quick grid: web07 and the pairs family, C = 50, "
                "T <= 16384, seed 0. Rounded OGD runs only up to T = 8192.",
    grid={"trace": REAL + ["adversarial_pairs"], "algorithm": ALGS, "capacity": [50, 500],
          "T": [1024, 4096, 16384, 65536, 262144, 1048576], "seed": [0, 1, 2]},
    quick_grid={"trace": ["web07", "adversarial_pairs"], "algorithm": ALGS, "capacity": [50],
                "T": [1024, 4096, 16384], "seed": [0]},
    cell=cell, plot=plot, summary=summary, tags=("caching",), time_budget=60.0,
)
