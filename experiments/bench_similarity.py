"""Benchmark of the k-NN datastore policies: policy overhead against the local k-NN search.

Setting: a remote catalog of ``N`` vectors behind a Faiss IVF index, a warm local cache of ``h``
vectors in a Faiss flat index (slots written in place, ``FaissSlotIndex``; the
``IndexIDMap2(IndexFlatL2)`` backend is timed for SIM-LRU too), ``k = 10``. For every policy, per
request:

* ``local``: time in the local cache's k-NN searches (the datastore's own work);
* ``overhead``: everything else the policy does (answer assembly, exact distances of the
  candidates, bookkeeping, index inserts/evictions, AÇAI's projection and rounding);
Times are process CPU times (``time.process_time``, Faiss on one thread) so that a loaded
machine does not inflate them; each policy runs ``--repeat`` times (default 3), the repeats
interleaved over the policies, and its fastest run is printed.

* ``ratio = overhead / local`` (target <= 1) and queries per second including the remote search
  (batched over the run, IVF ``nprobe`` lists, its recall@k against exact search printed);
* ``over/plain``: the overhead against the plain local search timed alone before the policies
  (a policy that streams O(N) memory per request also slows its own local searches, which
  flatters ``overhead / local``);
* ``fetch/req``: objects inserted in the cache per request (index inserts; AÇAI's re-rounding).

AÇAI rows: ``ACAI(numpy twin)`` is the full-vector numpy path (the code before the lazy kernels,
O(N) Python/numpy per request), ``ACAI`` the default (lazy-scale kernels, one fused kernel per
request, the sublinear DepRound every request, ``docs/theory/acai_gain.md`` section 10),
``(O(N) DepRound pass)`` the same with the previous rounding kernel (one O(N) pass per request),
``(IDMap2)`` the default on the ``IndexIDMap2`` cache index, ``(coupled)`` coupled Madow
rounding, ``(round_every=R)`` DepRound every R requests. Every policy first serves 30 requests
untimed (numba's cache loads). The last lines time ``IndexIDMap2.remove_ids`` per object
against one batched call, report the masses the default rounding works on and the share of
the catalog in equal-value blocks, and time the index churn alone (the measured fetches per
request on the slot index and on ``IndexIDMap2``).

    python -m experiments.bench_similarity            # h = 10^4, N = 10^5, d = 128 and 784
    python -m experiments.bench_similarity --quick    # h = 2000, N = 20000, d = 128
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _data(N, d, T, seed=0):
    rng = np.random.default_rng(seed)
    n_clusters = 200
    centres = rng.normal(size=(n_clusters, d)).astype(np.float64)
    lab = rng.integers(0, n_clusters, size=N)
    cat = centres[lab] + 0.5 * rng.normal(size=(N, d))
    p = 1.0 / np.arange(1, N + 1) ** 0.8
    p /= p.sum()
    items = rng.permutation(N)[rng.choice(N, size=T, p=p)]
    q = cat[items] + 0.2 * rng.normal(size=(T, d))
    return cat, q, p


class _Timed:
    """Wraps an index's ``_search`` and accumulates its wall time."""

    def __init__(self, index):
        self.index = index
        self.inner = index._search
        self.total = 0.0

    def __call__(self, q, k):
        t0 = time.process_time()
        out = self.inner(q, k)
        self.total += time.process_time() - t0
        return out


