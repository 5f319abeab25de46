"""Benchmark of the classic paging policies and Belady against libCacheSim (same trace, same run).

``python -m experiments.bench_caching [--quick] [--requests T] [--items N] [--capacity C]``

Default: a Zipf(1.0) trace of 10^7 requests over N = 10^6 items, C = 10^4, one thread.
``--quick``: 10^6 requests. Prints requests/s of every policy (end-to-end ``online_algs.run``:
validation + id remapping + numba kernel; and the kernel alone), and the ratios

* LRU (ours, end-to-end) / LRU (libCacheSim ``process_trace``), target >= 1;
* Belady (ours, ``belady_misses`` incl. the next-use table) / Belady (libCacheSim, oracleGeneral
  trace with next-access times precomputed and not timed), target >= 1;

and checks that the miss counts agree. libCacheSim reads its trace from a binary file
(oracleGeneral, 24 bytes per request) in a temporary directory; the file is written before
the clock starts. Without libCacheSim the comparison is skipped with a message.
Numba kernels are compiled (or loaded from the cache) on a small trace before timing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

import online_algs
from online_algs.caching import PAGING_POLICIES, belady_misses, next_use
from online_algs.caching import _kernels_classic as K
from online_algs.caching.belady import _id_map
from online_algs.caching.traces import zipf_trace

ORACLE_DTYPE = np.dtype([("time", "<u4"), ("id", "<u8"), ("size", "<u4"), ("next", "<i8")])


def _time(f, repeat: int = 1):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _make(cls, C):
    return cls(capacity=C, seed=0) if cls.randomized else cls(capacity=C)


def _warm(C):
    x = zipf_trace(1000, 5000, seed=0)
    for cls in PAGING_POLICIES.values():
        online_algs.run(_make(cls, C), x)
    belady_misses(x, 10)


def _lcs_misses(lcs, cls, path, C, T):
    reader = lcs.TraceReader(path, lcs.TraceType.ORACLE_GENERAL_TRACE)
    cache = cls(C)
    mr, _ = cache.process_trace(reader)
    return int(round(mr * T))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="10^6 requests instead of 10^7")
    p.add_argument("--requests", type=int, default=None)
    p.add_argument("--items", type=int, default=10**6)
    p.add_argument("--capacity", type=int, default=10**4)
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--repeat", type=int, default=None, help="timings keep the best of this many runs")
    args = p.parse_args(argv)
    T = args.requests or (10**6 if args.quick else 10**7)
    N, C = args.items, args.capacity
    repeat = args.repeat or (3 if args.quick else 1)
    print(f"# bench_caching: Zipf({args.alpha}) trace, T={T:,} requests, N={N:,} items, C={C:,}, "
          f"best of {repeat}, one thread")
    x = zipf_trace(N, T, alpha=args.alpha, seed=1)
    _warm(C)

    rows = []
    ours = {}
    for name, cls in PAGING_POLICIES.items():
        dt, res = _time(lambda: online_algs.run(_make(cls, C), x), repeat)
        ours[name] = (dt, res.misses)
        rows.append((name, "online_algs.run", dt, res.misses))
    # kernel alone (ids of a Zipf trace already lie in 0..N-1: no id map)
    xd, lut, _, n = _id_map(x, N)
    e8, ei, fin = np.zeros(0, np.uint8), np.zeros(0, np.int64), np.full(C, -1, np.int64)
    dt, m = _time(lambda: K.lru_kernel(xd, lut, n, C, False, e8, ei, fin), repeat)
    rows.append(("LRU", "kernel only", dt, int(m)))
    dt, b = _time(lambda: belady_misses(x, C), repeat)
    ours["Belady"] = (dt, b)
    rows.append(("Belady", "belady_misses", dt, b))

    lcs_rows = {}
    try:
        import libcachesim as lcs
    except ImportError:
        lcs = None
        print("# libcachesim is not installed: skipping the comparison (pip install libcachesim)")
    if lcs is not None:
        with tempfile.TemporaryDirectory(prefix="bench_caching_") as d:
            path = os.path.join(d, "zipf.oracleGeneral.bin")
            rec = np.zeros(T, dtype=ORACLE_DTYPE)
            rec["time"] = np.arange(T)
            rec["id"] = x
            rec["size"] = 1
            nu = next_use(x)
            rec["next"] = np.where(nu == T, -1, nu)
            rec.tofile(path)
            del rec, nu
            for name, cls in (("LRU", lcs.LRU), ("Belady", lcs.Belady), ("FIFO", lcs.FIFO), ("CLOCK", lcs.Clock),
                              ("LFU", lcs.LFU), ("ARC", lcs.ARC)):
                dt, m = _time(lambda: _lcs_misses(lcs, cls, path, C, T), repeat)
                lcs_rows[name] = (dt, m)
                rows.append((name, "libCacheSim", dt, m))

    print(f"\n{'policy':16s} {'implementation':18s} {'seconds':>9s} {'Mreq/s':>8s} {'misses':>10s}")
    for name, impl, dt, m in rows:
        print(f"{name:16s} {impl:18s} {dt:9.3f} {T / dt / 1e6:8.2f} {m:10d}")
    if lcs_rows:
        print("\nratio = (our requests/s) / (libCacheSim requests/s); target >= 1 for LRU and Belady")
        for name in lcs_rows:
            if name in ours:
                r = lcs_rows[name][0] / ours[name][0]
                same = "equal" if lcs_rows[name][1] == ours[name][1] else \
                    f"DIFFER ({ours[name][1]} vs {lcs_rows[name][1]})"
                print(f"  {name:8s} ratio {r:6.2f}   miss counts {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
