"""Average serving cost of the k-NN datastore policies against cache size and over time.

Workloads (``online_algs.similarity.workloads``): MNIST images with Zipf popularity and noisy
queries (PCA to 64 dimensions), and MovieLens ratings replayed in time order over item
embeddings (truncated SVD, 32 dimensions). ``fetch_cost`` = ``fetch_scale`` x the median
nearest-neighbour distance of the catalog (0.5: fetching the exact neighbour beats a typical
approximate local answer), ``update_cost`` = ``fetch_cost``. AÇAI runs with DepRound (its
guarantee; the cache is re-sampled every request, so it fetches a lot) and with coupled Madow
rounding (``ACAI-coupled``: fetches ~ ||y_t+1 - y_t||_1, no 1 - 1/e claim). Every policy starts from an empty
cache; its average cost per request is service + movement (fetches) divided by T.

Offline bounds drawn: the greedy static cache (its serving cost plus the fetches of its
``h`` objects, an achievable cost) and the LP relaxation (a lower bound on the cost of every
static cache; not on dynamic policies, which may beat it on drifting workloads).
"""

from __future__ import annotations

import os

import numpy as np

from experiments.api import Experiment

POLICIES = ["SimLRU", "RndLRU", "QLRUDeltaC", "Duel", "ExactLRU", "ExactLFU", "ACAI", "ACAI-coupled"]


def _workload(workload, n_catalog, T, seed):
    from online_algs.similarity import mnist_workload, movielens_workload

    if workload == "mnist":
        return mnist_workload(n_catalog=n_catalog, T=T, dim=64, alpha=0.8, noise=0.1, seed=seed)
    return movielens_workload(dim=32, n_items=n_catalog, T=T, noise=0.3, seed=seed)


def _make(name, ds, h, T, seed):
    from online_algs import similarity as S

    if name == "SimLRU":
        return S.SimLRU(ds, h)
    if name == "RndLRU":
        return S.RndLRU(ds, h, seed=seed)
    if name == "QLRUDeltaC":
        return S.QLRUDeltaC(ds, h, q=0.1, seed=seed)
    if name == "Duel":
        return S.Duel(ds, h, duel_length=20, max_duels=4, seed=seed)
    if name == "ExactLRU":
        return S.ExactLRU(ds, h)
    if name == "ExactLFU":
        return S.ExactLFU(ds, h)
    rounding = "coupled" if name == "ACAI-coupled" else "depround"
    return S.ACAI(ds, h, horizon=T, n_candidates=min(ds.n, 128), rounding=rounding, seed=seed)


def cell(workload, n_catalog, T, cache_frac, k, seed, fetch_scale=0.5, windows=10):
    import online_algs
    from online_algs.similarity import Datastore, empty_costs, greedy_static, lp_static_bound

    cat, q, meta = _workload(workload, n_catalog, T, seed)
    T = len(q)
    ds = Datastore(cat, k=k, fetch_cost=fetch_scale * meta["nn_distance"])
    h = max(k, int(round(cache_frac * ds.n)))
    rows = []
    edges = np.linspace(0, T, windows + 1).astype(int)
    for name in POLICIES:
        res = online_algs.run(_make(name, ds, h, T, seed), q, series=True)
        c = res.service + res.movement
        rows.append({"policy": name, "kind": "total", "window": -1, "avg_cost": float(c.mean()),
                     "service": float(res.service.mean()), "movement": float(res.movement.mean()),
                     "hit_ratio": float(res.hit_ratio), "h": h})
        for w in range(windows):
            a, b = edges[w], edges[w + 1]
            rows.append({"policy": name, "kind": "window", "window": w, "avg_cost": float(c[a:b].mean()),
                         "service": float(res.service[a:b].mean()), "movement": float(res.movement[a:b].mean()),
                         "hit_ratio": float("nan"), "h": h})
    g = greedy_static(ds, q, h)
    rows.append({"policy": "static greedy", "kind": "bound", "window": -1,
                 "avg_cost": (g["cost"] + ds.update_cost * h) / T, "service": g["cost"] / T,
                 "movement": ds.update_cost * h / T, "hit_ratio": float("nan"), "h": h})
    lp = lp_static_bound(ds, q, h)
    lower = (float(empty_costs(ds, q).sum()) - lp["bound"]) / T
    rows.append({"policy": "static LP lower bound", "kind": "bound", "window": -1, "avg_cost": lower,
                 "service": lower, "movement": 0.0, "hit_ratio": float("nan"), "h": h})
    return rows