def bench(N, h, d, T, k=10, n_candidates=64, seed=0, policies=None, warmup=30, repeat=3):
    from online_algs.similarity import (ACAI, Datastore, Duel, ExactLFU, ExactLRU, FaissFlatIndex, QLRUDeltaC,
                                        RndLRU, SimLRU, recall_at_k)

    cat, q, p = _data(N, d, T, seed)
    t0 = time.process_time()
    ds = Datastore(cat, k=k, fetch_cost=5.0, remote_index="faiss-ivf", nprobe=16)
    ds.index  # build
    t_build = time.process_time() - t0
    m = max(k, n_candidates)
    t0 = time.process_time()
    E = ds.remote_knn(q, m)
    t_remote = (time.process_time() - t0) / T
    flat = FaissFlatIndex(d)
    flat.add(np.arange(N), cat)
    rec = recall_at_k(ds.index, flat, q[:200], k)
    # local search baseline alone: the same cache, a plain search
    warm_ids = np.argsort(-np.bincount(E[:, 0], minlength=N), kind="stable")[:h]
    base = FaissFlatIndex(d)
    base.add(warm_ids, cat[warm_ids])
    t0 = time.process_time()
    for t in range(T):
        base._search(q[t:t + 1], k + 1)
    t_local_alone = (time.process_time() - t0) / T
    print(f"\nN={N}, h={h}, d={d}, k={k}, T={T}: IVF build {t_build:.2f}s (nlist={ds.index.nlist}, nprobe=16), "
          f"remote search {t_remote * 1e6:.0f} us/query batched, recall@{k} {rec:.3f}; "
          f"plain local (k+1)-NN search {t_local_alone * 1e6:.0f} us/query")
    ci = "faiss-slots"
    makers = {
        "SimLRU(IDMap2)": lambda: SimLRU(ds, h, cache_index="faiss-flat"),
        "SimLRU": lambda: SimLRU(ds, h, cache_index=ci),
        "RndLRU": lambda: RndLRU(ds, h, cache_index=ci, seed=0),
        "QLRUDeltaC": lambda: QLRUDeltaC(ds, h, q=0.1, cache_index=ci, seed=0),
        "Duel": lambda: Duel(ds, h, cache_index=ci, seed=0),
        "ExactLRU": lambda: ExactLRU(ds, h, cache_index=ci),
        "ExactLFU": lambda: ExactLFU(ds, h, cache_index=ci),
        "ACAI(numpy twin)": lambda: _numpy_twin(ACAI(ds, h, n_candidates=n_candidates, horizon=T, cache_index=ci,
                                                     seed=0)),
        "ACAI": lambda: ACAI(ds, h, n_candidates=n_candidates, horizon=T, cache_index=ci, seed=0),
        "ACAI(O(N) DepRound pass)": lambda: _pass_rounding(ACAI(ds, h, n_candidates=n_candidates, horizon=T,
                                                                cache_index=ci, seed=0)),
        "ACAI(IDMap2)": lambda: ACAI(ds, h, n_candidates=n_candidates, horizon=T, cache_index="faiss-flat", seed=0),
        "ACAI(coupled)": lambda: ACAI(ds, h, n_candidates=n_candidates, horizon=T, rounding="coupled",
                                      cache_index=ci, seed=0),
        "ACAI(round_every=10)": lambda: ACAI(ds, h, n_candidates=n_candidates, horizon=T, round_every=10,
                                              cache_index=ci, seed=0),
        "ACAI(round_every=50)": lambda: ACAI(ds, h, n_candidates=n_candidates, horizon=T, round_every=50,
                                              cache_index=ci, seed=0),
    }
    rows = []
    acai_state = None
    print(f"{'policy':24s} {'local us':>9s} {'overhead us':>12s} {'overhead/local':>15s} {'over/plain':>11s} {'qps':>8s} "
          f"{'cost/req':>9s} {'fetch/req':>9s}")
    names = [nm for nm in makers if not policies or nm.split("(")[0] in policies]
    best = {nm: (np.inf, np.inf) for nm in names}   # (overhead, local) of the run with the least total
    info = {}
    for rep in range(repeat):
        # the repeats are interleaved over the policies, so a burst of load on the shared machine hits
        # one repeat of each policy rather than all repeats of one; each policy keeps its fastest run
        for name in names:
            alg = makers[name]()
            alg.reset()  # warm-up run, not timed: numba's cache loads and first-call costs
            alg.warm(warm_ids)
            for t in range(min(T, warmup)):
                alg._step(q[t], E[t, :alg._n_remote()])
            alg.reset()
            alg.warm(warm_ids)
            timer = _Timed(alg._index)
            alg._index._search = timer
            nr = alg._n_remote()
            cost = 0.0
            t0 = time.process_time()
            for t in range(T):
                s, mv = alg._step(q[t], E[t, :nr])
                cost += s + mv
            total = (time.process_time() - t0) / T
            local = timer.total / T
            if total < sum(best[name]):
                best[name] = (total - local, local)
            info[name] = (cost / T, alg._inserted / T)
            if name == "ACAI":
                acai_state = alg
    for name in names:
        over, local = best[name]
        qps = 1.0 / (over + local + t_remote)
        rows.append((name, local, over))
        print(f"{name:24s} {local * 1e6:9.0f} {over * 1e6:12.0f} {over / local:15.2f} {over / t_local_alone:11.2f} "
              f"{qps:8.0f} {info[name][0]:9.3f} {info[name][1]:9.2f}")
    if not policies or "ACAI" in policies:
        _idmap_remove_cost(cat, warm_ids)
        if acai_state is not None:
            _acai_rounding_report(acai_state, cat, warm_ids, T)
    return rows


