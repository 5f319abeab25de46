"""Classic paging: LRU/FIFO/CLOCK competitiveness, Marking, the H_k lower bound, Belady's
optimality, LFU's unboundedness, ARC (empirical), and kernel-vs-twin identities."""

from __future__ import annotations

import math

import numpy as np

import online_algs
from online_algs.caching import (ARC, CLOCK, FIFO, LFU, LRU, PAGING_POLICIES, Belady, Marking, RandomEviction,
                                 belady_misses)
from online_algs.caching import traces as tr

from ..registry import mean_ci, theorem


def _H(k: int) -> float:
    return sum(1.0 / i for i in range(1, k + 1))


def _misses(alg, x) -> int:
    return online_algs.run(alg, x).misses


def _real(name: str, length: int) -> np.ndarray:
    return tr.load_real_trace(name)[:length]


def _brute_force_opt(trace, capacity) -> int:
    """Exact demand-paging optimum by DP over reachable cache contents (tiny traces only): the
    weighted-paging DP of the learners' checks with unit weights."""
    from .caching_learners import _paging_dp

    trace = [int(u) for u in trace]
    return int(round(_paging_dp(trace, capacity, np.ones(max(trace, default=0) + 1))))


# ------------------------------------------------------------------------------ LRU & co.
@theorem("caching.lru.competitive",
         statement="LRU, FIFO and CLOCK (conservative policies) with a k-page cache miss at most "
                   "k/(k-h+1) * OPT_h + k times, OPT_h = Belady with h <= k pages; RandomEviction's mean "
                   "misses are at most k * OPT_k + k. On the (k+1)-page cycle LRU / OPT_k rises towards k "
                   "from below as T grows (reported).",
         reference="Sleator & Tarjan, CACM 1985; Young, Algorithmica 1994; Raghavan & Snir, ICALP 1989",
         kind="upper", algorithms=["LRU", "FIFO", "CLOCK", "RandomEviction"],
         families=["zipf", "shifting", "cycle", "web07", "cloudphysics"])
