"""Slow, obviously correct twins of the kernels in online_algs/kserver/_kernels_fractional.py."""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq


def naive_bbn_step(x, r, c, delta, target):
    """BBN step by a library root-finder (brentq) on the closed form x_q(y)."""
    x = np.asarray(x, dtype=float)
    new = x.copy()
    new[r] = 0.0
    others = [q for q in range(len(x)) if q != r]

    def xq(q, y):
        return min(1.0, (x[q] + delta) * math.exp(y / c[q]) - delta)

    def f(y):
        return sum(xq(q, y) for q in others) - target

    if f(0.0) >= 0:
        return new
    hi = 1.0
    while f(hi) < 0:
        hi *= 2.0
    y = brentq(f, 0.0, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
    for q in others:
        new[q] = max(x[q], xq(q, y))
    return new


def euler_bbn_step(x, r, c, delta, target, dy=1e-5):
    """The continuous primal-dual process integrated by explicit Euler steps in y:
    dx_q/dy = (x_q + delta)/c_q for q != r while x_q < 1 and sum_{q != r} x_q < target."""
    x = np.asarray(x, dtype=float).copy()
    x[r] = 0.0
    mask = np.arange(len(x)) != r
    while x[mask].sum() < target:
        grow = mask & (x < 1.0)
        x[grow] = np.minimum(1.0, x[grow] + dy * (x[grow] + delta) / c[grow])
    return x


def naive_tree_cost(hst, point_nodes, dleaf):
    """sum over edges of length * |mass change below the edge|, by explicit ancestor walks."""
    tot = 0.0
    for v in range(hst.n_nodes):
        if hst.parent[v] < 0:
            continue
        below = 0.0
        for i, leaf in enumerate(point_nodes):
            u = int(leaf)
            while u >= 0:
                if u == v:
                    below += dleaf[i]
                    break
                u = int(hst.parent[u])
        tot += hst.length[v] * abs(below)
    return tot


def naive_systematic(server_mass, perm, U):
    """Point perm[j] is selected iff some integer m has U + m in [C_{j-1}, C_j)."""
    sel = np.zeros(len(server_mass), dtype=np.uint8)
    lo = 0.0
    for q in perm:
        hi = lo + server_mass[q]
        m = math.ceil(lo - U)
        if U + m < hi:
            sel[q] = 1
        lo = hi
    return sel


def naive_exit_costs(hst):
    """E[r, q] = d_T(leaf q, lca(leaf q, leaf r)) by lca walks."""
    n = hst.n_leaves
    E = np.ones((n, n))
    for r in range(n):
        for q in range(n):
            if q != r:
                a = int(hst.leaves[q])
                lca = hst.lca(a, int(hst.leaves[r]))
                E[r, q] = hst.rootdist[a] - hst.rootdist[lca]
    return E
