"""MTS core: work function, WFA, greedy, randomized uniform algorithm, offline optima, families."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import online_algs
from naive_mts import naive_greedy, naive_opt, naive_randomized_uniform, naive_wfa, naive_work_function
from online_algs import InvalidInputError, SolverError, run
from online_algs.metrics import FiniteMetric, line, random_metric, uniform, weighted_star
from online_algs.mts import (Greedy, OfflineResult, RandomizedUniformMTS, WorkFunctionAlgorithm, cruel_taskmaster,
                             cyclic_elementary_tasks, fill_then_saturate_tasks, harmonic, offline_optimum,
                             schedule_cost, uniform_random_tasks, unit_elementary_tasks, work_function)
from online_algs.testing.strategies import cost_sequences, metrics, seeds

KINDS = ("uniform", "line", "star", "tree", "euclidean", "general")


def _with_inf(c, rng, p=0.15):
    c = c.copy()
    mask = rng.random(c.shape) < p
    mask[np.arange(len(c)), rng.integers(0, c.shape[1], size=len(c))] = False
    c[mask] = np.inf
    return c


# ------------------------------------------------------------------ work function
@given(m=metrics(max_n=7), data=st.data())
def test_work_function_kernel_equals_naive(m, data):
    c = data.draw(cost_sequences(m.n, max_len=12))
    c = _with_inf(c, np.random.default_rng(data.draw(seeds)))
    s0 = data.draw(st.integers(0, m.n - 1))
    W = work_function(m, c, start=s0)
    np.testing.assert_allclose(W, naive_work_function(m.d, c, s0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("metric", [uniform(6, 2.5), weighted_star([0.5, 1.0, 2.0, 0.7, 3.0])])
def test_work_function_fast_kinds_equal_general(metric, rng):
    c = _with_inf(rng.uniform(0, 3, size=(40, metric.n)), rng)
    fast = work_function(metric, c, start=1)
    general = work_function(FiniteMetric(np.array(metric.d)), c, start=1)
    assert FiniteMetric(np.array(metric.d)).kind == "general"
    np.testing.assert_allclose(fast, general, rtol=1e-12, atol=1e-12)


@given(m=metrics(), data=st.data())
def test_work_function_lipschitz_monotone_and_opt(m, data):
    c = data.draw(cost_sequences(m.n, max_len=15))
    W = work_function(m, c)
    tol = 1e-9 * max(1.0, W.max())
    assert np.all(W[1:] >= W[:-1] - tol)
    assert np.all(W[:, :, None] - W[:, None, :] <= m.d.T[None] + tol)
    assert W[-1].min() == pytest.approx(offline_optimum(m, c).value, rel=1e-12, abs=1e-12)


def _plain_min_plus(D, c, s0):
    """The unpruned work-function recursion, one numpy min-plus product per task."""
    W = [np.array(D[s0], dtype=float)]
    for ct in c:
        W.append(np.min((W[-1] + ct)[:, None] + D, axis=0))
    return np.array(W)


@pytest.mark.parametrize("kind", KINDS)
def test_work_function_pruned_kernel_is_bit_exact(kind, rng):
    """The general kernel skips dominated rows; its result must equal the plain min-plus exactly,
    also on metrics whose triangle inequality is tight (line, tree) and with forbidden states.
    n = 80 >= 64 so that the radius pruning (sorted neighbour lists) is on."""
    n = 80
    m = random_metric(kind, n, seed=3)
    g = FiniteMetric(np.array(m.d))            # kind "general": the pruned min-plus kernel
    c = _with_inf(rng.uniform(0, m.diameter, size=(150, n)), rng, p=0.05)
    W = work_function(g, c, start=5)
    np.testing.assert_array_equal(W, _plain_min_plus(np.asarray(g.d), c, 5))
    res = run(WorkFunctionAlgorithm(g, start=5), c)
    slow = run(WorkFunctionAlgorithm(g, start=5), c, fast=False)
    assert res.states == slow.states


def test_work_function_pruned_kernel_exact_with_triangle_slack(rng):
    """A matrix accepted within a loose tolerance (triangle violated by up to tol * diameter):
    the pruning margin includes the slack, so the result is still the plain min-plus."""
    n = 80
    x = rng.uniform(0, 10, size=n)
    d = np.abs(x[:, None] - x[None, :])
    noise = rng.uniform(0, 1e-4, size=(n, n))
    d = d + (noise + noise.T) / 2
    np.fill_diagonal(d, 0.0)
    m = FiniteMetric(d, tol=1e-4)
    c = rng.uniform(0, 2, size=(200, n))
    np.testing.assert_array_equal(work_function(m, c, start=0), _plain_min_plus(np.asarray(m.d), c, 0))


def test_neighbour_lists_match_sorted_rows(rng):
    from online_algs.mts import _kernels as K
    m = random_metric("euclidean", 70, seed=2)
    D = np.ascontiguousarray(m.d)
    nd, ni, ecc = K.neighbour_lists(D)
    assert nd.shape == (70, 70 // 16 + 1)
    np.testing.assert_array_equal(nd, np.sort(D, axis=1)[:, :nd.shape[1]])
    np.testing.assert_array_equal(np.take_along_axis(D, ni.astype(np.int64), 1), nd)
    np.testing.assert_array_equal(ecc, D.max(axis=1))


def _kernel_step(m, a):
    """One call of the general min-plus kernel with the metric's pruning arguments."""
    from online_algs.mts import _kernels as K
    from online_algs.mts.workfunction import _metric_args, _neighbour_args
    D, _, _, _, slack = _metric_args(m)
    nd, ni, ecc = _neighbour_args(m, K.KIND_GENERAL)
    out = np.empty(m.n)
    ibuf = np.empty(K._ibuf_size(m.n), dtype=np.int64)
    K._step_general(np.ascontiguousarray(a, dtype=float), D, out, slack, float(D.max()), nd, ni, ecc, ibuf)
    return out


