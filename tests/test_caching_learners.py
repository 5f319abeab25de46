"""OGD, OMD, FTPL: fast paths vs protocol loops, step sizes, regret sanity, offline optima, rejections."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import online_algs
from naive_caching_learners import naive_best_static
from online_algs.caching import (FTPL, OGD, OMD, best_static_cache, best_static_gain, ftpl_step_size,
                                 ogd_step_size, omd_step_size, regret_curve, weighted_static_optimum_lp)
from online_algs.exceptions import InvalidInputError


@st.composite
def learner_cases(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    N = draw(st.integers(2, 25))
    C = int(rng.integers(1, N))
    T = draw(st.integers(1, 200))
    skew = draw(st.sampled_from([0.0, 1.0, 2.0]))
    p = 1.0 / np.arange(1, N + 1) ** skew
    trace = rng.choice(N, size=T, p=p / p.sum())
    w = rng.uniform(0.2, 3.0, N) if draw(st.booleans()) else None
    eta = draw(st.sampled_from([None, 0.01, 0.3, 2.0, 15.0]))
    horizon = T if draw(st.booleans()) else None
    return N, C, trace, w, eta, horizon


def _assert_fast_equals_slow(alg, trace, thin):
    fast = online_algs.run(alg, trace, series=True, states=True, thin=thin)
    slow = online_algs.run(alg, trace, series=True, states=True, thin=thin, fast=False)
    np.testing.assert_allclose(fast.gain, slow.gain, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(fast.state_steps, slow.state_steps)  # zip below would hide a missing state
    for a, b in zip(fast.states, slow.states):
        np.testing.assert_allclose(a, b, atol=1e-9)


@given(learner_cases(), st.sampled_from(["uniform", "first"]))
def test_ogd_lazy_projection_equals_general_projection(case, init):
    N, C, trace, w, eta, horizon = case
    _assert_fast_equals_slow(OGD(N, C, horizon=horizon, eta=eta, weights=w, init=init), trace, thin=7)


@given(learner_cases())
def test_omd_multiplier_path_equals_general_projection(case):
    N, C, trace, w, eta, horizon = case
    alg = OMD(N, C, horizon=horizon, eta=None if eta is not None and eta > 5 else eta, weights=w)
    _assert_fast_equals_slow(alg, trace, thin=5)


@given(learner_cases())
def test_ftpl_heap_path_equals_protocol(case):
    N, C, trace, _, eta, horizon = case
    alg = FTPL(N, C, horizon=horizon or len(trace), eta=eta, seed=3)
    fast = online_algs.run(alg, trace, series=True)
    slow = online_algs.run(alg, trace, series=True, fast=False)
    np.testing.assert_array_equal(fast.gain, slow.gain)


def test_batched_fast_equals_slow(rng):
    X = rng.poisson(0.7, size=(40, 9)).astype(float)
    w = rng.uniform(0.5, 2, 9)
    for alg in (OGD(9, 4, horizon=40, weights=w), OMD(9, 4, weights=w), OGD(9, 2)):
        f = online_algs.run(alg, X, series=True)
        s = online_algs.run(alg, X, series=True, fast=False)
        np.testing.assert_allclose(f.gain, s.gain, rtol=1e-7, atol=1e-9)


def test_batched_one_hot_rows_equal_id_trace(rng):
    tr = rng.integers(0, 7, 50)
    X = np.eye(7)[tr]
    for alg in (OGD(7, 3, horizon=50), OMD(7, 3, horizon=50), FTPL(7, 3, horizon=50, seed=1)):
        a = online_algs.run(alg, tr, series=True, fast=False)
        b = online_algs.run(alg, X, series=True, fast=False)
        np.testing.assert_allclose(a.gain, b.gain, atol=1e-12)


def test_update_returns_committed_gain():
    alg = OGD(5, 2, eta=0.5, weights=[1, 2, 3, 4, 5])
    alg.reset()
    y = alg.predict()
    assert alg.update(3) == pytest.approx(4 * y[3])
    y2 = alg.predict()
    assert y2[3] > y[3] and y2.sum() == pytest.approx(2)


def test_default_step_sizes():
    a = OGD(100, 10, horizon=400, weights=np.full(100, 2.0))
    a.reset()
    assert a._eta0 == pytest.approx(math.sqrt(20) / (2 * 20))
    assert ogd_step_size(100, 90, 400) == pytest.approx(math.sqrt(20) / 20)
    b = OMD(100, 10, horizon=400)
    b.reset()
    assert b._eta0 == pytest.approx(math.sqrt(2 * 10 * math.log(10) / 400)) == omd_step_size(100, 10, 400)
    c = FTPL(100, 10, horizon=400)
    c.reset()
    assert c._eta0 == pytest.approx((4 * math.pi * math.log(100)) ** -0.25 * math.sqrt(40)) == ftpl_step_size(100, 10, 400)


def test_anytime_ogd_uses_sqrt_schedule():
    a = OGD(10, 3)
    a.reset()
    etas = []
    for t in range(4):
        etas.append(a._eta_now())
        a.update(0)
    np.testing.assert_allclose(etas, a._eta0 / np.sqrt([1, 2, 3, 4]))


def test_anytime_omd_restarts_at_doubling_epochs():
    a = OMD(10, 3)
    a.reset()
    for _ in range(3):  # rounds 0, 1, 2: round 3 starts epoch 2 (2^2 - 1 = 3)
        a.update(0)
    assert a.predict()[0] > 0.3
    a.update(0)  # round 3 restarts to uniform before playing
    assert a.predict()[0] < a.predict()[0] + 1  # state valid
    a2 = OMD(10, 3)
    a2.reset()
    for _ in range(3):
        a2.update(0)
    g = a2.update(0)
    assert g == pytest.approx(0.3)  # committed the restarted uniform cache


def test_regret_within_bounds_small_zipf():
    from online_algs.caching.traces import zipf_trace

    N, C, T = 50, 5, 2000
    tr = zipf_trace(N, T, 0.8, seed=1)
    best = best_static_gain(tr, C, n_items=N)
    r_ogd = best - online_algs.run(OGD(N, C, horizon=T), tr).total_gain
    assert r_ogd <= math.sqrt(2 * C * T)
    r_omd = best - online_algs.run(OMD(N, C, horizon=T, eta=math.sqrt(2 * math.log(N / C) / T)), tr).total_gain
    assert r_omd <= C * math.sqrt(2 * math.log(N / C) * T)
    assert r_ogd > -best and r_omd > -best


def test_learning_beats_uniform_on_stationary_trace():
    from online_algs.caching.traces import zipf_trace

    tr = zipf_trace(200, 20000, 1.0, seed=2)
    uniform_gain = 20000 * 10 / 200
    for alg in (OGD(200, 10, horizon=20000), OMD(200, 10, horizon=20000), FTPL(200, 10, horizon=20000, seed=0)):
        g = online_algs.run(alg, tr).total_gain
        assert g > 3 * uniform_gain, alg


def test_ftpl_seed_determinism_and_integral_states():
    tr = np.random.default_rng(0).integers(0, 10, 100)
    r1 = online_algs.run(FTPL(10, 3, horizon=100, seed=5), tr, states=True)
    r2 = online_algs.run(FTPL(10, 3, horizon=100, seed=5), tr, states=True)
    assert r1.total_gain == r2.total_gain
    for s in r1.states:
        assert set(np.unique(s)) <= {0.0, 1.0} and s.sum() == 3


def test_ftpl_redraw_changes_perturbation():
    tr = np.zeros(30, dtype=int)
    alg = FTPL(50, 1, eta=100.0, redraw=True, seed=0)
    res = online_algs.run(alg, tr, states=True)
    assert len({int(np.argmax(s)) for s in res.states}) > 1


# ------------------------------------------------------------------------------- offline

def test_best_static_matches_naive(rng):
    for _ in range(20):
        N = int(rng.integers(2, 30))
        C = int(rng.integers(1, N))
        tr = rng.integers(0, N, int(rng.integers(1, 100)))
        w = rng.uniform(0.1, 5, N)
        assert best_static_gain(tr, C, n_items=N) == pytest.approx(naive_best_static(tr, C, N))
        assert best_static_gain(tr, C, n_items=N, weights=w) == pytest.approx(naive_best_static(tr, C, N, w))
        cache = best_static_cache(tr, C, n_items=N, weights=w)
        assert len(cache) == C
        counts = np.bincount(tr, minlength=N) * w
        assert counts[cache].sum() == pytest.approx(naive_best_static(tr, C, N, w))


def test_best_static_batched(rng):
    X = rng.poisson(1.0, size=(30, 8)).astype(float)
    assert best_static_gain(X, 3) == pytest.approx(np.sort(X.sum(0))[::-1][:3].sum())


def test_regret_curve_matches_prefix_recomputation(rng):
    N, C = 12, 3
    tr = rng.integers(0, N, 80)
    w = rng.uniform(0.5, 2, N)
    res = online_algs.run(OGD(N, C, horizon=80, weights=w), tr, series=True)
    curve = regret_curve(tr, C, res.gain, weights=w, n_items=N)
    for t in (0, 1, 10, 79):
        exp = naive_best_static(tr[:t + 1], C, N, w) - res.gain[:t + 1].sum()
        assert curve[t] == pytest.approx(exp, abs=1e-9)
    X = np.eye(N)[tr]
    np.testing.assert_allclose(regret_curve(X, C, res.gain, weights=w), curve, atol=1e-9)


def test_weighted_lp_equals_top_c(rng):
    for _ in range(3):
        N = int(rng.integers(4, 30))
        counts = rng.poisson(3.0, N).astype(float)
        w = rng.uniform(0.1, 4, N)
        C = int(rng.integers(1, N))
        lp = weighted_static_optimum_lp(counts, w, C)
        assert lp == pytest.approx(np.sort(counts * w)[::-1][:C].sum(), rel=1e-8, abs=1e-8)


# ------------------------------------------------------------------------------- rejections

def _run(alg, trace=(0, 1, 2)):
    return online_algs.run(alg, np.asarray(trace))


def test_rejects_capacity_below_one():
    with pytest.raises(InvalidInputError, match="'capacity'.*\\[1, 4\\]"):
        _run(OGD(5, 0))


def test_rejects_capacity_at_least_n_items():
    with pytest.raises(InvalidInputError, match="'capacity'"):
        _run(OMD(5, 5))


def test_rejects_non_integer_capacity():
    with pytest.raises(InvalidInputError, match="'capacity'.*int"):
        _run(FTPL(5, 2.5))


def test_rejects_nan_weights():
    with pytest.raises(InvalidInputError, match="NaN"):
        _run(OGD(3, 1, weights=[1.0, np.nan, 1.0]))


def test_rejects_inf_weights():
    with pytest.raises(InvalidInputError, match="finite"):
        _run(OMD(3, 1, weights=[1.0, np.inf, 1.0]))


def test_rejects_non_positive_weights():
    with pytest.raises(InvalidInputError, match="positive"):
        _run(OGD(3, 1, weights=[1.0, 0.0, 1.0]))


def test_rejects_wrong_weights_length():
    with pytest.raises(InvalidInputError, match="length n_items"):
        _run(OGD(3, 1, weights=[1.0, 1.0]))


def test_rejects_nan_eta():
    with pytest.raises(InvalidInputError, match="'eta'"):
        _run(OGD(3, 1, eta=float("nan")))


def test_rejects_inf_eta():
    with pytest.raises(InvalidInputError, match="'eta'"):
        _run(FTPL(3, 1, eta=float("inf")))


def test_rejects_non_positive_eta():
    with pytest.raises(InvalidInputError, match="'eta'"):
        _run(OMD(3, 1, eta=0.0))


def test_omd_rejects_overflowing_step():
    # exp(eta w x) overflows float64: the general projection returned NaN (the one-hot kernel did not)
    with pytest.raises(InvalidInputError, match="'eta' parameter of OMD times the largest weighted request"):
        _run(OMD(3, 1, eta=1000.0))
    with pytest.raises(InvalidInputError, match="w x = 1000"):
        _run(OMD(3, 1, weights=[1.0, 1000.0, 1.0]))  # anytime: eta <= 1
    with pytest.raises(InvalidInputError, match="largest weighted request"):
        _run(OMD(3, 1, eta=10.0), np.array([[0.0, 80.0, 0.0]]))
    alg = OMD(3, 1, eta=10.0)
    alg.reset()
    with pytest.raises(InvalidInputError, match="largest weighted request"):
        alg.update([0.0, 80.0, 0.0])
    assert np.isfinite(_run(OMD(3, 1, eta=699.0)).total_gain)


@pytest.mark.parametrize("fn", [ogd_step_size, omd_step_size, ftpl_step_size])
def test_step_sizes_reject_bad_instances(fn):
    # they divided by zero (T = 0, C = 0), took log(1) ** -1/4 (N = 1) or sqrt(-1) (T < 0)
    with pytest.raises(InvalidInputError, match="'horizon' parameter of .*_step_size must be an int >= 1. Got 0"):
        fn(5, 2, 0)
    with pytest.raises(InvalidInputError, match="'capacity' parameter .* in the range \\[1, 4\\]. Got 0"):
        fn(5, 0, 10)
    with pytest.raises(InvalidInputError, match="'n_items' parameter .* >= 2. Got 1"):
        fn(1, 1, 10)
    with pytest.raises(InvalidInputError, match="'horizon'"):
        fn(5, 2, -1)


def test_ogd_step_size_rejects_bad_scale():
    with pytest.raises(InvalidInputError, match="'w_max' parameter of ogd_step_size"):
        ogd_step_size(5, 2, 10, w_max=0.0)
    with pytest.raises(InvalidInputError, match="'diameter' parameter of ogd_step_size"):
        ogd_step_size(5, 2, 10, diameter=float("nan"))


def test_rejects_bad_horizon():
    with pytest.raises(InvalidInputError, match="'horizon'"):
        _run(OGD(3, 1, horizon=0))


def test_rejects_bad_init():
    with pytest.raises(InvalidInputError, match="'init'"):
        _run(OGD(3, 1, init="zeros"))


def test_rejects_id_at_least_n_items():
    with pytest.raises(InvalidInputError, match="ids <= 2"):
        _run(OGD(3, 1), [0, 1, 3])


def test_rejects_negative_id():
    with pytest.raises(InvalidInputError, match="ids >= 0"):
        _run(OMD(3, 1), [0, -1])


def test_rejects_negative_batch_counts():
    with pytest.raises(InvalidInputError, match="non-negative"):
        _run(OGD(3, 1), [[0.0, 1.0, 0.0], [1.0, -1.0, 0.0]])


def test_rejects_wrong_batch_width():
    with pytest.raises(InvalidInputError, match="n_items = 3 columns"):
        _run(FTPL(3, 1, seed=0), [[0.0, 1.0], [1.0, 0.0]])


def test_rejects_bad_update_request():
    alg = OGD(3, 1)
    alg.reset()
    with pytest.raises(InvalidInputError, match="'request'"):
        alg.update(7)


def test_rejects_bad_seed():
    with pytest.raises(InvalidInputError, match="'seed'"):
        _run(FTPL(3, 1, seed=-1))


def test_best_static_rejects_bad_capacity():
    with pytest.raises(InvalidInputError, match="'capacity'"):
        best_static_gain(np.array([0, 1, 2]), 3)


def test_regret_curve_rejects_wrong_gain_length():
    with pytest.raises(InvalidInputError, match="one entry per round"):
        regret_curve(np.array([0, 1, 2]), 1, np.zeros(2))


def test_weighted_paging_lp_matches_dp_and_belady(rng):
    from naive_caching_learners import naive_weighted_paging_opt
    from online_algs.caching import belady_misses, weighted_paging_opt_lp

    for rep in range(12):
        N = int(rng.integers(2, 6))
        C = int(rng.integers(1, N + 1))
        tr = rng.integers(0, N, int(rng.integers(1, 20)))
        w = rng.uniform(0.5, 3.0, N)
        assert weighted_paging_opt_lp(tr, C, w, n_items=N) == pytest.approx(naive_weighted_paging_opt(tr, C, w),
                                                                            abs=1e-7)
        assert weighted_paging_opt_lp(tr, C) == pytest.approx(belady_misses(tr, C), abs=1e-7)


def test_offline_lps_raise_solver_error(monkeypatch):
    import cvxpy as cp

    from online_algs.caching import weighted_paging_opt_lp
    from online_algs.exceptions import SolverError

    def boom(self, *a, **k):
        raise cp.error.SolverError("simulated failure")

    monkeypatch.setattr(cp.Problem, "solve", boom)
    with pytest.raises(SolverError, match="weighted_static_optimum_lp: HIGHS failed") as info:
        weighted_static_optimum_lp([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], 1)
    assert info.value.status == "solver_error" and info.value.solver == "HIGHS"
    with pytest.raises(SolverError, match="weighted_paging_opt_lp: HIGHS failed"):
        weighted_paging_opt_lp([0, 1, 2, 0, 1, 2], 2)


def test_weighted_paging_lp_rejects_non_positive_weights():
    from online_algs.caching import weighted_paging_opt_lp

    with pytest.raises(InvalidInputError, match="positive fetch costs"):
        weighted_paging_opt_lp(np.array([0, 1, 0]), 1, [1.0, 0.0])


def test_batched_counts_message_speaks_of_counts():
    # UAT 18: negative counts were told "costs are non-negative by definition"
    with pytest.raises(InvalidInputError, match=r"'trace' argument of OMD must be non-negative.*counts") as e:
        online_algs.run(OMD(5, 2, horizon=3), -np.ones((3, 5)))
    assert "costs" not in str(e.value)