def _acai_rounding_report(alg, cat, warm_ids, T, reps=200):
    """What the default AÇAI rounding works on at the end of the run, and the index churn alone.

    * ``M_S = sum of y over y <= 1/2`` and ``M_B = sum of 1 - y over y > 1/2``: the sublinear
      DepRound costs O((1 + M_S + M_B) log N) (about two prefix-sum searches per unit of mass);
    * the share of the catalog in exchangeable blocks (objects with the same lazy value ``v``, e.g.
      never touched since the warm start): what option (a) of issue #6 could round as blocks;
    * the cache's add/remove cost of the measured fetches per request, timed alone on a copy of the
      warm cache: slot index with array bookkeeping (one numba call, AÇAI's default) and
      ``IndexIDMap2`` (one batched ``remove_ids`` and one ``add_with_ids``).
    """
    from online_algs.similarity import FaissFlatIndex
    from online_algs.similarity import _kernels_acai as ka
    from online_algs.similarity.index import make_index

    y = alg.fractional_state
    small = y <= 0.5
    M_S, M_B = float(y[small].sum()), float((1 - y[~small]).sum())
    v = alg._v[alg._satpos < 0]
    vals, counts = np.unique(v, return_counts=True)
    top = np.sort(counts)[::-1]
    n = len(y)
    print(f"ACAI rounding state after {T} requests: M_S = {M_S:.1f}, M_B = {M_B:.1f} ({int(small.sum())} small, "
          f"{int((~small).sum())} big objects); equal-v classes: largest {top[:3].tolist()} of N = {n} "
          f"({top[:2].sum() / n:.0%} of the catalog in the two largest, {len(vals)} distinct values)")
    m = max(1, int(round(alg._inserted / T)))
    rng = np.random.default_rng(1)
    N, d = cat.shape
    slots = make_index("faiss-slots", d, capacity=len(warm_ids), id_bound=N)
    slots.add(warm_ids, cat[warm_ids])
    idmap = FaissFlatIndex(d)
    idmap.add(warm_ids, cat[warm_ids])
    cached = np.zeros(N, dtype=bool)
    cached[warm_ids] = True
    none = np.empty(0, dtype=np.int64)
    ka.slots_swap(none, none, cat, slots._xb, np.float32(slots.SENTINEL), slots._slot_id, slots._slot_arr,
                  slots._free_arr, slots._nfree)  # compile / cache load, not timed
    t_slots = t_idmap = 0.0
    for r in range(reps):
        ev = rng.choice(np.flatnonzero(cached), m, replace=False)
        fe = rng.choice(np.flatnonzero(~cached), m, replace=False)
        cached[ev] = False
        cached[fe] = True
        t0 = time.process_time()
        ka.slots_swap(ev, fe, cat, slots._xb, np.float32(slots.SENTINEL), slots._slot_id, slots._slot_arr,
                      slots._free_arr, slots._nfree)
        t1 = time.process_time()
        idmap._remove_unchecked(ev)
        idmap._add_unchecked(fe, cat[fe])
        t2 = time.process_time()
        t_slots += t1 - t0
        t_idmap += t2 - t1
    print(f"index churn alone, {m} evictions + {m} inserts per request: slot index (arrays) "
          f"{t_slots / reps * 1e6:.0f} us, IndexIDMap2 {t_idmap / reps * 1e6:.0f} us")


def _pass_rounding(alg):
    """AÇAI with the previous rounding kernel: one O(N) DepRound pass per rounding (``depround_lazy``)."""
    alg._sublinear_rounding = False
    return alg


def _numpy_twin(alg):
    """AÇAI's slow twin (full y vector, O(N) numpy per request): the code before the lazy kernels."""
    alg._reference = True
    return alg


def _idmap_remove_cost(cat, ids, n_remove=20, reps=5):
    """IndexIDMap2.remove_ids on the h-vector cache: one call per object against one batched call."""
    from online_algs.similarity import FaissFlatIndex

    t_one = t_batch = 0.0
    for r in range(reps):
        idx = FaissFlatIndex(cat.shape[1])
        idx.add(ids, cat[ids])
        out = ids[r * 2 * n_remove:(r * 2 + 1) * n_remove]
        t0 = time.process_time()
        for o in out:
            idx.remove([o])
        t_one += time.process_time() - t0
        out = ids[(r * 2 + 1) * n_remove:(r * 2 + 2) * n_remove]
        t0 = time.process_time()
        idx.remove(out)
        t_batch += time.process_time() - t0
    print(f"IndexIDMap2.remove_ids on {len(ids)} vectors, {n_remove} ids: one call per id {t_one / reps * 1e6:.0f} us, "
          f"one batched call {t_batch / reps * 1e6:.0f} us (ratio {t_one / max(t_batch, 1e-9):.1f}); AÇAI removes "
          f"the evicted objects of a request in one call")


def main(argv=None):
    import faiss

    faiss.omp_set_num_threads(1)  # CPU time of one thread: comparable on a shared machine
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="h = 2000, N = 20000, d = 128, T = 300")
    ap.add_argument("--T", type=int, default=None, help="requests per policy")
    ap.add_argument("--policies", default=None, help="comma-separated subset of policies")
    ap.add_argument("--dims", default="128,784", help="comma-separated dimensions of the full run")
    ap.add_argument("--repeat", type=int, default=None,
                    help="interleaved timed runs per policy, the fastest kept (default 3; 1 with --quick)")
    args = ap.parse_args(argv)
    pol = args.policies.split(",") if args.policies else None
    if args.quick:
        bench(N=20_000, h=2_000, d=128, T=args.T or 300, policies=pol, repeat=args.repeat or 1)
    else:
        for d in (int(x) for x in args.dims.split(",")):
            bench(N=100_000, h=10_000, d=d, T=args.T or 500, policies=pol, repeat=args.repeat or 3)


if __name__ == "__main__":
    main()
