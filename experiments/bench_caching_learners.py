"""Benchmark: OGD / OMD one-hot fast paths against the general-projection protocol loop.

``python -m experiments.bench_caching_learners [--quick]``

Zipf(1.0) trace over N = 10^6 items, C = 10^4, 10^7 requests (``--quick``: 10^6), one thread.
Prints requests/s of the fast paths (``run(alg, trace)``: lazy projection for OGD, global
multiplier for OMD) and of the slow twin (``run(alg, prefix, fast=False)``: an exact O(N log N)
projection per request) on a short prefix in the same run, and their ratio. Targets: >= 1 M
requests/s and >= 1,000x.

``python -m experiments.bench_caching_learners --rounding [--rounds R]``: rounds/s and
fetches / ||dy||_1 of Madow-coupled rounding (``CoupledRounding``, one U) against
``TransportRounding`` on OGD trajectories (Zipf(0.9), one-hot requests) at N = 10^3 and 10^4,
C = 10^2 (``--big`` adds N = 10^5, C = 10^3: TransportRounding is pure Python and takes minutes
per round there). The learner's trajectory is computed first and not timed; both roundings see
the same y_t; fetch ratios are for one U (seed 0).

``python -m experiments.bench_caching_learners --fragmentation 3000 [--compaction merge|madow|both]
[--max-atoms K]``: the layout size, number of budget compactions and fetch ratios of
``TransportRounding`` for each compaction rule (and of ``CoupledRounding``) over 3000 rounds of
web07 requests to its top 300 ids, C = 50 (the table of docs/caching.md), with rounds/s and the
speed ratio to ``CoupledRounding`` on the same trajectory (the learner is not timed).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import online_algs  # noqa: E402
from online_algs.caching import OGD, OMD  # noqa: E402
from online_algs.caching.traces import zipf_trace  # noqa: E402


def _rate(alg, trace, fast=True):
    t0 = time.perf_counter()
    res = online_algs.run(alg, trace, series=False, fast=fast)
    dt = time.perf_counter() - t0
    return len(trace) / dt, dt, res


def rounding_main(rounds, big=False) -> int:
    from online_algs.caching import CoupledRounding, TransportRounding

    print(f"OGD trajectories on Zipf(0.9), {rounds} rounds after y_0 (learner not timed), one U (seed 0)")
    print(f"{'N':>8s} {'C':>6s} {'rounding':18s} {'rounds/s':>10s} {'fetches':>8s} {'sum dy':>9s} "
          f"{'fetch/dy':>9s} {'bound/dy':>9s} atoms")
    for N, C in ((10**3, 10**2), (10**4, 10**2)) + (((10**5, 10**3),) if big else ()):
        trace = zipf_trace(N, rounds, 0.9, seed=1)
        lrn = OGD(N, C, horizon=10 * rounds, fast=False)
        lrn.reset()
        ys = [np.asarray(lrn.predict(), dtype=float).copy()]
        for t in range(rounds):
            lrn.update(int(trace[t]))
            ys.append(np.asarray(lrn.predict(), dtype=float).copy())
        dy = float(sum(np.abs(ys[t] - ys[t - 1]).sum() for t in range(1, len(ys))))
        rates = {}
        for name in ("CoupledRounding", "TransportRounding"):
            if name == "CoupledRounding":
                r = CoupledRounding(seed=0)
                r(ys[0])
                t0 = time.perf_counter()
                fetches = 0
                for y in ys[1:]:
                    r(y)
                    fetches += r.fetches_
                bound, atoms = float("nan"), "-"
            else:
                r = TransportRounding(C, seed=0)
                r.reset_with(ys[0])
                t0 = time.perf_counter()
                fetches, bound = 0, 0.0
                for y in ys[1:]:
                    fetches += len(r.update(y)[0])
                    bound += r.movement_bound_ + r.compaction_movement_
                bound /= dy
                atoms = f"{r.n_atoms} ({r.n_compactions_} compactions)"
            dt = time.perf_counter() - t0
            rates[name] = rounds / dt
            print(f"{N:8,d} {C:6,d} {name:18s} {rates[name]:10.1f} {fetches:8d} {dy:9.3f} {fetches / dy:9.3f} "
                  f"{bound:9.3f} {atoms}")
        print(f"{'':16s}transport / coupled speed: {rates['TransportRounding'] / rates['CoupledRounding']:.3f}x")
    return 0


def fragmentation_main(T, N=300, C=50, compactions=("merge", "madow"), max_atoms=None) -> int:
    """Layout size, compactions and fetch ratios of TransportRounding over a long run on web07,
    for each compaction rule (the learner's trajectory is computed first and not timed)."""
    from online_algs.caching import OMD, CoupledRounding, TransportRounding
    from online_algs.datasets import load_trace

    full = load_trace("web07")
    ids, cnt = np.unique(full, return_counts=True)
    top = np.sort(ids[np.argsort(-cnt, kind="stable")[:N]])
    trace = np.searchsorted(top, full[np.isin(full, top)])[:T]
    print(f"web07 requests to its top {N} ids, C={C}, T={len(trace)}, learner horizon=T, one U (seed 1); "
          f"ratios: sums over rounds / sum ||dy||_1; expected = layout updates + compactions")
    for cls in (OGD, OMD):
        lrn = cls(N, C, horizon=len(trace))
        lrn.reset()
        ys = [np.asarray(lrn.predict(), dtype=float).copy()]
        for t in range(len(trace)):
            lrn.update(int(trace[t]))
            ys.append(np.asarray(lrn.predict(), dtype=float).copy())
        cr = CoupledRounding(seed=1)
        cr(ys[0])
        cf = 0
        t0 = time.perf_counter()
        for y in ys[1:]:
            cr(y)
            cf += cr.fetches_
        coupled_rate = len(trace) / (time.perf_counter() - t0)
        for rule in compactions:
            r = TransportRounding(C, seed=1, max_atoms=max_atoms, compaction=rule)
            r.reset_with(ys[0])
            mb = dy = cm = 0.0
            fe = 0
            atoms = []
            t0 = time.perf_counter()
            for t, y in enumerate(ys[1:]):
                fe += len(r.update(y)[0])
                mb += r.movement_bound_
                dy += r.dy_l1_
                cm += r.compaction_movement_
                if (t + 1) % max(1, len(trace) // 10) == 0:
                    atoms.append(r.n_atoms)
            rate = len(trace) / (time.perf_counter() - t0)
            print(f"{cls.__name__} compaction={rule}: {rate:.1f} rounds/s ({rate / coupled_rate:.2e} x "
                  f"CoupledRounding's {coupled_rate:,.0f}); layout updates {mb / dy:.3f}, compactions {cm / dy:.3f} "
                  f"({r.n_compactions_}), expected {(mb + cm) / dy:.3f}, realised fetches {fe / dy:.3f}, "
                  f"CoupledRounding {cf / dy:.3f}; atoms every T/10: {atoms} (budget {r.max_atoms_})", flush=True)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="10^6 requests instead of 10^7")
    p.add_argument("--slow-prefix", type=int, default=None, help="requests for the slow twin (default 20/50)")
    p.add_argument("--rounding", action="store_true", help="benchmark CoupledRounding against TransportRounding")
    p.add_argument("--rounds", type=int, default=20, help="rounds of the --rounding benchmark")
    p.add_argument("--big", action="store_true", help="--rounding: add N = 10^5, C = 10^3")
    p.add_argument("--fragmentation", type=int, default=0, metavar="T",
                   help="TransportRounding layout size and movement over T rounds of web07 (C = 50)")
    p.add_argument("--compaction", choices=("merge", "madow", "both"), default="both",
                   help="--fragmentation: compaction rule(s) to run")
    p.add_argument("--max-atoms", type=int, default=None, help="--fragmentation: layout budget (default 8(N+C))")
    args = p.parse_args(argv)
    if args.fragmentation:
        rules = ("merge", "madow") if args.compaction == "both" else (args.compaction,)
        return fragmentation_main(args.fragmentation, compactions=rules, max_atoms=args.max_atoms)
    if args.rounding:
        return rounding_main(args.rounds, args.big)
    N, C = 10**6, 10**4
    T = 10**6 if args.quick else 10**7
    P = args.slow_prefix or (20 if args.quick else 50)
    trace = zipf_trace(N, T, 1.0, seed=0)
    print(f"Zipf(1.0), N={N:,}, C={C:,}, T={T:,}, slow-twin prefix {P} requests, NUMBA_NUM_THREADS="
          f"{os.environ.get('NUMBA_NUM_THREADS')}")
    print(f"{'learner':8s} {'fast req/s':>14s} {'fast time s':>12s} {'slow req/s':>12s} {'ratio':>10s}")
    for cls in (OGD, OMD):
        online_algs.run(cls(1000, 10, horizon=100), trace[:100] % 1000)  # compile / load the numba cache
        alg = cls(N, C, horizon=T)
        fast_rate, fast_dt, res = _rate(alg, trace)
        slow_rate, _, res_slow = _rate(cls(N, C, horizon=T), trace[:P], fast=False)
        # the prefix gains of the two paths must agree (same algorithm)
        chk = online_algs.run(cls(N, C, horizon=T), trace[:P], series=True)
        assert abs(chk.total_gain - res_slow.total_gain) <= 1e-7 * max(1.0, res_slow.total_gain)
        print(f"{cls.__name__:8s} {fast_rate:14,.0f} {fast_dt:12.2f} {slow_rate:12,.1f} {fast_rate / slow_rate:10,.0f}x"
              f"   (total gain {res.total_gain:,.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
