"""A tiny built-in experiment that exercises the runner and the report (used by the tests).

On a random metric of ``online_algs.metrics.random_metric(kind, n, seed)`` it measures the
nearest-neighbour tour from point 0 against the minimum spanning tree weight (a lower bound of
the optimal tour, which is at most twice the MST weight), so ``nn_over_mst`` lies in
``[1, O(log n)]`` (Rosenkrantz, Stearns, Lewis 1977: the nearest-neighbour tour is within
``O(log n)`` of the optimum). It uses ``online_algs.metrics`` only and runs in milliseconds.

Variants for the tests: ``SLOW`` (each cell sleeps 0.25 s, to be interrupted) and ``FAILING``
(some cells raise). Run them with ``python -m experiments.runner experiments.demo:SLOW``.
"""

from __future__ import annotations

import os
import time

import numpy as np

from .api import Experiment

__all__ = ["EXPERIMENT", "SLOW", "FAILING", "demo_cell", "nn_tour_length", "mst_weight", "plot", "summary"]


def nn_tour_length(d: np.ndarray, start: int = 0) -> float:
    """Length of the closed nearest-neighbour tour from ``start`` (ties: the smallest index)."""
    n = d.shape[0]
    seen = np.zeros(n, dtype=bool)
    cur, total = start, 0.0
    seen[cur] = True
    for _ in range(n - 1):
        row = np.where(seen, np.inf, d[cur])
        nxt = int(np.argmin(row))
        total += float(d[cur, nxt])
        seen[nxt] = True
        cur = nxt
    return total + float(d[cur, start])


def mst_weight(d: np.ndarray) -> float:
    """Weight of a minimum spanning tree of the complete graph with weights ``d`` (Prim, O(n^2))."""
    n = d.shape[0]
    if n <= 1:
        return 0.0
    in_tree = np.zeros(n, dtype=bool)
    in_tree[0] = True
    best = d[0].astype(float).copy()
    total = 0.0
    for _ in range(n - 1):
        cand = np.where(in_tree, np.inf, best)
        v = int(np.argmin(cand))
        total += float(cand[v])
        in_tree[v] = True
        best = np.minimum(best, d[v])
    return total


def demo_cell(kind: str, n: int, seed: int, sleep: float = 0.0, fail: bool = False,
              sleep_file: str = "") -> list[dict]:
    """One cell: tour and MST of ``random_metric(kind, n, seed)``.

    ``sleep`` (seconds) slows the cell down; ``fail=True`` raises ``RuntimeError`` (tests).
    ``sleep_file``: if non-empty, sleep only while that file exists (a test releases the cells).
    """
    from online_algs.metrics import random_metric

    if fail:
        raise RuntimeError(f"demo cell asked to fail (kind={kind}, n={n}, seed={seed})")
    if sleep:
        time.sleep(float(sleep))
    while sleep_file and os.path.exists(sleep_file):
        time.sleep(0.05)
    m = random_metric(kind, int(n), seed=int(seed))
    d = np.asarray(m.d)
    nn = nn_tour_length(d)
    mst = mst_weight(d)
    iu = np.triu_indices(d.shape[0], 1)
    return [{"diameter": float(m.diameter), "mean_distance": float(d[iu].mean()) if len(iu[0]) else 0.0,
             "nn_tour": nn, "mst": mst, "nn_over_mst": nn / mst if mst > 0 else float("nan")}]


def plot(df, outdir: str) -> list[tuple[str, str]]:
    """``nn_over_mst`` against ``n``, one line per metric kind (mean over seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    g = df.groupby(["kind", "n"], sort=True)["nn_over_mst"].mean().reset_index()
    for kind, sub in g.groupby("kind", sort=True):
        ax.plot(sub["n"], sub["nn_over_mst"], marker="o", label=str(kind))
    ax.set_xscale("log", base=2)
    ax.set_xlabel("n (points)")
    ax.set_ylabel("NN tour / MST weight")
    ax.axhline(1.0, color="0.6", lw=0.8, ls="--")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(outdir, "nn_over_mst.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [(path, "Nearest-neighbour tour over MST weight (mean over seeds); the optimal tour lies in "
                   "[MST, 2 MST].")]


def summary(df) -> str:
    from .report import df_to_markdown

    g = (df.groupby("kind", sort=True)
         .agg(cells=("n", "size"), max_n=("n", "max"), mean_ratio=("nn_over_mst", "mean"),
              max_ratio=("nn_over_mst", "max"))
         .reset_index())
    return df_to_markdown(g)


EXPERIMENT = Experiment(
    name="demo",
    description="Nearest-neighbour tour vs minimum spanning tree on random metrics (a tiny built-in "
                "experiment that exercises the runner and the report).",
    grid={"kind": ["uniform", "line", "star", "tree", "euclidean"], "n": [8, 16, 32, 64], "seed": [0, 1, 2]},
    quick_grid={"kind": ["line", "euclidean"], "n": [8, 16], "seed": [0, 1]},
    cell=demo_cell, plot=plot, summary=summary, tags=("demo",), time_budget=30.0,
)

SLOW = Experiment(
    name="demo_slow",
    description="The demo with cells that sleep 0.25 s (interruption tests).",
    grid={"kind": ["line", "euclidean"], "n": [8, 16, 32], "seed": [0, 1], "sleep": [0.25]},
    cell=demo_cell, plot=plot, summary=summary, tags=("demo",),
)

FAILING = Experiment(
    name="demo_failing",
    description="The demo where half the cells raise (failure-handling tests).",
    grid={"kind": ["line"], "n": [4, 8], "seed": [0], "fail": [False, True]},
    cell=demo_cell, plot=plot, summary=summary, tags=("demo",),
)
