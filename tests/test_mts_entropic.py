"""Entropic MTS algorithms: the star step (kernel, numpy, naive, cvxpy), the HST step, the runs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from naive_mts_entropic import naive_hst_substep, naive_star_projection, naive_transport

import online_algs
from online_algs.exceptions import InvalidInputError, NumericalWarning
from online_algs.metrics import line, random_metric, uniform, weighted_star
from online_algs.mts import HST, EntropicHSTMTS, EntropicStarMTS, star_projection, transport_cost
from online_algs.mts import _kernels_entropic as K
from online_algs.mts.entropic import _hst_substep_np, _masses_np, _opt_dp
from online_algs.testing.strategies import cost_sequences, seeds


def _instance(rng, n, inf=False):
    x = rng.dirichlet(np.full(n, 0.4))
    x[rng.random(n) < 0.3] = 0.0
    x[rng.integers(n)] += 0.1
    x /= x.sum()
    c = rng.exponential(1.0, n) * rng.choice([0.01, 1.0, 30.0])
    c[rng.random(n) < 0.2] = 0.0
    if inf:
        c[rng.integers(n)] = np.inf
    w = rng.uniform(0.1, 3.0, n)
    dl = rng.uniform(1e-3, 1.0, n)
    return x, c, w, dl


# -------------------------------------------------------------- the star step
@given(seed=seeds, n=st.integers(1, 12), inf=st.booleans())
def test_star_step_kernel_numpy_naive_agree(seed, n, inf):
    rng = np.random.default_rng(seed)
    x, c, w, dl = _instance(rng, n, inf and n > 1)
    out = np.empty(n)
    lam_k = K.star_project(x, c, w, dl, out)
    y_np, lam_np = star_projection(x, c, w, dl)
    y_nv, lam_nv = naive_star_projection(x, c, w, dl)
    np.testing.assert_allclose(out, y_nv, atol=1e-12)
    np.testing.assert_allclose(y_np, y_nv, atol=1e-12)
    np.testing.assert_allclose(out, y_np, atol=1e-14)
    assert abs(out.sum() - 1.0) <= 1e-12 and np.all(out >= 0)
    assert np.all(out[np.isinf(c)] == 0.0)
    assert lam_k == pytest.approx(lam_nv, rel=1e-9, abs=1e-9) and lam_k == pytest.approx(lam_np, rel=1e-12, abs=1e-12)


@given(seed=seeds, n=st.integers(2, 10))
def test_star_step_kkt(seed, n):
    """KKT of min <c, y> + D_Phi(y, x) on the simplex: w_i log((y_i+d_i)/(x_i+d_i)) + c_i = Lambda
    where y_i > 0 and >= Lambda where y_i = 0."""
    rng = np.random.default_rng(seed)
    x, c, w, dl = _instance(rng, n)
    y, lam = star_projection(x, c, w, dl)
    g = w * np.log((y + dl) / (x + dl)) + c
    pos = y > 1e-12
    np.testing.assert_allclose(g[pos], lam, rtol=1e-9, atol=1e-9 * max(1.0, abs(lam)))
    assert np.all(g[~pos] >= lam - 1e-9 * max(1.0, abs(lam)))
    fin = np.isfinite(c)
    assert c[fin].min() - 1e-9 <= lam <= c[fin].max() + 1e-9  # an average-like price


def test_star_step_matches_cvxpy():
    """Against a generic solver: cvxpy (CLARABEL) polished by SLSQP to 1e-6, and our objective is
    never above the solver's (CLARABEL alone is within ~5e-5 on harder instances; 1e-5 here)."""
    pytest.importorskip("cvxpy")
    from proofs_check.checks.mts_entropic import generic_star_projection

    rng = np.random.default_rng(0)
    worst_cvx = worst_pol = 0.0
    for rep in range(12):
        n = int(rng.integers(2, 9))
        x, c, w, dl = _instance(rng, n)
        c = np.minimum(c, 20.0)
        ours, _ = star_projection(x, c, w, dl)
        y_cvx, y_pol, status = generic_star_projection(x, c, w, dl)
        assert status in ("optimal", "optimal_inaccurate")
        worst_cvx = max(worst_cvx, float(np.abs(ours - y_cvx).max()))
        worst_pol = max(worst_pol, float(np.abs(ours - y_pol).max()))

        def f(z):
            return float(c @ z + np.sum(w * ((z + dl) * np.log((z + dl) / (x + dl)) - z)))

        z = np.clip(y_pol, 0, None)
        assert f(ours) <= f(z / z.sum()) + 1e-12
    assert worst_cvx <= 1e-5 and worst_pol <= 1e-6


