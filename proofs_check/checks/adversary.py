"""Adversary search: worst instances found automatically, planted bugs caught, fixtures replayed."""

from __future__ import annotations

import numpy as np

from ..adversary import constructive_search, load_fixtures, local_search, random_search, replay
from ..adversary.registry import (kserver_dc_line, mts_lazywfa_uniform, mts_wfa_uniform, paging_lru,
                                  paging_marking)
from ..registry import mean_ci, theorem


@theorem("adversary.wfa.search",
         statement="Without being given the cruel taskmaster, the constructive search (greedy on ALG - r OPT over "
                   "elementary tasks, r in {0, 1, n, 2n-1}) finds task sequences on which the Work Function "
                   "Algorithm's ratio is >= 90% of 2n-1, for n = 3..6 (uniform metric, eps = 0.5).",
         reference="Borodin, Linial, Saks, J.ACM 1992 (2n-1 is tight for deterministic algorithms)", kind="lower",
         algorithms=["WorkFunctionAlgorithm"], families=["searched"])
def _wfa(ctx):
    for n in (3, 4, 5, 6):
        p = mts_wfa_uniform(n)
        res = constructive_search(p, 40 * n, seed=ctx.seed_for(n))
        yield ctx.lower(res.ratio, 0.9 * (2 * n - 1), algorithm="WorkFunctionAlgorithm", family="uniform",
                        instance=f"n={n}, length {len(res.seq)}, ALG={res.alg:g}, OPT={res.opt:g}",
                        detail=f"bound 2n-1 = {2 * n - 1}; {res.evaluations} evaluations")


@theorem("adversary.lru.search",
         statement="The constructive search finds request sequences over k+1 pages on which LRU's miss ratio against "
                   "Belady is >= 90% of k, for k = 2..8.",
         reference="Sleator & Tarjan, CACM 1985 (k is tight for deterministic paging)", kind="lower",
         algorithms=["LRU"], families=["searched"])
def _lru(ctx):
    for k in range(2, 9):
        p = paging_lru(k)
        res = constructive_search(p, 15 * k * k, seed=ctx.seed_for(k))
        yield ctx.lower(res.ratio, 0.9 * k, algorithm="LRU", family="k+1 pages",
                        instance=f"k={k}, length {len(res.seq)}, ALG={res.alg:g}, OPT={res.opt:g}")


@theorem("adversary.dc.search",
         statement="The constructive search finds request sequences on k+1 points of a line on which Double "
                   "Coverage's ratio is >= 90% of k, for k = 2..5.",
         reference="Chrobak, Karloff, Payne, Vishwanathan 1991 (k is tight)", kind="lower",
         algorithms=["DoubleCoverage"], families=["searched"])
def _dc(ctx):
    for k in (2, 3, 4, 5):
        p = kserver_dc_line(k)
        res = constructive_search(p, 30 * k, seed=ctx.seed_for(k))
        yield ctx.lower(res.ratio, 0.9 * k, algorithm="DoubleCoverage", family="line, k+1 points",
                        instance=f"k={k}, length {len(res.seq)}, ALG={res.alg:g}, OPT={res.opt:g}")


@theorem("adversary.planted_bug",
         statement="On the WFA with a planted wrong tie-break (argmin over all states, stay on ties), the search "
                   "finds a violation of WFA's guarantee ALG <= (2n-1) OPT + C, C = 2 sum_s (max_x d(x,s) - d(s0,s)) "
                   "(measured: ALG - (2n-1) OPT - C > 0); on the correct WFA the same search finds none.",
         reference="Fact sheet: the fundamental-state restriction matters (cruel taskmaster)", kind="lower",
         algorithms=["LazyTieWFA", "WorkFunctionAlgorithm"], families=["searched"])