@pytest.mark.parametrize("kind", ("line", "tree", "general", "euclidean"))
def test_step_general_bit_exact_on_adversarial_vectors(kind, rng):
    """Direct calls of the pruned min-plus step on vectors the WFA never produces: ties (integer
    values), zeros and -0.0, forbidden states, a single finite state, all-equal values, one huge
    value, and negative entries (the int64-order reductions fall back to the plain product)."""
    n = 96
    g = FiniteMetric(np.array(random_metric(kind, n, seed=4).d))
    D = np.asarray(g.d)
    cases = [rng.integers(0, 4, size=n).astype(float),
             np.zeros(n), -np.zeros(n),
             np.where(rng.random(n) < 0.5, -0.0, rng.uniform(0, 1, n)),
             np.where(rng.random(n) < 0.3, np.inf, rng.uniform(0, 3, n)),
             np.where(np.arange(n) == 7, 0.5, np.inf),
             np.full(n, 2.5),
             np.where(np.arange(n) == 3, 1e300, rng.uniform(0, 1, n)),
             rng.uniform(-1, 1, size=n),
             np.where(np.arange(n) == 11, -1e-3, rng.uniform(0, 1, n)),
             rng.uniform(0, 1e-12, size=n) + 5.0]
    for a in cases:
        np.testing.assert_array_equal(_kernel_step(g, a), np.min(a[:, None] + D, axis=0))


