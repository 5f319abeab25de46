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

    probs = list(PROBLEMS)
    fig, axes = plt.subplots(1, len(probs), figsize=(4.3 * len(probs), 3.6), squeeze=False)
    for ax, pr in zip(axes[0], probs):
        sub = df[df["problem"] == pr]
        if not len(sub):
            continue
        for m, mk in (("random", "s"), ("local", "^"), ("constructive", "o")):
            s = sub[sub["method"] == m].groupby("size")["ratio"].max()
            ax.plot(s.index, s.values, marker=mk, label=m)
        b = sub.groupby("size")[["upper", "lower"]].first()
        ax.plot(b.index, b["upper"], "k--", label="theorem (upper)")
        ax.plot(b.index, b["lower"], "k:", label="lower bound")
        ax.set_title(pr)
        ax.set_xlabel(PROBLEMS[pr][1])
        ax.set_ylabel("worst ALG/OPT found")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    p = os.path.join(outdir, "adversary_search.png")
    fig.savefig(p, dpi=110)
    plt.close(fig)
    return [(p, "Worst competitive ratio found by each search against the theorem's bound and the lower bound.")]


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
