"""Entropic MTS benchmarks: numba kernels against numpy references measured in the same run.

``python -m experiments.bench_mts_entropic [--quick]``

1. Star step: the numba kernel ``star_project`` against the numpy reference ``star_projection``
   (same bisection, vectorised), per projection at n = 16, 256, 4096; then a whole run of
   ``EntropicStarMTS`` (numba batch kernel) against the ``serve`` loop (``fast=False``).
2. HST step throughput: sub-steps per second of the numba ``hst_substep`` and tasks per second of
   a whole ``EntropicHSTMTS`` run on a balanced binary HST and a random HST, against the numpy
   ``serve`` loop.

Results of the two versions are compared (to 1e-12) before any timing is printed, so a fast
wrong kernel cannot pass.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import online_algs
from online_algs.metrics import weighted_star
from online_algs.mts import HST, EntropicHSTMTS, EntropicStarMTS, random_hst, star_projection
from online_algs.mts import _kernels_entropic as K
from online_algs.mts.entropic import _hst_substep_np


def _best(f, repeat=3):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench_star_step(ns, reps):
    rng = np.random.default_rng(0)
    print("star step (one Bregman projection): numba kernel vs numpy reference")
    for n in ns:
        xs = [rng.dirichlet(np.ones(n)) for _ in range(reps)]
        cs = [rng.exponential(1.0, n) for _ in range(reps)]
        w = rng.uniform(0.5, 2.0, n)
        dl = np.full(n, 1.0 / n)
        out = np.empty(n)
        K.star_project(xs[0], cs[0], w, dl, out)  # compile / load from cache
        for x, c in zip(xs[:5], cs[:5]):
            K.star_project(x, c, w, dl, out)
            ref, _ = star_projection(x, c, w, dl)
            assert np.abs(out - ref).max() <= 1e-12, "kernel and numpy disagree"

        def run_k():
            for x, c in zip(xs, cs):
                K.star_project(x, c, w, dl, out)

        def run_np():
            for x, c in zip(xs, cs):
                star_projection(x, c, w, dl)

        tk, _ = _best(run_k)
        tn, _ = _best(run_np)
        print(f"  n={n:5d}: numba {1e6 * tk / reps:9.2f} us  numpy {1e6 * tn / reps:9.2f} us  "
              f"ratio {tn / tk:6.1f}x")


def bench_star_run(n, T):
    rng = np.random.default_rng(1)
    m = weighted_star(rng.uniform(0.5, 2.0, n))
    c = rng.exponential(1.0, size=(T, n))
    online_algs.run(EntropicStarMTS(m), c[:5])
    tf, rf = _best(lambda: online_algs.run(EntropicStarMTS(m), c, series=True, states=False))
    ts, rs = _best(lambda: online_algs.run(EntropicStarMTS(m), c, series=True, states=False, fast=False), 1)
    assert np.abs(rf.service - rs.service).max() <= 1e-12 and np.abs(rf.movement - rs.movement).max() <= 1e-12
    print(f"EntropicStarMTS run, n={n}, T={T}: batch kernel {1e3 * tf:8.1f} ms ({T / tf:9.0f} tasks/s), "
          f"serve loop {1e3 * ts:8.1f} ms, ratio {ts / tf:6.1f}x")


def bench_hst(h: HST, label: str, T: int, T_slow: int):
    rng = np.random.default_rng(2)
    n = h.n_leaves
    alg = EntropicHSTMTS(h)
    alg.reset()
    m = h.n_nodes
    b = int(np.diff(h.child_ptr).max())
    bufs = [np.empty(m)] + [np.empty(b) for _ in range(5)]
    cleaf = rng.exponential(1.0, n)
    Q = alg.Q_.copy()
    K.hst_substep(Q, cleaf, h.order, h.point_of_node, h.child_ptr, h.child_idx, alg.omega_, alg.dl_, *bufs)
    Qn = alg.Q_.copy()
    _hst_substep_np(Qn, cleaf, h, alg.omega_, alg.dl_)
    assert np.abs(Q - Qn).max() <= 1e-12, "HST kernel and numpy step disagree"
    reps = max(1, 20000 // m)

    def run_k():
        Qk = alg.Q_.copy()
        for _ in range(reps):
            K.hst_substep(Qk, cleaf, h.order, h.point_of_node, h.child_ptr, h.child_idx, alg.omega_, alg.dl_, *bufs)

    def run_np():
        Qk = alg.Q_.copy()
        for _ in range(max(1, reps // 50)):
            _hst_substep_np(Qk, cleaf, h, alg.omega_, alg.dl_)

    tk, _ = _best(run_k)
    tn, _ = _best(run_np, 1)
    sk = reps / tk
    sn = max(1, reps // 50) / tn
    print(f"HST sub-step, {label} ({n} leaves, {m} nodes): numba {sk:9.0f} sub-steps/s "
          f"({1e9 / (sk * m):6.1f} ns per node), numpy {sn:8.0f} sub-steps/s, ratio {sk / sn:6.1f}x")
    c = rng.exponential(1.0, size=(T, n))
    online_algs.run(EntropicHSTMTS(h), c[:3])
    tf, rf = _best(lambda: online_algs.run(EntropicHSTMTS(h), c, series=True, states=False), 1)
    ts, rs = _best(lambda: online_algs.run(EntropicHSTMTS(h), c[:T_slow], series=True, states=False, fast=False), 1)
    assert np.abs(rf.service[:T_slow] - rs.service).max() <= 1e-9
    assert np.abs(rf.movement[:T_slow] - rs.movement).max() <= 1e-9
    print(f"EntropicHSTMTS run, {label}: batch kernel {T / tf:8.0f} tasks/s "
          f"(max sub-steps {rf.info['max_substeps_used']}, capped {rf.info['capped_tasks']}), serve loop {T_slow / ts:8.3f} "
          f"tasks/s, ratio {(T / tf) / (T_slow / ts):6.1f}x")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    q = args.quick
    bench_star_step([16, 256] if q else [16, 256, 4096], 200 if q else 1000)
    bench_star_run(64, 500 if q else 5000)
    bench_hst(HST.balanced(6 if q else 10, 2), "balanced binary", 200 if q else 2000, 5 if q else 20)
    bench_hst(random_hst(128 if q else 512, seed=0), "random 2-HST", 200 if q else 500, 5 if q else 10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
