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