@given(data=st.data())
def test_step_general_bit_exact_property(data):
    """Hypothesis: random metrics (n in [64, 130], radius pruning on) and random non-negative
    vectors with ties and forbidden states: the pruned step equals the plain min-plus exactly."""
    seed = data.draw(seeds)
    kind = data.draw(st.sampled_from(("line", "tree", "general", "euclidean", "star")))
    n = data.draw(st.integers(64, 130))
    rng = np.random.default_rng(seed)
    g = FiniteMetric(np.array(random_metric(kind, n, seed=seed).d))
    levels = data.draw(st.sampled_from((3, 50, 0)))
    a = rng.integers(0, levels, size=n).astype(float) if levels else rng.uniform(0, g.diameter * 2, n)
    a[rng.random(n) < data.draw(st.sampled_from((0.0, 0.2)))] = np.inf
    a[rng.integers(0, n)] = float(rng.uniform(0, 1))
    np.testing.assert_array_equal(_kernel_step(g, a), np.min(a[:, None] + np.asarray(g.d), axis=0))


def test_argmin_first_matches_numpy(rng):
    """The WFA's choice reads the minimum through the int64 view: same lowest index as np.argmin,
    with ties, inf, zeros, and (float fallback) negative values."""
    from online_algs.mts import _kernels as K
    for trial in range(200):
        n = int(rng.integers(1, 40))
        v = rng.integers(0, 5, size=n).astype(float)
        if trial % 3 == 0:
            v[rng.random(n) < 0.4] = np.inf
        if trial % 5 == 0:
            v = v - 2.0
        v = v + 0.0
        assert K._argmin_first(v, v.view(np.int64)) == int(np.argmin(v))


def test_work_function_example():
    W = work_function(uniform(3), np.array([[1.0, 0.0, 0.0]]))
    np.testing.assert_array_equal(W, [[0, 1, 1], [1, 1, 1]])


def test_work_function_accepts_matrix():
    d = np.array([[0, 1.0], [1.0, 0]])
    W = work_function(d, np.array([[0.0, 5.0]]), start=1)
    np.testing.assert_array_equal(W, [[1, 0], [1, 2]])  # w_1(1) = min(0 + 5, 1 + 0 + 1)


