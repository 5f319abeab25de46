"""No-regret caching: projections, OGD / OMD / FTPL regret, the pairs lower bound, rounding."""

from __future__ import annotations

import math

import numpy as np

import online_algs
from online_algs.caching import _kernels_learners as _k
from online_algs.caching.learners import (FTPL, OGD, OMD, Rounded, best_static_gain, madow_sample,
                                          ogd_step_size, omd_step_size, project_capped_simplex,
                                          project_capped_simplex_kl)
from online_algs.caching.offline import weighted_paging_opt_lp
from online_algs.caching.rounding import depround
from online_algs.caching.traces import adversarial_pairs_trace, cycle_trace, shifting_trace, zipf_trace

from ..registry import mean_ci, theorem

# ----------------------------------------------------------------------------- helpers


def _bisect_euclid(z, C):
    """Euclidean projection onto the capped simplex by bisection on tau (sum clip(z - tau, 0, 1) = C)."""
    z = np.asarray(z, dtype=float)
    lo, hi = float(z.min()) - 1.0, float(z.max())
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.clip(z - mid, 0, 1).sum() > C:
            lo = mid
        else:
            hi = mid
    return np.clip(z - 0.5 * (lo + hi), 0, 1)


def _cvx_euclid(z, C):
    """cvxpy (HiGHS QP) solution and its KKT polish on the active set the solver found."""
    import cvxpy as cp

    y = cp.Variable(len(z))
    cp.Problem(cp.Minimize(cp.sum_squares(y - z)), [y >= 0, y <= 1, cp.sum(y) == C]).solve(solver="HIGHS")
    raw = np.asarray(y.value)
    lo, hi = raw < 1e-6, raw > 1 - 1e-6
    free = ~(lo | hi)
    pol = np.where(hi, 1.0, 0.0)
    if free.any():
        tau = (z[free].sum() - (C - hi.sum())) / free.sum()
        pol[free] = z[free] - tau
    return raw, pol


