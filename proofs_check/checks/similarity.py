"""Theorems of the k-NN datastore (similarity caching)."""

from __future__ import annotations

import itertools
import math

import numpy as np

from proofs_check.registry import mean_ci, theorem

ONE_MINUS_INV_E = 1.0 - 1.0 / math.e


def _brute_cost(d, cached, k, cf):
    """Serving cost by enumerating every k-subset of objects (independent of the library's code)."""
    best = math.inf
    for A in itertools.combinations(range(len(d)), k):
        c = sum(d[o] + (0.0 if cached[o] else cf) for o in A)
        best = min(best, c)
    return best


@theorem("similarity.gain.exact",
         statement="G(r, x) (the concave sweep formula) equals C(r, empty) - C(r, S) for every integral cache S "
                   "(C by brute force over k-subsets), and G(r, y) <= G(r, x) + g(x).(y - x) for the "
                   "returned supergradient g at fractional x, y (and 0 <= g <= c_f).",
         reference="derived in docs/theory/acai_gain.md (AÇAI model, Si Salem, Neglia, Carra ITC 2021)",
         kind="identity", algorithms=["ACAI", "GainLearnerPolicy"], families=["random-euclidean"])
def _(ctx):
    from online_algs.similarity.costs import gain, gain_and_supergradient

    n_inst = ctx.pick(40, 300)
    err_exact = 0.0
    err_super = 0.0
    err_range = 0.0
    for i in range(n_inst):
        rng = ctx.rng(i)
        n = int(rng.integers(3, 8))
        k = int(rng.integers(1, min(n, 4) + 1))
        cf = float(rng.choice([0.0, 0.2, 1.0, 3.0]))
        d = rng.uniform(0, 3, size=n)
        if i % 5 == 0:
            d[rng.integers(0, n)] = d[0]  # ties
        for S in itertools.chain.from_iterable(itertools.combinations(range(n), s) for s in range(n + 1)):
            cached = np.zeros(n, dtype=bool)
            cached[list(S)] = True
            truth = _brute_cost(d, np.zeros(n, bool), k, cf) - _brute_cost(d, cached, k, cf)
            err_exact = max(err_exact, abs(gain(d, cached.astype(float), k, cf) - truth))
        for _ in range(10):
            x, y = rng.random(n), rng.random(n)
            Gx, g = gain_and_supergradient(d, x, k, cf)
            err_super = max(err_super, gain(d, y, k, cf) - (Gx + g @ (y - x)))
            err_range = max(err_range, float(np.max(g)) - cf, -float(np.min(g)))
    yield ctx.identity(err_exact, 1e-9, algorithm="gain", family="random-euclidean",
                       instance=f"{n_inst} instances, all caches, N<=7, k<=4", detail="max |G - brute-force difference|")
    yield ctx.identity(max(err_super, 0.0), 1e-9, algorithm="supergradient", family="random-euclidean",
                       instance=f"{n_inst} x 10 (x, y) pairs", detail="max violation of G(y) <= G(x) + g.(y-x)")
    yield ctx.identity(max(err_range, 0.0), 1e-12, algorithm="supergradient", family="random-euclidean",
                       instance=f"{n_inst} x 10", detail="max violation of 0 <= g <= c_f")


@theorem("similarity.depround.marginals",
         statement="DepRound keeps the marginals (P(o cached) = y_o) and E[G(r, DepRound(y))] >= (1 - 1/e) G(r, y) "
                   "for the k-NN gain, in any pairing order (pairwise DepRound in id order, and AÇAI's sublinear "
                   "kernel: big objects in 1 - y, small ones in y, run carriers sampled by mass).",
         reference="Gandhi, Khuller, Parthasarathy, Srinivasan J.ACM 2006; AÇAI (Si Salem, Neglia, Carra ITC 2021); "
                   "AÇAI's pairing order and run-end sampling: docs/theory/acai_gain.md section 10",
         kind="lower", algorithms=["ACAI"], families=["random-fractional", "halves"])