# ------------------------------------------------------------------ WFA
@given(m=metrics(max_n=6), data=st.data())
def test_wfa_kernel_equals_naive_second_form(m, data):
    c = data.draw(cost_sequences(m.n, max_len=15))
    s0 = data.draw(st.integers(0, m.n - 1))
    res = run(WorkFunctionAlgorithm(m, start=s0), c)
    states, total = naive_wfa(m.d, c, s0)
    np.testing.assert_array_equal(res.states[1:], states)
    assert res.total_cost == pytest.approx(total, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_wfa_fast_equals_serve_with_inf(kind, rng):
    m = random_metric(kind, 7, seed=4)
    c = _with_inf(rng.uniform(0, m.diameter, size=(200, 7)), rng)
    fast = run(WorkFunctionAlgorithm(m, start=3), c)
    slow = run(WorkFunctionAlgorithm(m, start=3), c, fast=False)
    assert fast.states == slow.states
    np.testing.assert_array_equal(fast.service, slow.service)
    np.testing.assert_array_equal(fast.movement, slow.movement)
    assert np.isfinite(fast.total_cost)


def test_wfa_identities_per_step(rng):
    """c_t(s_t) = w_t(s_t) - w_{t-1}(s_t) and d(s_{t-1}, s_t) = w_t(s_{t-1}) - w_t(s_t)."""
    m = random_metric("general", 6, seed=1)
    c = rng.uniform(0, 2, size=(100, 6))
    res = run(WorkFunctionAlgorithm(m, start=2), c)
    W = work_function(m, c, start=2)
    s = np.array(res.states)
    t = np.arange(100)
    np.testing.assert_allclose(res.service, W[t + 1, s[1:]] - W[t, s[1:]], atol=1e-12)
    np.testing.assert_allclose(res.movement, W[t + 1, s[:-1]] - W[t + 1, s[1:]], atol=1e-12)


@given(m=metrics(max_n=6), data=st.data())
def test_wfa_competitive_bound(m, data):
    c = data.draw(cost_sequences(m.n, min_len=1, max_len=30))
    s0 = data.draw(st.integers(0, m.n - 1))
    alg = run(WorkFunctionAlgorithm(m, start=s0), c).total_cost
    opt = offline_optimum(m, c, start=s0).value
    C = 2 * (m.d.max(axis=0).sum() - m.d[s0].sum())
    assert alg <= (2 * m.n - 1) * opt + C + 1e-9 * max(1.0, alg)
    assert alg >= opt - 1e-9 * max(1.0, opt)


def test_wfa_fundamental_restriction_moves_under_cruel_taskmaster():
    # on 2 states, eps = 0.5 on the current state: WFA must leave (an unrestricted argmin never would)
    m = uniform(2)
    c, cost = cruel_taskmaster(WorkFunctionAlgorithm(m), m, 20, 0.5)
    res = run(WorkFunctionAlgorithm(m), c)
    assert len(set(res.states)) == 2
    assert res.total_cost == pytest.approx(cost)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_cruel_taskmaster_ratio_exactly_2n_minus_1(n):
    m = uniform(n)
    T = 20 * (3 * n - 1)
    c, a = cruel_taskmaster(WorkFunctionAlgorithm(m), m, T, 0.5)
    opt = offline_optimum(m, c).value
    assert a / opt == pytest.approx(2 * n - 1, rel=1e-12)
    res = run(WorkFunctionAlgorithm(m), c, series=True)
    W = work_function(m, c)
    ratios = np.cumsum(res.service + res.movement) / W[1:].min(axis=1)
    assert ratios.max() <= 2 * n - 1 + 1e-12


@pytest.mark.parametrize("n", [3, 5])
def test_cruel_taskmaster_odd_2d_over_eps_settles_below(n):
    m = uniform(n, 3.0)  # 2d/eps = 3 (odd), exact in binary
    c, a = cruel_taskmaster(WorkFunctionAlgorithm(m), m, 600, 2.0)
    res = run(WorkFunctionAlgorithm(m), c, series=True)
    ratios = np.cumsum(res.service + res.movement) / work_function(m, c)[1:].min(axis=1)
    assert ratios[300:].max() == pytest.approx(2 * n - 1 - (n - 2) / 3, rel=1e-12)


def test_wfa_additive_term_needed_fact_sheet_instance():
    m = line([0.0, 1.0, 2.0])
    c, a = cruel_taskmaster(WorkFunctionAlgorithm(m, start=1), m, 4, 2.0)
    assert a == pytest.approx(6.0)
    assert offline_optimum(m, c, start=1).value == pytest.approx(1.0)


def test_wfa_work_property_and_state(rng):
    m = uniform(4)
    alg = WorkFunctionAlgorithm(m, start=2)
    alg.reset()
    np.testing.assert_array_equal(alg.work, [1, 1, 0, 1])
    assert alg.state == 2 and alg.check_state(2) and not alg.check_state(4) and not alg.check_state(True)
    alg.serve(np.array([0.0, 0.0, 5.0, 0.0]))
    assert alg.state == 0


# ------------------------------------------------------------------ greedy
@given(m=metrics(max_n=6), data=st.data())
def test_greedy_kernel_equals_naive(m, data):
    c = data.draw(cost_sequences(m.n, max_len=20))
    res = run(Greedy(m, start=0), c)
    states, total = naive_greedy(m.d, c, 0)
    np.testing.assert_array_equal(res.states[1:], states)
    assert res.total_cost == pytest.approx(total, rel=1e-12, abs=1e-12)


def test_greedy_not_competitive_under_cruel_taskmaster():
    m = uniform(3)
    for T in (100, 1000):
        c, a = cruel_taskmaster(Greedy(m), m, T, 0.5)
        assert a == pytest.approx(0.5 * T)  # never moves
    assert a / offline_optimum(m, c).value > 100


# ------------------------------------------------------------------ randomized uniform
@pytest.mark.parametrize("seed", [0, 1, 17])
def test_randomized_kernel_equals_serve_and_naive(seed, rng):
    c = _with_inf(unit_elementary_tasks(5, 400, seed) * 0.6 + rng.uniform(0, 0.2, size=(400, 5)), rng)
    alg = RandomizedUniformMTS(uniform(5, 1.5), start=2, seed=seed)
    fast = run(alg, c)
    slow = run(alg.clone(), c, fast=False)
    assert fast.states == slow.states
    np.testing.assert_array_equal(fast.service, slow.service)
    assert fast.info["phases"] == slow.info["phases"] >= 2
    alg.reset()
    states, total = naive_randomized_uniform(c, 2, 1.5, alg._kseed)
    np.testing.assert_array_equal(fast.states[1:], states)
    assert fast.total_cost == pytest.approx(total, rel=1e-12)


def test_randomized_thresholds_scale_with_distance():
    c = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.5]])
    res = run(RandomizedUniformMTS(uniform(2, 2.0), seed=0), c, series=True)
    # p(0) = 1 < 2: stay and pay 1; p(0) = 2: jump to the only unsaturated state 1 (movement 2)
    assert res.states[:3] == [0, 0, 1]
    np.testing.assert_array_equal(res.service[:2], [1.0, 0.0])
    np.testing.assert_array_equal(res.movement[:2], [0.0, 2.0])


