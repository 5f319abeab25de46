"""k-server benchmarks: offline OPT by min-cost flow (sparse vs dense graph), Double Coverage on a line
(numba kernel vs the serve() loop), WFA (kernel vs vectorised serve()).

``python -m experiments.bench_kserver [--full]``: ``--full`` also solves the dense flow graph at
T = 2,000 (about 2 M edges: minutes and ~2 GB); by default the dense graph is timed at T = 1,000 and
the sparse graph at both sizes.
"""

from __future__ import annotations

import sys
import time

import numpy as np


def _time(f, repeat=1):
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench_flow(full: bool = False):
    from online_algs.kserver import offline_optimum, random_requests
    from online_algs.metrics import random_metric

    m = random_metric("line", 50, seed=1)
    init = list(range(0, 50, 5))  # k = 10
    rows = []
    for T in (1000, 2000):
        req = random_requests(m, T, seed=2)
        ts, rs = _time(lambda: offline_optimum(m, req, init, method="flow"))
        print(f"flow OPT  T={T:5d} k=10 n=50  sparse: {ts:7.2f} s  ({rs.info['n_edges']:,} edges)  OPT={rs.value:.6f}")
        if T == 1000 or full:
            td, rd = _time(lambda: offline_optimum(m, req, init, method="flow_dense"))
            print(f"flow OPT  T={T:5d} k=10 n=50  dense:  {td:7.2f} s  ({rd.info['n_edges']:,} edges)  OPT={rd.value:.6f}"
                  f"  -> sparse is {td / ts:.1f}x faster, |diff| = {abs(rd.value - rs.value):.2e}")
            rows.append((T, ts, td))
    return rows


def bench_dc(T: int = 2_000_000, T_loop: int = 100_000):
    from online_algs import run
    from online_algs.kserver import DoubleCoverage, random_requests
    from online_algs.metrics import random_metric

    m = random_metric("line", 1000, seed=3)
    init = list(range(0, 1000, 100))  # k = 10
    req = random_requests(m, T, seed=4)
    run(DoubleCoverage(m, init), req[:1000])  # compile / load the cache
    tk, rk = _time(lambda: run(DoubleCoverage(m, init), req, series=False), repeat=3)
    tl, rl = _time(lambda: run(DoubleCoverage(m, init), req[:T_loop], series=False, fast=False))
    rk_small = run(DoubleCoverage(m, init), req[:T_loop], series=False).total_cost
    kps, lps = T / tk, T_loop / tl
    print(f"DC line   k=10 n=1000  kernel: {kps / 1e6:6.2f} M requests/s (T={T:,})   serve() loop: {lps / 1e3:7.1f} k "
          f"requests/s (T={T_loop:,})  -> kernel {kps / lps:.0f}x; same cost on the prefix: "
          f"{abs(rk_small - rl.total_cost) <= 1e-9 * max(1.0, rk_small)}")
    return kps, lps


def bench_wfa(T: int = 2000):
    from online_algs import run
    from online_algs.kserver import WorkFunctionKServer, random_requests
    from online_algs.metrics import random_metric

    m = random_metric("general", 16, seed=5)
    init = [0, 4, 8, 12]  # C(16, 4) = 1820 configurations
    req = random_requests(m, T, seed=6)
    run(WorkFunctionKServer(m, init), req[:10])
    tk, _ = _time(lambda: run(WorkFunctionKServer(m, init), req, series=False))
    tl, _ = _time(lambda: run(WorkFunctionKServer(m, init), req[:200], series=False, fast=False))
    kps, lps = T / tk, 200 / tl
    print(f"WFA       k=4 n=16 (1820 configs)  kernel: {kps:8.0f} requests/s   vectorised serve(): {lps:8.0f} requests/s"
          f"  -> kernel {kps / lps:.1f}x")
    return kps, lps


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    full = "--full" in argv
    bench_dc()
    bench_wfa()
    bench_flow(full=full)


if __name__ == "__main__":
    main()


def bench_multiscale(T: int = 20_000, T_loop: int = 2_000, n: int = 64, k: int = 8):
    """MultiscaleKServerHST (issue #5): requests/s of the numba batch path and of the serve() loop
    (the same projection kernel called once per request from Python), and, as a baseline measured
    in the same run, of the older FractionalKServerHST batch path on the same HST and requests."""
    from online_algs import run
    from online_algs.kserver import FractionalKServerHST, MultiscaleKServerHST
    from online_algs.mts.hst import random_hst

    hst = random_hst(n, seed=7)
    rng = np.random.default_rng(8)
    init = np.sort(rng.choice(n, size=k, replace=False))
    req = rng.integers(0, n, size=T)
    run(MultiscaleKServerHST(hst, init), req[:50])  # compile / load the cache
    run(FractionalKServerHST(hst, init), req[:50])
    tk, rk = _time(lambda: run(MultiscaleKServerHST(hst, init), req, series=False), repeat=3)
    tl, rl = _time(lambda: run(MultiscaleKServerHST(hst, init), req[:T_loop], series=False, fast=False))
    tb, _ = _time(lambda: run(FractionalKServerHST(hst, init), req, series=False), repeat=3)
    prefix = run(MultiscaleKServerHST(hst, init), req[:T_loop]).total_cost
    same = abs(prefix - rl.total_cost) <= 1e-9 * max(1.0, rl.total_cost)
    kps, lps, bps = T / tk, T_loop / tl, T / tb
    print(f"Multiscale HST n={n} k={k} ({hst.n_nodes} nodes)  kernel: {kps:8.0f} requests/s (T={T:,}, Newton steps max "
          f"{rk.info['newton_steps_max']})   serve() loop: {lps:7.0f} requests/s -> kernel {kps / lps:.1f}x; "
          f"FractionalKServerHST kernel: {bps:8.0f} requests/s -> multiscale / old {kps / bps:.2f}x; same cost on the "
          f"prefix: {same}")
    return kps, lps, bps


if __name__ == "__main__":
    bench_multiscale()