def _(ctx):
    from online_algs.base import kernel_seed
    from online_algs.caching.projections import project_capped_simplex_kl
    from online_algs.caching.rounding import depround
    from online_algs.similarity.acai import _depround_seeded
    from online_algs.similarity.costs import gain

    M = ctx.pick(4000, 40000)
    for i in range(ctx.pick(4, 12)):
        rng = ctx.rng(i)
        n = int(rng.integers(6, 14))
        h = int(rng.integers(1, n // 2 + 1))
        k = int(rng.integers(1, h + 1))
        cf = float(rng.choice([0.3, 1.0, 3.0]))
        y = project_capped_simplex_kl(rng.random(n) ** 3 + 1e-3, h)
        d = rng.uniform(0, 2, size=n)
        freq = np.zeros(n)
        gains = np.empty(M)
        gen = np.random.default_rng(ctx.seed_for(i, 1))
        for m in range(M):
            ids = depround(y, gen)
            freq[ids] += 1
            x = np.zeros(n)
            x[ids] = 1
            gains[m] = gain(d, x, k, cf)
        freq /= M
        se = np.sqrt(np.maximum(y * (1 - y), 1e-12) / M)
        z = float(np.max(np.abs(freq - y) / se))
        inst = f"N={n}, h={h}, k={k}, c_f={cf}, M={M}"
        yield ctx.upper(z, 4.5, algorithm="DepRound", family="random-fractional", seed=i,
                        instance=inst + " (max marginal z-score)", detail="max_o |freq_o - y_o| / standard error")
        Gy = gain(d, y, k, cf)
        # AÇAI's kernel (one uniform per run of merges, seeds drawn per rounding as in ACAI)
        freq_k = np.zeros(n)
        gains_k = np.empty(M)
        for m in range(M):
            ids = _depround_seeded(y, kernel_seed(gen))
            freq_k[ids] += 1
            x = np.zeros(n)
            x[ids] = 1
            gains_k[m] = gain(d, x, k, cf)
        zk = float(np.max(np.abs(freq_k / M - y) / se))
        yield ctx.upper(zk, 4.5, algorithm="DepRound (ACAI kernel)", family="random-fractional", seed=i,
                        instance=inst + " (max marginal z-score)", detail="max_o |freq_o - y_o| / standard error")
        if Gy <= 1e-12:
            continue
        mean, ci = mean_ci(gains / Gy)
        yield ctx.lower(mean, ONE_MINUS_INV_E, use_ci=True, ci=ci, algorithm="DepRound", family="random-fractional",
                        instance=inst + " (E[G(round y)] / G(y))", seed=i)
        mean, ci = mean_ci(gains_k / Gy)
        yield ctx.lower(mean, ONE_MINUS_INV_E, use_ci=True, ci=ci, algorithm="DepRound (ACAI kernel)",
                        family="random-fractional", instance=inst + " (E[G(round y)] / G(y))", seed=i)
    # exact marginals alone do not give the factor: y = (1/2, 1/2, 1/2, 1/2), a request served by
    # objects 0 and 2 only (k = 1, distance 0, c_f = 1): G = min(1, x_0 + x_2). Systematic sampling in
    # id order keeps both or neither (E[G] = 1/2); DepRound's negative correlation gives 3/4 here.
    y = np.full(4, 0.5)
    d = np.array([0.0, 9.0, 0.0, 9.0])
    gen = np.random.default_rng(ctx.seed_for(99))
    g = np.empty(M)
    for m in range(M):
        x = np.zeros(4)
        x[_depround_seeded(y, kernel_seed(gen))] = 1
        g[m] = gain(d, x, 1, 1.0)
    mean, ci = mean_ci(g / gain(d, y, 1, 1.0))
    yield ctx.lower(mean, ONE_MINUS_INV_E, use_ci=True, ci=ci, algorithm="DepRound (ACAI kernel)", family="halves",
                    instance=f"y = (1/2)^4, gain min(1, x_0 + x_2), M={M} (systematic sampling: 1/2)")


def _acai_regret(ds, queries, h, T, seed, eta=None):
    """(1 - 1/e)-regret of ACAI's integral caches against the LP upper bound of the best static cache."""
    import online_algs
    from online_algs.similarity import ACAI, empty_costs, lp_static_bound

    alg = ACAI(ds, h, eta=eta, horizon=T, seed=seed)
    res = online_algs.run(alg, queries[:T], series=True)
    e0 = empty_costs(ds, queries[:T])
    integral_gain = float(np.sum(e0 - res.service))
    return alg.eta_, integral_gain, res.info["fractional_gain"]


def _workload(name, ctx, T):
    from online_algs.similarity import Datastore, gaussian_mixture_workload, mnist_workload

    if name == "gaussian":
        cat, q, meta = gaussian_mixture_workload(n_catalog=ctx.pick(120, 300), T=T, dim=4, n_clusters=10,
                                                 seed=ctx.seed_for(1))
    elif name == "gaussian-drift":
        cat, q, meta = gaussian_mixture_workload(n_catalog=ctx.pick(120, 300), T=T, dim=4, n_clusters=10,
                                                 drift_period=T // 4, seed=ctx.seed_for(2))
    elif name == "mnist":
        cat, q, meta = mnist_workload(n_catalog=ctx.pick(100, 400), T=T, dim=16, seed=ctx.seed_for(3))
    else:
        from online_algs.similarity import movielens_workload

        cat, q, meta = movielens_workload(dim=16, n_items=ctx.pick(100, 400), T=T, noise=0.3, seed=ctx.seed_for(5))
    return cat, q, meta


@theorem("similarity.acai.regret",
         statement="AÇAI with DepRound: E[(1-1/e) sum_t G(r_t, x*) - sum_t G(r_t, x_t)] <= (1-1/e) (h log(N/h)/eta "
                   "+ eta (e-2) c_f^2 min(h,k) T) for every static cache x* (eta c_f <= 1); x* is bounded by the "
                   "LP relaxation here. The log-log slope of the fractional regret against T is reported.",
         reference="Si Salem, Neglia, Carra ITC 2021 (AÇAI), constants derived in docs/theory/acai_gain.md",
         kind="upper", algorithms=["ACAI"], families=["gaussian", "gaussian-drift", "mnist", "movielens"])
def _(ctx):
    from online_algs.similarity import Datastore, acai_regret_bound, lp_static_bound

    T = ctx.pick(300, 3000)
    n_seeds = ctx.pick(2, 8)
    for wi, name in enumerate(ctx.pick(["gaussian", "mnist"], ["gaussian", "gaussian-drift", "mnist", "movielens"])):
        cat, q, meta = _workload(name, ctx, T)
        for k in (1, 3):
            ds = Datastore(cat, k=k, fetch_cost=meta["nn_distance"])
            h = max(k, len(cat) // 20)
            lp = lp_static_bound(ds, q, h)["bound"]
            regs, fregs = [], []
            eta = None
            for s in range(n_seeds):
                eta, ig, fg = _acai_regret(ds, q, h, T, ctx.seed_for(wi, k, s))
                regs.append(ONE_MINUS_INV_E * lp - ig)
                fregs.append(lp - fg)
            R = acai_regret_bound(ds.n, h, k, ds.fetch_cost, T, eta)
            inst = f"N={ds.n}, h={h}, k={k}, T={T}, LP static bound {lp:.4g}"
            mean, ci = mean_ci(regs)
            yield ctx.upper(mean, ONE_MINUS_INV_E * R, use_ci=True, ci=ci, algorithm="ACAI", family=name,
                            instance=inst + f", {n_seeds} seeds: (1-1/e)-regret of the integral caches")
            # the fractional iterates are deterministic: their regret must be below R itself
            yield ctx.upper(float(np.max(fregs)), R, algorithm="ACAI (fractional)", family=name,
                            instance=inst + ": regret of the fractional iterates")
    # slope of the fractional regret (against the LP bound of each prefix) with T
    name = "gaussian"
    Ts = ctx.pick([100, 200, 400, 800], [250, 500, 1000, 2000, 4000])
    from online_algs.similarity import gaussian_mixture_workload

    cat, q, meta = gaussian_mixture_workload(n_catalog=ctx.pick(60, 200), T=max(Ts), dim=4, n_clusters=10,
                                             seed=ctx.seed_for(4))
    ds = Datastore(cat, k=1, fetch_cost=meta["nn_distance"] * 2)
    h = len(cat) // 20
    regs = []
    for T_ in Ts:
        lp = lp_static_bound(ds, q[:T_], h)["bound"]
        _, _, fg = _acai_regret(ds, q, h, T_, ctx.seed_for(9, T_))
        regs.append(max(lp - fg, 1e-9))
    slope = float(np.polyfit(np.log(Ts), np.log(regs), 1)[0])
    yield ctx.report(slope, 0.5, algorithm="ACAI", family=name,
                     instance=f"N={ds.n}, h={h}, T in {Ts}, default eta(T): log-log slope of fractional regret vs LP",
                     detail=f"regrets {[round(r, 3) for r in regs]}; the bound grows like sqrt(T) (slope 0.5)")


@theorem("similarity.acai.lazy",
         statement="AÇAI's lazy-scale state (y = min(1, s v), multiplicative step on the candidates only, KL "
                   "projection on the candidates plus the aggregate mass of the rest) equals the full-vector OMD "
                   "iterate (y[ids] *= exp(eta g), then the KL projection of the whole N-vector) after every "
                   "request, and the kernel policy makes the same integral caches as the numpy policy (same seed).",
         reference="derived in docs/theory/acai_gain.md section 8",
         kind="identity", algorithms=["ACAI"], families=["gaussian"])
def _(ctx):
    import online_algs
    from online_algs.caching.projections import project_capped_simplex_kl
    from online_algs.similarity import ACAI, Datastore, gaussian_mixture_workload
    from online_algs.similarity.costs import candidate_mask, gain_and_supergradient

    T = ctx.pick(300, 2000)
    for i, (n, h, k, eta) in enumerate(ctx.pick([(300, 15, 2, None), (200, 10, 3, 2.0)],
                                                [(300, 15, 2, None), (200, 10, 3, 2.0), (1000, 50, 5, 1.0),
                                                 (500, 100, 1, 4.0)])):
        cat, q, meta = gaussian_mixture_workload(n_catalog=n, T=T, dim=4, n_clusters=10, seed=ctx.seed_for(i))
        ds = Datastore(cat, k=k, fetch_cost=meta["nn_distance"])
        alg = ACAI(ds, h, eta=eta, horizon=T, seed=ctx.seed_for(i, 1))
        alg.reset()
        y = np.full(n, h / n)  # the full-vector OMD iterate, computed independently of the lazy state
        err = 0.0
        for t in range(T):
            alg.serve(q[t])
            dist = ds.distances(q[t])
            ids = np.flatnonzero(candidate_mask(dist, k, ds.fetch_cost))
            _, g = gain_and_supergradient(dist[ids], y[ids], k, ds.fetch_cost)
            z = y.copy()
            z[ids] *= np.exp(alg.eta_ * g)
            y = project_capped_simplex_kl(z, h)
            err = max(err, float(np.max(np.abs(alg.fractional_state - y))))
        inst = f"N={n}, h={h}, k={k}, T={T}, eta={alg.eta_:.3g}"
        yield ctx.identity(err, 1e-9, algorithm="ACAI (lazy state)", family="gaussian", instance=inst,
                           detail="max_t max_o |y_lazy - y_full-vector OMD|")
        fast = online_algs.run(ACAI(ds, h, eta=eta, horizon=T, seed=ctx.seed_for(i, 2)), q, states=True)
        ref = ACAI(ds, h, eta=eta, horizon=T, seed=ctx.seed_for(i, 2))
        ref._reference = True
        slow = online_algs.run(ref, q, states=True, fast=False)
        diff = sum(a != b for a, b in zip(fast.states, slow.states))
        yield ctx.identity(float(diff), 0.5, algorithm="ACAI (kernels vs numpy twin)", family="gaussian",
                           instance=inst, detail="requests whose integral caches differ (same seed)")


def _swap_gap(ds, cache, sample):
    """Relative cost improvement of the best single swap (o out, o' in) over a query sample."""
    base_states = [frozenset(cache)]
    base = ds.costs_of_states(sample, base_states)[:, 0].mean()
    swaps = [frozenset(cache - {o} | {p}) for o in cache for p in range(ds.n) if p not in cache]
    costs = ds.costs_of_states(sample, swaps).mean(axis=0)
    return float((base - costs.min()) / base)


@theorem("similarity.qlru.local_opt",
         statement="qLRU-DeltaC approaches a local optimum of the expected serving cost as q -> 0 under the "
                   "independent reference model: the best single-swap improvement of its cache (relative, on a "
                   "fresh stationary sample) is reported for decreasing q.",
         reference="Garetto, Leonardi, Neglia INFOCOM 2020 (qLRU-DeltaC)",
         kind="empirical", algorithms=["QLRUDeltaC"], families=["gaussian-stationary"])
def _(ctx):
    import online_algs
    from online_algs.similarity import Datastore, QLRUDeltaC, SimLRU, gaussian_mixture_workload

    per_q = ctx.pick(100, 600)          # run T = per_q / q requests: the insertion rate scales with q
    n_seeds = ctx.pick(2, 5)
    qs = ctx.pick([0.5, 0.1, 0.02], [0.5, 0.1, 0.02, 0.005])
    T_max = int(per_q / min(qs))
    cat, q, meta = gaussian_mixture_workload(n_catalog=60, T=T_max + 400, dim=2, n_clusters=6, alpha=0.8,
                                             seed=ctx.seed_for(0))
    ds = Datastore(cat, k=1, fetch_cost=meta["nn_distance"] * 3)
    sample = q[T_max:]
    h = 6
    for qv in qs:
        T = int(per_q / qv)
        gaps = []
        for s in range(n_seeds):
            alg = QLRUDeltaC(ds, h, q=qv, seed=ctx.seed_for(1, s))
            online_algs.run(alg, q[:T])
            gaps.append(_swap_gap(ds, set(alg.state), sample))
        mean, ci = mean_ci(gaps)
        yield ctx.report(mean, ci=ci, algorithm="QLRUDeltaC", family="gaussian-stationary",
                         instance=f"q={qv}, N={ds.n}, h={h}, T={T}, {n_seeds} seeds: best-swap relative gap")
    alg = SimLRU(ds, h)
    online_algs.run(alg, q[:T_max])
    yield ctx.report(_swap_gap(ds, set(alg.state), sample), algorithm="SimLRU", family="gaussian-stationary",
                     instance=f"N={ds.n}, h={h}, T={T_max}: best-swap relative gap (reference)")


@theorem("similarity.opt.lower",
         statement="On tiny catalogs every online policy (served with its cache, then updated) costs at least the "
                   "exact dynamic optimum of the MTS adapter (caches of <= h objects, insert cost per object, from "
                   "empty); the exact DP equals the MTS package's DP on the symmetrised view with a terminal task.",
         reference="MTS reduction, docs/similarity.md; Borodin & El-Yaniv 1998 (MTS)",
         kind="lower", algorithms=["SimLRU", "RndLRU", "QLRUDeltaC", "Duel", "ExactLRU", "ExactLFU", "ACAI"],
         families=["tiny-euclidean"])
def _(ctx):
    import online_algs
    from online_algs.similarity import (ACAI, Datastore, Duel, ExactLFU, ExactLRU, QLRUDeltaC, RndLRU, SimLRU,
                                        dynamic_optimum, mts_optimum)

    for i in range(ctx.pick(3, 10)):
        rng = ctx.rng(i)
        n = int(rng.integers(5, 8))
        k = int(rng.integers(1, 3))
        h = int(rng.integers(k, 4))
        T = ctx.pick(25, 60)
        cat = rng.uniform(0, 3, size=(n, 2))
        q = cat[rng.integers(0, n, size=T)] + rng.normal(0, 0.4, size=(T, 2))
        ds = Datastore(cat, k=k, fetch_cost=float(rng.choice([0.5, 1.0, 2.0])))
        opt = dynamic_optimum(ds, q, h)["cost"]
        inst = f"N={n}, h={h}, k={k}, c_f={ds.fetch_cost}, T={T}"
        yield ctx.identity(abs(opt - mts_optimum(ds, q, h)), 1e-9 * max(1, opt), algorithm="DP vs mts.offline_optimum",
                           family="tiny-euclidean", instance=inst, seed=i)
        s = ctx.seed_for(i, 1)
        algs = [SimLRU(ds, h), RndLRU(ds, h, seed=s), QLRUDeltaC(ds, h, q=0.3, seed=s), Duel(ds, h, duel_length=4, seed=s),
                ExactLRU(ds, h), ExactLFU(ds, h), ACAI(ds, h, horizon=T, seed=s)]
        for alg in algs:
            cost = online_algs.run(alg, q).total_cost
            yield ctx.lower(cost, opt, algorithm=alg.name, family="tiny-euclidean", instance=inst, seed=i)


@theorem("similarity.static.greedy",
         statement="On small instances: greedy static gain >= (1 - 1/e) x best static gain (exact enumeration), "
                   "and best static gain <= the LP relaxation bound.",
         reference="Nemhauser, Wolsey, Fisher 1978 (monotone submodular maximisation); LP relaxation",
         kind="lower", algorithms=["greedy_static", "lp_static_bound"], families=["gaussian"])
def _(ctx):
    from online_algs.similarity import Datastore, best_static, gaussian_mixture_workload, greedy_static, lp_static_bound

    for i in range(ctx.pick(3, 10)):
        rng = ctx.rng(i)
        k = int(rng.integers(1, 3))
        cat, q, meta = gaussian_mixture_workload(n_catalog=12, T=ctx.pick(80, 300), dim=2, n_clusters=4,
                                                 seed=ctx.seed_for(i))
        ds = Datastore(cat, k=k, fetch_cost=meta["nn_distance"] * float(rng.choice([1.0, 3.0])))
        h = int(rng.integers(k, 5))
        best = best_static(ds, q, h, method="exact")
        g = greedy_static(ds, q, h)
        lp = lp_static_bound(ds, q, h)["bound"]
        inst = f"N=12, h={h}, k={k}"
        yield ctx.lower(g["gain"], ONE_MINUS_INV_E * best["gain"], algorithm="greedy_static", family="gaussian",
                        instance=inst, seed=i)
        yield ctx.upper(best["gain"], lp, tol=1e-6, algorithm="lp_static_bound", family="gaussian", instance=inst,
                        seed=i)


@theorem("similarity.index.exact",
         statement="The Faiss flat backend returns the brute-force neighbours (distances within float32 rounding); "
                   "the IVF backend's recall@k against brute force is reported for several nprobe.",
         reference="Johnson, Douze, Jegou 2019 (Faiss)",
         kind="identity", algorithms=["FaissFlatIndex", "FaissIVFIndex"], families=["gaussian"])
def _(ctx):
    from online_algs.similarity import BruteForceIndex, FaissFlatIndex, FaissIVFIndex, recall_at_k

    rng = ctx.rng(0)
    n, d, k = ctx.pick(3000, 20000), 32, 10
    X = rng.normal(size=(n, d))
    Q = rng.normal(size=(200, d))
    ids = rng.permutation(10 * n)[:n]
    bf = BruteForceIndex(d)
    bf.add(ids, X)
    ff = FaissFlatIndex(d)
    ff.add(ids, X)
    Db, Ib = bf.search(Q, k)
    Df, If = ff.search(Q, k)
    yield ctx.identity(float(np.max(np.abs(Db - Df) / np.maximum(1.0, Db))), 1e-4, algorithm="FaissFlatIndex",
                       family="gaussian", instance=f"n={n}, d={d}, k={k}: max relative distance error")
    yield ctx.identity(1.0 - recall_at_k(ff, bf, Q, k), 1e-3, algorithm="FaissFlatIndex", family="gaussian",
                       instance=f"n={n}, d={d}, k={k}: 1 - recall")
    ivf = FaissIVFIndex(d, X, nlist=int(np.sqrt(n)), nprobe=1)
    ivf.add(ids, X)
    for nprobe in (1, 4, 16):
        ivf.set_nprobe(nprobe)
        yield ctx.report(recall_at_k(ivf, bf, Q, k), algorithm="FaissIVFIndex", family="gaussian",
                         instance=f"n={n}, d={d}, k={k}, nlist={ivf.nlist}, nprobe={nprobe}: recall@k")