@given(seed=seeds, n=st.integers(2, 10), N=st.sampled_from([2, 3, 8]))
def test_star_substeps_compose(seed, n, N):
    """N projections of c/N equal one projection of c (the semigroup property behind the
    continuous-time argument in docs/theory/entropic_mts.md)."""
    rng = np.random.default_rng(seed)
    x, c, w, dl = _instance(rng, n)
    one, _ = star_projection(x, c, w, dl)
    cur = x
    for _ in range(N):
        cur, _ = star_projection(cur, c / N, w, dl)
    np.testing.assert_allclose(cur, one, atol=1e-10)


def test_star_step_all_infinite_returns_input():
    x = np.array([0.3, 0.7])
    out = np.empty(2)
    assert np.isnan(K.star_project(x, np.array([np.inf, np.inf]), np.ones(2), np.ones(2), out))
    np.testing.assert_array_equal(out, x)


def test_star_step_extreme_costs_no_overflow():
    x = np.array([1.0, 0.0, 0.0])
    y, _ = star_projection(x, np.array([1e12, 0.0, 1e-12]), np.array([1e-6, 1.0, 1e3]), np.full(3, 1e-9))
    assert np.all(np.isfinite(y)) and abs(y.sum() - 1) < 1e-12 and y[0] == 0.0


# ---------------------------------------------------------------- the HST step
@given(seed=seeds, n=st.integers(2, 14))
def test_hst_substep_kernel_numpy_naive_agree(seed, n):
    rng = np.random.default_rng(seed)
    alg = EntropicHSTMTS(random_metric("hst", n, seed=seed), start=int(rng.integers(n)))
    alg.reset()
    h = alg.hst_
    Q = alg.Q_.copy()
    for _ in range(3):
        cleaf = rng.exponential(1.0, n) * rng.choice([0.1, 1.0, 10.0])
        if rng.random() < 0.3:
            cleaf[rng.integers(n)] = np.inf
        naive = naive_hst_substep(Q, cleaf, h, alg.omega_, alg.dl_)
        Qn = Q.copy()
        _hst_substep_np(Qn, cleaf, h, alg.omega_, alg.dl_)
        Qk = Q.copy()
        m = h.n_nodes
        b = int(np.diff(h.child_ptr).max())
        K.hst_substep(Qk, cleaf, h.order, h.point_of_node, h.child_ptr, h.child_idx, alg.omega_, alg.dl_,
                      np.empty(m), np.empty(b), np.empty(b), np.empty(b), np.empty(b), np.empty(b))
        np.testing.assert_allclose(Qn, naive, atol=1e-12)
        np.testing.assert_allclose(Qk, Qn, atol=1e-14)
        X = np.empty(m)
        K.hst_masses(Qk, h.order, h.parent, X)
        assert abs(X[h.leaves].sum() - 1.0) <= 1e-12 and np.all(X >= 0)
        for v in range(m):
            ch = h.children(v)
            if ch.size:
                assert X[v] == pytest.approx(X[ch].sum(), abs=1e-13)
        Q = Qk


def test_hst_on_a_star_equals_star_algorithm_with_same_regulariser():
    """A depth-1 HST is a star: one HST step is the star step with omega = w/eta_c, delta_c = 1/n."""
    w = np.array([0.5, 1.0, 2.0, 0.7])
    alg = EntropicHSTMTS(weighted_star(w), start=1)
    alg.reset()
    n = 4
    eta_c = 1 + np.log(n)
    x = np.zeros(n)
    x[1] = 1
    c = np.array([0.3, 2.0, 0.1, 1.0])
    y, _ = star_projection(x, alg.eta_ * c, w / eta_c, np.full(n, 1.0 / n))
    alg.serve(c)
    np.testing.assert_allclose(alg.state, y, atol=1e-13)


