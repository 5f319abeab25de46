"""Benchmark of the fractional k-server / weighted paging algorithms.

``python -m experiments.bench_kserver_fractional [--quick] [--requests T] [--leaves N] [--k K]``

For each algorithm (FractionalWeightedPaging, RoundedWeightedPaging, FractionalKServerHST,
RoundedKServerHST) prints requests/s of the numba batch path (``run(alg, seq)``) and of the
step-by-step numpy protocol loop, its slow twin (``run(alg, seq, fast=False)``, on a prefix of
the sequence), and the ratio kernel / twin measured in the same run; the two paths are also
checked to give the same cost on the common prefix. Kernels are compiled (or loaded from the
numba cache) on a small warm-up sequence before timing.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from online_algs import run
from online_algs.kserver.fractional import (FractionalKServerHST, FractionalWeightedPaging, RoundedKServerHST,
                                            RoundedWeightedPaging)
from online_algs.mts.hst import random_hst


def _rate(alg, seq, fast, repeat=3):
    best = float("inf")
    res = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = run(alg, seq, fast=fast, series=False, states=False)
        best = min(best, time.perf_counter() - t0)
    return len(seq) / best, res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (CI smoke run)")
    ap.add_argument("--requests", type=int, default=None)
    ap.add_argument("--leaves", type=int, default=None)
    ap.add_argument("--k", type=int, default=None)
    a = ap.parse_args(argv)
    T = a.requests or (5_000 if a.quick else 100_000)
    n = a.leaves or (32 if a.quick else 128)
    k = a.k or (4 if a.quick else 16)
    T_slow = min(T, 500 if a.quick else 2_000)
    rng = np.random.default_rng(0)
    costs = rng.uniform(0.5, 4.0, size=n)
    hst = random_hst(n, seed=1)
    init = np.sort(rng.choice(n, size=k, replace=False))
    seq = rng.integers(0, n, size=T).astype(np.int64)
    algs = {
        "FractionalWeightedPaging": FractionalWeightedPaging(costs, k, initial=init),
        "RoundedWeightedPaging": RoundedWeightedPaging(costs, k, initial=init, seed=0),
        "FractionalKServerHST": FractionalKServerHST(hst, init),
        "RoundedKServerHST": RoundedKServerHST(hst, init, seed=0),
    }
    for alg in algs.values():  # warm-up: compile or load the kernels
        run(alg, seq[:50])
    print(f"n = {n} points, k = {k}, T = {T} uniform requests (slow twin on the first {T_slow})")
    print(f"{'algorithm':<26} {'kernel req/s':>14} {'twin req/s':>12} {'kernel/twin':>12} {'|cost diff|':>12}")
    for name, alg in algs.items():
        fast_rate, _ = _rate(alg, seq, True)
        slow_rate, slow = _rate(alg, seq[:T_slow], False, repeat=1)
        fast_prefix = run(alg, seq[:T_slow], series=False, states=False)
        diff = abs(fast_prefix.total_cost - slow.total_cost)
        print(f"{name:<26} {fast_rate:>14,.0f} {slow_rate:>12,.0f} {fast_rate / slow_rate:>12.1f} {diff:>12.2e}")


if __name__ == "__main__":
    main()