def plot(df, outdir: str) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(outdir, exist_ok=True)
    out = []
    tot = df[df["kind"].isin(["total", "bound"])]
    keys = sorted({(w, k) for w, k in zip(tot["workload"], tot["k"])})
    if not keys:
        return []
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    from ._plot import MARKERS, merge_identical

    style = {p: dict(color=f"C{i}", marker=MARKERS[i % len(MARKERS)], ms=6.0 - 0.4 * i, lw=2.6 - 0.25 * i, ls="-")
             for i, p in enumerate(POLICIES)}
    style.update(_BOUND_STYLE)
    fig, axes = plt.subplots(1, len(keys), figsize=(4.6 * len(keys), 3.6), squeeze=False)
    merged = set()
    for ax, (w, k) in zip(axes.flat, keys):
        sub = tot[(tot["workload"] == w) & (tot["k"] == k)]
        g = sub.groupby(["policy", "cache_frac"], sort=True)["avg_cost"].mean().reset_index()
        curves = {p: (g[g["policy"] == p]["cache_frac"].to_numpy(), g[g["policy"] == p]["avg_cost"].to_numpy())
                  for p in POLICIES + list(_BOUND_STYLE) if (g["policy"] == p).any()}
        for labels, x, y in merge_identical(curves):
            ax.plot(x, y, label=" = ".join(labels), **style[labels[0]])
            if len(labels) > 1:
                merged.add(f"{' = '.join(labels)} ({w}, k={k})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        fr = sorted(sub["cache_frac"].unique())
        ax.xaxis.set_major_locator(FixedLocator(fr))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("cache size h / N")
        ax.set_ylabel("average cost per request")
        ax.set_title(f"{w}, k={k}", fontsize=9)
    axes.flat[0].legend(fontsize=6)
    fig.tight_layout()
    path = os.path.join(outdir, "similarity_cost_vs_size.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    out.append((path, "Average serving + fetch cost per request against the cache size for every policy (solid; "
                      "the policies listed first are drawn wider) and the offline static bounds (black dashed: greedy "
                      "static cache incl. the fetches of its h objects, achievable; black dotted: the LP relaxation, "
                      "a lower bound for static caches)" + _bound_gap_note(tot)
                      + (f"; identical curves drawn once: {'; '.join(sorted(merged))}" if merged else "") + "."))
    win = df[df["kind"] == "window"]
    if len(win):
        used_fracs: set = set()
        fig, axes = plt.subplots(1, len(keys), figsize=(4.6 * len(keys), 3.6), squeeze=False)
        for ax, (w, k) in zip(axes.flat, keys):
            sub = win[(win["workload"] == w) & (win["k"] == k)]
            fracs = sorted(sub["cache_frac"].unique())
            frac = fracs[(len(fracs) - 1) // 2]  # the middle size (the smaller of the two middle ones)
            used_fracs.add(frac)
            sub = sub[sub["cache_frac"] == frac]
            g = sub.groupby(["policy", "window"], sort=True)["avg_cost"].mean().reset_index()
            for p in POLICIES:
                s = g[g["policy"] == p]
                ax.plot(s["window"], s["avg_cost"], label=p, **style[p])
            b = tot[(tot["workload"] == w) & (tot["k"] == k) & (tot["cache_frac"] == frac)
                    & (tot["kind"] == "bound")].groupby("policy")["avg_cost"].mean()
            for p, v in sorted(b.items(), key=lambda kv: list(_BOUND_STYLE).index(kv[0]) if kv[0] in _BOUND_STYLE
                               else -1):  # the thin dotted LP line on top of the wide dashed greedy one
                st = _BOUND_STYLE.get(p, {})
                ax.axhline(v, ls=st.get("ls", "--"), lw=st.get("lw", 1.0), color=st.get("color", "k"), label=p)
            ax.set_yscale("log")
            ax.set_xlabel("time window (T/10 requests each)")
            ax.set_ylabel("average cost per request")
            ax.set_title(f"{w}, k={k}, h/N={frac}", fontsize=9)
        axes.flat[0].legend(fontsize=6)
        fig.tight_layout()
        path = os.path.join(outdir, "similarity_cost_over_time.png")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        fr = ", ".join(f"{f:g}" for f in sorted(used_fracs))
        out.append((path, f"Average cost per request over time (windows of T/10) at the middle cache size of the grid "
                          f"(h/N = {fr}); horizontal lines: the static bounds over the whole run (black dashed: greedy "
                          "static cost incl. its fetches; black dotted: LP lower bound)" + _bound_gap_note(tot)
                          + "."))
    return out


_BOUND_STYLE = {"static greedy": dict(color="k", ls="--", lw=2.2, marker=None),
                "static LP lower bound": dict(color="k", ls=":", lw=1.4, marker=None)}


def _bound_gap_note(tot) -> str:
    """Say so when the greedy static cost and the LP lower bound (nearly) coincide."""
    b = tot[tot["kind"] == "bound"].groupby(["workload", "k", "cache_frac", "policy"])["avg_cost"].mean().unstack()
    if not {"static greedy", "static LP lower bound"} <= set(b.columns) or not len(b):
        return ""
    gap = float(((b["static greedy"] - b["static LP lower bound"]) / b["static LP lower bound"]).abs().max())
    if gap < 0.05:
        return (f"; the two bounds are within {100 * gap:.1f}% of each other in every panel (the greedy static cache "
                "is near-optimal among static caches), so their lines nearly coincide")
    return ""


def summary(df) -> str:
    tot = df[df["kind"].isin(["total", "bound"])]
    g = tot.groupby(["workload", "k", "cache_frac", "policy"], sort=True)["avg_cost"].mean().unstack("policy")
    cols = [c for c in POLICIES + ["static greedy", "static LP lower bound"] if c in g.columns]
    lines = ["| workload | k | h/N | " + " | ".join(cols) + " |", "|" + "---|" * (3 + len(cols))]
    for (w, k, f), row in g.iterrows():
        lines.append(f"| {w} | {k} | {f} | " + " | ".join(f"{row[c]:.3f}" for c in cols) + " |")
    sv = tot.groupby(["workload", "k", "cache_frac", "policy"], sort=True)["service"].mean().unstack("policy")
    lines2 = ["| workload | k | h/N | " + " | ".join(cols) + " |", "|" + "---|" * (3 + len(cols))]
    for (w, k, f), row in sv.iterrows():
        lines2.append(f"| {w} | {k} | {f} | " + " | ".join(f"{row[c]:.3f}" for c in cols) + " |")
    return ("Average cost per request (service + fetches):\n\n" + "\n".join(lines)
            + "\n\nAverage serving cost only (no fetches of cache updates):\n\n" + "\n".join(lines2))


EXPERIMENT = Experiment(
    name="similarity_cost",
    description="Average serving cost of the k-NN datastore policies (SIM-LRU, RND-LRU, qLRU-DeltaC, DUEL, "
                "exact LRU/LFU, AÇAI) against cache size and over time on MNIST and MovieLens, with the "
                "greedy-static and LP offline bounds.",
    grid={"workload": ["mnist", "movielens"], "n_catalog": [2000], "T": [5000],
          "cache_frac": [0.01, 0.02, 0.05, 0.1], "k": [1, 5], "seed": [0, 1]},
    quick_grid={"workload": ["mnist", "movielens"], "n_catalog": [400], "T": [800], "cache_frac": [0.02, 0.1],
                "k": [2], "seed": [0]},
    cell=cell,
    plot=plot,
    summary=summary,
    tags=("similarity",),
    time_budget=120.0,
)
