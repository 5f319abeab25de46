"""Entropic MTS algorithms on weighted stars and HSTs, and the FRT embedding."""

from __future__ import annotations

import math
import warnings

import numpy as np

import online_algs
from online_algs.metrics import random_metric, uniform
from online_algs.mts import (HST, EntropicHSTMTS, EntropicStarMTS, MultiscaleHSTMTS, distortion, frt_embedding,
                             multiscale_projection, random_hst, star_projection)
from online_algs.mts import _kernels_entropic as K
from online_algs.mts.entropic import _masses_np, _mts_opt

from ..registry import theorem


def _harmonic(n: int) -> float:
    return float(sum(1.0 / k for k in range(1, n + 1)))


def generic_star_projection(x, c, w, dl):
    """The Bregman projection min <c,y> + sum_i w_i [(y_i+d_i) log((y_i+d_i)/(x_i+d_i)) - y_i] over the
    simplex by generic solvers: cvxpy (CLARABEL, exponential cone, tight tolerances), then
    scipy SLSQP started at cvxpy's point (CLARABEL alone stops around 1e-6 from the optimum).
    Returns (cvxpy solution, polished solution, cvxpy status). Finite costs only."""
    import cvxpy as cp
    from scipy.optimize import minimize

    n = len(x)
    y = cp.Variable(n)
    obj = c @ y + cp.sum(cp.multiply(w, -cp.entr(y + dl))) - cp.sum(cp.multiply(w * np.log(x + dl) + w, y))
    prob = cp.Problem(cp.Minimize(obj), [y >= 0, cp.sum(y) == 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prob.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12, max_iter=500)
    y_cvx = np.asarray(y.value, dtype=float)

    def f(z):
        return float(c @ z + np.sum(w * ((z + dl) * np.log((z + dl) / (x + dl)) - z)))

    def g(z):
        return c + w * np.log((z + dl) / (x + dl))

    r = minimize(f, np.clip(y_cvx, 0, 1), jac=g, bounds=[(0, None)] * n, method="SLSQP",
                 constraints=[{"type": "eq", "fun": lambda z: z.sum() - 1.0, "jac": lambda z: np.ones_like(z)}],
                 options={"ftol": 1e-16, "maxiter": 500})
    return y_cvx, np.asarray(r.x), prob.status


def _random_step_instance(rng):
    n = int(rng.integers(2, 10))
    x = rng.dirichlet(np.full(n, 0.5))
    x[rng.random(n) < 0.2] = 0.0
    x[rng.integers(n)] += 0.1
    x /= x.sum()
    c = rng.exponential(1.0, n) * rng.choice([0.1, 1.0, 10.0])
    c[rng.random(n) < 0.15] = 0.0
    w = rng.uniform(0.3, 3.0, n)
    dl = rng.uniform(1e-3, 1.0, n)
    return x, c, w, dl


@theorem("mts.entropic.star_step_exact",
         statement="The closed-form entropic step y_i = max(0, (x_i+d_i) exp((L - c_i)/w_i) - d_i), sum y = 1, "
                   "equals the Bregman projection argmin_{y in simplex} <c,y> + D_Phi(y,x), "
                   "Phi = sum w_i (y_i+d_i) log(y_i+d_i), computed by a generic solver (cvxpy CLARABEL "
                   "polished by scipy SLSQP) to 1e-6, and its objective is never above the solvers' (to 1e-12); "
                   "sum y = 1 to 1e-12; the numba kernel equals the numpy step to 1e-13. The distance to "
                   "CLARABEL's raw solution is reported (solver accuracy, up to ~5e-5).",
         reference="Bregman projection KKT conditions [std]; fact sheet section 1 [checked]",
         kind="identity", algorithms=["EntropicStarMTS", "EntropicHSTMTS"], families=["random simplex steps"])
def _star_step_exact(ctx):
    reps = ctx.pick(40, 400)
    err_pol = err_cvx = err_sum = err_k = 0.0
    excess = 0.0  # how much our objective exceeds the best generic one (0 when ours is optimal)
    bad_status = 0
    for rep in range(reps):
        rng = ctx.rng(rep)
        x, c, w, dl = _random_step_instance(rng)
        ours, _ = star_projection(x, c, w, dl)
        y_cvx, y_pol, status = generic_star_projection(x, c, w, dl)
        bad_status += status not in ("optimal", "optimal_inaccurate")
        err_cvx = max(err_cvx, float(np.abs(ours - y_cvx).max()))
        err_pol = max(err_pol, float(np.abs(ours - y_pol).max()))

        def f(z):
            z = np.clip(z, 0.0, None)
            z = z / z.sum()
            return float(c @ z + np.sum(w * ((z + dl) * np.log((z + dl) / (x + dl)) - z)))

        excess = max(excess, f(ours) - min(f(y_cvx), f(y_pol)))
        out = np.empty_like(x)
        K.star_project(x, c, w, dl, out)
        err_k = max(err_k, float(np.abs(out - ours).max()))
        err_sum = max(err_sum, abs(float(out.sum()) - 1.0), abs(float(ours.sum()) - 1.0))
    inst = f"{reps} random steps, n in [2, 9]"
    yield ctx.identity(err_pol, 1e-6, algorithm="star_projection", family="vs cvxpy+SLSQP", instance=inst,
                       detail=f"{bad_status} solver failures")
    yield ctx.identity(max(excess, 0.0), 1e-12, algorithm="star_projection", family="objective <= solvers'",
                       instance=inst, detail=f"largest excess {excess:.3g} (negative: ours strictly better)")
    # the raw interior-point solution is only as accurate as CLARABEL (up to ~5e-5 seen): reported
    yield ctx.report(err_cvx, algorithm="star_projection", family="vs cvxpy CLARABEL alone", instance=inst,
                     detail="distance to CLARABEL's own solution (solver accuracy, not the step's)")
    yield ctx.identity(err_sum, 1e-12, algorithm="star_projection", family="sum = 1", instance=inst)
    yield ctx.identity(err_k, 1e-13, algorithm="star_project kernel", family="kernel vs numpy", instance=inst)
    yield ctx.identity(bad_status, 0, algorithm="cvxpy", family="solver status", instance=inst)


def _fit_slope(ns, ratios):
    """Least-squares slope of ratio against ln n."""
    a = np.log(np.asarray(ns, dtype=float))
    b = np.asarray(ratios, dtype=float)
    return float(np.polyfit(a, b, 1)[0])


def _elementary(rng, n, T, cost):
    c = np.zeros((T, n))
    c[np.arange(T), rng.integers(0, n, T)] = cost
    return c


@theorem("mts.entropic.ratio",
         statement="Empirical: the entropic algorithms' cost / OPT against n. EntropicStarMTS on uniform metrics "
                   "with i.i.d. unit elementary tasks (bound column: ln n; the ratio should grow like ln n + O(1)); "
                   "EntropicHSTMTS on random 2-HSTs (elementary tasks of cost 2 x min distance, and uniform random "
                   "tasks), on balanced binary HSTs and on general metrics through FRT (O(log n) expected on "
                   "HSTs for the exact dynamics). Fitted slope of the ratio against ln n is reported.",
         reference="Abernethy, Bartlett, Buchbinder, Stanton, ALT 2010; Bubeck, Cohen, Lee, Lee, SODA 2019",
         kind="empirical", algorithms=["EntropicStarMTS", "EntropicHSTMTS"],
         families=["uniform/elementary", "hst/elementary", "hst/uniform", "balanced", "general/frt"])
def _ratio(ctx):
    seeds = ctx.pick(2, 6)
    # the star on uniform metrics
    ns = ctx.pick([2, 4, 8, 16, 32], [2, 4, 8, 16, 32, 64, 128])
    T = ctx.pick(800, 4000)
    rat = []
    for n in ns:
        rs = []
        for s in range(seeds):
            rng = ctx.rng(1, n, s)
            m = uniform(n)
            c = _elementary(rng, n, T, 1.0)
            r = online_algs.run(EntropicStarMTS(m), c, series=False, states=False)
            rs.append(r.total_cost / _mts_opt(m, c, 0))
        rat.append(float(np.mean(rs)))
        yield ctx.report(rat[-1], bound=math.log(n), algorithm="EntropicStarMTS", family="uniform/elementary",
                         instance=f"n={n}, T={T}, {seeds} seeds (bound = ln n)")
    yield ctx.report(_fit_slope(ns, rat), algorithm="EntropicStarMTS", family="uniform/elementary",
                     instance=f"slope of ratio vs ln n over n in {ns}")
    # HSTs
    ns = ctx.pick([4, 8, 16, 32], [4, 8, 16, 32, 64, 128])
    T = ctx.pick(400, 2000)
    for fam in ("hst/elementary", "hst/uniform"):
        rat = []
        for n in ns:
            rs = []
            for s in range(seeds):
                rng = ctx.rng(2, n, s, len(fam))
                m = random_metric("hst", n, seed=ctx.seed_for(3, n, s))
                if fam == "hst/elementary":
                    c = _elementary(rng, n, T, 2.0 * m.min_distance)
                else:
                    c = rng.uniform(0.0, 1.0, size=(T, n)) * m.diameter
                r = online_algs.run(EntropicHSTMTS(m), c, series=False, states=False)
                rs.append(r.total_cost / _mts_opt(m, c, 0))
            rat.append(float(np.mean(rs)))
            yield ctx.report(rat[-1], bound=math.log(n), algorithm="EntropicHSTMTS", family=fam,
                             instance=f"n={n}, T={T}, {seeds} seeds (bound = ln n)")
        yield ctx.report(_fit_slope(ns, rat), algorithm="EntropicHSTMTS", family=fam,
                         instance=f"slope of ratio vs ln n over n in {ns}")
    # balanced binary HSTs, elementary tasks of the leaf-edge scale
    depths = ctx.pick([2, 3, 4, 5], [2, 3, 4, 5, 6, 7])
    rat = []
    for dep in depths:
        h = HST.balanced(dep, 2)
        m = h.metric()
        n = m.n
        rs = []
        for s in range(seeds):
            c = _elementary(ctx.rng(4, dep, s), n, T, 2.0)
            r = online_algs.run(EntropicHSTMTS(h), c, series=False, states=False)
            rs.append(r.total_cost / _mts_opt(m, c, 0))
        rat.append(float(np.mean(rs)))
        yield ctx.report(rat[-1], bound=math.log(n), algorithm="EntropicHSTMTS", family="balanced",
                         instance=f"binary, n={n}, T={T}, {seeds} seeds (bound = ln n)")
    yield ctx.report(_fit_slope([2 ** d for d in depths], rat), algorithm="EntropicHSTMTS", family="balanced",
                     instance=f"slope of ratio vs ln n over depth in {depths}")
    # general metrics through FRT (movement charged in the original metric: one LP per task)
    ns = ctx.pick([4, 8], [4, 8, 16])
    Tg = ctx.pick(60, 300)
    for n in ns:
        rs = []
        for s in range(seeds):
            m = random_metric("general", n, seed=ctx.seed_for(5, n, s))
            c = ctx.rng(6, n, s).uniform(0.0, 2.0, size=(Tg, n))
            r = online_algs.run(EntropicHSTMTS(m, seed=ctx.seed_for(7, n, s)), c, series=False, states=False)
            rs.append(r.total_cost / _mts_opt(m, c, 0))
        yield ctx.report(float(np.mean(rs)), bound=math.log(n) ** 2, algorithm="EntropicHSTMTS",
                         family="general/frt", instance=f"n={n}, T={Tg}, {seeds} seeds (bound = ln^2 n)")


@theorem("mts.entropic.mass",
         statement="The entropic algorithms' state stays a probability distribution: |sum x - 1| <= 1e-12 and "
                   "x >= 0 at every recorded step of long runs (10^6 steps in thorough mode), and on an HST the "
                   "subtree masses satisfy X_u = sum over children to 1e-12.",
         reference="Fact sheet, checks to face #7 [std]", kind="identity",
         algorithms=["EntropicStarMTS", "EntropicHSTMTS"], families=["long random runs"])
def _mass(ctx):
    steps = ctx.pick(100_000, 1_000_000)
    # star (weighted, with zeros and infinities)
    n = 12
    rng = ctx.rng(1)
    m = random_metric("star", n, seed=ctx.seed_for(2))
    c = rng.exponential(1.0, size=(steps, n)) * rng.choice([0.01, 1.0, 20.0], size=(steps, 1))
    c[rng.random(c.shape) < 0.05] = np.inf
    c[np.isinf(c).all(axis=1), 0] = 1.0
    r = online_algs.run(EntropicStarMTS(m), c, series=False, states=True, thin=max(1, steps // 2000))
    S = np.asarray(r.states)
    yield ctx.identity(max(float(np.abs(S.sum(axis=1) - 1).max()), float(max(0.0, -S.min()))), 1e-12,
                       algorithm="EntropicStarMTS", family="weighted star", instance=f"n={n}, {steps} steps",
                       detail=f"{len(S)} states checked")
    # HST: the kernel run, then the subtree identity on the final conditionals
    hsteps = ctx.pick(40_000, 1_000_000)
    n = 16
    m = random_metric("hst", n, seed=ctx.seed_for(3))
    rng = ctx.rng(4)
    c = rng.exponential(1.0, size=(hsteps, n)) * rng.choice([0.01, 1.0, 20.0], size=(hsteps, 1))
    c[rng.random(c.shape) < 0.05] = np.inf
    c[np.isinf(c).all(axis=1), 0] = 1.0
    alg = EntropicHSTMTS(m, max_substeps=2)
    with warnings.catch_warnings():  # the sub-step cap is deliberate here: mass must hold at any discretisation
        warnings.simplefilter("ignore", online_algs.NumericalWarning)
        r = online_algs.run(alg, c, series=False, states=True, thin=max(1, hsteps // 2000))
    S = np.asarray(r.states)
    h = alg.hst_
    X = np.empty(h.n_nodes)
    K.hst_masses(alg.Q_, h.order, h.parent, X)
    tree_err = max(abs(X[v] - X[h.children(v)].sum()) for v in range(h.n_nodes) if h.children(v).size)
    err = max(float(np.abs(S.sum(axis=1) - 1).max()), float(max(0.0, -S.min())), float(tree_err),
              float(max(0.0, -X.min())))
    yield ctx.identity(err, 1e-12, algorithm="EntropicHSTMTS", family="random hst",
                       instance=f"n={n}, {hsteps} steps (max_substeps=2)", detail=f"{len(S)} states checked")



# ------------------------------------------------- multiscale mirror descent on HSTs
def multiscale_params(hst):
    """(omega, delta) of the multiscale entropy on ``hst``: delta_u = leaves(u)/leaves(p(u)),
    omega_u = length_u / (1 + log(1/delta_u)) (what MultiscaleHSTMTS uses; root entries 1)."""
    par = hst.parent
    nlb = hst.n_leaves_below.astype(float)
    dl = np.ones(hst.n_nodes)
    nr = par >= 0
    dl[nr] = nlb[nr] / nlb[par[nr]]
    return np.where(nr, hst.length / (1.0 + np.log(1.0 / dl)), 1.0), dl


def caterpillar_hst(n, ratio=2.0):
    """An unbalanced 2-HST with n >= 2 leaves and depth n - 1: the spine node at depth k has one leaf
    child and one spine child (the last has two leaves); edges below depth k have length ratio**-k."""
    parent, length = [-1], [0.0]
    spine = 0
    for k in range(n - 1):
        parent.append(spine)
        length.append(ratio ** -k)  # the leaf
        parent.append(spine)
        length.append(ratio ** -k)  # the next spine node (a leaf at the last level)
        spine = len(parent) - 1
    return HST(np.array(parent), np.array(length))


def tree_phi_grad(hst, X, omega, dl):
    """grad Phi(X) in node coordinates for Phi = sum_v omega_v (X_v + dl_v X_p) log(X_v/X_p + dl_v)
    (every internal mass of X positive)."""
    G = np.zeros(hst.n_nodes)
    for v in range(hst.n_nodes):
        p = hst.parent[v]
        if p < 0:
            continue
        q = X[v] / X[p]
        G[v] += omega[v] * (math.log(q + dl[v]) + 1.0)
        G[p] += omega[v] * (dl[v] * math.log(q + dl[v]) - q)
    return G


def tree_objective(hst, Y, X, c_node, omega, dl):
    """<c, Y> + Phi(Y) - <grad Phi(X), Y> (D_Phi(Y, X) up to a constant); empty subtrees contribute 0."""
    f = float(c_node @ Y) - float(tree_phi_grad(hst, X, omega, dl) @ Y)
    for v in range(hst.n_nodes):
        p = hst.parent[v]
        if p < 0 or Y[p] <= 0:
            continue
        a = Y[v] + dl[v] * Y[p]
        f += omega[v] * a * math.log(a / Y[p])
    return f


def generic_tree_projection(hst, X, c_node, omega, dl, zero_tol=1e-6):
    """The Bregman projection argmin_{Y in tree polytope} <c, Y> + D_Phi(Y, X) by generic means, in
    node coordinates (no use of the bottom-up decomposition): cvxpy (CLARABEL; the perspective terms
    as rel_entr(Y_v + dl_v Y_p, Y_p)), then Newton's method on the equality-constrained KKT system
    restricted to the support CLARABEL found (entries > zero_tol; emptied subtrees dropped), with the
    dense Hessian sum_v omega_v / ((q_v + dl_v) Y_p) (e_v - q_v e_p)(e_v - q_v e_p)^T.
    Returns (CLARABEL's solution, the Newton-polished solution, cvxpy status). Finite costs only."""
    import cvxpy as cp

    m = hst.n_nodes
    par = hst.parent
    G = tree_phi_grad(hst, X, omega, dl)
    Y = cp.Variable(m)
    nr = np.flatnonzero(par >= 0)
    obj = (c_node - G) @ Y + cp.sum(cp.multiply(omega[nr], cp.rel_entr(Y[nr] + cp.multiply(dl[nr], Y[par[nr]]),
                                                                        Y[par[nr]])))
    cons = [Y >= 0, Y[hst.root] == 1]
    for v in range(m):
        ch = hst.children(v)
        if ch.size:
            cons.append(Y[v] == cp.sum(Y[ch]))
    prob = cp.Problem(cp.Minimize(obj), cons)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prob.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12, max_iter=500)
    y0 = np.asarray(Y.value, dtype=float)
    free = y0 > zero_tol
    free[hst.root] = True
    for v in hst.order[1:]:
        if not free[par[v]]:
            free[v] = False
    F = np.flatnonzero(free)
    idx = -np.ones(m, dtype=np.int64)
    idx[F] = np.arange(F.size)
    rows, rhs = [], []
    r = np.zeros(F.size)
    r[idx[hst.root]] = 1.0
    rows.append(r)
    rhs.append(1.0)
    for v in F:
        ch = hst.children(v)
        if ch.size:
            r = np.zeros(F.size)
            r[idx[v]] = 1.0
            for w in ch:
                if free[w]:
                    r[idx[w]] -= 1.0
            rows.append(r)
            rhs.append(0.0)
    A, b = np.array(rows), np.array(rhs)
    y = np.where(free, np.maximum(y0, 1e-12), 0.0)
    y[F] -= A.T @ np.linalg.solve(A @ A.T, A @ y[F] - b)
    for _ in range(100):
        grad = c_node - G
        H = np.zeros((m, m))
        for v in range(m):
            p = par[v]
            if p < 0 or not free[p]:
                continue
            q = y[v] / y[p]
            grad[v] += omega[v] * (math.log(q + dl[v]) + 1.0)
            grad[p] += omega[v] * (dl[v] * math.log(q + dl[v]) - q)
            e = np.zeros(m)
            e[v], e[p] = 1.0, -q
            H += omega[v] / ((q + dl[v]) * y[p]) * np.outer(e, e)
        KKT = np.block([[H[np.ix_(F, F)], A.T], [A, np.zeros((A.shape[0], A.shape[0]))]])
        d = np.linalg.lstsq(KKT, np.concatenate([-grad[F], b - A @ y[F]]), rcond=None)[0][:F.size]
        t = 1.0
        while np.any(y[F] + t * d <= 0.0) and t > 1e-12:
            t *= 0.5
        y[F] += t * d
        if np.abs(t * d).max() <= 1e-16:
            break
    return y0, y, prob.status


def random_tree_step_instance(rng):
    """A tiny tree (random HST with 2..6 leaves or a balanced one), conditionals with positive internal
    masses (some leaves empty), finite costs with zeros and three scales."""
    k = int(rng.integers(0, 4))
    hst = HST.balanced(2, 2) if k == 0 else HST.balanced(2, 3) if k == 1 else \
        random_hst(int(rng.integers(2, 7)), seed=int(rng.integers(2**31)))
    omega, dl = multiscale_params(hst)
    Q = np.ones(hst.n_nodes)
    for v in range(hst.n_nodes):
        ch = hst.children(v)
        if ch.size > 1:
            z = rng.dirichlet(np.full(ch.size, 0.7))
            leaf = np.array([hst.is_leaf(int(u)) for u in ch])
            z[leaf & (rng.random(ch.size) < 0.25)] = 0.0
            if z.sum() == 0.0:
                z[0] = 1.0
            Q[ch] = z / z.sum()
    c = rng.exponential(1.0, hst.n_leaves) * rng.choice([0.1, 1.0, 10.0])
    c[rng.random(hst.n_leaves) < 0.2] = 0.0
    return hst, Q, c, omega, dl


@theorem("mts.entropic.multiscale.step_exact",
         statement="One step of MultiscaleHSTMTS (the bottom-up sweep of star steps with effective costs "
                   "beta_u + sum_c omega_c (delta_c log((q'_c+delta_c)/(q_c+delta_c)) - (q'_c - q_c))) equals the "
                   "Bregman projection argmin_{Y in tree polytope} <c,Y> + D_Phi(Y,X) for the multiscale entropy "
                   "Phi = sum_u omega_u (X_u + delta_u X_p) log(X_u/X_p + delta_u), computed by a generic solver "
                   "(cvxpy CLARABEL, then Newton on the KKT system of its support) on tiny trees, to 1e-8 in the "
                   "node masses; our objective is never above the solver's (to 1e-12 relative); the numba kernel "
                   "equals the numpy sweep to 1e-13.",
         reference="KKT of the Bregman projection, derived in docs/theory/entropic_mts.md section 5 [derive]; "
                   "regulariser: Bubeck, Cohen, Lee, Lee, SODA 2019; Coester and Lee, COLT 2019",
         kind="identity", algorithms=["MultiscaleHSTMTS"], families=["tiny random HSTs"])
def _multiscale_step_exact(ctx):
    reps = ctx.pick(24, 300)
    err = err_cvx = excess = err_k = 0.0
    bad_status = 0
    zeros = 0
    for rep in range(reps):
        rng = ctx.rng(rep)
        h, Q, c, omega, dl = random_tree_step_instance(rng)
        X = _masses_np(Q, h)
        Q2, _ = multiscale_projection(Q, c, h, omega, dl)
        Y = _masses_np(Q2, h)
        zeros += int(np.sum(Y[h.leaves] == 0.0))
        cn = np.zeros(h.n_nodes)
        cn[h.leaves] = c
        y0, yN, status = generic_tree_projection(h, X, cn, omega, dl)
        bad_status += status not in ("optimal", "optimal_inaccurate")
        err = max(err, float(np.abs(Y - yN).max()))
        err_cvx = max(err_cvx, float(np.abs(Y - y0).max()))
        fo = tree_objective(h, Y, X, cn, omega, dl)
        fg = tree_objective(h, yN, X, cn, omega, dl)
        excess = max(excess, (fo - fg) / max(1.0, abs(fg)))
        Qk = Q.copy()
        b = int(np.diff(h.child_ptr).max())
        K.multiscale_substep(Qk, c, h.order, h.point_of_node, h.child_ptr, h.child_idx, omega, dl,
                             np.empty(h.n_nodes), *[np.empty(b) for _ in range(5)])
        err_k = max(err_k, float(np.abs(Qk - Q2).max()))
    inst = f"{reps} random steps on trees with 2-9 leaves ({zeros} leaves emptied by the step)"
    yield ctx.identity(err, 1e-8, algorithm="multiscale_projection", family="vs cvxpy + Newton", instance=inst,
                       detail=f"{bad_status} solver failures")
    yield ctx.identity(max(excess, 0.0), 1e-12, algorithm="multiscale_projection", family="objective <= solver's",
                       instance=inst, detail=f"largest relative excess {excess:.3g} (negative: ours lower)")
    yield ctx.report(err_cvx, algorithm="multiscale_projection", family="vs cvxpy CLARABEL alone", instance=inst,
                     detail="distance to CLARABEL's raw solution (solver accuracy, not the step's)")
    yield ctx.identity(err_k, 1e-13, algorithm="multiscale_substep kernel", family="kernel vs numpy", instance=inst)
    yield ctx.identity(bad_status, 0, algorithm="cvxpy", family="solver status", instance=inst)


@theorem("mts.entropic.multiscale.mass",
         statement="MultiscaleHSTMTS's state stays a probability distribution: |sum x - 1| <= 1e-12 and x >= 0 at "
                   "every recorded step of a long run (10^6 tasks in thorough mode, 5 x 10^4 quick; costs over "
                   "four orders of magnitude, with zeros and infinities), and the subtree masses of the final "
                   "state satisfy X_u = sum over children to 1e-12.",
         reference="Fact sheet, checks to face #7 [std]", kind="identity", algorithms=["MultiscaleHSTMTS"],
         families=["long random runs"])
def _multiscale_mass(ctx):
    steps = ctx.pick(50_000, 1_000_000)
    for k, h in enumerate((random_hst(16, seed=ctx.seed_for(1)), caterpillar_hst(8))):
        n = h.n_leaves
        rng = ctx.rng(2, k)
        c = rng.exponential(1.0, size=(steps, n)) * rng.choice([0.01, 1.0, 20.0], size=(steps, 1))
        c[rng.random(c.shape) < 0.05] = np.inf
        c[np.isinf(c).all(axis=1), 0] = 1.0
        alg = MultiscaleHSTMTS(h, max_substeps=8)
        with warnings.catch_warnings():  # the small sub-step cap is deliberate: mass must hold at any resolution
            warnings.simplefilter("ignore", online_algs.NumericalWarning)
            r = online_algs.run(alg, c, series=False, states=True, thin=max(1, steps // 2000))
        S = np.asarray(r.states)
        X = np.empty(h.n_nodes)
        K.hst_masses(alg.Q_, h.order, h.parent, X)
        tree_err = max(abs(X[v] - X[h.children(v)].sum()) for v in range(h.n_nodes) if h.children(v).size)
        err = max(float(np.abs(S.sum(axis=1) - 1).max()), float(max(0.0, -S.min())), float(tree_err),
                  float(max(0.0, -X.min())))
        yield ctx.identity(err, 1e-12, algorithm="MultiscaleHSTMTS", family=["random hst", "caterpillar"][k],
                           instance=f"n={n}, {steps} tasks (max_substeps=8)",
                           detail=f"{len(S)} states checked, {r.info['capped_tasks']} tasks at the cap")


def _fit_c(ns, ratios):
    """Least-squares c in ratio ~ c ln n (through the origin)."""
    a = np.log(np.asarray(ns, dtype=float))
    b = np.asarray(ratios, dtype=float)
    return float(a @ b / (a @ a))


def _leaf_elementary(rng, hst, T):
    """Elementary tasks at uniform random leaves, cost twice the leaf's edge length (scale-adapted)."""
    n = hst.n_leaves
    c = np.zeros((T, n))
    i = rng.integers(0, n, T)
    c[np.arange(T), i] = 2.0 * hst.length[hst.leaves[i]]
    return c


def adaptive_max_mass_tasks(alg, T):
    """An adaptive adversary for an HST algorithm (EntropicHSTMTS or MultiscaleHSTMTS, on an HST): each
    task charges twice its leaf-edge length to the point holding the most mass (lowest index on ties),
    simulating the algorithm's kernel one task at a time. Returns the (T, n) cost array; the algorithm
    is deterministic, so ``run(fresh_alg, costs)`` replays exactly this run."""
    alg.reset()
    h = alg.hst_
    Q = alg.Q_.copy()
    x = alg.state
    leafc = 2.0 * h.length[alg.leaf_node_]
    C = np.zeros((T, x.size))
    for t in range(T):
        i = int(np.argmax(x))
        C[t, i] = leafc[i]
        _, _, _, st, _, Q = K.hst_run(C[t:t + 1], Q, h.order, h.parent, h.point_of_node, h.child_ptr, h.child_idx,
                                      h.length, alg.omega_, alg.dl_, alg.leaf_node_, alg.eta_, alg.tol_,
                                      alg.max_substeps_, 1, False, alg._multiscale)
        x = st[-1]
    return C


@theorem("mts.entropic.multiscale.ratio",
         statement="Empirical: MultiscaleHSTMTS's cost / OPT (exact offline DP on the same metric) against n, "
                   "with fits ratio ~ c ln n (least squares through 0) and ratio ~ a + b ln n, and the ratio per "
                   "level of depth; on balanced binary HSTs and unbalanced caterpillar HSTs (depth n-1) with "
                   "scale-adapted elementary tasks, against an adaptive adversary charging the heaviest leaf "
                   "(balanced), on random 2-HSTs with uniform tasks, and on general metrics through FRT (O(log n) "
                   "on HSTs, O(log^2 n) through FRT for the continuous dynamics). The simplified recursive "
                   "EntropicHSTMTS on the same instances is in each row's detail.",
         reference="Bubeck, Cohen, Lee, Lee, SODA 2019; Coester and Lee, COLT 2019",
         kind="empirical", algorithms=["MultiscaleHSTMTS", "EntropicHSTMTS"],
         families=["balanced", "caterpillar", "hst/uniform", "balanced/adaptive", "general/frt"])
def _multiscale_ratio(ctx):
    seeds = ctx.pick(3, 6)
    T = ctx.pick(400, 2000)

    def run_both(metric_or_hst, c, metric, seed=None):
        """Ratios of MultiscaleHSTMTS, EntropicHSTMTS (default eta 0.25) and EntropicHSTMTS at the
        multiscale default eta = 0.1 (separates the regulariser from the cost scale), and the count
        of capped tasks (counted, so their NumericalWarnings are silenced)."""
        kw = {} if seed is None else {"seed": seed}
        opt = _mts_opt(metric, c, 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", online_algs.NumericalWarning)
            new = online_algs.run(MultiscaleHSTMTS(metric_or_hst, **kw), c, series=False, states=False)
            old = online_algs.run(EntropicHSTMTS(metric_or_hst, **kw), c, series=False, states=False)
            old1 = online_algs.run(EntropicHSTMTS(metric_or_hst, eta=0.1, **kw), c, series=False, states=False)
        return new.total_cost / opt, old.total_cost / opt, old1.total_cost / opt, new.info["capped_tasks"]

    grids = {"balanced": ctx.pick([2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7]),
             "caterpillar": ctx.pick([4, 8, 16, 32], [4, 8, 16, 32, 64]),
             "hst/uniform": ctx.pick([8, 16, 32, 64], [8, 16, 32, 64, 128])}
    for fam, grid in grids.items():
        ns, depths, rat, rat_old, rat_old1 = [], [], [], [], []
        for g in grid:
            rs, ro, ro1, caps, dep = [], [], [], 0, 0
            for s in range(seeds):
                rng = ctx.rng(1, len(fam), g, s)
                if fam == "balanced":
                    h = HST.balanced(g, 2)
                elif fam == "caterpillar":
                    h = caterpillar_hst(g)
                else:
                    h = random_hst(g, seed=ctx.seed_for(2, g, s))
                m = h.metric()
                dep = max(dep, h.height)
                if fam == "hst/uniform":
                    c = rng.uniform(0.0, 1.0, size=(T, m.n)) * m.diameter
                else:
                    c = _leaf_elementary(rng, h, T)
                a, b, b1, k = run_both(h, c, m)
                rs.append(a)
                ro.append(b)
                ro1.append(b1)
                caps += k
            n = h.n_leaves
            ns.append(n)
            depths.append(dep)
            rat.append(float(np.mean(rs)))
            rat_old.append(float(np.mean(ro)))
            rat_old1.append(float(np.mean(ro1)))
            yield ctx.report(rat[-1], bound=math.log(n), algorithm="MultiscaleHSTMTS", family=fam,
                             instance=f"n={n}, depth={dep} (max over seeds), T={T}, {seeds} seeds (bound = ln n)",
                             detail=f"EntropicHSTMTS {rat_old[-1]:.3f} (at eta=0.1: {rat_old1[-1]:.3f}); "
                                    f"ratio/depth {rat[-1] / dep:.3f}; {caps} tasks at the sub-step cap")
        for alg, r in (("MultiscaleHSTMTS", rat), ("EntropicHSTMTS", rat_old), ("EntropicHSTMTS eta=0.1", rat_old1)):
            yield ctx.report(_fit_c(ns, r), algorithm=alg, family=fam,
                             instance=f"c in ratio ~ c ln n over n in {ns}",
                             detail=f"a + b ln n: b = {_fit_slope(ns, r):.3f}; ratio/depth over depths {depths}: "
                                    + ", ".join(f"{x / d:.2f}" for x, d in zip(r, depths)))
    # adaptive adversary on balanced binary HSTs: each algorithm faces its own sequence
    Ta = ctx.pick(200, 1000)
    depths = ctx.pick([2, 3, 4, 5], [2, 3, 4, 5, 6, 7])
    algs = {"MultiscaleHSTMTS": lambda h: MultiscaleHSTMTS(h), "EntropicHSTMTS": lambda h: EntropicHSTMTS(h),
            "EntropicHSTMTS eta=0.1": lambda h: EntropicHSTMTS(h, eta=0.1)}
    rat = {a: [] for a in algs}
    for dep in depths:
        h = HST.balanced(dep, 2)
        m = h.metric()
        for name, make in algs.items():
            c = adaptive_max_mass_tasks(make(h), Ta)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", online_algs.NumericalWarning)
                r = online_algs.run(make(h), c, series=False, states=False)
            rat[name].append(r.total_cost / _mts_opt(m, c, 0))
        yield ctx.report(rat["MultiscaleHSTMTS"][-1], bound=math.log(2 ** dep), algorithm="MultiscaleHSTMTS",
                         family="balanced/adaptive", instance=f"n={2 ** dep}, T={Ta}, deterministic (bound = ln n)",
                         detail=f"EntropicHSTMTS {rat['EntropicHSTMTS'][-1]:.3f} (at eta=0.1: "
                                f"{rat['EntropicHSTMTS eta=0.1'][-1]:.3f}), each against its own sequence")
    ns = [2 ** d for d in depths]
    for name, r in rat.items():
        yield ctx.report(_fit_c(ns, r), algorithm=name, family="balanced/adaptive",
                         instance=f"c in ratio ~ c ln n over n in {ns}",
                         detail=f"a + b ln n: b = {_fit_slope(ns, r):.3f}")
    # general metrics through FRT (movement charged in the original metric: one transport LP per task)
    Tg = ctx.pick(60, 300)
    for n in ctx.pick([4, 8], [4, 8, 16]):
        rs, ro = [], []
        for s in range(seeds):
            m = random_metric("general", n, seed=ctx.seed_for(5, n, s))
            c = ctx.rng(6, n, s).uniform(0.0, 2.0, size=(Tg, n))
            a, b, _, _ = run_both(m, c, m, seed=ctx.seed_for(7, n, s))
            rs.append(a)
            ro.append(b)
        yield ctx.report(float(np.mean(rs)), bound=math.log(n) ** 2, algorithm="MultiscaleHSTMTS",
                         family="general/frt", instance=f"n={n}, T={Tg}, {seeds} seeds (bound = ln^2 n)",
                         detail=f"EntropicHSTMTS {np.mean(ro):.3f}")


_FRT_KINDS = ("euclidean", "general", "line", "tree", "uniform")


@theorem("mts.frt.dominating",
         statement="The FRT tree metric dominates the original metric: d_T(i, j) >= d(i, j) for every pair of "
                   "every sample, and distinct points map to distinct leaves.",
         reference="Fakcharoenphol, Rao, Talwar, STOC 2003 [std]", kind="identity",
         algorithms=["frt_embedding"], families=list(_FRT_KINDS))
def _frt_dominating(ctx):
    samples = ctx.pick(40, 400)
    sizes = ctx.pick([3, 10, 24], [3, 10, 24, 60])
    for kind in _FRT_KINDS:
        bad = 0
        worst = math.inf
        for n in sizes:
            m = random_metric(kind, n, seed=ctx.seed_for(1, n, len(kind)))
            for s in range(samples):
                h, lop = frt_embedding(m, seed=ctx.seed_for(2, n, s, len(kind)))
                dt = h.distance_matrix()[np.ix_(lop, lop)]
                iu = np.triu_indices(n, 1)
                ratio = dt[iu] / m.d[iu]
                worst = min(worst, float(ratio.min()))
                bad += int(np.sum(dt[iu] < m.d[iu] * (1 - 1e-12))) + int(len(set(h.leaves[lop].tolist())) != n)
        yield ctx.identity(bad, 0, algorithm="frt_embedding", family=kind,
                           instance=f"n in {sizes}, {samples} samples each",
                           detail=f"smallest stretch seen {worst:.4f}")


@theorem("mts.frt.stretch",
         statement="FRT expected stretch: for every pair, E[d_T(i,j)] / d(i,j) <= (16 / ln 2) H_n (the "
                   "max over pairs of the sample mean of the stretch is checked against it); the mean stretch "
                   "over pairs is reported against H_n (expected O(log n); 2.4-3.3 H_n on random planar points).",
         reference="Fakcharoenphol, Rao, Talwar, STOC 2003; constant 16/ln 2 derived in docs/theory/entropic_mts.md",
         kind="upper", algorithms=["frt_embedding"], families=["euclidean", "general", "line", "uniform"])
def _frt_stretch(ctx):
    samples = ctx.pick(150, 1500)
    sizes = ctx.pick([8, 24], [8, 24, 64])
    for kind in ("euclidean", "general", "line", "uniform"):
        for n in sizes:
            m = random_metric(kind, n, seed=ctx.seed_for(1, n, len(kind)))
            iu = np.triu_indices(n, 1)
            acc = np.zeros(len(iu[0]))
            means = []
            worst_pair_each = []
            for s in range(samples):
                h, lop = frt_embedding(m, seed=ctx.seed_for(2, n, s, len(kind)))
                st = (h.distance_matrix()[np.ix_(lop, lop)][iu]) / m.d[iu]
                acc += st
                means.append(float(st.mean()))
                worst_pair_each.append(float(st.max()))
            Hn = _harmonic(n)
            bound = 16.0 / math.log(2.0) * Hn
            yield ctx.upper(float((acc / samples).max()), bound, algorithm="frt_embedding", family=kind,
                            instance=f"n={n}, {samples} samples: max over pairs of mean stretch",
                            detail=f"mean over samples of the worst pair's stretch: {np.mean(worst_pair_each):.2f} "
                                   f"(not bounded by the theorem)")
            yield ctx.report(float(np.mean(means)) / Hn, algorithm="frt_embedding", family=kind,
                             instance=f"n={n}, {samples} samples: mean stretch / H_n")