def _planted(ctx):
    for n in (3, 5):
        d = np.ones((n, n)) - np.eye(n)  # uniform metric, distance 1, start 0
        C = 2.0 * float(np.sum(d.max(axis=0) - d[0]))  # = 2 (only the start state has max_x d(x, s) > d(0, s))
        bug = constructive_search(mts_lazywfa_uniform(n), 60, seed=ctx.seed_for(n))
        excess = bug.alg - (2 * n - 1) * bug.opt - C
        yield ctx.lower(excess, 1e-9, algorithm="LazyTieWFA (planted)", family="uniform",
                        instance=f"n={n}, ALG={bug.alg:g}, OPT={bug.opt:g}, C={C:g}")
        ok = constructive_search(mts_wfa_uniform(n), 60, seed=ctx.seed_for(n))
        excess_ok = ok.alg - (2 * n - 1) * ok.opt - C
        yield ctx.upper(excess_ok, 0.0, algorithm="WorkFunctionAlgorithm", family="uniform",
                        instance=f"n={n}, ALG={ok.alg:g}, OPT={ok.opt:g}, C={C:g} (no violation)")


@theorem("adversary.beats_random",
         statement="With the same budget of full evaluations, the local search finds a ratio at least as high as "
                   "uniform random sampling of instances (measured: local - random >= 0), on WFA, LRU and DC.",
         reference="This library (search quality)", kind="lower",
         algorithms=["WorkFunctionAlgorithm", "LRU", "DoubleCoverage"], families=["searched", "random"])
def _beats(ctx):
    budget = ctx.pick(300, 2000)
    for p, L in ((mts_wfa_uniform(4), 80), (paging_lru(4), 120), (kserver_dc_line(3), 60)):
        s = ctx.seed_for(len(p.name))
        loc = local_search(p, L, evaluations=budget, seed=s, restarts=2)
        rnd = random_search(p, L, evaluations=budget, seed=s)
        yield ctx.lower(loc.ratio - rnd.ratio, 0.0, algorithm=p.algorithm, family=p.name,
                        instance=f"budget {budget}: local {loc.ratio:.3f} vs random {rnd.ratio:.3f}")


@theorem("adversary.marking.search",
         statement="The worst mean miss ratio of randomized Marking found by local search (mean over 24 fixed seeds, "
                   "95% CI) stays below 2H_k - 1 (the lower end of the CI must not exceed it), k = 2, 3, 4.",
         reference="Achlioptas, Chrobak, Noga 2000 (Marking is exactly (2H_k - 1)-competitive)", kind="upper",
         algorithms=["Marking"], families=["searched"])
def _marking(ctx):
    for k in (2, 3, 4):
        p = paging_marking(k)
        res = local_search(p, 8 * k * k, evaluations=ctx.pick(60, 400), seed=ctx.seed_for(k))
        p.evaluate(res.seq)
        samples = np.asarray(p.last_samples, dtype=float) / max(res.opt, 1e-12)
        m, ci = mean_ci(samples)
        yield ctx.upper(m, p.bound, use_ci=True, ci=ci, algorithm="Marking", family="k+1 pages",
                        instance=f"k={k}, length {len(res.seq)}, OPT={res.opt:g}")


@theorem("adversary.fixtures.replay",
         statement="Every saved worst-instance fixture replays to the ratio recorded (|difference| <= 1e-9), and "
                   "that ratio is still at least 90% of the best known lower bound for its size.",
         reference="Regression fixtures written by python -m proofs_check.adversary.generate", kind="identity",
         algorithms=["*"], families=["fixtures"])
def _replay(ctx):
    fx = load_fixtures()
    if not fx:
        yield ctx.check(False, detail="no fixtures found in proofs_check/fixtures")
        return
    for f in fx:
        r, a, o = replay(f)
        err = abs(r - f["ratio"])
        if f.get("target") is not None and r < f["target"] - 1e-9:
            err = max(err, f["target"] - r)
        yield ctx.identity(err, 1e-9, algorithm=f["algorithm"], family=f["problem"]["name"],
                           instance=f"{f['problem']['params']} ratio {r:.4f} (recorded {f['ratio']:.4f})")
