"""Slow, obviously correct twins of the caching-learner kernels (for tests and checks)."""

from __future__ import annotations

import numpy as np


def naive_project_euclid(z, C, iters=200):
    """Bisection on tau for sum clip(z - tau, 0, 1) = C (to float resolution)."""
    z = np.asarray(z, dtype=float)
    lo, hi = float(z.min()) - 1.0, float(z.max())
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if np.clip(z - mid, 0, 1).sum() > C:
            lo = mid
        else:
            hi = mid
    return np.clip(z - 0.5 * (lo + hi), 0, 1)


def naive_project_kl(y, C, iters=300):
    """Bisection on log c for sum min(1, c y) = C."""
    y = np.asarray(y, dtype=float)
    pos = y[y > 0]
    lo, hi = np.log(C / pos.sum()) - 1.0, np.log(1.0 / pos.min()) + 1.0
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if np.minimum(1.0, np.exp(mid) * y).sum() > C:
            hi = mid
        else:
            lo = mid
    return np.minimum(1.0, np.exp(0.5 * (lo + hi)) * y)


def cvxpy_project_euclid(z, C):
    """cvxpy (HiGHS QP), then a KKT polish on the active set the solver found."""
    import cvxpy as cp

    y = cp.Variable(len(z))
    cp.Problem(cp.Minimize(cp.sum_squares(y - z)), [y >= 0, y <= 1, cp.sum(y) == C]).solve(solver="HIGHS")
    raw = np.asarray(y.value)
    lo, hi = raw < 1e-6, raw > 1 - 1e-6
    free = ~(lo | hi)
    pol = np.where(hi, 1.0, 0.0)
    if free.any():
        pol[free] = z[free] - (z[free].sum() - (C - hi.sum())) / free.sum()
    return raw, pol


def cvxpy_project_kl(yv, C):
    """cvxpy (CLARABEL, exponential cone), then a KKT polish on the solver's active set."""
    import warnings

    import cvxpy as cp

    x = cp.Variable(len(yv))
    obj = cp.sum(-cp.entr(x) - cp.multiply(x, np.log(yv)) - x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "solution may be inaccurate" at tight tolerances
        cp.Problem(cp.Minimize(obj), [x >= 0, x <= 1, cp.sum(x) == C]).solve(
            solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    raw = np.asarray(x.value)
    hi = raw > 1 - 1e-6
    pol = np.where(hi, 1.0, 0.0)
    pol[~hi] = yv[~hi] * (C - hi.sum()) / yv[~hi].sum()
    return raw, pol


def naive_depround(y, u):
    """DepRound written out plainly: pair the first two fractional coordinates each step."""
    x = np.array(y, dtype=float)
    x[x < 1e-12] = 0.0
    x[x > 1 - 1e-12] = 1.0
    k = 0
    while True:
        frac = [n for n in range(len(x)) if 0.0 < x[n] < 1.0]
        if len(frac) < 2:
            break
        i, j = frac[0], frac[1]
        a, b = x[i], x[j]
        alpha, beta = min(1 - a, b), min(a, 1 - b)
        if u[k] * (alpha + beta) < beta:
            a, b = a + alpha, b - alpha
        else:
            a, b = a - beta, b + beta
        k += 1
        x[i] = 0.0 if a < 1e-12 else (1.0 if a > 1 - 1e-12 else a)
        x[j] = 0.0 if b < 1e-12 else (1.0 if b > 1 - 1e-12 else b)
    return (x >= 0.5).astype(float)


def naive_madow(y, U):
    """Systematic sampling: item i is chosen iff some U + m lies in [S_{i-1}, S_i)."""
    y = np.asarray(y, dtype=float)
    C = int(round(y.sum()))
    S = np.concatenate([[0.0], np.cumsum(y)])
    S[-1] = C
    chosen = []
    for m in range(C):
        p = U + m
        for i in range(len(y)):
            if S[i] <= p < S[i + 1]:
                chosen.append(i)
                break
    return np.array(sorted(chosen), dtype=np.int64)


def naive_best_static(trace, C, N, w=None):
    w = np.ones(N) if w is None else np.asarray(w, float)
    counts = np.bincount(np.asarray(trace), minlength=N).astype(float) * w
    return float(np.sort(counts)[::-1][:C].sum())


def naive_weighted_paging_opt(trace, C, w):
    """Weighted paging OPT by dynamic programming over cache contents (demand paging is optimal)."""
    states = {frozenset(): 0.0}
    for r in trace:
        r = int(r)
        new = {}
        for S, c in states.items():
            if r in S:
                cands = [(S, c)]
            elif len(S) < C:
                cands = [(S | {r}, c + w[r])]
            else:
                cands = [((S - {v}) | {r}, c + w[r]) for v in S]
            for S2, c2 in cands:
                if new.get(S2, float("inf")) > c2:
                    new[S2] = c2
        states = new
    return min(states.values())
