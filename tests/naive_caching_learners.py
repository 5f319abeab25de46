"""Slow, obviously correct twins of the caching-learner kernels (for tests and checks)."""

from __future__ import annotations

import numpy as np

# proofs_check's own references, shared rather than copied: the Euclidean projection by bisection on tau,
# cvxpy's Euclidean projection with a KKT polish, and weighted paging's optimum by a DP over cache contents
from proofs_check.checks.caching_learners import _bisect_euclid as naive_project_euclid  # noqa: F401
from proofs_check.checks.caching_learners import _cvx_euclid as cvxpy_project_euclid  # noqa: F401
from proofs_check.checks.caching_learners import _paging_dp as naive_weighted_paging_opt  # noqa: F401


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