def _lru_competitive(ctx):
    T = ctx.pick(20_000, 200_000)
    instances = [
        ("zipf", f"Zipf(1.0), N=500, T={T}", tr.zipf_trace(500, T, 1.0, seed=ctx.seed_for(1)), (8, 64)),
        ("shifting", f"shifting Zipf(0.8), N=500, 5 phases, T={T}",
         tr.shifting_trace(500, T, 0.8, n_phases=5, seed=ctx.seed_for(2)), (8, 64)),
        ("web07", f"web07[:{T}]", _real("web07", T), (8, 64)),
        ("cloudphysics", f"cloudphysics[:{T}]", _real("cloudphysics", T), (8, 64)),
    ]
    for k in (3, 8):
        instances.append(("cycle", f"(k+1)-cycle, T={T}", tr.cycle_trace(k, T), (k,)))
    for fam, desc, x, ks in instances:
        for k in ks:
            for h in sorted({k, max(1, k // 2), 1}):
                opt = belady_misses(x, h)
                bound = k / (k - h + 1) * opt + k
                for cls in (LRU, FIFO, CLOCK):
                    yield ctx.upper(_misses(cls(capacity=k), x), bound, algorithm=cls.__name__, family=fam,
                                    instance=f"{desc}, k={k}, h={h}, OPT_h={opt}")
        k = ks[0]
        opt = belady_misses(x, k)
        seeds = ctx.pick(10, 40)
        vals = [_misses(RandomEviction(capacity=k, seed=ctx.seed_for(7, s)), x) for s in range(seeds)]
        m, ci = mean_ci(vals)
        yield ctx.upper(m, k * opt + k, ci=ci, use_ci=True, algorithm="RandomEviction", family=fam,
                        instance=f"{desc}, k=h={k}, {seeds} seeds, OPT={opt}")
    # lower-bound family: the ratio approaches k from below
    for k in (2, 5, 10):
        for mult in ctx.pick((10, 100, 1000), (10, 100, 1000, 10_000)):
            Tc = mult * (k + 1)
            x = tr.cycle_trace(k, Tc)
            ratio = _misses(LRU(capacity=k), x) / belady_misses(x, k)
            yield ctx.report(ratio, bound=k, algorithm="LRU", family="cycle",
                             instance=f"ratio LRU/OPT on the (k+1)-cycle, k={k}, T={Tc}")


# ------------------------------------------------------------------------------- Marking
@theorem("caching.marking.competitive",
         statement="Randomized Marking: E[misses] <= (2 H_k - 1) OPT + k against an oblivious adversary "
                   "(mean over seeds, the bound must lie above the lower end of the 95% CI).",
         reference="Fiat et al., J. Algorithms 1991; Achlioptas, Chrobak & Noga, TCS 2000 (2H_k - 1 exactly)",
         kind="upper", algorithms=["Marking"], families=["zipf", "cycle", "uniform", "web12"])
def _marking(ctx):
    T = ctx.pick(10_000, 100_000)
    seeds = ctx.pick(30, 100)
    for k in (2, 4, 16):
        insts = [
            ("zipf", f"Zipf(0.9), N=10*k items, T={T}", tr.zipf_trace(10 * k, T, 0.9, seed=ctx.seed_for(1, k))),
            ("cycle", f"(k+1)-cycle, T={T}", tr.cycle_trace(k, T)),
            ("uniform", f"uniform over k+1 pages, T={T}", tr.uniform_trace(k + 1, T, seed=ctx.seed_for(2, k))),
            ("web12", f"web12[:{T}]", _real("web12", T)),
        ]
        for fam, desc, x in insts:
            opt = belady_misses(x, k)
            vals = [_misses(Marking(capacity=k, seed=ctx.seed_for(3, k, s)), x) for s in range(seeds)]
            m, ci = mean_ci(vals)
            yield ctx.upper(m, (2 * _H(k) - 1) * opt + k, ci=ci, use_ci=True, algorithm="Marking", family=fam,
                            instance=f"{desc}, k={k}, {seeds} seeds, OPT={opt}")


@theorem("caching.randomized.lower_bound",
         statement="On i.i.d. uniform requests over k+1 pages no online policy, randomized or not, has "
                   "E[ALG/OPT] below H_k for long traces. At finite T every demand policy's expected ratio approaches "
                   "H_k from below as B(T) = H_k (k(k+1) + T') / (k(k+1) H_k + T'), T' = T - E[tau] (tau: requests "
                   "until k distinct pages were seen); measured: mean ratio over seeds, which must not be below B(T) "
                   "at 99.9% confidence (upper end of the z = 3.29 interval >= B(T)).",
         reference="Fiat et al., J. Algorithms 1991 (Yao's principle); finite-T form derived in docs/theory/paging.md",
         kind="lower", algorithms=["Marking", "RandomEviction", "LRU"], families=["uniform"])
def _randomized_lb(ctx):
    seeds = ctx.pick(12, 40)
    for k in (2, 4, 8):
        T = ctx.pick(40_000, 400_000) * (1 if k < 8 else 3)
        H = _H(k)
        e_tau = sum((k + 1) / (k + 1 - i) for i in range(k))  # coupon collector: k of k+1 pages
        Tp = T - e_tau
        B = H * (k * (k + 1) + Tp) / (k * (k + 1) * H + Tp)
        ratios: dict[str, list] = {"Marking": [], "RandomEviction": [], "LRU": []}
        for s in range(seeds):
            x = tr.uniform_trace(k + 1, T, seed=ctx.seed_for(k, s))
            opt = belady_misses(x, k)
            ratios["Marking"].append(_misses(Marking(capacity=k, seed=ctx.seed_for(9, k, s)), x) / opt)
            ratios["RandomEviction"].append(_misses(RandomEviction(capacity=k, seed=ctx.seed_for(8, k, s)), x) / opt)
            ratios["LRU"].append(_misses(LRU(capacity=k), x) / opt)
        for name, r in ratios.items():
            m, ci = mean_ci(r, z=3.29)
            yield ctx.lower(m, B, ci=ci, use_ci=True, algorithm=name, family="uniform",
                            instance=f"k={k}, T={T}, {seeds} seeds; H_k={H:.4f}, B(T)={B:.4f}")


# -------------------------------------------------------------------------------- Belady
@theorem("caching.belady.optimal",
         statement="Belady's miss count equals the brute-force optimum of demand paging on small traces "
                   "(measured: number of mismatches), and is at most every classic policy's misses on "
                   "larger traces (measured: number of violations).",
         reference="Belady, IBM Syst. J. 1966; Mattson et al., IBM Syst. J. 1970",
         kind="identity", algorithms=["Belady", "belady_misses"], families=["random-small", "zipf", "web07"])
def _belady(ctx):
    reps = ctx.pick(150, 1500)
    mism = 0
    for rep in range(reps):
        rng = ctx.rng(rep)
        n = int(rng.integers(1, 7))
        x = rng.integers(0, n, int(rng.integers(1, 14)))
        k = int(rng.integers(1, 5))
        b = belady_misses(x, k)
        if b != _brute_force_opt(x, k) or _misses(Belady(capacity=k), x) != b:
            mism += 1
    yield ctx.identity(mism, 0, algorithm="Belady", family="random-small",
                       instance=f"{reps} traces, T <= 13, <= 6 pages, k <= 4")
    T = ctx.pick(20_000, 200_000)
    viol = 0
    total = 0
    for fam, x in (("zipf", tr.zipf_trace(1000, T, 0.8, seed=ctx.seed_for(1))), ("web07", _real("web07", T))):
        for k in (4, 32, 256):
            b = belady_misses(x, k)
            for name, cls in PAGING_POLICIES.items():
                alg = cls(capacity=k, seed=ctx.seed_for(2, k)) if cls.randomized else cls(capacity=k)
                total += 1
                viol += _misses(alg, x) < b
    yield ctx.identity(viol, 0, algorithm="Belady", family="zipf+web07",
                       instance=f"{total} (policy, k, trace) runs, T={T}")


# --------------------------------------------------------------------------------- LFU
@theorem("caching.lfu.not_competitive",
         statement="LFU is not competitive: on k-1 pages requested m times each followed by m alternations "
                   "of two new pages, LFU misses >= 2m times while OPT <= k+1, so LFU/OPT >= 2m/(k+1).",
         reference="[std] (e.g. Borodin & El-Yaniv, Online Computation, 1998, ch. 3)",
         kind="lower", algorithms=["LFU"], families=["lfu-trap"])
def _lfu(ctx):
    for k in (2, 4, 8):
        for m in ctx.pick((10, 100, 1000), (10, 100, 1000, 10_000)):
            x = np.concatenate([np.repeat(np.arange(k - 1), m), np.tile([k - 1, k], m)]).astype(np.int64)
            opt = belady_misses(x, k)
            ratio = _misses(LFU(capacity=k), x) / opt
            yield ctx.lower(ratio, 2 * m / (k + 1), algorithm="LFU", family="lfu-trap",
                            instance=f"k={k}, m={m}, OPT={opt}")


# --------------------------------------------------------------------------------- ARC
@theorem("caching.arc.empirical",
         statement="ARC's miss count relative to Belady and to LRU on real and synthetic traces "
                   "(no competitive constant known: reported, not judged).",
         reference="Megiddo & Modha, FAST 2003", kind="empirical", algorithms=["ARC"],
         families=["web07", "web12", "cloudphysics", "orm-busy", "zipf", "shifting"])
def _arc(ctx):
    T = ctx.pick(50_000, 1_000_000)
    insts = [("web07", _real("web07", T)), ("web12", _real("web12", T)),
             ("cloudphysics", _real("cloudphysics", T)), ("orm-busy", _real("orm-busy", T)),
             ("zipf", tr.zipf_trace(20_000, T, 0.9, seed=ctx.seed_for(1))),
             ("shifting", tr.shifting_trace(20_000, T, 0.9, n_phases=8, seed=ctx.seed_for(2)))]
    for fam, x in insts:
        for k in (100, 1000):
            opt = belady_misses(x, k)
            arc = _misses(ARC(capacity=k), x)
            lru = _misses(LRU(capacity=k), x)
            yield ctx.report(arc / opt, algorithm="ARC", family=fam,
                             instance=f"ARC/OPT, k={k}, T={len(x)}; ARC/LRU = {arc / lru:.3f}")


# ------------------------------------------------------------------------------- twins
@theorem("caching.classic.twin",
         statement="Every classic policy's numba kernel equals its step-by-step serve twin (same misses, "
                   "same hit series, same visited states) on random traces with arbitrary ids; "
                   "measured: number of mismatching runs.",
         reference="[std] implementation identity", kind="identity",
         algorithms=list(PAGING_POLICIES) + ["Belady"], families=["zipf", "uniform", "large-ids"])
def _twin(ctx):
    reps = ctx.pick(15, 100)
    classes = list(PAGING_POLICIES.values()) + [Belady]
    for cls in classes:
        bad = 0
        for rep in range(reps):
            rng = ctx.rng(rep, len(cls.__name__))
            n = int(rng.integers(1, 40))
            k = int(rng.integers(1, 12))
            x = tr.zipf_trace(n, int(rng.integers(1, 400)), float(rng.uniform(0, 1.5)), seed=int(rng.integers(1 << 30)))
            x = x * int(rng.choice([1, 3, 10**11 + 1]))
            kw = {"capacity": k}
            if cls.randomized:
                kw["seed"] = int(rng.integers(1 << 30))
            f = online_algs.run(cls(**kw), x, series=True, states=True)
            s = online_algs.run(cls(**kw), x, series=True, states=True, fast=False)
            if f.misses != s.misses or not np.array_equal(f.movement, s.movement) or f.states != s.states:
                bad += 1
        yield ctx.identity(bad, 0, algorithm=cls.__name__, family="zipf/large-ids",
                           instance=f"{reps} random traces, T < 400")
