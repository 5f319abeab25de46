"""Classic paging policies, Belady and trace generators: unit, property, twin and rejection tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import online_algs
from online_algs.caching import (ARC, CLOCK, FIFO, LFU, LRU, PAGING_POLICIES, Belady, Marking, RandomEviction,
                                 belady_misses, next_use)
from online_algs.caching import traces as tr
from online_algs.exceptions import InvalidInputError

from naive_caching import (brute_force_opt, brute_force_opt_bypass_free, naive_belady, naive_lru_misses,
                           naive_next_use)

ALL = list(PAGING_POLICIES.values()) + [Belady]


def _make(cls, capacity, seed=0, **kw):
    if cls.randomized:
        kw["seed"] = seed
    return cls(capacity=capacity, **kw)


def _misses(cls, trace, capacity, **kw):
    return online_algs.run(_make(cls, capacity, **kw), trace).misses


# ------------------------------------------------------------------ public API / known values
def test_public_api_hits_and_misses():
    trace = tr.zipf_trace(50, 500, seed=1)
    for cls in (LRU, FIFO, LFU):
        res = online_algs.run(online_algs.caching.__dict__[cls.__name__](capacity=5), trace)
        assert res.hits + res.misses == 500 and res.misses == res.movement_cost
    res = online_algs.run(online_algs.caching.Marking(capacity=5, seed=3), trace)
    assert res.hits + res.misses == 500 and res.service_cost == 0


def test_lru_known_sequence():
    assert _misses(LRU, [0, 1, 0, 2, 1], 2) == 4          # 2 evicts 1 (least recent)
    assert _misses(LRU, [0, 1, 0, 2, 0], 2) == 3


def test_fifo_known_sequence_and_belady_anomaly():
    assert _misses(FIFO, [0, 1, 0, 2, 0], 2) == 4         # 2 evicts 0 (first in) despite the hit
    seq = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]
    assert _misses(FIFO, seq, 3) == 9 and _misses(FIFO, seq, 4) == 10   # Belady's anomaly
    assert _misses(LRU, seq, 4) <= _misses(LRU, seq, 3)


def test_clock_second_chance():
    res = online_algs.run(CLOCK(capacity=2), [0, 1, 0, 2, 1], states=True)
    # 0 has its bit set when 2 arrives: the hand clears it and evicts 1; then 1 evicts 0
    assert res.misses == 4
    assert res.states[4] == frozenset({0, 2}) and res.states[5] == frozenset({2, 1})


def test_lfu_frequency_and_recency_tiebreak():
    res = online_algs.run(LFU(capacity=2), [0, 0, 1, 2], states=True)
    assert res.states[-1] == frozenset({0, 2})           # 1 has count 1 < 2
    res = online_algs.run(LFU(capacity=2), [0, 1, 2], states=True)
    assert res.states[-1] == frozenset({1, 2})           # tie: 0 is least recent


def test_lfu_counts_forgotten_on_eviction():
    # 2 evicts 0 (count 3 < 4); 0 returns evicting 2 and restarts at count 1, so 3 evicts 0.
    # With all-time counts 0 would have 4 = count of 1, and the recency tie-break would evict 1.
    res = online_algs.run(LFU(capacity=2), [0, 0, 0, 1, 1, 1, 1, 2, 0, 3], states=True)
    assert res.states[-1] == frozenset({1, 3})


def test_arc_small_and_invariants():
    rng = np.random.default_rng(0)
    for rep in range(20):
        c = int(rng.integers(1, 6))
        x = tr.zipf_trace(int(rng.integers(2, 15)), 150, alpha=0.8, seed=rep)
        alg = ARC(capacity=c)
        alg.reset()
        seq = alg._validate_sequence(x)
        for v in seq:
            alg.serve(v)
            T1, T2, B1, B2 = (len(L) for L in alg._L)
            assert T1 + T2 <= c and T1 + B1 <= c and T1 + T2 + B1 + B2 <= 2 * c
            assert 0.0 <= alg._p <= c
            assert not (set(alg._L[0]) & set(alg._L[1]) or set(alg._L[2]) & set(alg._L[3]))


def test_arc_ghost_hit_adapts_p():
    alg = ARC(capacity=2)
    alg.reset()
    # 0 reaches T2; 2 demotes 1 (LRU of T1, |T1| = 1 > p = 0) to B1; requesting 1 is a B1 ghost
    # hit: p rises to 1, REPLACE demotes 0 from T2 to B2 (|T1| = 1 is not > p), 1 enters T2
    for v in [0, 0, 1, 2, 1]:
        alg.serve(v)
    assert alg._p == 1.0 and 1 in alg._L[1] and 0 in alg._L[3] and 2 in alg._L[0]


def test_random_eviction_uniform_victim():
    counts = {0: 0, 1: 0, 2: 0}
    for s in range(600):
        res = online_algs.run(RandomEviction(capacity=3, seed=s), [0, 1, 2, 3], states=True)
        (gone,) = {0, 1, 2} - set(res.states[-1])
        counts[gone] += 1
    for v in counts.values():
        assert abs(v / 600 - 1 / 3) < 0.07


def test_marking_evicts_unmarked_uniformly():
    # after 0, 1, 2 (all marked), 3 opens a phase: victim uniform over {0, 1, 2}; 0 requested
    # again is marked, so the next miss (4) evicts uniformly among the unmarked survivors
    counts = {}
    for s in range(600):
        res = online_algs.run(Marking(capacity=3, seed=s), [0, 1, 2, 3], states=True)
        (gone,) = {0, 1, 2} - set(res.states[-1])
        counts[gone] = counts.get(gone, 0) + 1
    assert set(counts) == {0, 1, 2}
    for v in counts.values():
        assert abs(v / 600 - 1 / 3) < 0.07


def _check_marking_invariant(trace, states, k):
    """Replay: every eviction removes an unmarked page; phases start on a miss with all marked."""
    marked = set()
    for t, v in enumerate(trace):
        before, after = set(states[t]), set(states[t + 1])
        if v not in before:
            if len(before) == k:
                if marked >= before:
                    marked = set()
                (gone,) = before - after
                assert gone not in marked, f"evicted marked page {gone} at step {t}"
        marked.add(int(v))


@given(st.integers(1, 5), st.integers(0, 2**31 - 1), st.integers(2, 10))
def test_marking_never_evicts_marked(k, seed, n):
    x = tr.uniform_trace(n, 60, seed=seed)
    res = online_algs.run(Marking(capacity=k, seed=seed), x, states=True)
    _check_marking_invariant(x, res.states, k)


def test_marking_phase_cost_on_cycle():
    # on the (k+1)-cycle each phase has exactly one new page; E[misses per phase] = H_k.
    k, T = 4, 4000
    x = tr.cycle_trace(k, T)
    m = np.mean([_misses(Marking, x, k, seed=s) for s in range(20)])
    n_phases = (T - (k + 1)) / k
    H = sum(1 / i for i in range(1, k + 1))
    assert abs((m - k) / n_phases - H) < 0.15


# --------------------------------------------------------------------------------- Belady
def test_belady_matches_brute_force_exhaustive_small():
    rng = np.random.default_rng(42)
    for _ in range(150):
        n = int(rng.integers(1, 6))
        x = rng.integers(0, n, int(rng.integers(1, 13)))
        k = int(rng.integers(1, 4))
        b = belady_misses(x, k)
        assert b == brute_force_opt(x, k) == naive_belady(x, k)
        assert online_algs.run(Belady(capacity=k), x).misses == b


def test_belady_equals_prefetching_optimum():
    rng = np.random.default_rng(7)
    for _ in range(25):
        x = rng.integers(0, 5, 9)
        k = int(rng.integers(1, 4))
        assert belady_misses(x, k) == brute_force_opt_bypass_free(x, k)


@given(st.lists(st.integers(0, 7), min_size=0, max_size=60), st.integers(1, 6))
def test_belady_below_every_policy(xs, k):
    x = np.asarray(xs, dtype=np.int64)
    b = belady_misses(x, k)
    for cls in PAGING_POLICIES.values():
        assert _misses(cls, x, k) >= b


@given(st.lists(st.integers(0, 30), min_size=0, max_size=80))
def test_next_use_matches_naive(xs):
    x = np.asarray(xs, dtype=np.int64)
    assert np.array_equal(next_use(x), naive_next_use(x))


def test_cycle_lru_misses_all_belady_once_per_k():
    for k in (1, 2, 5):
        T = 50 * (k + 1)
        x = tr.cycle_trace(k, T)
        assert _misses(LRU, x, k) == T and _misses(FIFO, x, k) == T
        b = belady_misses(x, k)
        # after k cold misses, one miss every k requests: k + ceil((T - k) / k)
        assert b == k + -(-(T - k) // k)
        short = x[: 3 * (k + 1)]
        assert belady_misses(short, k) == brute_force_opt(short, k) == k + -(-(len(short) - k) // k)


def test_stack_property_lru_belady():
    x = tr.zipf_trace(200, 3000, seed=5)
    for f in (lambda k: _misses(LRU, x, k), lambda k: belady_misses(x, k)):
        m = [f(k) for k in range(1, 40)]
        assert all(a >= b for a, b in zip(m, m[1:]))


# ----------------------------------------------------------------------------- twins
@settings(max_examples=20)
@given(st.sampled_from(ALL), st.integers(1, 6), st.integers(0, 2**31 - 1), st.integers(1, 12),
       st.sampled_from([1, 3, 10**9 + 7]))
def test_kernel_equals_serve_twin(cls, k, seed, n, scale):
    x = tr.zipf_trace(n, 120, alpha=0.7, seed=seed) * scale
    fast = online_algs.run(_make(cls, k, seed), x, series=True, states=True)
    slow = online_algs.run(_make(cls, k, seed), x, series=True, states=True, fast=False)
    assert fast.misses == slow.misses
    assert np.array_equal(fast.info["hit_series"], slow.info["hit_series"])
    assert fast.states == slow.states


@given(st.lists(st.integers(0, 9), max_size=80), st.integers(1, 6))
def test_lru_equals_naive_stamps(xs, k):
    assert _misses(LRU, np.asarray(xs, dtype=np.int64), k) == naive_lru_misses(xs, k)


def test_remap_and_n_items_agree():
    x = tr.zipf_trace(30, 400, seed=2)
    for cls in ALL:
        a = _misses(cls, x, 5)
        b = _misses(cls, x, 5, n_items=30)
        c = _misses(cls, x * 10**10 + 3, 5)
        assert a == b == c, cls.__name__


@given(st.lists(st.integers(0, 50), min_size=1, max_size=100))
def test_lut_kernel_matches_np_unique(xs):
    from online_algs.caching._kernels_classic import lut_kernel

    x = np.asarray(xs, dtype=np.int64)
    lut, ids = lut_kernel(x, int(x.max()) + 1)
    u, inv = np.unique(x, return_inverse=True)
    assert np.array_equal(ids, u) and np.array_equal(lut[x], inv.reshape(-1))


def test_id_map_paths_do_not_copy_small_ids():
    from online_algs.caching.belady import _id_map

    x = tr.zipf_trace(100, 1000, seed=0)
    xs, lut, ids, n = _id_map(x)
    assert xs is x and len(lut) == x.max() + 1 and n == len(np.unique(x))
    big = x * 10**12
    xb, lutb, idsb, nb = _id_map(big)
    assert len(lutb) == 0 and nb == n and np.array_equal(idsb[xb], big)


def test_hit_series_and_final_state():
    x = tr.zipf_trace(20, 300, seed=3)
    for cls in ALL:
        fast_alg = _make(cls, 4)
        res = online_algs.run(fast_alg, x, series=True)
        hs = res.info["hit_series"]
        assert hs.dtype == bool and hs.shape == (300,) and int(hs.sum()) == res.hits
        assert np.array_equal(res.movement, (~hs).astype(float))
        slow_alg = _make(cls, 4)
        online_algs.run(slow_alg, x, fast=False)
        assert fast_alg.state == slow_alg.state and len(fast_alg.state) <= 4


def test_thinned_states_equal_twin():
    x = tr.zipf_trace(15, 101, seed=9)
    for cls in ALL:
        f = online_algs.run(_make(cls, 4), x, states=True, thin=7)
        s = online_algs.run(_make(cls, 4), x, states=True, thin=7, fast=False)
        assert f.states == s.states and np.array_equal(f.state_steps, s.state_steps)
        assert list(f.state_steps) == list(range(0, 101, 7)) + [101]


def test_defaults_record_nothing():
    res = online_algs.run(LRU(capacity=3), tr.zipf_trace(10, 100, seed=0))
    assert res.movement is None and res.states is None and "hit_series" not in res.info


def test_empty_trace_and_capacity_above_items():
    for cls in ALL:
        res = online_algs.run(_make(cls, 3), np.zeros(0, dtype=np.int64))
        assert res.misses == 0 and res.hits == 0
        x = np.array([4, 1, 4, 1, 9], dtype=np.int64)
        assert _misses(cls, x, 10**9) == 3
    assert belady_misses([], 2) == 0


def test_seed_determinism_and_variation():
    x = tr.zipf_trace(40, 2000, alpha=0.6, seed=0)
    for cls in (RandomEviction, Marking):
        assert _misses(cls, x, 5, seed=3) == _misses(cls, x, 5, seed=3)
        assert len({_misses(cls, x, 5, seed=s) for s in range(6)}) > 1


def test_belady_serve_out_of_order_rejected():
    alg = Belady(capacity=2)
    alg.reset()
    alg._validate_sequence([0, 1, 2])
    alg.serve(0)
    with pytest.raises(InvalidInputError, match="offline"):
        alg.serve(2)


# ------------------------------------------------------------------------------ traces
def test_zipf_trace_distribution_and_seed():
    x = tr.zipf_trace(5, 200_000, alpha=1.0, seed=1)
    assert x.dtype == np.int64 and x.min() >= 0 and x.max() <= 4
    np.testing.assert_allclose(np.bincount(x, minlength=5) / len(x), tr.zipf_probabilities(5, 1.0), atol=0.005)
    assert np.array_equal(x, tr.zipf_trace(5, 200_000, alpha=1.0, seed=1))
    u = tr.zipf_trace(4, 100_000, alpha=0.0, seed=2)
    np.testing.assert_allclose(np.bincount(u) / len(u), 0.25, atol=0.01)


def test_shifting_trace_changes_ranking():
    x = tr.shifting_trace(50, 40_000, alpha=1.2, n_phases=4, seed=3)
    tops = [int(np.bincount(x[i * 10_000:(i + 1) * 10_000], minlength=50).argmax()) for i in range(4)]
    assert len(set(tops)) > 1
    assert x.min() >= 0 and x.max() < 50 and len(x) == 40_000


def test_cycle_and_pairs_traces():
    assert np.array_equal(tr.cycle_trace(2, 7), [0, 1, 2, 0, 1, 2, 0])
    y = tr.adversarial_pairs_trace(3, 60_000, seed=4)
    assert y.min() >= 0 and y.max() <= 5
    np.testing.assert_allclose(np.bincount(y) / len(y), 1 / 6, atol=0.01)
    assert np.array_equal(y, tr.adversarial_pairs_trace(3, 60_000, seed=4))


def test_load_real_trace():
    x = tr.load_real_trace("web07")
    assert x.dtype == np.int64 and x.ndim == 1 and x.min() == 0 and len(x) == 76118


# --------------------------------------------------------------------------- rejections
def test_reject_2d_trace():
    with pytest.raises(InvalidInputError, match="1-d array"):
        online_algs.run(LRU(capacity=2), np.zeros((3, 2), dtype=int))


def test_reject_negative_id():
    with pytest.raises(InvalidInputError, match="ids >= 0"):
        online_algs.run(FIFO(capacity=2), [0, -1, 2])


def test_reject_id_at_least_n_items():
    with pytest.raises(InvalidInputError, match="ids <= 4"):
        online_algs.run(LRU(capacity=2, n_items=5), [0, 5])


def test_reject_capacity_zero():
    with pytest.raises(InvalidInputError, match="'capacity' parameter of LFU must be an int >= 1"):
        online_algs.run(LFU(capacity=0), [0, 1])


def test_reject_capacity_not_int():
    with pytest.raises(InvalidInputError, match="'capacity' parameter of CLOCK"):
        online_algs.run(CLOCK(capacity=2.5), [0, 1])


def test_reject_nan_in_trace():
    with pytest.raises(InvalidInputError, match="NaN"):
        online_algs.run(ARC(capacity=2), np.array([0.0, np.nan, 1.0]))


def test_reject_fractional_ids():
    with pytest.raises(InvalidInputError, match="whole numbers"):
        online_algs.run(LRU(capacity=2), np.array([0.0, 1.5]))


def test_reject_string_trace():
    with pytest.raises(InvalidInputError, match="must hold integers"):
        online_algs.run(LRU(capacity=2), np.array(["a", "b"]))


def test_reject_negative_seed():
    with pytest.raises(InvalidInputError, match="'seed' parameter of Marking"):
        online_algs.run(Marking(capacity=2, seed=-1), [0, 1])


def test_reject_n_items_zero():
    with pytest.raises(InvalidInputError, match="'n_items' parameter of RandomEviction"):
        online_algs.run(RandomEviction(capacity=2, n_items=0, seed=1), [0])


def test_reject_belady_misses_capacity():
    with pytest.raises(InvalidInputError, match="'capacity' parameter of belady_misses"):
        belady_misses([0, 1], 0)


def test_reject_belady_misses_negative_id():
    with pytest.raises(InvalidInputError, match="ids >= 0"):
        belady_misses([0, -3], 2)


def test_reject_next_use_2d():
    with pytest.raises(InvalidInputError, match="1-d array"):
        next_use(np.zeros((2, 2), dtype=int))


def test_reject_zipf_bad_alpha():
    with pytest.raises(InvalidInputError, match="'alpha' parameter of zipf_trace"):
        tr.zipf_trace(10, 10, alpha=-1.0)


def test_reject_zipf_n_items_zero():
    with pytest.raises(InvalidInputError, match="'n_items' parameter of zipf_trace"):
        tr.zipf_trace(0, 10)


def test_reject_shifting_phases_zero():
    with pytest.raises(InvalidInputError, match="'n_phases' parameter of shifting_trace"):
        tr.shifting_trace(10, 10, n_phases=0)


def test_reject_cycle_k_zero():
    with pytest.raises(InvalidInputError, match="'k' parameter of cycle_trace"):
        tr.cycle_trace(0, 10)


def test_reject_pairs_negative_length():
    with pytest.raises(InvalidInputError, match="'length' parameter of adversarial_pairs_trace"):
        tr.adversarial_pairs_trace(2, -1)


def test_reject_unknown_real_trace():
    with pytest.raises(InvalidInputError, match="'name' parameter of load_real_trace"):
        tr.load_real_trace("web99")


def test_string_trace_is_named_a_string():
    # UAT 18: LRU given "abc" reported "Got an array of shape ()"
    with pytest.raises(InvalidInputError, match=r"'trace' argument of LRU .*Got a str \('abc'\)"):
        online_algs.run(LRU(3), "abc")
