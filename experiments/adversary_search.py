"""Adversary search: for each algorithm and size, the worst ratio found by each search (random
sampling, local search, constructive greedy) beside the theorem's upper bound and the best known
lower bound."""

from __future__ import annotations

import os

from experiments.api import Experiment

PROBLEMS = {
    "WFA (MTS, uniform)": ("mts_wfa_uniform", "n", [3, 4, 5, 6], lambda s: 40 * s),
    "LRU (paging)": ("paging_lru", "k", [2, 3, 4, 5, 6, 7, 8], lambda s: 15 * s * s),
    "DC (k-server, line)": ("kserver_dc_line", "k", [2, 3, 4, 5], lambda s: 30 * s),
}


def cell(problem: str, size: int, method: str, budget: int, seed: int) -> list[dict]:
    from proofs_check.adversary import constructive_search, local_search, random_search
    from proofs_check.adversary.registry import PROBLEMS as BUILD

    name, param, sizes, length = PROBLEMS[problem]
    if size not in sizes:
        return []
    p = BUILD[name](**{param: size})
    L = length(size)
    if method == "constructive":
        res = constructive_search(p, L, seed=seed)
    elif method == "local":
        res = local_search(p, L, evaluations=budget, seed=seed)
    else:
        res = random_search(p, L, evaluations=budget, seed=seed)
    return [{"problem": problem, "size": size, "method": method, "ratio": res.ratio, "upper": p.bound,
             "lower": p.lower, "evaluations": res.evaluations, "seconds": res.seconds, "length": len(res.seq)}]


def plot(df, outdir: str):
    import matplotlib.pyplot as plt
    import numpy as np

    from ._plot import integer_ticks, merge_identical

    probs = [pr for pr in PROBLEMS if (df["problem"] == pr).any()]
    if not probs:
        return []
    styles = {"random": dict(marker="s", color="C0", lw=3.0, ms=8), "local": dict(marker="^", color="C1", lw=2.2, ms=6.5),
              "constructive": dict(marker="o", color="C2", lw=1.4, ms=4.5)}
    fig, axes = plt.subplots(1, len(probs), figsize=(4.3 * len(probs), 3.6), squeeze=False)
    notes, tight = [], []
    for ax, pr in zip(axes[0], probs):
        sub = df[df["problem"] == pr]
        curves = {}
        for m in ("random", "local", "constructive"):
            s = sub[sub["method"] == m].groupby("size")["ratio"].max()
            if len(s):
                curves[m] = (s.index.to_numpy(), s.values)
        # the bounds thin and on top: where a search reaches the bound, the dashes lie on its curve
        b = sub.groupby("size")[["upper", "lower"]].first()
        if np.allclose(b["upper"], b["lower"]):
            ax.plot(b.index, b["upper"], color="k", ls="--", lw=1.0, zorder=3, label="theorem bound = lower bound")
            tight.append(pr)
        else:
            ax.plot(b.index, b["upper"], color="k", ls="--", lw=1.0, zorder=3, label="theorem (upper)")
            ax.plot(b.index, b["lower"], color="0.45", ls=":", lw=1.6, zorder=3, label="lower bound")
        for labels, x, y in merge_identical(curves):
            ax.plot(x, y, label=" = ".join(labels), zorder=2, **styles[labels[0]])
            if len(labels) > 1:
                notes.append(f"{' = '.join(labels)} on {pr}")
        integer_ticks(ax, sub["size"])
        ax.set_title(pr)
        ax.set_xlabel(PROBLEMS[pr][1])
        ax.set_ylabel("worst ALG/OPT found")
        ax.legend(fontsize=6)
    fig.tight_layout()
    p = os.path.join(outdir, "adversary_search.png")
    fig.savefig(p, dpi=110)
    plt.close(fig)
    cap = "Worst competitive ratio found by each search against the theorem's upper bound and the best known lower bound"
    if tight:
        cap += (f"; for {', '.join(tight)} the two are equal (the bound is tight) and drawn as one dashed line")
    if notes:
        cap += f"; searches with identical results are drawn once ({'; '.join(notes)})"
    cap += (". The bound lines are drawn on top: where a search reaches the bound, the dashes lie on its curve. "
            "Searches listed first are drawn wider, so a curve under a nearly equal one shows at its edges.")
    return [(p, cap)]


def summary(df) -> str:
    lines = ["| algorithm | size | random | local | constructive | theorem | lower bound |", "|---|---|---|---|---|---|---|"]
    for (pr, size), g in df.groupby(["problem", "size"]):
        r = {m: g[g["method"] == m]["ratio"].max() for m in ("random", "local", "constructive")}
        lines.append(f"| {pr} | {size} | {r['random']:.3f} | {r['local']:.3f} | {r['constructive']:.3f} | "
                     f"{g['upper'].iloc[0]:.3g} | {g['lower'].iloc[0]:.3g} |")
    return "\n".join(lines)


EXPERIMENT = Experiment(
    name="adversary_search",
    description="Worst instances found automatically: random sampling and local search with the same budget of "
                "full evaluations, and the constructive greedy (ALG - r OPT) search, for WFA, LRU and Double "
                "Coverage.",
    grid={"problem": list(PROBLEMS), "size": [2, 3, 4, 5, 6, 7, 8], "method": ["random", "local", "constructive"],
          "budget": [2000], "seed": [0]},
    quick_grid={"problem": list(PROBLEMS), "size": [2, 3, 4, 5, 6], "method": ["random", "local", "constructive"],
                "budget": [150], "seed": [0]},
    cell=cell, plot=plot, summary=summary, tags=("adversary",),
)
