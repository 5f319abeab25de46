"""Characterise every bundled data set and trace, and recommend a lens for each."""

from __future__ import annotations

import os

import numpy as np

from experiments.api import Experiment

TRACES = ["web07", "web12", "cloudphysics", "orm-busy"]
VECTORS = ["mnist", "movielens-svd"]


def _movielens_vectors(dim: int = 32) -> np.ndarray:
    """Item embeddings from a truncated SVD of the user-item rating matrix (items with >= 5 ratings)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import svds

    from online_algs.datasets import load_movielens

    ml = load_movielens()
    n_items = int(ml["item"].max()) + 1
    R = coo_matrix((ml["rating"], (ml["item"], ml["user"])), shape=(n_items, int(ml["user"].max()) + 1)).tocsr()
    counts = np.diff(R.indptr)
    R = R[counts >= 5]
    u, s, _ = svds(R.astype(np.float64), k=dim, random_state=0)
    return u * s


def cell(dataset: str, seed: int) -> list[dict]:
    from online_algs import datasets
    from online_algs.analysis import characterise_trace, characterise_vectors, recommend_lens

    if dataset in TRACES:
        t = datasets.load_trace(dataset)
        if dataset == "orm-busy":
            t = t[:1_000_000]
        s = characterise_trace(t, seed=seed)
        rec = recommend_lens(trace_stats=s)
        row = {"dataset": dataset, "kind": "trace", **{k: float(v) for k, v in s.items()}}
    else:
        X = datasets.load_mnist()[0].astype(np.float64) if dataset == "mnist" else _movielens_vectors()
        v = characterise_vectors(X, seed=seed)
        rec = recommend_lens(vector_stats=v)
        row = {"dataset": dataset, "kind": "vectors", "points": v["points"], "ambient_dim": v["ambient_dim"],
               "id_levina_bickel": v["id_levina_bickel"], "id_lb_lo": v["id_lb_ci"][0], "id_lb_hi": v["id_lb_ci"][1],
               "id_twonn": v["id_twonn"], "id_twonn_lo": v["id_twonn_ci"][0], "id_twonn_hi": v["id_twonn_ci"][1],
               "doubling_dim": v["doubling_dim"], "frt_mean_stretch": v["frt_mean_stretch"],
               "frt_worst_stretch": v["frt_worst_stretch"]}
    row["lens"] = rec["lens"]
    row["similarity"] = "" if rec["similarity"] is None else str(rec["similarity"])
    row["reasons"] = "; ".join(rec["reasons"])
    return [row]


def plot(df, outdir: str):
    import matplotlib.pyplot as plt

    from online_algs import datasets
    from online_algs.analysis import reuse_distance, working_set_growth

    out = []
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name in [d for d in df["dataset"].unique() if d in TRACES]:
        t = datasets.load_trace(name)
        if name == "orm-busy":
            t = t[:1_000_000]
        rd = reuse_distance(t)
        finite = np.sort(rd[rd >= 0])
        axes[0].plot(finite, np.arange(1, len(finite) + 1) / len(t), label=name)
        ts, ws = working_set_growth(t)
        axes[1].loglog(ts, ws, label=name)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("reuse distance d (an LRU cache of size > d hits)")
    axes[0].set_ylabel("share of requests (LRU hit ratio)")
    axes[0].legend()
    axes[1].set_xlabel("requests")
    axes[1].set_ylabel("distinct items seen")
    axes[1].legend()
    fig.tight_layout()
    p = os.path.join(outdir, "analysis_traces.png")
    fig.savefig(p, dpi=110)
    plt.close(fig)
    out.append((p, "Reuse-distance CDF (the LRU hit-ratio curve) and working-set growth of the bundled traces."))
    vec = df[df["kind"] == "vectors"]
    if len(vec):
        fig, ax = plt.subplots(figsize=(6, 3.5))
        x = np.arange(len(vec))
        ax.bar(x - 0.2, vec["id_levina_bickel"], 0.4, yerr=[vec["id_levina_bickel"] - vec["id_lb_lo"],
                                                            vec["id_lb_hi"] - vec["id_levina_bickel"]],
               label="Levina-Bickel")
        ax.bar(x + 0.2, vec["id_twonn"], 0.4, yerr=[vec["id_twonn"] - vec["id_twonn_lo"],
                                                    vec["id_twonn_hi"] - vec["id_twonn"]], label="TwoNN")
        ax.set_xticks(x, vec["dataset"])
        ax.set_ylabel("intrinsic dimension (95% CI)")
        ax.legend()
        fig.tight_layout()
        p = os.path.join(outdir, "analysis_vectors.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
        out.append((p, "Intrinsic dimension of the bundled vector data sets."))
    return out


def summary(df) -> str:
    lines = ["| data set | kind | key numbers | lens | why |", "|---|---|---|---|---|"]
    for _, r in df.iterrows():
        if r["kind"] == "trace":
            nums = (f"T={int(r['requests']):,}, N={int(r['distinct']):,}, alpha={r['zipf_alpha']:.2f}, "
                    f"drift ratio={r['drift_ratio']:.2f}, one-hit={r['one_hit_wonders']:.2f}, "
                    f"median reuse={r['reuse_median']:.0f}")
        else:
            nums = (f"n={int(r['points'])}, ambient={int(r['ambient_dim'])}, ID LB={r['id_levina_bickel']:.1f}, "
                    f"TwoNN={r['id_twonn']:.1f}, doubling={r['doubling_dim']:.1f}, "
                    f"FRT stretch mean={r['frt_mean_stretch']:.1f} / worst={r['frt_worst_stretch']:.0f} (300 points)")
        lines.append(f"| {r['dataset']} | {r['kind']} | {nums} | {r['lens']} | {r['reasons']} |")
    return "\n".join(lines)


EXPERIMENT = Experiment(
    name="analysis_characterise",
    description="Which lens fits each bundled data set and trace: trace statistics (Zipf exponent, drift against "
                "the shuffled null, reuse distances, one-hit wonders, working-set growth) and vector geometry "
                "(intrinsic and doubling dimension).",
    grid={"dataset": TRACES + VECTORS, "seed": [0]},
    quick_grid={"dataset": TRACES + VECTORS, "seed": [0]},
    cell=cell, plot=plot, summary=summary, tags=("analysis",),
)
