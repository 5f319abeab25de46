"""AÇAI's numba kernels against their slow twins, and the lazy-scale policy against the numpy policy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import online_algs
from online_algs.caching.projections import project_capped_simplex_kl
from online_algs.similarity import ACAI, Datastore
from online_algs.similarity import _kernels_acai as ka
from online_algs.similarity.costs import gain_and_supergradient

SNAP = 1e-12


def _lazy(y):
    n = len(y)
    v, satpos, satlist = np.empty(n), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    st_, cnt = np.zeros(2), np.zeros(1, dtype=np.int64)
    ka.lazy_init(np.asarray(y, dtype=float), v, satpos, satlist, st_, cnt)
    return v, satpos, satlist, st_, cnt


def _materialize(v, st_):
    out = np.empty(len(v))
    ka.materialize(v, st_[0], out)
    return out


def _rand(seed, n=7, d=2, T=25, k=1, cf=1.0):
    rng = np.random.default_rng(seed)
    cat = rng.uniform(0, 3, size=(n, d))
    q = cat[rng.integers(0, n, size=T)] + rng.normal(0, 0.3, size=(T, d))
    return Datastore(cat, k=k, fetch_cost=cf), q


# ----------------------------------------------------------------------------- gain kernel

@given(st.integers(0, 10**6))
def test_gain_kernel_matches_numpy_sweep(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    k = int(rng.integers(1, n + 1))
    cf = float(rng.choice([0.0, 0.2, 1.0, 3.0]))
    d = rng.uniform(0, 2, size=n)
    if seed % 3 == 0:
        d = np.round(d, 1)  # ties
    x = rng.random(n)
    x[rng.random(n) < 0.2] = 1.0
    G, g = gain_and_supergradient(d, x, k, cf)
    g2 = np.empty(n)
    G2 = ka.gain_supergradient(d, x, k, cf, 1e-12, g2)
    assert abs(G - G2) <= 1e-12 * max(1.0, abs(G))
    np.testing.assert_allclose(g2, g, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- lazy OMD step

def _reference_step(y, ids, g, eta, C):
    """The full-vector update: y[ids] *= exp(eta g), then the KL projection of the whole vector."""
    z = y.copy()
    z[ids] = z[ids] * np.exp(eta * g)
    return project_capped_simplex_kl(z, C)


@pytest.mark.parametrize("seed", range(12))
def test_omd_lazy_step_matches_full_projection(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 200))
    C = int(rng.integers(1, n // 2 + 1))
    y = project_capped_simplex_kl(rng.random(n) ** 4 + 1e-3, C)
    v, satpos, satlist, st_, cnt = _lazy(y)
    eta = float(rng.choice([0.1, 1.0, 5.0]))
    saturated_seen = 0
    for _ in range(40):
        K = int(rng.integers(1, min(n, 12) + 1))
        ids = rng.choice(n, size=K, replace=False).astype(np.int64)
        g = rng.uniform(0, 2, size=K) * (rng.random(K) < 0.8)
        y = _reference_step(y, ids, g, eta, C)
        ka.omd_lazy_step(ids, g, eta, float(C), v, satpos, satlist, st_, cnt)
        got = _materialize(v, st_)
        np.testing.assert_allclose(got, y, rtol=0, atol=1e-12)
        assert cnt[0] == int(np.sum(satpos >= 0)) and set(satlist[:cnt[0]]) == set(np.flatnonzero(satpos >= 0))
        assert abs(st_[1] - v[satpos < 0].sum()) <= 1e-9 * max(1.0, st_[1])
        saturated_seen += int(cnt[0] > 0)
    if eta == 5.0:
        assert saturated_seen > 0  # the saturated bookkeeping was exercised


def test_renormalize_keeps_the_fractional_state():
    rng = np.random.default_rng(3)
    y = project_capped_simplex_kl(rng.random(50) ** 6 + 1e-4, 5)
    v, satpos, satlist, st_, cnt = _lazy(y)
    st_[0] = 1e-120
    v[satpos < 0] *= 1e120
    st_[1] = v[satpos < 0].sum()
    before = _materialize(v, st_)
    ka.renormalize(v, satpos, st_)
    assert st_[0] == 1.0
    np.testing.assert_allclose(_materialize(v, st_), before, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(before, y, rtol=1e-12, atol=1e-15)


def test_lazy_init_materialize_roundtrip():
    y = np.array([1.0, 0.25, 0.75, 1.0, 0.0])
    v, satpos, satlist, st_, cnt = _lazy(y)
    assert cnt[0] == 2 and set(satlist[:2]) == {0, 3} and np.isinf(v[[0, 3]]).all()
    np.testing.assert_array_equal(_materialize(v, st_), y)
    out = np.empty(2)
    ka.lazy_values(np.array([3, 1]), v, st_[0], out)
    np.testing.assert_array_equal(out, [1.0, 0.25])


# ----------------------------------------------------------------------------- rounding

def _snap(a):
    return 0.0 if a < SNAP else (1.0 if a > 1.0 - SNAP else a)


def naive_depround_merge(y, u):
    """Plain-python twin of depround_lazy: DepRound in item order, one uniform per run of merges."""
    x = [_snap(float(a)) for a in y]
    k = 0
    carrier = -1
    need = True
    thresh = 0.0
    for n in range(len(x)):
        b = x[n]
        if b in (0.0, 1.0):
            continue
        if carrier < 0:
            carrier, need = n, True
            continue
        a = x[carrier]
        if a + b <= 1.0 + SNAP:
            if need:
                thresh = a / (1.0 - u[k])
                k += 1
                need = False
            M = a + b
            if M > thresh:
                x[carrier] = 0.0
                carrier, need = n, True
            else:
                x[n] = 0.0
            x[carrier] = _snap(M)
            if x[carrier] == 1.0:
                carrier = -1
            continue
        alpha, beta = min(1.0 - a, b), min(a, 1.0 - b)
        if u[k] * (alpha + beta) < beta:
            a, b = a + alpha, b - alpha
        else:
            a, b = a - beta, b + beta
        k += 1
        a, b = _snap(a), _snap(b)
        x[carrier], x[n] = a, b
        need = True
        if a in (0.0, 1.0):
            carrier = n if b not in (0.0, 1.0) else -1
    return np.flatnonzero(np.array(x) >= 0.5)


def _random_fractional(rng, n, C):
    return project_capped_simplex_kl(rng.random(n) ** 3 + 1e-3, C)


@given(st.integers(0, 10**6))
@settings(max_examples=60)
def test_depround_lazy_matches_python_twin(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    C = int(rng.integers(1, n))
    y = _random_fractional(rng, n, C)
    if seed % 4 == 0:
        y = np.where(rng.random(n) < 0.9, y, np.round(y))  # integral coordinates mixed in
        y = project_capped_simplex_kl(y + 1e-9, C)
    v, satpos, satlist, st_, cnt = _lazy(y)
    cached = (rng.random(n) < 0.5).astype(np.uint8)
    f, e = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    n_sel, nf, ne = ka.depround_lazy(v, st_[0], seed, cached, f, e)
    want = naive_depround_merge(y, ka.uniforms(seed, n))
    assert n_sel == len(want) == C
    cur = set(np.flatnonzero(cached))
    assert set(f[:nf]) == set(want) - cur and set(e[:ne]) == cur - set(want)


@pytest.mark.parametrize("seed", range(6))
def test_depround_lazy_matches_python_twin_on_long_merge_runs(seed):
    """A warm-cache-like state (a few objects near 1, many tiny ones): the merge fast path runs."""
    rng = np.random.default_rng(seed)
    n, C = 3000, 40
    y = np.full(n, 1e-3 * C / n)
    big = rng.choice(n, size=C, replace=False)
    y[big] += 1.0 - 1e-3
    if seed % 2:
        y = project_capped_simplex_kl(y * np.exp(rng.uniform(0, 3, size=n) * (rng.random(n) < 0.05)), C)
    v, satpos, satlist, st_, cnt = _lazy(y)
    cached = np.zeros(n, dtype=np.uint8)
    cached[big] = 1
    f, e = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    n_sel, nf, ne = ka.depround_lazy(v, st_[0], seed, cached, f, e)
    want = naive_depround_merge(y, ka.uniforms(seed, n))
    assert n_sel == len(want) == C
    assert set(f[:nf]) == set(want) - set(big) and set(e[:ne]) == set(big) - set(want)


def _exact_pairwise_depround(y):
    """Exact distribution of the one-draw-per-pairing DepRound (caching.rounding.depround's kernel)
    by enumerating both outcomes of every pairing."""
    out = {}

    def rec(x, carrier, n, p):
        while n < len(x) and x[n] in (0.0, 1.0):
            n += 1
        if n == len(x):
            key = tuple(int(i) for i in np.flatnonzero(np.array(x) >= 0.5))
            out[key] = out.get(key, 0.0) + p
            return
        if carrier < 0:
            rec(x, n, n + 1, p)
            return
        a, b = x[carrier], x[n]
        alpha, beta = min(1.0 - a, b), min(a, 1.0 - b)
        for pa, (a2, b2) in ((beta / (alpha + beta), (a + alpha, b - alpha)),
                             (alpha / (alpha + beta), (a - beta, b + beta))):
            if pa == 0.0:
                continue
            z = list(x)
            z[carrier], z[n] = _snap(a2), _snap(b2)
            if z[carrier] in (0.0, 1.0):
                nc = n if z[n] not in (0.0, 1.0) else -1
            else:
                nc = carrier
            rec(z, nc, n + 1, p * pa)

    rec([_snap(float(a)) for a in y], -1, 0, 1.0)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_depround_lazy_has_the_distribution_of_pairwise_depround(seed):
    """Not only the marginals: the whole law of the rounded set equals that of sequential DepRound."""
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(5, 8))
    C = int(rng.integers(1, 4))
    y = _random_fractional(rng, n, C)
    if seed == 0:
        y = np.full(n, C / n)  # many merges
    exact = _exact_pairwise_depround(y)
    assert abs(sum(exact.values()) - 1.0) < 1e-12
    M = 6000
    v, satpos, satlist, st_, cnt = _lazy(y)
    cached = np.zeros(n, dtype=np.uint8)
    f, e = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    freq = {}
    marg = np.zeros(n)
    for s in range(M):
        _, nf, _ = ka.depround_lazy(v, st_[0], 7919 * s + seed, cached, f, e)
        key = tuple(sorted(int(i) for i in f[:nf]))
        freq[key] = freq.get(key, 0) + 1
        marg[f[:nf]] += 1
    assert set(freq) <= set(exact)
    z = max(abs(freq.get(key, 0) / M - p) / np.sqrt(max(p * (1 - p), 1e-12) / M) for key, p in exact.items())
    assert z < 5.0, (z, exact, freq)
    zm = np.max(np.abs(marg / M - y) / np.sqrt(np.maximum(y * (1 - y), 1e-12) / M))
    assert zm < 5.0


def test_a_wrong_rounding_law_is_detected():
    """The distribution test above can fail: a biased sampler (always keep the carrier) is caught."""
    y = np.full(6, 0.5)
    exact = _exact_pairwise_depround(y)
    biased = {(0, 2, 4): 1.0}
    M = 6000
    z = max(abs(biased.get(key, 0) - p) / np.sqrt(p * (1 - p) / M) for key, p in exact.items())
    assert z > 5.0


def test_uniforms_are_deterministic_and_in_range():
    u = ka.uniforms(12345, 10000)
    np.testing.assert_array_equal(u, ka.uniforms(12345, 10000))
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.02
    assert not np.array_equal(u, ka.uniforms(12346, 10000))


# ----------------------------------------------------------------------------- policy: lazy vs numpy twin

def _twin_runs(ds, q, h, **kw):
    fast = ACAI(ds, h, **kw)
    slow = ACAI(ds, h, **kw)
    slow._reference = True
    r1 = online_algs.run(fast, q, series=True, states=True)
    r2 = online_algs.run(slow, q, series=True, states=True, fast=False)
    return fast, slow, r1, r2


@pytest.mark.parametrize("kw", [
    {}, {"eta": 3.0}, {"round_every": 3}, {"rounding": "coupled"}, {"n_candidates": 6}, {"eta": 3.0, "k": 3},
    {"n_candidates": 12, "k": 3, "cache_index": "faiss-slots"}, {"n_candidates": 10, "cache_index": "faiss-flat"},
])
def test_lazy_acai_equals_numpy_twin(kw):
    kw = dict(kw)
    k = kw.pop("k", 2)
    for seed in range(3):
        ds, q = _rand(40 + seed, n=30, T=120, k=k, cf=[0.3, 1.0, 3.0][seed])
        h = [k, 4, 9][seed]
        fast, slow, r1, r2 = _twin_runs(ds, q, h, horizon=120, seed=seed, **kw)
        assert r1.states == r2.states
        np.testing.assert_allclose(r1.service, r2.service, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(r1.movement, r2.movement)
        np.testing.assert_allclose(fast.fractional_state, slow.fractional_state, rtol=0, atol=1e-12)
        assert r1.info["fractional_gain"] == pytest.approx(r2.info["fractional_gain"], rel=1e-12, abs=1e-12)


def test_lazy_acai_with_renormalisation_equals_numpy_twin(monkeypatch):
    monkeypatch.setattr(ka, "SCALE_MIN", 0.999)  # renormalise at almost every step
    ds, q = _rand(50, n=25, T=100, k=2, cf=2.0)
    fast, slow, r1, r2 = _twin_runs(ds, q, 5, eta=2.0, seed=4)
    assert r1.info["renormalized"] > 10
    assert r1.states == r2.states
    np.testing.assert_allclose(fast.fractional_state, slow.fractional_state, rtol=0, atol=1e-12)


def test_lazy_acai_warm_start_equals_numpy_twin():
    ds, q = _rand(51, n=30, T=60, k=2, cf=1.5)
    rng = np.random.default_rng(0)
    ids = rng.choice(30, size=6, replace=False)
    algs = [ACAI(ds, 6, eta=1.0, seed=2), ACAI(ds, 6, eta=1.0, seed=2)]
    algs[1]._reference = True
    outs = []
    for alg in algs:
        alg.reset()
        alg.warm(ids)
        outs.append([(alg.serve(x), alg.state) for x in q])
    assert outs[0] == outs[1]
    np.testing.assert_allclose(algs[0].fractional_state, algs[1].fractional_state, rtol=0, atol=1e-12)


def test_lazy_acai_capacity_equals_catalog():
    ds, q = _rand(52, n=6, T=20, k=2)
    res = online_algs.run(ACAI(ds, 6, seed=0), q, states=True)
    assert all(s == frozenset(range(6)) for s in res.states[1:])
    assert res.movement_cost == pytest.approx(6 * ds.update_cost)


def test_lazy_acai_integral_cache_has_capacity_and_state_sums_to_h():
    ds, q = _rand(53, n=40, T=80, k=2, cf=2.0)
    alg = ACAI(ds, 7, eta=2.0, seed=1)
    alg.reset()
    for x in q:
        alg.serve(x)
        y = alg.fractional_state
        assert len(alg.state) == 7 and abs(y.sum() - 7) < 1e-9 and y.min() > 0 and y.max() <= 1.0
        assert set(np.flatnonzero(alg._cached)) == set(alg.state) == set(alg._index.ids)


def test_lazy_acai_same_seed_same_result():
    ds, q = _rand(54, n=30, T=60, k=2)
    r = [online_algs.run(ACAI(ds, 4, seed=8), q, states=True) for _ in range(2)]
    assert r[0].states == r[1].states and r[0].total_cost == r[1].total_cost


def test_slot_index_batched_updates_keep_the_per_id_slot_order():
    """FaissSlotIndex writes a batch at once; the slots are those one pop()/append() per id would use."""
    from online_algs.similarity import BruteForceIndex, FaissSlotIndex

    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 4))
    idx, bf = FaissSlotIndex(4, 30), BruteForceIndex(4)
    free = list(range(29, -1, -1))
    slot_of = {}
    present = []
    for _ in range(40):
        out = list(rng.choice(present, size=min(len(present), int(rng.integers(0, 6))), replace=False)) if present \
            else []
        idx.remove(out)
        bf.remove(out)
        for o in out:
            free.append(slot_of.pop(int(o)))
            present.remove(o)
        pool = [o for o in range(80) if o not in present]
        new = list(rng.choice(pool, size=min(len(free), int(rng.integers(0, 6))), replace=False))
        idx.add(new, X[new])
        bf.add(new, X[new])
        for o in new:
            slot_of[int(o)] = free.pop()
            present.append(o)
        assert idx._slot_of == slot_of
        Q = rng.normal(size=(3, 4))
        np.testing.assert_array_equal(idx.search(Q, 5)[1], bf.search(Q, 5)[1])


@given(st.integers(0, 10**6))
def test_view_ids_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    E = rng.permutation(50)[:int(rng.integers(1, 30))].astype(np.int64)
    L = rng.permutation(50)[:int(rng.integers(0, 8))].astype(np.int64)
    k = int(rng.integers(1, 12))
    U, cand, pc, pe = ka.view_ids(E, L, k)
    np.testing.assert_array_equal(U, np.unique(np.concatenate([E, L])))
    np.testing.assert_array_equal(cand, np.unique(np.concatenate([E[:k], L])))
    np.testing.assert_array_equal(U[pc], cand)
    np.testing.assert_array_equal(U[pe], E)