def test_randomized_new_phase_random_jump_and_inf():
    # both states saturate at once: new phase, jump to a random state with finite cost (state 1 only)
    c = np.array([[np.inf, 1.0]] * 10)
    for s in range(5):
        res = run(RandomizedUniformMTS(2, seed=s), c)
        assert np.isfinite(res.total_cost)
        assert all(x == 1 for x in res.states[1:])
    # the random jump at a phase start lands on each state with probability 1/n
    c = np.ones((1, 4))
    first = [run(RandomizedUniformMTS(4, seed=s), c).states[1] for s in range(400)]
    counts = np.bincount(first, minlength=4)
    assert counts.min() > 60


def test_randomized_seed_determinism_and_variation():
    c = unit_elementary_tasks(6, 500, 3)
    a = run(RandomizedUniformMTS(6, seed=5), c).states
    b = run(RandomizedUniformMTS(6, seed=5), c).states
    others = {tuple(run(RandomizedUniformMTS(6, seed=s), c).states) for s in range(6, 12)}
    assert a == b and len(others) > 1


def test_randomized_ratio_on_elementary_tasks_between_hn_and_2hn():
    n = 4
    T = 6000
    A, O = [], []
    for s in range(20):
        c = unit_elementary_tasks(n, T, s)
        A.append(run(RandomizedUniformMTS(n, seed=s), c, series=False, states=False).total_cost)
        O.append(offline_optimum(uniform(n), c).value)
    r = np.mean(A) / np.mean(O)
    assert 0.97 * harmonic(n) <= r <= 2 * harmonic(n)


def test_harmonic():
    assert harmonic(1) == 1.0
    assert harmonic(4) == pytest.approx(25 / 12)


