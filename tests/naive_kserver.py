"""Slow, obviously correct twins of the k-server kernels (plain python / numpy / scipy)."""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linear_sum_assignment


def matching_distance(d, A, B) -> float:
    """Min-cost perfect matching distance between two k-point configurations."""
    c = d[np.ix_(list(A), list(B))]
    ri, ci = linear_sum_assignment(c)
    return float(c[ri, ci].sum())


def configs(n, k):
    return [frozenset(c) for c in itertools.combinations(range(n), k)]


def work_function_dict(d, init, requests):
    """Work functions by their definition: w_0(X) = D(init, X),
    w_t(X) = min_{Y : r_t in Y} w_{t-1}(Y) + D(Y, X). Returns the list [w_0, ..., w_T] of dicts."""
    n = d.shape[0]
    k = len(init)
    cs = configs(n, k)
    D = {(A, B): matching_distance(d, sorted(A), sorted(B)) for A in cs for B in cs}
    w = {X: D[(frozenset(init), X)] for X in cs}
    out = [w]
    for r in requests:
        w = {X: min(out[-1][Y] + D[(Y, X)] for Y in cs if r in Y) for X in cs}
        out.append(w)
    return out


def wfa_naive(d, init, requests):
    """WFA from the definitional work functions: move x minimising w_t(conf - x + r) + d(x, r)."""
    ws = work_function_dict(d, init, requests)
    conf = sorted(int(x) for x in init)
    costs = []
    for t, r in enumerate(requests):
        r = int(r)
        if r in conf:
            costs.append(0.0)
            continue
        w = ws[t + 1]
        vals = [w[frozenset(conf[:j] + conf[j + 1:] + [r])] + d[conf[j], r] for j in range(len(conf))]
        j = int(np.argmin(vals))
        costs.append(float(d[conf[j], r]))
        conf = sorted(conf[:j] + conf[j + 1:] + [r])
    return np.array(costs), ws


def brute_force_opt(d, init, requests) -> float:
    """OPT over every lazy schedule (k^T of them)."""
    k = len(init)
    best = np.inf
    for choice in itertools.product(range(k), repeat=len(requests)):
        pos = list(init)
        c = 0.0
        for r, j in zip(requests, choice):
            r = int(r)
            if r in pos:
                continue
            c += d[pos[j], r]
            pos[j] = r
        best = min(best, c)
    return float(best)


def dc_line_naive(positions, init, requests):
    """Double Coverage on a line by a continuous-time simulation with small time steps' exact
    events: every server adjacent to the request (no server in between) moves toward it at unit
    speed until one arrives. Returns per-request costs."""
    pos = sorted(float(positions[i]) for i in init)
    costs = []
    for r in requests:
        x = float(positions[int(r)])
        if x in pos:
            costs.append(0.0)
            continue
        left = [p for p in pos if p < x]
        right = [p for p in pos if p > x]
        movers = []
        if left:
            movers.append(("L", max(left)))
        if right:
            movers.append(("R", min(right)))
        gap = min(abs(x - p) for _, p in movers)
        new = list(pos)
        for side, p in movers:
            i = new.index(p) if side == "R" else len(new) - 1 - new[::-1].index(p)
            new[i] = p + gap if side == "L" else p - gap
            if abs(new[i] - x) < 1e-12 * max(1.0, abs(x)):
                new[i] = x
        pos = sorted(new)
        costs.append(gap * len(movers))
    return np.array(costs), pos
