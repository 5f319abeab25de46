"""Memory-augmented edge inference: accuracy of a small model plus a datastore learned online,
for every policy and shift, against model-only, kNN-only, the full datastore, offline instance
reduction and the best static datastore in hindsight."""

from __future__ import annotations

import functools
import os
import time

import numpy as np

from experiments.api import Experiment

ONLINE = ["none", "fifo", "lru", "reservoir", "error", "qlru", "omd", "full", "knn_only"]
#: baselines that are runs of MemoryAugmentedClassifier with a fixed policy and lambda:
#: ``none`` = the model only (no datastore), ``full`` = every example seen kept (lambda learned),
#: ``knn_only`` = every example seen kept and lambda = 1 (the kNN alone; the model answers only
#: before the first example arrives)
_RUN_AS = {"knn_only": ("full", 1.0)}
OFFLINE = ["cnn", "enn", "drop3", "best_static"]


@functools.lru_cache(maxsize=8)
def _domain(shift: str, n_source: int, n_stream: int, seed: int):
    from online_algs.memory import SmallModel, mnist_domains

    Xs, ys, Xt, yt = mnist_domains(shift, n_source, n_stream, seed=seed)
    model = SmallModel(50, max_iter=150).fit(Xs, ys)
    return model, model.features(Xt), yt