def _cvx_kl(v, C):
    """cvxpy (CLARABEL, exponential cone) solution and its KKT polish on the solver's active set."""
    import cvxpy as cp

    x = cp.Variable(len(v))
    obj = cp.sum(-cp.entr(x) - cp.multiply(x, np.log(v)) - x)
    cp.Problem(cp.Minimize(obj), [x >= 0, x <= 1, cp.sum(x) == C]).solve(
        solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    raw = np.asarray(x.value)
    hi = raw > 1 - 1e-6
    pol = np.where(hi, 1.0, 0.0)
    rest = ~hi
    pol[rest] = v[rest] * (C - hi.sum()) / v[rest].sum()
    return raw, pol


def _families(ctx, T, C, N, key):
    """(family, trace, n_items, capacity) instances shared by the regret checks."""
    out = [("zipf", zipf_trace(N, T, 1.0, seed=ctx.seed_for(key, 1)), N, C),
           ("shifting", shifting_trace(N, T, 1.0, n_phases=4, seed=ctx.seed_for(key, 2)), N, C),
           ("adversarial_pairs", adversarial_pairs_trace(C, T, seed=ctx.seed_for(key, 3)), 2 * C, C),
           ("round_robin", cycle_trace(N - 1, T), N, C),
           ("alternating", (np.arange(T) % 2).astype(np.int64), 2, 1)]
    return out


def _real_prefix(T):
    from online_algs.datasets import load_trace

    tr = load_trace("web07")[:T]
    _, ids = np.unique(tr, return_inverse=True)
    return ids.astype(np.int64), int(ids.max()) + 1


def _regret_instances(ctx, key):
    """The instances of the OGD and OMD regret checks: :func:`_families` and a prefix of web07; and C."""
    T = ctx.pick(4000, 40000)
    N, C = ctx.pick((100, 10), (400, 40))
    inst = _families(ctx, T, C, N, key)
    inst.append(("web07", *_real_prefix(ctx.pick(20000, 76000)), ctx.pick(100, 200)))
    return inst, C


def _regret(alg, trace, C, N, weights=None):
    res = online_algs.run(alg, trace, series=True)
    return best_static_gain(trace, C, n_items=N, weights=weights) - res.total_gain, res


# ----------------------------------------------------------------------------- projections

@theorem("caching.projection.exact",
         statement="The sort-based Euclidean and KL projections onto {y in [0,1]^N, sum y = C} agree with "
                   "bisection twins and with cvxpy (CLARABEL) to 1e-8; the sum is C to 1e-9; the KKT forms "
                   "y = clip(z - tau, 0, 1) and x = min(1, c y) hold; the one-hot fast paths (OGD lazy "
                   "projection, OMD multiplier) reproduce the general-projection runs.",
         reference="Projection onto the capped simplex [std]; Si Salem et al. 2023 (KL form); "
                   "docs/theory/no_regret_caching.md", kind="identity",
         algorithms=["project_capped_simplex", "project_capped_simplex_kl", "OGD", "OMD"],
         families=["random", "ties", "zipf"])
def _projection_exact(ctx):
    reps = ctx.pick(60, 400)
    n_cvx = ctx.pick(4, 20)
    err_e = err_k = err_sum = err_kkt = err_cvx = err_raw = 0.0
    for r in range(reps):
        rng = ctx.rng(r)
        N = int(rng.integers(2, 60))
        C = int(rng.integers(1, N)) if r % 3 else float(rng.uniform(0.1, N - 0.1))
        z = rng.normal(0, 2.0, N)
        if r % 4 == 0:
            z = np.round(z)  # ties, coinciding breakpoints
        y, tau = project_capped_simplex(z, C, return_tau=True)
        err_e = max(err_e, float(np.abs(y - _bisect_euclid(z, C)).max()))
        err_sum = max(err_sum, abs(float(y.sum()) - C))
        err_kkt = max(err_kkt, float(np.abs(y - np.clip(z - tau, 0, 1)).max()))
        v = rng.exponential(1.0, N) * (rng.random(N) < 0.8)
        if (v > 0).sum() >= C:
            x, c = project_capped_simplex_kl(v, C, return_scale=True)
            lo, hi = math.log(C / v.sum()) - 1, math.log(1 / v[v > 0].min()) + 1
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                lo, hi = (lo, mid) if np.minimum(1, math.exp(mid) * v).sum() > C else (mid, hi)
            err_k = max(err_k, float(np.abs(x - np.minimum(1, math.exp(lo) * v)).max()))
            err_sum = max(err_sum, abs(float(x.sum()) - C))
            err_kkt = max(err_kkt, float(np.abs(x - np.minimum(1, c * v)).max()))
        if r < n_cvx:
            Ci = int(max(1, min(N - 1, round(C))))
            raw, pol = _cvx_euclid(z, Ci)
            ours = project_capped_simplex(z, Ci)
            err_cvx = max(err_cvx, float(np.abs(ours - pol).max()))
            err_raw = max(err_raw, float(np.abs(ours - raw).max()))
            w = rng.exponential(1.0, N) + 1e-2
            raw, pol = _cvx_kl(w, Ci)
            ours = project_capped_simplex_kl(w, Ci)
            err_cvx = max(err_cvx, float(np.abs(ours - pol).max()))
            err_raw = max(err_raw, float(np.abs(ours - raw).max()))
    inst = f"{reps} instances, N in [2, 60]"
    yield ctx.identity(err_e, 1e-8, algorithm="project_capped_simplex", family="random", instance=inst,
                       detail="max |sort-based - bisection|")
    yield ctx.identity(err_k, 1e-8, algorithm="project_capped_simplex_kl", family="random", instance=inst,
                       detail="max |sort-based - bisection in log c|")
    yield ctx.identity(err_cvx, 1e-8, algorithm="projections", family="random", instance=f"{n_cvx} cvxpy solves",
                       detail="max |ours - cvxpy solution polished on the solver's active set| (HiGHS QP / CLARABEL)")
    yield ctx.identity(err_raw, 1e-5, algorithm="projections", family="random", instance=f"{n_cvx} cvxpy solves",
                       detail="max |ours - raw cvxpy solution| (solver accuracy ~1e-6 on degenerate instances)")
    yield ctx.identity(err_sum, 1e-9, algorithm="projections", family="random", instance=inst,
                       detail="max |sum y - C|")
    yield ctx.identity(err_kkt, 1e-12, algorithm="projections", family="random", instance=inst,
                       detail="max distance to the KKT form with the returned tau / c")
    # fast paths against the general projection, on runs
    worst = {"OGD": 0.0, "OMD": 0.0}
    for r in range(ctx.pick(6, 30)):
        rng = ctx.rng(1000 + r)
        N = int(rng.integers(3, 80))
        C = int(rng.integers(1, N))
        T = ctx.pick(300, 2000)
        tr = zipf_trace(N, T, float(rng.uniform(0, 1.5)), seed=int(rng.integers(1 << 30)))
        w = rng.uniform(0.3, 3.0, N) if r % 2 else None
        for cls in (OGD, OMD):
            alg = cls(N, C, horizon=T, weights=w)
            f = online_algs.run(alg, tr, series=True, states=True, thin=T // 3)
            s = online_algs.run(alg, tr, series=True, states=True, thin=T // 3, fast=False)
            e = float(np.abs(f.gain - s.gain).max())
            for a, b in zip(f.states, s.states):
                e = max(e, float(np.abs(a - b).max()))
            worst[cls.__name__] = max(worst[cls.__name__], e)
    for name, e in worst.items():
        yield ctx.identity(e, 1e-8, algorithm=name, family="zipf", instance="fast path vs update loop",
                           detail="max |gain or state difference|")


# ----------------------------------------------------------------------------- OGD

@theorem("caching.ogd.regret",
         statement="OGD with eta = D/(w_max sqrt T), D = sqrt(2 min(C, N-C)): R_T <= w_max sqrt(2 min(C,N-C) T) "
                   "for one-hot requests; from y_1 = (C/N) 1 with eta = sqrt(C(1-C/N))/(w_max sqrt T): "
                   "R_T <= w_max sqrt(C (1 - C/N) T). Log-log slope of regret vs T reported (empirical).",
         reference="Paschos et al. INFOCOM 2019; Zinkevich 2003 (OGD); docs/theory/no_regret_caching.md",
         kind="upper", algorithms=["OGD"], families=["zipf", "shifting", "adversarial_pairs", "round_robin", "web07"])
def _ogd_regret(ctx):
    inst, C = _regret_instances(ctx, 0)
    rng = ctx.rng(0)
    for fam, tr, n, c in inst:
        Tn = len(tr)
        for weighted in (False, True):
            w = rng.uniform(0.5, 2.0, n) if weighted else None
            wmax = 1.0 if w is None else float(w.max())
            for init in ("uniform", "first"):
                reg, _ = _regret(OGD(n, c, horizon=Tn, weights=w, init=init), tr, c, n, w)
                bound = wmax * math.sqrt(2 * min(c, n - c) * Tn)
                yield ctx.upper(reg, bound, algorithm=f"OGD(init={init})", family=fam,
                                instance=f"N={n}, C={c}, T={Tn}, {'weighted' if weighted else 'unit'}")
            D1 = math.sqrt(c * (1 - c / n))
            reg, _ = _regret(OGD(n, c, eta=ogd_step_size(n, c, Tn, wmax, diameter=D1), weights=w), tr, c, n, w)
            yield ctx.upper(reg, wmax * D1 * math.sqrt(Tn), algorithm="OGD(uniform, eta=D1/(w sqrt T))", family=fam,
                            instance=f"N={n}, C={c}, T={Tn}, {'weighted' if weighted else 'unit'}, "
                                     f"bound w sqrt(C(1-C/N)T)")
    # anytime schedule: R_T <= 1.5 w D sqrt(T)
    for fam, tr, n, c in inst[:5]:
        reg, _ = _regret(OGD(n, c), tr, c, n)
        yield ctx.upper(reg, 1.5 * math.sqrt(2 * min(c, n - c) * len(tr)), algorithm="OGD(anytime)", family=fam,
                        instance=f"N={n}, C={c}, T={len(tr)}, eta_t = D/sqrt(t)")
    # slope of regret vs T on the pairs family (mean over seeds)
    Ts = ctx.pick([500, 1000, 2000, 4000, 8000], [1000, 2000, 4000, 8000, 16000, 32000, 64000])
    seeds = ctx.pick(20, 60)
    means = []
    for Tk in Ts:
        regs = [_regret(OGD(2 * C, C, horizon=Tk), adversarial_pairs_trace(C, Tk, seed=ctx.seed_for(Tk, s)),
                        C, 2 * C)[0] for s in range(seeds)]
        means.append(np.mean(regs))
    slope = float(np.polyfit(np.log(Ts), np.log(means), 1)[0])
    yield ctx.report(slope, 0.5, algorithm="OGD", family="adversarial_pairs",
                     instance=f"C={C}, T in {Ts}, {seeds} seeds", detail="log-log slope of mean regret vs T")


# ----------------------------------------------------------------------------- OMD

@theorem("caching.omd.regret",
         statement="OMD-NE from (C/N) 1 with constant eta, one-hot requests: R_T <= C log(N/C)/eta + "
                   "sum_t y_t[i_t] (e^{eta w_i} - 1 - eta w_i)/eta (exact); with eta = sqrt(2 log(N/C)/T) and w = 1 "
                   "this gives R_T <= C sqrt(2 log(N/C) T). With eta = sqrt(2 C log(N/C)/T) the ratio to "
                   "sqrt(2 C log(N/C) T) is reported (the bound holds to first order in eta). Anytime (doubling, "
                   "eta_m = min(1, sqrt(2 C log(N/C)/2^m))): R_T <= sum of the per-epoch exact bounds.",
         reference="Si Salem, Neglia, Ioannidis, ACM TOMPECS 2023; docs/theory/no_regret_caching.md",
         kind="upper", algorithms=["OMD"], families=["zipf", "shifting", "adversarial_pairs", "round_robin", "web07"])
def _omd_regret(ctx):
    inst, _ = _regret_instances(ctx, 1)
    rng = ctx.rng(0)
    for fam, tr, n, c in inst:
        Tn = len(tr)
        L = math.log(n / c)
        for weighted in (False, True):
            w = rng.uniform(0.5, 2.0, n) if weighted else None
            wv = np.ones(n) if w is None else w
            tag = f"N={n}, C={c}, T={Tn}, {'weighted' if weighted else 'unit'}"
            for tight in (True, False):
                eta = omd_step_size(n, c, Tn, tight=tight)
                reg, res = _regret(OMD(n, c, eta=eta, weights=w), tr, c, n, w)
                wi = wv[tr]
                y_req = res.gain / wi
                exact = c * L / eta + float(np.sum(y_req * (np.exp(eta * wi) - 1 - eta * wi))) / eta
                yield ctx.upper(reg, exact, algorithm=f"OMD(eta={'tight' if tight else 'loose'})", family=fam,
                                instance=tag + ", exact bound")
                if not weighted and not tight:
                    yield ctx.upper(reg, c * math.sqrt(2 * L * Tn), algorithm="OMD(eta=sqrt(2 log(N/C)/T))",
                                    family=fam, instance=tag + ", bound C sqrt(2 log(N/C) T)")
                if not weighted and tight:
                    yield ctx.report(reg / math.sqrt(2 * c * L * Tn), 1.0, algorithm="OMD(eta=sqrt(2C log(N/C)/T))",
                                     family=fam, instance=tag, detail="R_T / sqrt(2 C log(N/C) T)")
        # anytime (doubling): regret <= sum over epochs of the exact per-epoch bound with unit w
        reg, _ = _regret(OMD(n, c), tr, c, n)
        bound, start, m = 0.0, 0, 0
        while start < Tn:
            Lm = min(1 << m, Tn - start)
            eta = min(1.0, omd_step_size(n, c, 1 << m))
            bound += c * L / eta + Lm * (math.exp(eta) - 1 - eta) / eta
            start += 1 << m
            m += 1
        yield ctx.upper(reg, bound, algorithm="OMD(anytime, doubling)", family=fam,
                        instance=f"N={n}, C={c}, T={Tn}, sum of per-epoch bounds")


# ----------------------------------------------------------------------------- FTPL

@theorem("caching.ftpl.regret",
         statement="FTPL with a fixed Gaussian perturbation and eta = (4 pi ln N)^(-1/4) sqrt(T/C): "
                   "E[R_T] <= 1.51 (ln N)^(1/4) sqrt(C T) (pass unless the 95% CI of the mean over seeds lies "
                   "entirely above the bound).",
         reference="Bhattacharjee, Banerjee, Sinha, SIGMETRICS 2020", kind="upper", algorithms=["FTPL"],
         families=["alternating", "zipf", "adversarial_pairs", "round_robin"])
def _ftpl_regret(ctx):
    T = ctx.pick(2000, 20000)
    seeds = ctx.pick(400, 3000)
    inst = [("alternating", (np.arange(T) % 2).astype(np.int64), 2, 1),
            ("zipf", zipf_trace(100, T, 1.0, seed=ctx.seed_for(1)), 100, 10),
            ("adversarial_pairs", adversarial_pairs_trace(5, T, seed=ctx.seed_for(2)), 10, 5),
            ("round_robin", cycle_trace(49, T), 50, 5)]
    for fam, tr, n, c in inst:
        best = best_static_gain(tr, c, n_items=n)
        regs = np.array([best - online_algs.run(FTPL(n, c, horizon=T, seed=ctx.seed_for(3, s)), tr,
                                                series=False).total_gain for s in range(seeds)])
        m, ci = mean_ci(regs)
        bound = 1.51 * math.log(n) ** 0.25 * math.sqrt(c * T)
        yield ctx.upper(m, bound, ci=ci, use_ci=True, algorithm="FTPL", family=fam,
                        instance=f"N={n}, C={c}, T={T}, {seeds} seeds (max single run {regs.max():.0f})")
        regs_any = np.array([best - online_algs.run(FTPL(n, c, seed=ctx.seed_for(4, s)), tr, series=False).total_gain
                             for s in range(ctx.pick(20, 100))])
        yield ctx.report(float(regs_any.mean()) / bound, 1.0, algorithm="FTPL(anytime)", family=fam,
                         instance=f"N={n}, C={c}, T={T}, {len(regs_any)} seeds",
                         detail="mean regret of eta_t = (4 pi ln N)^(-1/4) sqrt(t/C) over the fixed-T bound")


# ----------------------------------------------------------------------------- lower bound

@theorem("caching.regret.lower_bound",
         statement="On the pairs family (N = 2C, each item w.p. 1/(2C) per round) every policy gains T/2 in "
                   "expectation, so E[R_T] = E[sum of the C largest counts of Multinomial(T, 1/(2C))] - T/2 "
                   ">= sqrt(C T / (2 pi)); measured for the exact expectation and for OGD, OMD, FTPL "
                   "(pass unless the 95% CI lies entirely below the bound); each algorithm's mean regret matches the "
                   "exact expectation within 4 standard errors.",
         reference="Paschos et al. INFOCOM 2019 (pairs construction); Bhattacharjee et al. 2020", kind="lower",
         algorithms=["OGD", "OMD", "FTPL"], families=["adversarial_pairs"])
def _lower_bound(ctx):
    T = ctx.pick(1000, 10000)
    rng = ctx.rng(0)
    for C in ctx.pick((2, 5, 20), (2, 5, 20, 50)):
        M = ctx.pick(4000, 40000)
        counts = rng.multinomial(T, np.full(2 * C, 1 / (2 * C)), size=M)
        top = -np.sort(-counts, axis=1)[:, :C].sum(axis=1) - T / 2
        m, ci = mean_ci(top)
        bound = math.sqrt(C * T / (2 * math.pi))
        yield ctx.lower(m, bound, ci=ci, use_ci=True, algorithm="best static - T/2", family="adversarial_pairs",
                        instance=f"C={C}, T={T}, {M} multinomial samples (ratio {m / bound:.3f})")
    C = 5
    seeds = ctx.pick(150, 1000)
    bound = math.sqrt(C * T / (2 * math.pi))
    counts = rng.multinomial(T, np.full(2 * C, 1 / (2 * C)), size=ctx.pick(20000, 100000))
    exact = -np.sort(-counts, axis=1)[:, :C].sum(axis=1) - T / 2
    e_mean, e_ci = mean_ci(exact)
    e_se = (e_ci[1] - e_ci[0]) / (2 * 1.96)
    for name, make in (("OGD", lambda s: OGD(2 * C, C, horizon=T)), ("OMD", lambda s: OMD(2 * C, C, horizon=T)),
                       ("FTPL", lambda s: FTPL(2 * C, C, horizon=T, seed=s))):
        regs = []
        for s in range(seeds):
            tr = adversarial_pairs_trace(C, T, seed=ctx.seed_for(7, s))
            regs.append(_regret(make(s), tr, C, 2 * C)[0])
        m, ci = mean_ci(regs)
        yield ctx.lower(m, bound, ci=ci, use_ci=True, algorithm=name, family="adversarial_pairs",
                        instance=f"C={C}, T={T}, {seeds} seeds")
        # every committed policy gains T/2 in expectation: its mean regret must match the exact expectation
        se = math.hypot((ci[1] - ci[0]) / (2 * 1.96), e_se)
        yield ctx.identity(abs(m - e_mean), 4 * se, algorithm=name, family="adversarial_pairs",
                           instance=f"C={C}, T={T}: |mean regret - E[top-C] + T/2| vs 4 standard errors",
                           detail=f"mean regret {m:.2f}, exact expectation {e_mean:.2f}")


# ----------------------------------------------------------------------------- rounding

@theorem("caching.rounding.marginals",
         statement="Madow, coupled (Madow with one U per run) and DepRound return exactly C items with "
                   "P(i) = y_i: with M samples, max_i |freq_i - y_i| sqrt(M) <= sqrt(ln(2N/1e-6)/2) "
                   "(Hoeffding + union bound, fails with probability <= 1e-6 per instance).",
         reference="Madow 1949; Gandhi, Khuller, Parthasarathy, Srinivasan J.ACM 2006", kind="upper",
         algorithms=["madow_sample", "CoupledRounding", "depround"], families=["random", "ogd_trajectory"])
def _marginals(ctx):
    rng = ctx.rng(0)
    N, C = 20, 6
    Ms = ctx.pick([500, 4000], [500, 4000, 32000])
    bound = math.sqrt(math.log(2 * N / 1e-6) / 2)
    y = project_capped_simplex(rng.normal(0, 1, N), C)
    # a trajectory of OGD fractional caches (what coupled rounding sees)
    tr = zipf_trace(N, 60, 0.8, seed=ctx.seed_for(1))
    res = online_algs.run(OGD(N, C, eta=0.3), tr, states=True, thin=20)
    for M in Ms:
        for name in ("madow_sample", "depround"):
            g = ctx.rng(1, M, len(name))
            freq = np.zeros(N)
            exact = True
            for _ in range(M):
                ids = madow_sample(y, float(g.random())) if name == "madow_sample" else depround(y, g)
                exact &= len(ids) == C
                freq[ids] += 1
            dev = float(np.abs(freq / M - y).max()) * math.sqrt(M)
            yield ctx.upper(dev if exact else float("inf"), bound, algorithm=name, family="random",
                            instance=f"N={N}, C={C}, M={M}", detail="max |freq - y| * sqrt(M)")
        # coupled: one U per run; over runs (U uniform) each round's marginals are y_t
        g = ctx.rng(2, M)
        us = g.random(M)
        dev = 0.0
        for yt in res.states[1:]:
            freq = np.zeros(N)
            for u in us:
                freq[madow_sample(yt, float(u))] += 1
            dev = max(dev, float(np.abs(freq / M - yt).max()) * math.sqrt(M))
        yield ctx.upper(dev, bound, algorithm="CoupledRounding", family="ogd_trajectory",
                        instance=f"N={N}, C={C}, M={M} runs, {len(res.states) - 1} rounds")


@theorem("caching.rounding.coupled_movement",
         statement="Coupled rounding (Madow with one U) fetches, in expectation per round, at most the 1-d "
                   "transport distance sum_j |S_j(y_t) - S_j(y_(t-1))| (S the cumulative sums in item order) "
                   "and at least ||y_t - y_(t-1)||_1 / 2; the ratio mean fetches / mean ||dy||_1 is reported.",
         reference="derived in docs/theory/no_regret_caching.md (systematic sampling)", kind="upper",
         algorithms=["Rounded(coupled)"], families=["zipf", "shifting", "adversarial_pairs"])
def _coupled_movement(ctx):
    T = ctx.pick(300, 2000)
    seeds = ctx.pick(8, 40)
    N, C = 60, 6
    for fam, make in (("zipf", lambda s: zipf_trace(N, T, 1.0, seed=s)),
                      ("shifting", lambda s: shifting_trace(N, T, 1.0, 4, seed=s)),
                      ("adversarial_pairs", lambda s: adversarial_pairs_trace(C, T, seed=s))):
        for lname, lmake in (("OGD", OGD), ("OMD", OMD)):
            fetch, trans, dy, indep = [], [], [], []
            for s in range(seeds):
                tr = make(ctx.seed_for(len(fam), s))
                n = int(tr.max()) + 1 if fam == "adversarial_pairs" else N
                n = max(n, 2 * C)
                res = online_algs.run(Rounded(lmake(n, C, horizon=T), "coupled", seed=ctx.seed_for(9, s)), tr)
                fetch.append(res.info["fetches"][1:].mean())
                trans.append(res.info["transport"][1:].mean())
                dy.append(res.info["dy_l1"][1:].mean())
            f, (flo, fhi) = mean_ci(fetch)
            tmean = float(np.mean(trans))
            dmean = float(np.mean(dy))
            tag = f"N={N}, C={C}, T={T}, {seeds} seeds"
            yield ctx.upper(f, tmean, ci=(flo, fhi), use_ci=True, algorithm=f"Rounded({lname}, coupled)",
                            family=fam, instance=tag + ", bound: mean transport")
            yield ctx.lower(f, 0.5 * dmean, ci=(flo, fhi), use_ci=True, algorithm=f"Rounded({lname}, coupled)",
                            family=fam, instance=tag + ", bound: ||dy||_1 / 2")
            yield ctx.report(f / dmean if dmean > 0 else float("nan"), 1.0, algorithm=f"Rounded({lname}, coupled)",
                             family=fam, instance=tag, detail="mean fetches / mean ||dy||_1")


def _top_ids_trace(trace, n):
    """The requests of ``trace`` to its ``n`` most requested ids, relabelled 0..n-1."""
    ids, counts = np.unique(trace, return_counts=True)
    top = ids[np.argsort(-counts, kind="stable")[:n]]
    keep = np.isin(trace, top)
    return np.searchsorted(np.sort(top), trace[keep]).astype(np.int64)


@theorem("caching.rounding.transport_movement",
         statement="TransportRounding (one U, layout of C-sets updated by transfers and swaps) keeps exactly C "
                   "items and exact marginals every round (layout marginals = y_t to 1e-9; over M independent U, "
                   "max |freq - y| sqrt(M) <= sqrt(ln(2NT/1e-6)/2)), and without compaction its expected fetches "
                   "per round are at most the additions it makes (fills + 2 swaps), which are <= ||y_t - y_(t-1)||_1: "
                   "mean total fetches over U <= sum_t ||dy_t||_1, and >= half of it (any exact-marginal rounding). "
                   "Ratios fetches / ||dy||_1 of TransportRounding and of CoupledRounding (Madow, one U) are reported. "
                   "With the smallest budget (max_atoms = 2(N+C)) the marginals stay exact through compactions "
                   "(merge and Madow rules; OMD must compact at least once, OGD may stay within the budget), the "
                   "additions of each layout update stay <= ||dy||_1, and the compactions' exact expected fetches "
                   "are reported (not covered by the bound).",
         reference="derived in docs/theory/coupled_rounding.md", kind="upper",
         algorithms=["TransportRounding", "CoupledRounding"], families=["zipf", "web07_top"])
def _transport_movement(ctx):
    from online_algs.caching.rounding import CoupledRounding, TransportRounding

    T = ctx.pick(150, 1000)
    seeds = ctx.pick(10, 30)
    N, C = ctx.pick((40, 5), (100, 10))
    real = _top_ids_trace(_real_prefix(ctx.pick(4000, 20000))[0], N)[:T]
    for fam, trace in (("zipf", zipf_trace(N, T, 0.9, seed=ctx.seed_for(1))), ("web07_top", real)):
        tag = f"N={N}, C={C}, T={len(trace)}, {seeds} seeds" + (f" (web07 requests to its top {N} ids)"
                                                                 if fam != "zipf" else "")
        for lname, lmake in (("OGD", OGD), ("OMD", OMD)):
            ys = online_algs.run(lmake(N, C, horizon=len(trace)), trace, states=True).states
            dy = float(sum(np.abs(ys[t] - ys[t - 1]).sum() for t in range(1, len(ys))))
            fetch, coupled, bound_ok, marg_err, atoms = [], [], True, 0.0, 0
            for s in range(seeds):
                r = TransportRounding(C, seed=ctx.seed_for(2, s), max_atoms=10**9)
                r.reset_with(ys[0])
                cr = CoupledRounding(seed=ctx.seed_for(2, s))
                cr(ys[0])
                f = c = 0
                for y in ys[1:]:
                    f += len(r.update(y)[0])
                    bound_ok &= r.movement_bound_ <= r.dy_l1_ + 1e-9 and len(r.cache) == C
                    cr(y)
                    c += cr.fetches_
                    if s == 0:
                        marg_err = max(marg_err, float(np.abs(r.marginals() - y).max()))
                        atoms = max(atoms, r.n_atoms)
                fetch.append(f)
                coupled.append(c)
            m, ci = mean_ci(fetch)
            alg = f"TransportRounding({lname})"
            yield ctx.upper(m, dy, ci=ci, use_ci=True, algorithm=alg, family=fam,
                            instance=tag + ", mean total fetches vs sum ||dy||_1")
            yield ctx.lower(m, 0.5 * dy, ci=ci, use_ci=True, algorithm=alg, family=fam,
                            instance=tag + ", mean total fetches vs sum ||dy||_1 / 2")
            yield ctx.identity(marg_err if bound_ok else float("inf"), 1e-9, algorithm=alg, family=fam,
                               instance=tag + ", max |layout marginals - y_t|; exactly C; additions <= ||dy||_1",
                               detail=f"max atoms {atoms}")
            yield ctx.report(m / dy, 1.0, algorithm=alg, family=fam, instance=tag,
                             detail=f"mean fetches / sum ||dy||_1; max atoms {atoms}, no compaction")
            yield ctx.report(float(np.mean(coupled)) / dy, 1.0, algorithm=f"CoupledRounding({lname})", family=fam,
                             instance=tag, detail="mean fetches / sum ||dy||_1 (Madow with one U)")
    # with the smallest budget: compactions (both rules) keep the marginals exact, the additions of
    # every layout update stay <= ||dy||_1, and the compactions' exact expected fetches are reported
    for lname, lmake in (("OGD", OGD), ("OMD", OMD)):
        ys = online_algs.run(lmake(N, C, horizon=len(real)), real, states=True).states
        for rule in ("merge", "madow"):
            r = TransportRounding(C, seed=ctx.seed_for(5), max_atoms=2 * (N + C), compaction=rule)
            r.reset_with(ys[0])
            err, ok, comp, lay, dyt = 0.0, True, 0.0, 0.0, 0.0
            for y in ys[1:]:
                r.update(y)
                ok &= r.movement_bound_ <= r.dy_l1_ + 1e-9 and len(r.cache) == C and r.n_atoms <= r.max_atoms_
                err = max(err, float(np.abs(r.marginals() - y).max()))
                comp += r.compaction_movement_
                lay += r.movement_bound_
                dyt += r.dy_l1_
            if lname == "OMD":  # OMD must exercise the compactions (OGD may stay within the budget)
                ok &= r.n_compactions_ > 0
            tag = f"N={N}, C={C}, T={len(real)}, web07 top {N}, max_atoms=2(N+C), compaction={rule}"
            alg = f"TransportRounding({lname})"
            yield ctx.identity(err if ok else float("inf"), 1e-9, algorithm=alg, family="web07_top",
                               instance=tag + ", max |marginals - y_t| with compactions; additions <= ||dy||_1",
                               detail=f"{r.n_compactions_} compactions")
            yield ctx.report(comp / dyt, 1.0, algorithm=alg, family="web07_top", instance=tag,
                             detail=f"compaction expected fetches / sum ||dy||_1 ({r.n_compactions_} compactions; "
                                    f"layout updates {lay / dyt:.3f})")
    # marginals over independent U on a small OGD trajectory
    Nm, Cm, Tm, M = 12, 3, ctx.pick(25, 60), ctx.pick(200, 1000)
    ys = online_algs.run(OGD(Nm, Cm, eta=0.3), zipf_trace(Nm, Tm, 0.8, seed=ctx.seed_for(3)), states=True).states
    freq = np.zeros((len(ys), Nm))
    for s in range(M):
        r = TransportRounding(Cm, seed=ctx.seed_for(4, s), max_atoms=10**9)
        freq[0, r.reset_with(ys[0])] += 1
        for t, y in enumerate(ys[1:], 1):
            r.update(y)
            freq[t, r.cache] += 1
    dev = float(np.abs(freq / M - np.asarray(ys)).max()) * math.sqrt(M)
    yield ctx.upper(dev, math.sqrt(math.log(2 * Nm * len(ys) / 1e-6) / 2), algorithm="TransportRounding(OGD)",
                    family="zipf", instance=f"N={Nm}, C={Cm}, T={Tm}, M={M} independent U",
                    detail="max_(t,i) |freq - y_t,i| sqrt(M) (Hoeffding + union bound, fails w.p. <= 1e-6)")


# ----------------------------------------------------------------------------- offline weighted paging

def _paging_dp(trace, C, w):
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


@theorem("caching.offline.weighted_paging_lp",
         statement="The interval LP of weighted paging (sum over kept intervals containing t <= C - 1) is totally "
                   "unimodular, so its value is the offline optimum: it equals a dynamic program over cache "
                   "contents on small instances and Belady's misses for unit weights (to 1e-7).",
         reference="Interval (consecutive-ones) matrices are totally unimodular [std]; Belady 1966",
         kind="identity", algorithms=["weighted_paging_opt_lp"], families=["random", "zipf"])
def _weighted_paging_lp(ctx):
    from online_algs.caching.belady import belady_misses

    err_dp = err_bel = 0.0
    reps = ctx.pick(25, 150)
    for r in range(reps):
        rng = ctx.rng(r)
        N = int(rng.integers(2, 7))
        C = int(rng.integers(1, N))
        T = int(rng.integers(1, ctx.pick(18, 30)))
        tr = zipf_trace(N, T, 0.8, seed=int(rng.integers(1 << 30))) if r % 2 else rng.integers(0, N, T)
        w = rng.uniform(0.5, 3.0, N)
        err_dp = max(err_dp, abs(weighted_paging_opt_lp(tr, C, w, n_items=N) - _paging_dp(tr, C, w)))
        tr2 = zipf_trace(50, ctx.pick(300, 2000), 0.9, seed=int(rng.integers(1 << 30)))
        err_bel = max(err_bel, abs(weighted_paging_opt_lp(tr2, 5) - belady_misses(tr2, 5)))
    yield ctx.identity(err_dp, 1e-7, algorithm="weighted_paging_opt_lp", family="random",
                       instance=f"{reps} instances, N <= 6", detail="max |LP - DP over cache contents|")
    yield ctx.identity(err_bel, 1e-7, algorithm="weighted_paging_opt_lp", family="zipf",
                       instance=f"{reps} Zipf traces, N=50, C=5", detail="max |LP (unit weights) - Belady misses|")