# ------------------------------------------------------------------- the runs
def test_star_uniform_ratio_is_logarithmic():
    """Unit elementary tasks on a uniform metric: H_n <= (lower bound family) and about ln n + 1."""
    out = []
    for n in (2, 8):
        rng = np.random.default_rng(n)
        T = 600
        c = np.zeros((T, n))
        c[np.arange(T), rng.integers(0, n, T)] = 1.0
        r = online_algs.run(EntropicStarMTS(uniform(n)), c, series=False, states=False)
        out.append(r.total_cost / _opt_dp(uniform(n).d, c, 0))
    assert 1.0 <= out[0] < out[1] <= 2 * np.log(8) + 2


@given(seed=seeds, n=st.integers(1, 6), data=st.data())
def test_star_cost_at_least_opt_and_feasible(seed, n, data):
    w = np.random.default_rng(seed).uniform(0.3, 2, n)
    m = weighted_star(w)
    c = data.draw(cost_sequences(n, max_len=12))
    alg = EntropicStarMTS(m, start=seed % n, eta=0.5 + seed % 3)
    r = online_algs.run(alg, c, states=True)
    assert r.total_cost >= _opt_dp(m.d, c, seed % n) - 1e-9
    for s in r.states:
        assert alg.check_state(s)
    assert r.info["capped_tasks"] == 0 and r.info["max_substeps_used"] <= 2


@given(seed=seeds, n=st.integers(2, 7), kind=st.sampled_from(["hst", "general", "line", "star"]), data=st.data())
def test_hst_cost_at_least_opt_and_feasible(seed, n, kind, data):
    m = random_metric(kind, n, seed=seed)
    c = data.draw(cost_sequences(n, max_len=8))
    alg = EntropicHSTMTS(m, start=seed % n, seed=seed)
    r = online_algs.run(alg, c, states=True)
    assert r.total_cost >= _opt_dp(m.d, c, seed % n) - 1e-9
    assert r.info["tree_movement"] >= r.movement_cost - 1e-9  # d_T >= d
    for s in r.states:
        assert alg.check_state(s)


