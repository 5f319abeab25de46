"""Similarity-caching policies: naive twins, rules on crafted instances, AÇAI and the learner adapter."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import online_algs
from naive_similarity import naive_sim_lru
from online_algs.caching.learners import OMD
from online_algs.similarity import (ACAI, Datastore, Duel, ExactLFU, ExactLRU, GainLearnerPolicy, QLRUDeltaC, RndLRU,
                                    SimLRU, dynamic_optimum)


def _rand(seed, n=7, d=2, T=25, k=1, cf=1.0):
    rng = np.random.default_rng(seed)
    cat = rng.uniform(0, 3, size=(n, d))
    q = cat[rng.integers(0, n, size=T)] + rng.normal(0, 0.3, size=(T, d))
    return Datastore(cat, k=k, fetch_cost=cf), q


@given(st.integers(0, 10**6), st.integers(1, 3))
def test_simlru_matches_naive_twin(seed, k):
    ds, q = _rand(seed, n=8, k=k, cf=float(np.random.default_rng(seed).choice([0.3, 1.0, 3.0])))
    h = k + 1
    res = online_algs.run(SimLRU(ds, h), q, states=True)
    s, m, states = naive_sim_lru(ds.catalog, q, k, ds.fetch_cost, ds.update_cost, h)
    assert res.service_cost == pytest.approx(s, abs=1e-9)
    assert res.movement_cost == pytest.approx(m, abs=1e-12)
    assert res.states[1:] == states


def test_faiss_cache_index_gives_same_costs():
    ds, q = _rand(3, n=40, d=6, T=120, k=2)
    a = online_algs.run(SimLRU(ds, 8), q)
    for kind in ("faiss-flat", "faiss-slots"):
        b = online_algs.run(SimLRU(ds, 8, cache_index=kind), q)
        assert a.service_cost == pytest.approx(b.service_cost, rel=1e-6)
        assert a.movement_cost == b.movement_cost


def test_simlru_hit_after_miss():
    cat = np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]])
    ds = Datastore(cat, k=1, fetch_cost=2.0, update_cost=1.0)
    res = online_algs.run(SimLRU(ds, 1), np.array([[0.5, 0.0], [0.4, 0.0]]), series=True, states=True)
    np.testing.assert_allclose(res.service, [0.5 + 2.0, 0.4])
    np.testing.assert_allclose(res.movement, [1.0, 0.0])
    assert res.states[-1] == frozenset({0}) and res.hits == 1 and res.misses == 1


def test_exact_lru_evicts_least_recent_and_lfu_least_frequent():
    cat = np.arange(4, dtype=float)[:, None] * 10
    ds = Datastore(cat, k=1, fetch_cost=100.0)
    seq = cat[[0, 0, 1, 0, 2]] + 0.1   # nearest objects 0 0 1 0 2
    lru = online_algs.run(ExactLRU(ds, 2), seq, states=True)
    assert lru.states[-1] == frozenset({0, 2})        # 1 was least recently used
    lfu = online_algs.run(ExactLFU(ds, 2), cat[[0, 1, 1, 0, 0, 2]] + 0.1, states=True)
    assert lfu.states[-1] == frozenset({0, 2})        # 1 (count 2) evicted over 0 (count 3)
    lfu2 = online_algs.run(ExactLFU(ds, 2), cat[[0, 1, 1, 1, 0, 2]] + 0.1, states=True)
    assert lfu2.states[-1] == frozenset({1, 2})       # 0 (count 2) evicted over 1 (count 3)


def test_rnd_lru_inserts_exact_answer_on_approximate_hits():
    cat = np.array([[0.0], [1.0], [50.0]])
    ds = Datastore(cat, k=1, fetch_cost=2.0)
    seq = np.array([[0.0], [0.9], [0.9]])      # 0 inserted; then approximate hits on 0 (gap 0.8)
    never = online_algs.run(SimLRU(ds, 2), seq, states=True)
    assert never.states[-1] == frozenset({0})
    always = online_algs.run(RndLRU(ds, 2, beta_scale=1e6, seed=0), seq, states=True)
    assert always.states[2] == frozenset({0, 1})


def test_qlru_smaller_q_inserts_less():
    ds, q = _rand(4, n=30, d=3, T=300, cf=2.0)
    ins = [np.mean([online_algs.run(QLRUDeltaC(ds, 5, q=qv, seed=s), q).info["inserted"] for s in range(3)])
           for qv in (1.0, 0.1)]
    assert ins[1] < ins[0]


def test_duel_swaps_in_a_better_candidate():
    cat = np.array([[0.0], [100.0], [200.0]])
    ds = Datastore(cat, k=1, fetch_cost=5.0)
    # fill with 1 (requests near 100), then requests near 0 only: 0 challenges 1 and must win
    seq = np.vstack([[[100.0]], np.zeros((12, 1))])
    res = online_algs.run(Duel(ds, 1, duel_length=3, seed=0), seq, states=True)
    assert res.states[-1] == frozenset({0}) and res.info["swaps"] >= 1


def test_acai_fractional_state_and_integral_cache_sizes():
    ds, q = _rand(5, n=12, d=2, T=40, k=2)
    alg = ACAI(ds, 4, horizon=40, seed=1)
    alg.reset()
    seq = alg._validate_sequence(q)
    for t in range(len(seq)):
        alg.serve(seq[t])
        y = alg.fractional_state
        assert y.sum() == pytest.approx(4, abs=1e-9) and y.min() >= 0 and y.max() <= 1 + 1e-12
        assert len(alg.state) == 4


def test_acai_equals_gain_adapter_driving_omd():
    ds, q = _rand(6, n=10, d=2, T=30, k=2)
    a = online_algs.run(ACAI(ds, 3, eta=0.4, seed=5), q, series=True)
    b = online_algs.run(GainLearnerPolicy(ds, 3, OMD(n_items=10, capacity=3, eta=0.4), seed=5), q, series=True)
    assert a.info["fractional_gain"] == pytest.approx(b.info["fractional_gain"], rel=1e-9)
    np.testing.assert_allclose(a.service, b.service, atol=1e-9)


def test_acai_learns_the_popular_object():
    cat = np.array([[0.0], [10.0], [20.0], [30.0]])
    ds = Datastore(cat, k=1, fetch_cost=3.0)
    q = np.full((200, 1), 20.1)
    alg = ACAI(ds, 1, eta=0.5, seed=0)
    online_algs.run(alg, q)
    assert alg.fractional_state[2] > 0.99 and alg.state == frozenset({2})


def test_acai_candidate_truncation_is_counted():
    ds, q = _rand(7, n=20, d=2, T=30, cf=50.0)
    res = online_algs.run(ACAI(ds, 3, n_candidates=4, seed=0), q)
    assert res.info["truncated"] == 30
    full = online_algs.run(ACAI(ds, 3, seed=0), q)
    assert full.info["truncated"] == 0 and full.info["mean_candidates"] == 20


@pytest.mark.parametrize("make", [
    lambda ds: SimLRU(ds, 2), lambda ds: RndLRU(ds, 2, seed=1), lambda ds: QLRUDeltaC(ds, 2, q=0.5, seed=1),
    lambda ds: Duel(ds, 2, duel_length=3, seed=1), lambda ds: ExactLRU(ds, 2), lambda ds: ExactLFU(ds, 2),
    lambda ds: ACAI(ds, 2, seed=1)])
def test_every_policy_costs_at_least_the_dynamic_optimum(make):
    for seed in range(3):
        ds, q = _rand(10 + seed, n=6, T=20, k=1 + seed % 2)
        opt = dynamic_optimum(ds, q, 2)["cost"]
        assert online_algs.run(make(ds), q).total_cost >= opt - 1e-9


def test_same_seed_same_result_randomized():
    ds, q = _rand(8, n=15, T=60, k=2)
    for cls, kw in [(RndLRU, {}), (QLRUDeltaC, {"q": 0.3}), (Duel, {"duel_length": 4}), (ACAI, {})]:
        r1 = online_algs.run(cls(ds, 3, seed=9, **kw), q, states=True)
        r2 = online_algs.run(cls(ds, 3, seed=9, **kw), q, states=True)
        assert r1.total_cost == r2.total_cost and r1.states == r2.states


def test_acai_reduced_projection_equals_full_projection():
    rng = np.random.default_rng(11)
    cat = rng.normal(size=(400, 3))
    ds = Datastore(cat, k=3, fetch_cost=0.5)
    q = cat[rng.integers(0, 30, size=120)] + 0.05 * rng.normal(size=(120, 3))
    fast, slow = ACAI(ds, 20, eta=5.0, seed=3), ACAI(ds, 20, eta=5.0, seed=3)
    slow._reduced_projection = False
    for alg in (fast, slow):
        alg.reset()
    for t in range(len(q)):
        fast.serve(q[t])
        slow.serve(q[t])
        np.testing.assert_allclose(fast.fractional_state, slow.fractional_state, rtol=1e-9, atol=1e-12)
    assert fast.fractional_state.max() == 1.0  # saturation happened and was handled


def test_qlru_closed_form_marginals_equal_recomputed_twin():
    for seed in range(4):
        ds, q = _rand(20 + seed, n=25, d=3, T=150, k=1 + seed % 3, cf=float([0.3, 1.0, 3.0, 1.5][seed]))
        fast = online_algs.run(QLRUDeltaC(ds, 5, q=0.4, seed=seed), q, series=True, states=True)
        ref = QLRUDeltaC(ds, 5, q=0.4, seed=seed)
        ref._step = ref._step_reference
        slow = online_algs.run(ref, q, series=True, states=True, fast=False)
        np.testing.assert_allclose(fast.service, slow.service, atol=1e-12)
        np.testing.assert_allclose(fast.movement, slow.movement, atol=1e-12)
        assert fast.states == slow.states


def test_gain_learner_policy_with_ogd_costs_at_least_opt_and_learns():
    from online_algs.caching.learners import OGD

    ds, q = _rand(30, n=6, T=25, k=2)
    res = online_algs.run(GainLearnerPolicy(ds, 2, OGD(n_items=6, capacity=2, eta=0.3), seed=0), q)
    assert res.total_cost >= dynamic_optimum(ds, q, 2)["cost"] - 1e-9
    assert res.info["fractional_gain"] > 0


@pytest.mark.parametrize("cache_index", ["exact", "faiss-slots"])
def test_view_answer_kernel_equals_numpy_view(cache_index):
    """The fused numba view (candidates, distances, cached flags, answer order) against its slow
    twin, the numpy ``_view`` + ``np.lexsort``: same ids, same order, distances to 1e-12."""
    for seed in range(5):
        ds, q = _rand(60 + seed, n=40, d=5, T=30, k=1 + seed % 4, cf=[0.2, 1.0, 3.0, 0.0, 1.5][seed])
        alg = SimLRU(ds, 6, cache_index=cache_index)
        alg.reset()
        rng = np.random.default_rng(seed)
        for t in range(len(q)):
            E = ds.remote_knn(q[t][None, :], ds.k)[0]
            extra = rng.integers(0, ds.n, size=int(rng.integers(0, 3))).tolist()
            alg._fast_view = True
            c1, d1, k1, f1, s1 = alg._view_answer(q[t], E, extra=extra)
            alg._fast_view = False
            c2, d2, k2, f2, s2 = alg._view_answer(q[t], E, extra=extra)
            np.testing.assert_array_equal(c1, c2)
            np.testing.assert_allclose(d1, d2, rtol=1e-12, atol=1e-12)
            np.testing.assert_array_equal(k1, k2)
            np.testing.assert_array_equal(f1, f2)
            assert abs(s1 - s2) <= 1e-12 * max(1.0, abs(s2))
            alg._step(q[t], E)   # move the cache on


@pytest.mark.parametrize("cls", [SimLRU, RndLRU, QLRUDeltaC, Duel, ExactLRU, ExactLFU])
def test_policies_fast_view_equals_numpy_view(cls):
    """Every policy run with the numba view equals the run with the numpy view (same seed)."""
    for seed in range(3):
        ds, q = _rand(80 + seed, n=30, d=4, T=60, k=1 + seed, cf=[0.5, 2.0, 1.0][seed])
        kw = {"seed": seed} if cls in (RndLRU, QLRUDeltaC, Duel) else {}
        fast = online_algs.run(cls(ds, 5, **kw), q, series=True, states=True)
        slow_alg = cls(ds, 5, **kw)
        slow_alg._fast_view = False
        slow = online_algs.run(slow_alg, q, series=True, states=True)
        np.testing.assert_allclose(fast.service, slow.service, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(fast.movement, slow.movement, atol=1e-12)
        assert fast.states == slow.states