def cell(shift: str, h_frac: float, n_stream: int, seed: int) -> list[dict]:
    import online_algs
    from online_algs.memory import (MemoryAugmentedClassifier, cnn, drop3, enn, evaluate_static,
                                    static_surrogate_best, trim)

    model, F, y = _domain(shift, n_stream, n_stream, seed)
    h = max(1, int(round(h_frac * n_stream)))
    rows = []
    win = max(1, n_stream // 10)
    for pol in ONLINE:
        policy, lam = _RUN_AS.get(pol, (pol, "learn"))
        alg = MemoryAugmentedClassifier(model, h, policy, k=5, tau=10.0, lam=lam, seed=seed)
        t0 = time.perf_counter()
        res = online_algs.run(alg, (F, y), series=True)
        dt = time.perf_counter() - t0
        g = res.gain
        base = {"shift": shift, "h": h, "policy": pol, "kind": "online"}
        rows.append({**base, "metric": "accuracy", "t": n_stream, "value": float(g.mean())})
        rows.append({**base, "metric": "latency_ms", "t": n_stream, "value": 1000 * dt / n_stream})
        rows.append({**base, "metric": "fetches", "t": n_stream, "value": float(res.info["fetches"])})
        rows.append({**base, "metric": "lambda", "t": n_stream, "value": float(res.info["final_lambda"])})
        if pol == "omd":
            rows.append({**base, "metric": "surrogate_regret", "t": n_stream, "value": res.info["surrogate_regret"]})
        for s in range(0, n_stream, win):
            rows.append({**base, "metric": "window_accuracy", "t": s + win, "value": float(g[s:s + win].mean())})
    sel = {"cnn": trim(cnn(F, y, seed=seed), h, seed), "enn": trim(enn(F, y), h, seed),
           "drop3": trim(drop3(F, y), h, seed), "best_static": static_surrogate_best(model, F, y, h)}
    for name, idx in sel.items():
        acc = evaluate_static(model, F, y, idx)
        rows.append({"shift": shift, "h": h, "policy": name, "kind": "offline", "metric": "accuracy", "t": n_stream,
                     "value": acc["accuracy"]})
    return rows


def plot(df, outdir: str):
    import matplotlib.pyplot as plt

    from ._plot import MARKERS, integer_ticks

    out = []
    acc = df[df["metric"] == "accuracy"]
    shifts = sorted(acc["shift"].unique())
    style = {pol: dict(color=f"C{i % 10}", marker=MARKERS[i % len(MARKERS)], lw=2.4 - 0.12 * i, ms=6.5 - 0.25 * i,
                       linestyle="-" if pol in ONLINE else ":") for i, pol in enumerate(ONLINE + OFFLINE)}
    hs = sorted(int(h) for h in acc["h"].unique())
    fig, axes = plt.subplots(1, len(shifts), figsize=(4 * len(shifts), 3.6 if len(hs) > 1 else 4.2), squeeze=False)
    for ax, sh in zip(axes[0], shifts):
        sub = acc[acc["shift"] == sh]
        if len(hs) > 1:
            for pol in ONLINE + OFFLINE:
                s = sub[sub["policy"] == pol].sort_values("h")
                if len(s):
                    ax.plot(s["h"], s["value"], label=pol, **style[pol])
            ax.set_xscale("log")
            integer_ticks(ax, hs)
            ax.set_xlabel("datastore capacity h")
            ax.set_ylabel("accuracy")
            ax.set_title(f"shift: {sh}")
        else:  # one capacity (the quick grid): accuracy per policy, as bars
            pols = [p for p in ONLINE + OFFLINE if (sub["policy"] == p).any()]
            vals = [float(sub[sub["policy"] == p]["value"].mean()) for p in pols]
            ax.bar(range(len(pols)), vals, color=[style[p]["color"] for p in pols],
                   hatch=None, edgecolor=["k" if p in OFFLINE else "none" for p in pols])
            for i, p in enumerate(pols):
                if p in OFFLINE:
                    ax.patches[i].set_hatch("//")
            if "none" in pols:
                ax.axhline(vals[pols.index("none")], color="k", lw=0.8, ls="--", label="model only (none)")
            lo = min(vals)
            ax.set_ylim(max(0.0, lo - 0.1 * (max(vals) - lo) - 0.02), min(1.0, max(vals) + 0.02))
            ax.set_xticks(range(len(pols)))
            ax.set_xticklabels(pols, rotation=60, fontsize=7)
            ax.set_ylabel("accuracy")
            ax.set_title(f"shift: {sh}, h = {hs[0]}")
    if len(hs) > 1:
        axes[0][-1].legend(fontsize=7, loc="best")
    fig.tight_layout()
    p = os.path.join(outdir, "memory_accuracy_vs_h.png")
    fig.savefig(p, dpi=110)
    plt.close(fig)
    if len(hs) > 1:
        out.append((p, "Accuracy against datastore capacity h (" + ", ".join(map(str, hs)) + ") for every policy "
                       "(solid: online, dotted: offline oracles trimmed to h) and shift."))
    else:
        out.append((p, f"Accuracy of every policy at the one datastore capacity of this grid, h = {hs[0]} (the quick "
                       "grid runs one capacity; the full grid draws accuracy against h), per shift. Plain bars: online "
                       "policies; hatched: offline oracles trimmed to h; dashed: the model alone (`none`). The y axis "
                       "is cut to the range of the bars."))
    wa = df[df["metric"] == "window_accuracy"]
    if len(wa):
        hmin = wa["h"].min()
        fig, axes = plt.subplots(1, len(shifts), figsize=(4 * len(shifts), 3.6), squeeze=False)
        for ax, sh in zip(axes[0], shifts):
            sub = wa[(wa["shift"] == sh) & (wa["h"] == wa[wa["shift"] == sh]["h"].min())]
            for pol in ONLINE:
                s = sub[sub["policy"] == pol].sort_values("t")
                ax.plot(s["t"], s["value"], label=pol, **{**style[pol], "ms": style[pol]["ms"] * 0.7})
            ax.set_title(f"{sh}, h={int(sub['h'].iloc[0]) if len(sub) else hmin}")
            ax.set_xlabel("stream position")
            ax.set_ylabel("window accuracy")
        axes[0][-1].legend(fontsize=7)
        fig.tight_layout()
        p = os.path.join(outdir, "memory_accuracy_over_time.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
        out.append((p, "Accuracy over time (windows of 10% of the stream) at the smallest capacity of the grid; "
                       "the policies listed first are drawn wider, so a curve under a nearly equal one shows at its "
                       "edges."))
    lat = df[(df["metric"] == "latency_ms")]
    if len(lat):
        fig, ax = plt.subplots(figsize=(6, 3.5))
        m = lat.groupby("policy")["value"].mean().reindex(ONLINE)
        ax.bar(m.index, m.values)
        ax.set_ylabel("ms per prediction (incl. policy update)")
        ax.tick_params(axis="x", rotation=45)
        fig.tight_layout()
        p = os.path.join(outdir, "memory_latency.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
        out.append((p, "Latency per prediction (model + kNN + interpolation + policy update), mean over cells."))
    return out


def summary(df) -> str:
    acc = df[df["metric"] == "accuracy"]
    lines = []
    for h in sorted(acc["h"].unique()):
        sub = acc[acc["h"] == h]
        pt = sub.pivot_table(index="policy", columns="shift", values="value", aggfunc="mean")
        pt = pt.reindex([p for p in ONLINE + OFFLINE if p in pt.index])
        lines.append(f"\n**Accuracy, h = {h}** (model only = `none`; `full` keeps every example; `knn_only`: every example, lambda = 1; "
                     f"cnn/enn/drop3/best_static are offline oracles trimmed to h)\n")
        lines.append("| policy | " + " | ".join(pt.columns) + " |")
        lines.append("|---|" + "---|" * len(pt.columns))
        for pol, r in pt.iterrows():
            lines.append(f"| {pol} | " + " | ".join(f"{v:.3f}" for v in r.values) + " |")
        beats = []
        for sh in pt.columns:
            best_pol = pt[sh].drop(["full", "knn_only", "none"] + [o for o in OFFLINE if o in pt.index],
                                   errors="ignore").idxmax()
            if pt.loc[best_pol, sh] > pt.loc["none", sh]:
                beats.append(f"{sh} ({best_pol} {pt.loc[best_pol, sh]:.3f} > model {pt.loc['none', sh]:.3f})")
        lines.append(f"\nOnline datastores of capacity {h} beating model-only: " + (", ".join(beats) or "none"))
    return "\n".join(lines)


EXPERIMENT = Experiment(
    name="memory_edge",
    description="A small model (PCA-50 + logistic regression trained on as many upright MNIST digits as the stream "
                "is long: 5,000 in the full grid, 1,500 in the quick one) deployed on a shifted stream, helped by a "
                "datastore of capacity h filled online by each policy; kNN-LM interpolation with lambda learned "
                "online. h = 0.5%, 1%, 2% and 5% of the stream in the full grid, 1% (the headline) only in the quick "
                "grid.",
    grid={"shift": ["rotate", "noise", "prior", "thick"], "h_frac": [0.005, 0.01, 0.02, 0.05], "n_stream": [5000],
          "seed": [0]},
    quick_grid={"shift": ["rotate", "noise", "prior", "thick"], "h_frac": [0.01], "n_stream": [1500], "seed": [0]},
    cell=cell, plot=plot, summary=summary, tags=("memory",),
)
