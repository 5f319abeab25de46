"""Weighted paging: BBN fractional algorithm, systematic rounding, LP and DP optima."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from naive_kserver_fractional import euler_bbn_step, naive_bbn_step, naive_systematic

from online_algs import run
from online_algs.exceptions import InvalidInputError
from online_algs.kserver import _kernels_fractional as K
from online_algs.kserver.fractional import (FractionalWeightedPaging, RoundedWeightedPaging, bbn_step,
                                            weighted_paging_lp, weighted_paging_opt)
from online_algs.metrics import weighted_star


def _inst(seed, n=7, k=3, T=40):
    rng = np.random.default_rng(seed)
    c = rng.uniform(0.5, 4.0, size=n)
    seq = rng.integers(0, n, size=T)
    return c, seq


# ------------------------------------------------------------------------- the step
def _random_state(rng, n, k):
    x = rng.uniform(0, 1, size=n)
    x *= (n - k) / x.sum()
    while x.max() > 1:  # rescale into the capped simplex
        x = np.minimum(x, 1.0)
        x *= (n - k) / x.sum()
    return x


def test_kernel_step_matches_brentq_twin():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(3, 12))
        k = int(rng.integers(1, n))
        x = _random_state(rng, n, k)
        r = int(rng.integers(n))
        c = rng.uniform(0.2, 5.0, size=n)
        xk = x.copy()
        K.bbn_project(xk, r, c, 1.0 / k, float(n - k), np.empty(n))
        xn = naive_bbn_step(x, r, c, 1.0 / k, float(n - k))
        np.testing.assert_allclose(xk, xn, atol=1e-9)
        np.testing.assert_allclose(bbn_step(x, r, c, 1.0 / k, float(n - k)), xk, atol=1e-12)


def test_closed_form_equals_continuous_process():
    rng = np.random.default_rng(1)
    for _ in range(3):
        n, k = 6, 2
        x = _random_state(rng, n, k)
        r = int(np.argmax(x))
        c = rng.uniform(0.5, 3.0, size=n)
        closed = bbn_step(x, r, c, 1.0 / k, float(n - k))
        euler = euler_bbn_step(x, r, c, 1.0 / k, float(n - k), dy=5e-5)
        np.testing.assert_allclose(closed, euler, atol=1e-3)


def test_step_is_the_bregman_projection_kkt():
    # c_q log((x'_q + d)/(x_q + d)) = y on growing, non-capped entries; <= y on capped ones
    rng = np.random.default_rng(2)
    for _ in range(30):
        n = int(rng.integers(3, 10))
        k = int(rng.integers(1, n))
        d = 1.0 / k
        x = _random_state(rng, n, k)
        r = int(rng.integers(n))
        c = rng.uniform(0.2, 5.0, size=n)
        new = bbn_step(x, r, c, d, float(n - k))
        mask = (np.arange(n) != r) & (x < 1)
        if x[r] == 0 or not mask.any():
            continue
        g = c[mask] * np.log((new[mask] + d) / (x[mask] + d))
        free = new[mask] < 1 - 1e-12
        if free.sum() >= 2:
            assert np.ptp(g[free]) <= 1e-7 * max(1.0, g[free].max())
        if free.any() and (~free).any():
            assert g[~free].max() <= g[free].max() + 1e-7


@given(st.integers(0, 2**31 - 1), st.integers(3, 10))
def test_invariants_property(seed, n):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, n))
    c = rng.uniform(0.1, 10.0, size=n)
    seq = rng.integers(0, n, size=30)
    alg = FractionalWeightedPaging(c, k)
    res = run(alg, seq, states=True)
    for t, x in enumerate(res.states[1:]):
        assert x[seq[t]] == 0.0
        assert abs(x.sum() - (n - k)) <= 1e-9
        assert x.min() >= 0 and x.max() <= 1
    slow = run(alg, seq, fast=False)
    np.testing.assert_allclose(res.movement, slow.movement, atol=1e-9)


def test_missing_fractions_only_grow_except_requested():
    c, seq = _inst(3)
    alg = FractionalWeightedPaging(c, 3)
    res = run(alg, seq, states=True)
    for t in range(len(seq)):
        a, b = res.states[t], res.states[t + 1]
        mask = np.arange(len(c)) != seq[t]
        assert np.all(b[mask] >= a[mask] - 1e-15)


def test_hit_costs_nothing():
    c = np.array([1.0, 2.0, 3.0, 4.0])
    res = run(FractionalWeightedPaging(c, 2), np.array([0, 1, 0, 1, 1]))
    assert res.total_cost == 0.0 and res.info["fetch_cost"] == 0.0


def test_fetch_and_star_cost_conventions():
    # fetch cost - eviction cost = c(initial) - c(final) on the cache masses; star = (E + F) / 2
    c, seq = _inst(4)
    res = run(FractionalWeightedPaging(c, 3), seq, states=True)
    x0, xT = res.states[0], res.states[-1]
    E, F = res.total_cost, res.info["fetch_cost"]
    assert F - E == pytest.approx(float(np.dot(c, x0 - xT)), abs=1e-9)
    assert res.info["star_cost"] == pytest.approx((E + F) / 2, rel=1e-12)


# ------------------------------------------------------------------------- guarantees
def test_ratio_within_2_ln_1_plus_k_and_at_least_lp():
    for seed in range(3):
        c, seq = _inst(seed, n=8, k=3, T=60)
        alg_cost = run(FractionalWeightedPaging(c, 3), seq).total_cost
        lp = weighted_paging_lp(c, 3, seq).value
        assert lp - 1e-7 <= alg_cost <= 2 * math.log(4) * lp + 1e-7


def test_lp_equals_integral_dp():
    for seed in range(4):
        c, seq = _inst(10 + seed, n=6, k=2, T=25)
        lp = weighted_paging_lp(c, 2, seq).value
        assert lp == pytest.approx(weighted_paging_opt(c, 2, seq), abs=1e-6)


def test_dp_matches_brute_force_tiny():
    c = np.array([1.0, 3.0, 2.0])
    seq = np.array([2, 1, 0, 2, 1])
    # brute force over every eviction choice of lazy schedules
    best = math.inf

    def rec(cache, t, cost):
        nonlocal best
        if t == len(seq):
            best = min(best, cost)
            return
        r = int(seq[t])
        if r in cache:
            rec(cache, t + 1, cost)
            return
        for q in cache:
            rec((cache - {q}) | {r}, t + 1, cost + c[q])

    rec(frozenset({0}), 0, 0.0)
    assert weighted_paging_opt(c, 1, seq) == pytest.approx(best)


def test_star_lp_below_kserver_optimum():
    from online_algs.kserver import offline_optimum

    c, seq = _inst(20, n=6, k=2, T=25)
    lp = weighted_paging_lp(c, 2, seq, convention="star").value
    opt = offline_optimum(weighted_star(c / 2), seq, [0, 1]).value
    assert lp <= opt + 1e-7


# ------------------------------------------------------------------------- rounding
def test_systematic_kernel_matches_naive():
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(2, 10))
        k = int(rng.integers(1, n))
        x = _random_state(rng, n, k)
        perm = rng.permutation(n).astype(np.int64)
        U = float(rng.random())
        sel = np.zeros(n, dtype=np.uint8)
        rep = K.systematic_select(x, perm, U, -1, sel)
        if rep == 0:
            np.testing.assert_array_equal(sel, naive_systematic(1.0 - x, perm, U))
        assert sel.sum() == k


def test_rounded_cache_valid_and_consistent():
    c, seq = _inst(6, n=9, k=4, T=80)
    res = run(RoundedWeightedPaging(c, 4, seed=1), seq, states=True)
    for t, cfg in enumerate(res.states[1:]):
        assert len(cfg) == 4 and seq[t] in cfg
    assert res.info["repairs"] == 0
    assert res.hits + res.misses == len(seq)
    slow = run(RoundedWeightedPaging(c, 4, seed=1), seq, states=True, fast=False)
    assert slow.states == res.states
    assert slow.total_cost == pytest.approx(res.total_cost)


def test_rounded_marginals_match_fractional():
    c, seq = _inst(7, n=6, k=2, T=15)
    frac = np.array(run(FractionalWeightedPaging(c, 2), seq, states=True).states)
    M = 600
    cnt = np.zeros_like(frac)
    for s in range(M):
        for t, cfg in enumerate(run(RoundedWeightedPaging(c, 2, seed=s), seq, states=True).states):
            cnt[t, list(cfg)] += 1
    z = 1 - frac
    sd = np.sqrt(np.maximum(z * (1 - z), 1e-12) / M)
    assert np.max(np.abs(cnt / M - z) / sd) < 5.0


def test_rounded_seed_determinism():
    c, seq = _inst(8)
    a = run(RoundedWeightedPaging(c, 3, seed=42), seq)
    b = run(RoundedWeightedPaging(c, 3, seed=42), seq)
    assert a.total_cost == b.total_cost


def test_rounded_cost_at_least_integral_opt():
    c, seq = _inst(9, n=6, k=2, T=30)
    opt = weighted_paging_opt(c, 2, seq)
    for s in range(5):
        assert run(RoundedWeightedPaging(c, 2, seed=s), seq).total_cost >= opt - 1e-9


# ------------------------------------------------------------------------- rejections
C4 = np.array([1.0, 2.0, 3.0, 4.0])


def test_reject_opt_bad_max_configs():
    with pytest.raises(InvalidInputError, match="'max_configs' parameter of weighted_paging_opt must be an int >= 1"):
        weighted_paging_opt([1.0, 2.0, 3.0], 1, [0, 1], max_configs=0.5)


def test_reject_nonpositive_cost():
    with pytest.raises(InvalidInputError, match="positive"):
        run(FractionalWeightedPaging(np.array([1.0, 0.0, 2.0]), 1), [0])


def test_reject_negative_cost():
    with pytest.raises(InvalidInputError, match="positive"):
        run(FractionalWeightedPaging(np.array([1.0, -1.0, 2.0]), 1), [0])


def test_reject_nan_cost():
    with pytest.raises(InvalidInputError, match="NaN"):
        run(FractionalWeightedPaging(np.array([1.0, np.nan, 2.0]), 1), [0])


def test_reject_inf_cost():
    with pytest.raises(InvalidInputError, match="finite"):
        run(FractionalWeightedPaging(np.array([1.0, np.inf, 2.0]), 1), [0])


def test_reject_single_page():
    with pytest.raises(InvalidInputError, match="at least 2"):
        run(FractionalWeightedPaging(np.array([1.0]), 1), [0])


def test_reject_k_zero():
    with pytest.raises(InvalidInputError, match="'k'"):
        run(FractionalWeightedPaging(C4, 0), [0])


def test_reject_k_equal_n():
    with pytest.raises(InvalidInputError, match=r"\[1, 3\]"):
        run(FractionalWeightedPaging(C4, 4), [0])


def test_reject_k_not_int():
    with pytest.raises(InvalidInputError, match="int"):
        run(FractionalWeightedPaging(C4, 2.5), [0])


def test_reject_request_out_of_range():
    with pytest.raises(InvalidInputError, match="<= 3"):
        run(FractionalWeightedPaging(C4, 2), [0, 4])


def test_reject_negative_request():
    with pytest.raises(InvalidInputError, match=">= 0"):
        run(FractionalWeightedPaging(C4, 2), [0, -1])


def test_reject_fractional_request():
    with pytest.raises(InvalidInputError, match="integers"):
        run(FractionalWeightedPaging(C4, 2), [0.5])


def test_reject_initial_wrong_length():
    with pytest.raises(InvalidInputError, match="exactly k = 2"):
        run(FractionalWeightedPaging(C4, 2, initial=[0, 1, 2]), [0])


def test_reject_initial_duplicates():
    with pytest.raises(InvalidInputError, match="distinct"):
        run(FractionalWeightedPaging(C4, 2, initial=[1, 1]), [0])


def test_reject_initial_out_of_range():
    with pytest.raises(InvalidInputError, match="<= 3"):
        run(FractionalWeightedPaging(C4, 2, initial=[1, 7]), [0])


def test_reject_bad_seed():
    with pytest.raises(InvalidInputError, match="seed"):
        run(RoundedWeightedPaging(C4, 2, seed=-1), [0])


def test_reject_lp_convention():
    with pytest.raises(InvalidInputError, match="convention"):
        weighted_paging_lp(C4, 2, [0, 3], convention="fetch")


def test_reject_dp_too_many_configs():
    with pytest.raises(InvalidInputError, match="max_configs"):
        weighted_paging_opt(np.ones(30), 15, [0, 1])
