"""Memory-augmented inference: interpolation identities, online lambda, datastore regret."""

from __future__ import annotations

import numpy as np

import online_algs
from online_algs.memory import (LambdaHedge, MemoryAugmentedClassifier, SmallModel, interpolate, knn_distribution,
                                mnist_domains)
from online_algs.memory.synthetic import gaussian_stream

from ..registry import theorem


@theorem("memory.mixture.identity",
         statement="With lambda = 0 the interpolated prediction equals the model's distribution exactly, and for every "
                   "lambda in [0, 1] the mixture lambda p_kNN + (1 - lambda) p_model is a probability distribution "
                   "(non-negative, sums to 1 within 1e-12).",
         reference="Khandelwal et al., ICLR 2020 (kNN-LM interpolation) [std]", kind="identity",
         algorithms=["MemoryAugmentedClassifier"], families=["gaussian_shift"])
def _identity(ctx):
    worst_model = 0.0
    worst_sum = 0.0
    worst_neg = 0.0
    for rep in range(ctx.pick(5, 30)):
        model, F, y = gaussian_stream(seed=ctx.seed_for(rep))
        alg = MemoryAugmentedClassifier(model, capacity=8, policy="lru", k=3, tau=1.0, lam=0.0, seed=rep)
        online_algs.run(alg, (F, y))
        for t in range(len(y)):
            pm = model.predict_proba_features(F[t][None])[0]
            worst_model = max(worst_model, float(np.abs(alg.predict_proba(F[t]) - pm).max()))
            keys, labels = alg._store.view()
            pk, _ = knn_distribution(F[t], keys, labels, model.n_classes_, 3, 1.0)
            for lam in (0.0, 0.3, 1.0):
                p = interpolate(pm, pk, lam)
                worst_sum = max(worst_sum, abs(p.sum() - 1.0))
                worst_neg = max(worst_neg, float(-min(p.min(), 0.0)))
    yield ctx.identity(worst_model, 0.0, algorithm="MemoryAugmentedClassifier", family="gaussian_shift",
                       instance="lambda = 0 vs model, max abs difference")
    yield ctx.identity(worst_sum + worst_neg, 1e-12, algorithm="interpolate", family="gaussian_shift",
                       instance="|sum p - 1| + negativity")


@theorem("memory.lambda.regret",
         statement="The Bayes-mixture lambda (exponential weights, eta = 1, on the log loss over an 11-point grid) has "
                   "cumulative log loss <= min over the grid of the fixed-lambda log loss + ln 11, on every stream.",
         reference="Cesa-Bianchi & Lugosi, Prediction, Learning, and Games, 2006, Prop. 3.1 / Thm 3.2 (exp-concave "
                   "losses, eta = 1) [std]", kind="upper", algorithms=["LambdaHedge"],
         families=["gaussian_shift"])
def _lambda(ctx):
    for rep in range(ctx.pick(4, 20)):
        model, F, y = gaussian_stream(n_stream=ctx.pick(150, 500), seed=ctx.seed_for(rep))
        alg = MemoryAugmentedClassifier(model, capacity=10, policy="fifo", k=3, tau=1.0, lam=0.0, seed=rep)
        alg.reset()
        stream = alg._validate_sequence((F, y))
        pm_y, pk_y = [], []
        for t in range(len(stream)):
            _, key, lab = stream[t]
            pm, pk, _ = alg._distributions(key)
            if pk is not None:
                pm_y.append(pm[lab])
                pk_y.append(pk[lab])
            alg.update(stream[t])
        pm_y, pk_y = np.array(pm_y), np.array(pk_y)
        hedge = LambdaHedge()
        mix = 0.0
        for a, b in zip(pm_y, pk_y):
            lam = hedge.lam
            mix += -np.log(max(lam * b + (1 - lam) * a, 1e-300))
            hedge.update(a, b)
        fixed = [-np.log(np.maximum(g * pk_y + (1 - g) * pm_y, 1e-300)).sum() for g in hedge.grid]
        excess = mix - min(fixed)
        yield ctx.upper(excess, np.log(len(hedge.grid)), algorithm="LambdaHedge", family="gaussian_shift",
                        seed=rep, instance=f"T={len(pm_y)}, best fixed lambda={hedge.grid[int(np.argmin(fixed))]:.1f}")


@theorem("memory.omd.regret",
         statement="The 'omd' datastore policy's regret on its surrogate gain against the best static datastore in "
                   "hindsight, reported per workload, with the log-log slope of regret against T (no constant: "
                   "empirical).",
         reference="Si Salem, Neglia, Ioannidis (OMD caching), this library's surrogate gain", kind="empirical",
         algorithms=["MemoryAugmentedClassifier(policy='omd')"], families=["mnist_rotate", "mnist_prior"])
def _omd(ctx):
    n_source = ctx.pick(1000, 5000)
    Ts = ctx.pick([200, 400, 800], [500, 1000, 2000, 4000])
    for shift in ("rotate", "prior"):
        Xs, ys, Xt, yt = mnist_domains(shift, n_source, max(Ts), seed=ctx.seed_for(len(shift)))
        model = SmallModel(30, max_iter=100).fit(Xs, ys)
        F = model.features(Xt)
        regrets = []
        for T in Ts:
            h = max(2, T // 100)
            r = online_algs.run(MemoryAugmentedClassifier(model, h, "omd", k=5, tau=10.0, seed=1), (F[:T], yt[:T]))
            regrets.append(r.info["surrogate_regret"])
        slope = float(np.polyfit(np.log(Ts), np.log(np.maximum(regrets, 1e-9)), 1)[0])
        for T, R in zip(Ts, regrets):
            yield ctx.report(R, algorithm="omd", family=f"mnist_{shift}", instance=f"T={T}, h=1% of T")
        yield ctx.report(slope, algorithm="omd", family=f"mnist_{shift}", instance=f"log-log slope over T in {Ts}")