def test_hst_doubling_stops_when_totals_agree():
    """Every accepted task total is within tol (relative) of the total with half the sub-steps,
    unless the task hit max_substeps; recomputed with the numpy reference step."""
    m = random_metric("hst", 12, seed=1)
    c = np.random.default_rng(1).exponential(1.0, size=(25, 12))
    alg = EntropicHSTMTS(m, tol=1e-3, max_substeps=16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericalWarning)  # capped tasks are expected here
        r = online_algs.run(alg, c, states=True)
    subs = np.array(alg.substeps_)
    assert r.info["capped_tasks"] == int(np.sum(subs >= 16))
    ref = EntropicHSTMTS(m)
    ref.reset()
    h = ref.hst_
    for t in range(25):
        Q0 = ref.Q_.copy()
        X0 = ref.X_.copy()
        tots = {}
        for N in (subs[t] // 2, subs[t]):
            if N < 1:
                continue
            Q = Q0.copy()
            for _ in range(N):
                _hst_substep_np(Q, ref.eta_ * c[t] / N, h, ref.omega_, ref.dl_)
            X = _masses_np(Q, h)
            tots[N] = float(c[t] @ X[h.leaves] + h.length @ np.abs(X - X0))
        assert tots[subs[t]] == pytest.approx(r.service[t] + r.movement[t], rel=1e-9)
        if subs[t] >= 2 and subs[t] < 16:
            assert abs(tots[subs[t]] - tots[subs[t] // 2]) <= 1e-3 * tots[subs[t]]
        ref.Q_, ref.X_ = Q, X
        np.testing.assert_allclose(X[h.leaves], r.states[t + 1], atol=1e-12)


def test_general_metric_movement_is_exact_transport():
    m = random_metric("general", 5, seed=2)
    c = np.random.default_rng(2).uniform(0, 2, size=(6, 5))
    r = online_algs.run(EntropicHSTMTS(m, seed=3), c, states=True)
    for t in range(6):
        assert r.movement[t] == pytest.approx(naive_transport(m.d, r.states[t], r.states[t + 1]), rel=1e-6, abs=1e-9)
    assert r.info["embedded"] is True


def test_hst_metric_movement_is_tree_emd():
    h = HST.balanced(2, 3)
    c = np.random.default_rng(4).uniform(0, 2, size=(5, 9))
    r = online_algs.run(EntropicHSTMTS(h), c, states=True)
    for t in range(5):
        assert r.movement[t] == pytest.approx(h.emd(r.states[t], r.states[t + 1]), abs=1e-12)
    assert r.info["embedded"] is False


def test_transport_cost_matches_full_lp(rng):
    m = random_metric("euclidean", 7, seed=1)
    for _ in range(4):
        x, y = rng.dirichlet(np.ones(7)), rng.dirichlet(np.ones(7))
        assert transport_cost(m.d, x, y) == pytest.approx(naive_transport(m.d, x, y), rel=1e-7)
    e = np.eye(7)
    assert transport_cost(m.d, e[0], e[3]) == pytest.approx(m.d[0, 3])
    assert transport_cost(m.d, e[2], e[2]) == 0.0


def test_infinite_costs_force_zero_mass():
    c = np.array([[np.inf, 1.0, 1.0, np.inf], [0.0, np.inf, np.inf, 0.0]])
    for alg in (EntropicStarMTS(uniform(4)), EntropicHSTMTS(HST.balanced(2, 2))):
        r = online_algs.run(alg, c, states=True)
        assert r.states[1][0] == 0.0 and r.states[1][3] == 0.0
        assert r.states[2][1] == 0.0 and r.states[2][2] == 0.0
        assert np.isfinite(r.total_cost)


def test_star_detected_from_matrix():
    w = np.array([1.0, 2.0, 0.5])
    d = w[:, None] + w[None, :]
    np.fill_diagonal(d, 0)
    alg = EntropicStarMTS(d)
    alg.reset()
    np.testing.assert_allclose(alg.w_, w)


@pytest.mark.filterwarnings("ignore::online_algs.exceptions.NumericalWarning")  # max_substeps=4 caps on purpose
def test_mass_after_many_steps_kernel():
    n = 16
    c = np.random.default_rng(0).exponential(1.0, size=(3000, n))
    r = online_algs.run(EntropicHSTMTS(random_metric("hst", n, seed=0), max_substeps=4), c, series=False,
                        states=True, thin=100)
    for s in r.states:
        assert abs(s.sum() - 1.0) <= 1e-12 and s.min() >= 0.0


# ---------------------------------------------------------------- rejections
def test_reject_star_non_star_metric():
    with pytest.raises(InvalidInputError, match="weighted star"):
        online_algs.run(EntropicStarMTS(line([0.0, 1.0, 3.0, 7.0])), np.ones((2, 4)))


def test_reject_star_bad_metric_matrix():
    with pytest.raises(InvalidInputError, match="not a valid metric"):
        online_algs.run(EntropicStarMTS(np.array([[0, 1.0], [3.0, 0]])), np.ones((2, 2)))


def test_reject_start_out_of_range():
    with pytest.raises(InvalidInputError, match="'start'"):
        online_algs.run(EntropicStarMTS(uniform(3), start=3), np.ones((2, 3)))


def test_reject_hst_start_out_of_range():
    with pytest.raises(InvalidInputError, match="'start'"):
        online_algs.run(EntropicHSTMTS(uniform(3), start=-1), np.ones((2, 3)))


def test_reject_eta():
    with pytest.raises(InvalidInputError, match="'eta'"):
        online_algs.run(EntropicStarMTS(uniform(3), eta=0.0), np.ones((2, 3)))


def test_reject_hst_eta():
    with pytest.raises(InvalidInputError, match="'eta'"):
        online_algs.run(EntropicHSTMTS(uniform(3), eta=-1.0), np.ones((2, 3)))


def test_reject_delta():
    with pytest.raises(InvalidInputError, match="'delta'"):
        online_algs.run(EntropicStarMTS(uniform(3), delta=0.0), np.ones((2, 3)))


def test_reject_tol():
    with pytest.raises(InvalidInputError, match="'tol'"):
        online_algs.run(EntropicStarMTS(uniform(3), tol=0.0), np.ones((2, 3)))


def test_reject_max_substeps_not_power_of_two():
    with pytest.raises(InvalidInputError, match="power of two"):
        online_algs.run(EntropicHSTMTS(uniform(3), max_substeps=12), np.ones((2, 3)))


def test_reject_hst_seed():
    with pytest.raises(InvalidInputError, match="'seed'"):
        online_algs.run(EntropicHSTMTS(random_metric("general", 4, seed=0), seed=-1), np.ones((2, 4)))


def test_reject_costs_wrong_width():
    with pytest.raises(InvalidInputError, match="shape"):
        online_algs.run(EntropicStarMTS(uniform(3)), np.ones((2, 4)))


def test_reject_negative_costs():
    with pytest.raises(InvalidInputError, match="non-negative"):
        online_algs.run(EntropicHSTMTS(HST.balanced(1, 3)), -np.ones((2, 3)))


def test_reject_nan_costs():
    with pytest.raises(InvalidInputError, match="NaN"):
        online_algs.run(EntropicStarMTS(uniform(2)), np.array([[0.0, np.nan]]))


def test_reject_all_infinite_task():
    with pytest.raises(InvalidInputError, match="infinite cost on every state"):
        online_algs.run(EntropicHSTMTS(HST.balanced(1, 2)), np.array([[np.inf, np.inf]]))


@pytest.mark.parametrize("fast", [True, False])
def test_capped_tasks_emit_one_numerical_warning_per_run(fast):
    # UAT 17: tasks that hit max_substeps used to be reported only in info['capped_tasks']
    m = random_metric("hst", 12, seed=1)
    c = np.random.default_rng(1).exponential(1.0, size=(25, 12))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = online_algs.run(EntropicHSTMTS(m, tol=1e-9, max_substeps=2), c, fast=fast)
    num = [x for x in w if issubclass(x.category, NumericalWarning)]
    assert r.info["capped_tasks"] > 0
    assert len(num) == 1
    msg = str(num[0].message)
    assert f"{r.info['capped_tasks']} of 25 tasks" in msg and "max_substeps=2" in msg
    assert num[0].filename == __file__  # points at the caller of run()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = online_algs.run(EntropicStarMTS(uniform(4, 1.0), max_substeps=1), np.ones((3, 4)), fast=fast)
    assert r.info["capped_tasks"] == 3 and sum(issubclass(x.category, NumericalWarning) for x in w) == 1


def test_no_warning_when_no_task_is_capped():
    h = HST.balanced(2, 3)
    c = np.random.default_rng(4).uniform(0, 2, size=(5, 9))
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumericalWarning)
        r = online_algs.run(EntropicHSTMTS(h), c)
    assert r.info["capped_tasks"] == 0


def test_general_metric_costs_are_scale_invariant():
    # UAT 7: the transport LP (absolute HiGHS tolerances) was inexact at distances ~1e-9
    m = random_metric("general", 6, seed=0)
    c = np.random.default_rng(0).uniform(0, 1, size=(60, 6))
    ratios, movements = [], []
    for s in (1e-9, 1.0, 1e9):
        r = online_algs.run(EntropicHSTMTS(m.d * s, seed=0), c * s)
        assert r.info["embedded"] is True
        ratios.append(r.total_cost / _opt_dp(m.d * s, c * s, 0))
        movements.append(r.movement_cost / s)
    np.testing.assert_allclose(ratios, ratios[1], rtol=1e-6)
    np.testing.assert_allclose(movements, movements[1], rtol=1e-6)


@pytest.mark.parametrize("s", [1e-12, 1e-9, 1e9])
def test_transport_cost_is_scale_invariant(rng, s):
    m = random_metric("euclidean", 7, seed=1)
    for _ in range(3):
        x, y = rng.dirichlet(np.ones(7)), rng.dirichlet(np.ones(7))
        assert transport_cost(m.d * s, x, y) / s == pytest.approx(transport_cost(m.d, x, y), rel=1e-7)
        # tiny mass differences as well
        z = x + 1e-10 * (y - x)
        assert transport_cost(m.d, x, z) == pytest.approx(1e-10 * naive_transport(m.d, x, y), rel=1e-6)