# ------------------------------------------------------------------ offline optima
@given(m=metrics(max_n=4), data=st.data())
def test_dp_equals_brute_and_naive(m, data):
    c = data.draw(cost_sequences(m.n, max_len=6))
    c = _with_inf(c, np.random.default_rng(data.draw(seeds)))
    s0 = data.draw(st.integers(0, m.n - 1))
    dp = offline_optimum(m, c, start=s0)
    br = offline_optimum(m, c, start=s0, method="brute")
    assert dp.value == pytest.approx(br.value, rel=1e-12, abs=1e-12)
    assert dp.value == pytest.approx(naive_opt(m.d, c, s0), rel=1e-12, abs=1e-12)
    assert schedule_cost(m, c, dp.states, start=s0)[2] == pytest.approx(dp.value, rel=1e-12, abs=1e-12)
    assert schedule_cost(m, c, br.states, start=s0)[2] == pytest.approx(br.value, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("kind", ["uniform", "star", "tree", "general"])
def test_lp_equals_dp(kind, rng):
    m = random_metric(kind, 4, seed=2)
    c = _with_inf(rng.uniform(0, 2, size=(8, 4)), rng)
    dp = offline_optimum(m, c, start=1)
    lp = offline_optimum(m, c, start=1, method="lp")
    assert isinstance(lp, OfflineResult) and lp.method == "lp" and lp.info["status"] == "optimal"
    assert lp.value == pytest.approx(dp.value, rel=1e-7, abs=1e-7)
    assert schedule_cost(m, c, lp.states, start=1)[2] == pytest.approx(dp.value, rel=1e-7, abs=1e-7)


@pytest.mark.parametrize("metric", [uniform(5, 0.7), weighted_star([1.0, 0.5, 2.0, 0.3, 1.1])])
def test_dp_fast_kinds_equal_general(metric, rng):
    c = _with_inf(rng.uniform(0, 2, size=(300, 5)), rng)
    fast = offline_optimum(metric, c, start=4)
    gen = offline_optimum(FiniteMetric(np.array(metric.d)), c, start=4)
    assert fast.value == pytest.approx(gen.value, rel=1e-12)
    assert schedule_cost(metric, c, fast.states, start=4)[2] == pytest.approx(fast.value, rel=1e-12)


def test_schedule_cost_components():
    m = line([0.0, 1.0, 3.0])
    c = np.array([[1.0, 2.0, 0.0], [0.0, 5.0, 1.0]])
    assert schedule_cost(m, c, [2, 0], start=1) == (0.0 + 0.0, 2.0 + 3.0, 5.0)
    r = offline_optimum(m, c, start=1)
    assert r.value == pytest.approx(2.0)  # move to 0 (1), serve both tasks there (1 + 0)
    assert r.states.tolist() == [0, 0]


def test_offline_single_task_and_single_state():
    assert offline_optimum(uniform(1), np.array([[2.0], [3.0]])).value == 5.0
    r = offline_optimum(uniform(3), np.array([[0.0, 1.0, 1.0]]), start=2)
    assert r.value == 1.0 and r.states.tolist() in ([0], [1], [2])


# ------------------------------------------------------------------ families
def test_families_shapes_and_determinism():
    assert uniform_random_tasks(3, 5, 1).shape == (5, 3)
    np.testing.assert_array_equal(uniform_random_tasks(3, 5, 1, high=2.0), uniform_random_tasks(3, 5, 1, high=2.0))
    assert uniform_random_tasks(3, 500, 1, high=2.0).max() <= 2.0
    e = unit_elementary_tasks(4, 100, 0)
    assert np.all(e.sum(axis=1) == 1.0) and set(np.unique(e)) == {0.0, 1.0}
    cy = cyclic_elementary_tasks(3, 7, 0.5)
    assert np.argmax(cy, axis=1).tolist() == [0, 1, 2, 0, 1, 2, 0]
    f = fill_then_saturate_tasks(3, 2, delta=0.1)
    assert f.shape == (8, 3) and np.allclose(f[0], 0.9) and f[1].tolist() == [0.1, 0, 0]


def test_cruel_taskmaster_puts_eps_on_current_state():
    m = random_metric("tree", 5, seed=3)
    c, a = cruel_taskmaster(WorkFunctionAlgorithm(m, start=4), m, 50, 0.3)
    res = run(WorkFunctionAlgorithm(m, start=4), c)
    assert np.all((c == 0) | (c == 0.3)) and np.all((c > 0).sum(axis=1) == 1)
    np.testing.assert_array_equal(np.argmax(c, axis=1), res.states[:-1])
    assert a == pytest.approx(res.total_cost)


# ------------------------------------------------------------------ rejections (one per input)
def _wfa_run(costs, **kw):
    return run(WorkFunctionAlgorithm(uniform(3), **kw), costs)


def test_reject_nan_costs():
    with pytest.raises(InvalidInputError, match="NaN"):
        _wfa_run([[0.0, np.nan, 1.0]])


def test_reject_negative_costs():
    with pytest.raises(InvalidInputError, match="non-negative"):
        _wfa_run([[0.0, -1.0, 1.0]])


def test_reject_wrong_shape_costs():
    with pytest.raises(InvalidInputError, match="shape"):
        _wfa_run([[0.0, 1.0]])


def test_reject_1d_costs():
    with pytest.raises(InvalidInputError, match="2-d"):
        _wfa_run([0.0, 1.0, 2.0])


def test_reject_all_inf_task():
    with pytest.raises(InvalidInputError, match="every state"):
        _wfa_run([[np.inf, np.inf, np.inf]])


def test_reject_start_out_of_range():
    with pytest.raises(InvalidInputError, match="'start'.*range"):
        _wfa_run([[0.0, 1.0, 1.0]], start=3)


def test_reject_start_not_int():
    with pytest.raises(InvalidInputError, match="'start'"):
        _wfa_run([[0.0, 1.0, 1.0]], start=1.5)


def test_reject_metric_not_a_metric():
    with pytest.raises(InvalidInputError, match="'metric'"):
        run(WorkFunctionAlgorithm("abc"), [[0.0]])


def test_reject_metric_asymmetric_matrix():
    with pytest.raises(InvalidInputError, match="symmetric"):
        run(WorkFunctionAlgorithm(np.array([[0, 1.0], [2.0, 0]])), [[0.0, 0.0]])


def test_reject_greedy_bad_costs():
    with pytest.raises(InvalidInputError, match="NaN"):
        run(Greedy(uniform(2)), [[np.nan, 0.0]])


def test_reject_randomized_non_uniform_metric():
    with pytest.raises(InvalidInputError, match="uniform metric"):
        run(RandomizedUniformMTS(line([0.0, 1.0, 3.0])), [[0.0, 0.0, 0.0]])


def test_reject_randomized_n_zero():
    with pytest.raises(InvalidInputError, match="n >= 1"):
        run(RandomizedUniformMTS(0), [[0.0]])


def test_reject_randomized_negative_seed():
    with pytest.raises(InvalidInputError, match="'seed'"):
        run(RandomizedUniformMTS(3, seed=-1), [[0.0, 0.0, 0.0]])


def test_reject_randomized_start():
    with pytest.raises(InvalidInputError, match="'start'"):
        run(RandomizedUniformMTS(3, start=5), [[0.0, 0.0, 0.0]])


def test_reject_offline_unknown_method():
    with pytest.raises(InvalidInputError, match="'method'"):
        offline_optimum(uniform(2), [[0.0, 1.0]], method="simplex")


def test_reject_brute_force_too_large():
    with pytest.raises(InvalidInputError, match="n\\*\\*T"):
        offline_optimum(uniform(5), np.zeros((20, 5)), method="brute")


def test_reject_offline_bad_costs():
    with pytest.raises(InvalidInputError, match="non-negative"):
        offline_optimum(uniform(2), [[0.0, -1.0]])


def test_reject_work_function_start():
    with pytest.raises(InvalidInputError, match="'start'"):
        work_function(uniform(2), [[0.0, 1.0]], start=-1)


def test_reject_schedule_cost_wrong_length():
    with pytest.raises(InvalidInputError, match="one per task"):
        schedule_cost(uniform(2), [[0.0, 1.0]], [0, 1])


def test_reject_schedule_cost_bad_state():
    with pytest.raises(InvalidInputError, match="state ids"):
        schedule_cost(uniform(2), [[0.0, 1.0]], [2])


def test_reject_cruel_taskmaster_randomized():
    with pytest.raises(InvalidInputError, match="deterministic"):
        cruel_taskmaster(RandomizedUniformMTS(3, seed=0), uniform(3), 5, 0.5)


def test_reject_cruel_taskmaster_not_algorithm():
    with pytest.raises(InvalidInputError, match="request-then-move"):
        cruel_taskmaster(object(), uniform(3), 5, 0.5)


def test_reject_cruel_taskmaster_eps():
    with pytest.raises(InvalidInputError, match="'eps'"):
        cruel_taskmaster(WorkFunctionAlgorithm(uniform(3)), uniform(3), 5, 0.0)


def test_reject_cruel_taskmaster_metric_mismatch():
    with pytest.raises(InvalidInputError, match="same metric"):
        cruel_taskmaster(WorkFunctionAlgorithm(uniform(3)), uniform(4), 5, 0.5)


def test_reject_families_bad_sizes():
    with pytest.raises(InvalidInputError, match="'T'"):
        unit_elementary_tasks(3, 0, 1)
    with pytest.raises(InvalidInputError, match="'n'"):
        uniform_random_tasks(0, 3, 1)
    with pytest.raises(InvalidInputError, match="'high'"):
        uniform_random_tasks(2, 3, 1, high=-1.0)
    with pytest.raises(InvalidInputError, match="'delta'"):
        fill_then_saturate_tasks(3, 2, delta=2.0)


def test_reject_families_bad_seed():
    # the seed went straight to numpy (TypeError / ValueError instead of InvalidInputError)
    with pytest.raises(InvalidInputError, match="'seed' parameter of uniform_random_tasks must be an int >= 0"):
        uniform_random_tasks(3, 3, seed=-1)
    with pytest.raises(InvalidInputError, match="'seed' parameter of unit_elementary_tasks"):
        unit_elementary_tasks(3, 3, seed="x")


def test_reject_harmonic_bad_n():
    # harmonic(-1) was 0.0 and harmonic(2.5) was H_2, silently
    assert harmonic(0) == 0.0
    with pytest.raises(InvalidInputError, match="'n' parameter of harmonic must be an int >= 0. Got -1"):
        harmonic(-1)
    with pytest.raises(InvalidInputError, match="Got 2.5 of type float"):
        harmonic(2.5)


def test_lp_solver_failure_raises_solver_error(monkeypatch):
    import cvxpy as cp

    def boom(self, *a, **k):
        raise cp.error.SolverError("simulated failure")

    monkeypatch.setattr(cp.Problem, "solve", boom)
    with pytest.raises(SolverError) as info:
        offline_optimum(uniform(2), [[0.0, 1.0]], method="lp")
    assert info.value.status == "solver_error" and info.value.solver == "HIGHS"


def test_lp_bad_status_raises_solver_error(monkeypatch):
    import cvxpy as cp

    def fake(self, *a, **k):
        self._status = "infeasible"
        return None

    monkeypatch.setattr(cp.Problem, "solve", fake)
    monkeypatch.setattr(cp.Problem, "status", property(lambda self: "infeasible"))
    with pytest.raises(SolverError, match="infeasible") as info:
        offline_optimum(uniform(2), [[0.0, 1.0]], method="lp")
    assert info.value.status == "infeasible"


def test_run_result_api_public():
    res = online_algs.run(online_algs.mts.WorkFunctionAlgorithm(uniform(2)), np.array([[1.0, 0.0]] * 3))
    assert res.total_cost == 3.0 and res.states == [0, 0, 0, 1]


def test_schedule_cost_bad_states_message_is_short():
    # UAT 18: the message printed the whole states array
    st_ = np.arange(1000) % 3
    st_[500] = 7
    with pytest.raises(InvalidInputError, match=r"state ids in \[0, 2\]\. Got 7 at position 500 \(of 1000\)") as e:
        schedule_cost(uniform(3), np.ones((1000, 3)), st_)
    assert len(str(e.value)) < 200
    with pytest.raises(InvalidInputError, match=r"integer state ids.*Got dtype float64"):
        schedule_cost(uniform(3), np.ones((3, 3)), [0.5, 1.0, 2.0])
