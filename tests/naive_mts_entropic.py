"""Slow, obviously correct twins of the entropic-MTS and HST kernels (used by the tests only)."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
from scipy.optimize import brentq


def naive_star_projection(x, c, omega, delta):
    """y_i(L) = max(0, (x_i + delta_i) exp((L - c_i)/omega_i) - delta_i); L by brentq on sum y = 1.

    Written term by term in plain Python; brentq in the bracket where every term is clipped
    (sum 0) and where one term alone reaches 1.
    """
    n = len(x)
    omega = np.broadcast_to(np.asarray(omega, dtype=float), (n,))
    delta = np.broadcast_to(np.asarray(delta, dtype=float), (n,))
    fin = [i for i in range(n) if math.isfinite(c[i])]
    if not fin:
        return np.array(x, dtype=float), float("nan")

    def y_of(L):
        y = np.zeros(n)
        for i in fin:
            y[i] = max(0.0, (x[i] + delta[i]) * math.exp((L - c[i]) / omega[i]) - delta[i])
        return y

    lo = min(c[i] + omega[i] * math.log(delta[i] / (x[i] + delta[i])) for i in fin)
    hi = min(c[i] + omega[i] * math.log((1 + delta[i]) / (x[i] + delta[i])) for i in fin)
    if y_of(hi).sum() - 1.0 <= 0.0:
        L = hi
    else:
        L = brentq(lambda L: y_of(L).sum() - 1.0, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=500)
    y = y_of(L)
    return y / y.sum(), L


def naive_hst_substep(Q, cleaf, hst, omega, dl):
    """Recursive star steps on an HST (children processed before parents, by explicit recursion)."""
    Q = np.array(Q, dtype=float)

    def visit(v):
        ch = list(hst.children(v))
        if not ch:
            return cleaf[hst.point_of_node[v]]
        costs = [visit(int(u)) for u in ch]
        if len(ch) == 1:
            Q[ch[0]] = 1.0
            return costs[0]
        y, L = naive_star_projection(Q[ch], np.array(costs), omega[ch], dl[ch])
        if math.isnan(L):
            return math.inf
        Q[ch] = y
        return L

    visit(hst.root)
    return Q


def naive_tree_metric(hst):
    """Leaf distances of an HST by networkx shortest paths."""
    g = nx.Graph()
    for v in range(hst.n_nodes):
        if hst.parent[v] >= 0:
            g.add_edge(int(v), int(hst.parent[v]), weight=float(hst.length[v]))
    n = hst.n_leaves
    d = np.zeros((n, n))
    for i in range(n):
        dist = nx.single_source_dijkstra_path_length(g, int(hst.leaves[i]))
        for j in range(n):
            d[i, j] = dist[int(hst.leaves[j])]
    return d


def naive_transport(d, x, y):
    """Earth-mover distance by the full n x n transport LP (cvxpy, HiGHS)."""
    import cvxpy as cp

    n = len(x)
    P = cp.Variable((n, n), nonneg=True)
    prob = cp.Problem(cp.Minimize(cp.sum(cp.multiply(d, P))), [cp.sum(P, axis=1) == x, cp.sum(P, axis=0) == y])
    prob.solve(solver="HIGHS")
    return float(prob.value)


def naive_frt_check(d, hst, leaf_of_point):
    """All pairs: tree distance (networkx) >= metric distance."""
    dt = naive_tree_metric(hst)[np.ix_(leaf_of_point, leaf_of_point)]
    return dt
