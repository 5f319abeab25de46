"""Small plotting helpers shared by the experiments' ``plot`` functions (not an experiment)."""

from __future__ import annotations

import numpy as np

__all__ = ["merge_identical", "integer_ticks", "MARKERS", "LINESTYLES"]

MARKERS = ["o", "s", "^", "v", "D", "P", "X", "*", "<", ">", "h"]
LINESTYLES = ["-", "--", "-.", ":"]


def merge_identical(curves: dict, rtol: float = 1e-9) -> list[tuple[list[str], object, object]]:
    """Group curves that would be drawn on top of each other.

    ``curves``: ``{label: (x, y)}`` in drawing order. Returns ``[(labels, x, y)]``, one entry per
    group of curves with the same ``x`` and (within ``rtol``) the same ``y``, in the order of
    their first member; draw each group once with the label ``" = ".join(labels)``.
    """
    groups: list[tuple[list[str], object, object]] = []
    for lab, (x, y) in curves.items():
        xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        for labels, gx, gy in groups:
            gxa, gya = np.asarray(gx, dtype=float), np.asarray(gy, dtype=float)
            if gxa.shape == xa.shape and np.array_equal(gxa, xa) and np.allclose(gya, ya, rtol=rtol, atol=0.0,
                                                                                   equal_nan=True):
                labels.append(lab)
                break
        else:
            groups.append(([lab], x, y))
    return groups


def integer_ticks(ax, values, axis: str = "x") -> None:
    """Ticks exactly at the (integer) sizes ``values``, labelled as plain integers."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    vals = sorted({int(v) for v in values})
    a = ax.xaxis if axis == "x" else ax.yaxis
    a.set_major_locator(FixedLocator(vals))
    a.set_major_formatter(FuncFormatter(lambda v, _: f"{int(round(v))}"))
    a.set_minor_locator(NullLocator())


def ratio_grid(df, size: str, kinds_order, families_order, algorithms_order):
    """Shared set-up of the ratio-against-size panel grids (mts_ratio, kserver_ratio).

    Returns ``(g, kinds, families, algorithms, style)``: the mean ratio per (kind, family,
    algorithm, size), the metric kinds and request families present (in the declared order), the
    algorithms (declared first, then any others found), and a line style per algorithm in which
    earlier algorithms are drawn wider with bigger markers, so that a curve under a nearly equal
    one stays visible.
    """
    g = df.groupby(["kind", "family", "algorithm", size], sort=True)["ratio"].mean().reset_index()
    kinds = [k for k in kinds_order if k in set(g["kind"])]
    fams = [f for f in families_order if f in set(g["family"])]
    algs = list(dict.fromkeys(list(algorithms_order) + sorted(set(g["algorithm"]))))
    style = {a: dict(color=f"C{i}", marker=MARKERS[i % len(MARKERS)], lw=2.6 - 0.35 * i, ms=6.0 - 0.6 * i)
             for i, a in enumerate(algs)}
    return g, kinds, fams, algs, style


def draw_ratio_curves(ax, sub, size: str, algs, style, merged: set, tag: str) -> None:
    """One panel of a ratio grid: a curve per algorithm of ``sub`` (identical curves drawn once,
    their names joined and recorded in ``merged`` with ``tag``)."""
    curves = {a: (sub[sub["algorithm"] == a][size].to_numpy(), sub[sub["algorithm"] == a]["ratio"].to_numpy())
              for a in algs if (sub["algorithm"] == a).any()}
    for labels, x, y in merge_identical(curves):
        ax.plot(x, y, label=" = ".join(labels), **style[labels[0]])
        if len(labels) > 1:
            merged.add(f"{' = '.join(labels)} ({tag})")


def figure_legend(fig, axes, fontsize: int = 7) -> None:
    """One legend on top of the figure with every distinct label of ``axes``."""
    handles, labels = [], []
    for ax in axes.flat:
        for hd, lb in zip(*ax.get_legend_handles_labels()):
            if lb not in labels:
                handles.append(hd)
                labels.append(lb)
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=fontsize)
