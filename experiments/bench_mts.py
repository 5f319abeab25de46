"""MTS core benchmarks: numba kernels against numpy references measured in the same run.

``python -m experiments.bench_mts [--quick]``

1. WFA: ``run(WorkFunctionAlgorithm(metric), costs)`` (numba batch kernel, O(n^2) per task) against
   a vectorised numpy implementation of the same rule, on a general random metric with n = 500.
   Target ratio >= 20x.
2. Exact DP optimum (``offline_optimum(method="dp")``, back-pointers included) at n = 200,
   T = 10,000 on a general metric (target < 10 s on one core) beside a numpy reference of the same DP.

The results of the numba and numpy versions are compared (same states / same value) before timing
is reported, so a fast wrong kernel cannot pass.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def numpy_wfa(D, C, start):
    """The WFA with one vectorised numpy min-plus product per task (the reference)."""
    T, n = C.shape
    w = D[start].astype(float).copy()
    prev = start
    states = np.empty(T, dtype=np.int64)
    total = 0.0
    for t in range(T):
        a = w + C[t]
        wn = np.min(a[:, None] + D, axis=0)
        fund = wn == a
        vals = np.where(fund, wn + D[prev], np.inf)
        best = vals.min()
        s = prev if (fund[prev] and vals[prev] <= best) else int(np.argmin(vals))
        total += C[t, s] + D[prev, s]
        states[t] = s
        prev = s
        w = wn
    return states, total


def numpy_dp(D, C, start):
    """The work-function DP with back-pointers, one numpy min-plus product per task."""
    T, n = C.shape
    w = D[start].astype(float).copy()
    back = np.empty((T, n), dtype=np.int32)
    for t in range(T):
        M = (w + C[t])[:, None] + D
        back[t] = np.argmin(M, axis=0)
        w = M[back[t], np.arange(n)]
    return float(w.min())


def _time(f, repeat=1):
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv=None) -> int:
    import online_algs
    from online_algs.metrics import random_metric, uniform
    from online_algs.mts import WorkFunctionAlgorithm, offline_optimum, uniform_random_tasks

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller T")
    args = ap.parse_args(argv)

    # --- 1. WFA step, n = 500
    n = 500
    T = 100 if args.quick else 400
    m = random_metric("general", n, seed=1)
    C = uniform_random_tasks(n, T, seed=2, high=m.diameter)
    D = np.asarray(m.d)
    alg = WorkFunctionAlgorithm(m)
    online_algs.run(alg, C[:2])  # compile / load the cached kernel
    t_nb, res = _time(lambda: online_algs.run(alg, C, series=False, states=True), repeat=3)
    t_np, (st_np, tot_np) = _time(lambda: numpy_wfa(D, C, 0))
    assert np.array_equal(np.asarray(res.states[1:]), st_np), "numba and numpy WFA disagree"
    assert abs(res.total_cost - tot_np) <= 1e-9 * max(1.0, tot_np)
    print(f"WFA general metric n={n}, T={T}: numba {t_nb * 1e3 / T:.3f} ms/task, numpy {t_np * 1e3 / T:.3f} ms/task, "
          f"ratio {t_np / t_nb:.1f}x (target >= 20x)")
    t_loop, res_loop = _time(lambda: online_algs.run(alg, C, series=False, states=True, fast=False))
    assert res_loop.states == res.states
    print(f"  vs the serve loop (run(fast=False), numpy + Python per task): {t_loop * 1e3 / T:.3f} ms/task, "
          f"ratio {t_loop / t_nb:.1f}x")
    mu = uniform(n)
    Cu = uniform_random_tasks(n, 20 * T, seed=5)
    algu = WorkFunctionAlgorithm(mu)
    online_algs.run(algu, Cu[:2])
    t_u, res_u = _time(lambda: online_algs.run(algu, Cu, series=False, states=False), repeat=3)
    t_unp, (_, tot_u) = _time(lambda: numpy_wfa(np.asarray(mu.d), Cu[:T], 0))
    print(f"  uniform metric n={n} (O(n) step): numba {t_u * 1e3 / (20 * T):.4f} ms/task vs the numpy min-plus "
          f"reference {t_unp * 1e3 / T:.3f} ms/task, ratio {(t_unp / T) / (t_u / (20 * T)):.0f}x")

    # --- 2. exact DP optimum, n = 200, T = 10,000
    n = 200
    T = 2000 if args.quick else 10_000
    m = random_metric("general", n, seed=3)
    C = uniform_random_tasks(n, T, seed=4, high=m.diameter)
    offline_optimum(m, C[:2])  # compile / load the cached kernel
    t_dp, r = _time(lambda: offline_optimum(m, C))
    t_ref, v_ref = _time(lambda: numpy_dp(np.asarray(m.d), C, 0))
    assert abs(r.value - v_ref) <= 1e-9 * max(1.0, v_ref), "numba and numpy DP disagree"
    print(f"DP optimum general metric n={n}, T={T}: numba {t_dp:.3f} s (target < 10 s), numpy {t_ref:.3f} s, "
          f"ratio {t_ref / t_dp:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
