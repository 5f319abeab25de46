"""MultiscaleHSTMTS: the exact Bregman projection on the HST polytope (kernel, numpy twin, generic
solver), its semigroup property, the sub-step doubling, the runs, and input rejection."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import online_algs
from online_algs.exceptions import InvalidInputError, NumericalWarning
from online_algs.metrics import random_metric, weighted_star
from online_algs.mts import HST, EntropicStarMTS, MultiscaleHSTMTS, multiscale_projection, random_hst
from online_algs.mts import _kernels_entropic as K
from online_algs.mts.entropic import _masses_np, _opt_dp
from online_algs.testing.strategies import cost_sequences, seeds
from proofs_check.checks.mts_entropic import (caterpillar_hst, generic_tree_projection, multiscale_params,
                                              random_tree_step_instance, tree_objective)


def _tree(seed, n):
    k = seed % 3
    return random_hst(n, seed=seed) if k == 0 else caterpillar_hst(n) if k == 1 else HST.balanced(2, max(2, n // 3))


def _random_Q(rng, h, zeros=True):
    Q = np.ones(h.n_nodes)
    for v in range(h.n_nodes):
        ch = h.children(v)
        if ch.size > 1:
            z = rng.dirichlet(np.full(ch.size, 0.6))
            if zeros:
                z[rng.random(ch.size) < 0.2] = 0.0
            if z.sum() == 0.0:
                z[0] = 1.0
            Q[ch] = z / z.sum()
    return Q


def _kernel_step(Q, c, h, omega, dl):
    Qk = np.array(Q, dtype=float)
    b = int(np.diff(h.child_ptr).max())
    chat = np.empty(h.n_nodes)
    K.multiscale_substep(Qk, np.asarray(c, dtype=float), h.order, h.point_of_node, h.child_ptr, h.child_idx,
                         omega, dl, chat, *[np.empty(b) for _ in range(5)])
    return Qk, chat


# ----------------------------------------------------------------- the step
@given(seed=seeds, n=st.integers(2, 12), inf=st.booleans())
def test_step_kernel_equals_numpy_twin(seed, n, inf):
    rng = np.random.default_rng(seed)
    h = _tree(seed, n)
    omega, dl = multiscale_params(h)
    Q = _random_Q(rng, h)
    c = rng.exponential(1.0, h.n_leaves) * rng.choice([0.01, 1.0, 30.0])
    if inf:
        c[rng.integers(h.n_leaves)] = np.inf
    Qn, chat_n = multiscale_projection(Q, c, h, omega, dl)
    Qk, chat_k = _kernel_step(Q, c, h, omega, dl)
    np.testing.assert_allclose(Qk, Qn, atol=1e-13)
    fin = np.isfinite(chat_n)
    assert np.array_equal(fin, np.isfinite(chat_k))
    np.testing.assert_allclose(chat_k[fin], chat_n[fin], rtol=1e-10, atol=1e-12)
    X = _masses_np(Qn, h)
    assert np.all(X >= 0) and abs(X[h.leaves].sum() - 1.0) <= 1e-12
    assert np.all(X[h.leaves][np.isinf(c)] == 0.0)


def test_step_equals_generic_solver():
    """The bottom-up sweep against cvxpy + Newton on the full KKT system (no decomposition used)."""
    pytest.importorskip("cvxpy")
    worst = 0.0
    for rep in range(6):
        h, Q, c, omega, dl = random_tree_step_instance(np.random.default_rng(100 + rep))
        X = _masses_np(Q, h)
        Y = _masses_np(multiscale_projection(Q, c, h, omega, dl)[0], h)
        cn = np.zeros(h.n_nodes)
        cn[h.leaves] = c
        _, yN, status = generic_tree_projection(h, X, cn, omega, dl)
        assert status in ("optimal", "optimal_inaccurate")
        worst = max(worst, float(np.abs(Y - yN).max()))
        assert tree_objective(h, Y, X, cn, omega, dl) <= tree_objective(h, yN, X, cn, omega, dl) + 1e-12
    assert worst <= 1e-8


def test_generic_check_detects_a_wrong_step():
    """The comparison can fail: the recursive variant's step (multiplier only, no correction term)
    is not the projection for this regulariser on a deep tree."""
    from online_algs.mts.entropic import _hst_substep_np

    h = HST.balanced(2, 2)
    omega, dl = multiscale_params(h)
    Q = np.array([1.0, 0.5, 0.5, 0.3, 0.7, 0.6, 0.4])
    c = np.array([0.03, 0.2, 0.1, 0.01])
    X = _masses_np(Q, h)
    Qw = Q.copy()
    _hst_substep_np(Qw, c, h, omega, dl)
    cn = np.zeros(h.n_nodes)
    cn[h.leaves] = c
    _, yN, _ = generic_tree_projection(h, X, cn, omega, dl)
    assert np.abs(_masses_np(Qw, h) - yN).max() > 1e-3  # 3.5e-3 seen
    assert np.abs(_masses_np(multiscale_projection(Q, c, h, omega, dl)[0], h) - yN).max() <= 1e-8


@given(seed=seeds, n=st.integers(2, 10))
def test_projection_is_a_semigroup_without_clipping(seed, n):
    """With every conditional strictly positive before and after, two projections of c/2 equal one of c
    (the continuous dynamics with a constant cost is one Bregman projection)."""
    rng = np.random.default_rng(seed)
    h = _tree(seed, n)
    omega, dl = multiscale_params(h)
    Q = _random_Q(rng, h, zeros=False)
    Q = np.maximum(Q, 0.05)
    for v in range(h.n_nodes):
        ch = h.children(v)
        if ch.size:
            Q[ch] /= Q[ch].sum()
    c = rng.uniform(0.0, 1.0, h.n_leaves) * 0.02 * float(h.length[h.length > 0].min())
    one, _ = multiscale_projection(Q, c, h, omega, dl)
    half, _ = multiscale_projection(Q, c / 2, h, omega, dl)
    two, _ = multiscale_projection(half, c / 2, h, omega, dl)
    assert one.min() > 0.0
    np.testing.assert_allclose(two, one, atol=1e-12)


def test_single_child_chain_passes_cost_up():
    h = HST(np.array([-1, 0, 1, 1]), np.array([0.0, 2.0, 1.0, 1.0]))  # root - v - two leaves
    omega, dl = multiscale_params(h)
    Q = np.array([1.0, 1.0, 0.5, 0.5])
    Qn, chat = multiscale_projection(Q, np.array([1.0, 0.0]), h, omega, dl)
    assert Qn[1] == 1.0 and chat[0] == chat[1]
    assert Qn[2] < 0.5 < Qn[3]


def test_all_infinite_subtree_is_emptied():
    h = HST.balanced(2, 2)  # leaves 3, 4 under node 1; 5, 6 under node 2
    omega, dl = multiscale_params(h)
    Q = np.array([1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    Qn, chat = multiscale_projection(Q, np.array([np.inf, np.inf, 1.0, 0.0]), h, omega, dl)
    assert math.isinf(chat[1]) and Qn[1] == 0.0 and Qn[2] == 1.0
    assert np.array_equal(Qn[[3, 4]], Q[[3, 4]])  # the emptied subtree keeps its shape


# ------------------------------------------------------------------ the runs
def test_on_a_star_equals_star_algorithm_with_scaled_regulariser():
    """On a depth-1 HST the multiscale entropy is (w_i / (1 + ln n)) (x_i + 1/n) log(x_i + 1/n): the star
    algorithm with eta' = eta (1 + ln n) and delta = 1/n."""
    w = np.array([0.5, 1.0, 2.0, 0.7, 1.3])
    n = w.size
    m = weighted_star(w)
    c = np.random.default_rng(0).exponential(1.0, size=(30, n))
    a = online_algs.run(MultiscaleHSTMTS(m, eta=0.3), c)
    b = online_algs.run(EntropicStarMTS(m, eta=0.3 * (1 + math.log(n)), delta=1.0 / n), c)
    np.testing.assert_allclose(np.asarray(a.states), np.asarray(b.states), atol=1e-12)
    assert a.total_cost == pytest.approx(b.total_cost, rel=1e-11)


def test_fast_path_equals_serve_loop_with_infinities():
    h = random_hst(9, seed=4)
    c = np.random.default_rng(2).exponential(1.0, size=(15, 9))
    c[3, [1, 4]] = np.inf
    a = online_algs.run(MultiscaleHSTMTS(h, tol=1e-4, max_substeps=64), c)
    b = online_algs.run(MultiscaleHSTMTS(h, tol=1e-4, max_substeps=64), c, fast=False)
    np.testing.assert_allclose(np.asarray(a.states), np.asarray(b.states), atol=1e-12)
    np.testing.assert_allclose(a.service, b.service, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(a.movement, b.movement, rtol=1e-10, atol=1e-13)
    assert np.all(np.asarray(a.states)[4][[1, 4]] == 0.0)


def test_doubling_reaches_the_continuous_dynamics():
    """With tol 1e-6 each task total is within 1e-5 (relative) of the same task from the same state
    with 4096 sub-steps (the proximal steps converge like 1/N), and most tasks stop at N = 2 (no
    clipping: the sub-steps compose exactly). The per-task chain reproduces the batch run."""
    h = random_hst(16, seed=3)
    alg = MultiscaleHSTMTS(h)
    c = np.random.default_rng(1).uniform(0.0, 1.0, size=(40, 16))
    r = online_algs.run(alg, c)
    assert r.info["capped_tasks"] == 0
    assert np.mean(np.asarray(alg.substeps_) == 2) >= 0.5
    a2 = MultiscaleHSTMTS(h)
    a2.reset()
    Q = a2.Q_.copy()

    def task(Q, t, tol, cap):
        svc, mov, subs, _, _, Qn = K.hst_run(c[t:t + 1], Q, h.order, h.parent, h.point_of_node, h.child_ptr,
                                             h.child_idx, h.length, a2.omega_, a2.dl_, a2.leaf_node_, a2.eta_,
                                             tol, cap, 1, False, True)
        return svc[0] + mov[0], Qn

    for t in range(len(c)):
        fine, _ = task(Q, t, 1e-300, 4096)
        tot, Q = task(Q, t, a2.tol_, a2.max_substeps_)
        assert tot == pytest.approx(r.service[t] + r.movement[t], rel=1e-12, abs=1e-15)
        assert abs(tot - fine) <= 1e-5 * fine + 1e-14


@given(seed=seeds, n=st.integers(2, 7), kind=st.sampled_from(["hst", "general", "star"]), data=st.data())
def test_cost_at_least_opt_and_feasible(seed, n, kind, data):
    m = random_metric(kind, n, seed=seed)
    c = data.draw(cost_sequences(n, max_len=8))
    alg = MultiscaleHSTMTS(m, start=seed % n, seed=seed, tol=1e-4, max_substeps=64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericalWarning)
        r = online_algs.run(alg, c, states=True)
    assert r.total_cost >= _opt_dp(m.d, c, seed % n) - 1e-9
    assert r.info["tree_movement"] >= r.movement_cost - 1e-9
    for s in r.states:
        assert alg.check_state(s)


def test_frt_seed_determinism():
    m = random_metric("general", 6, seed=3)
    c = np.random.default_rng(0).uniform(0, 1, size=(6, 6))
    a = online_algs.run(MultiscaleHSTMTS(m, seed=5), c)
    b = online_algs.run(MultiscaleHSTMTS(m, seed=5), c)
    assert a.total_cost == b.total_cost and a.info["embedded"]


def test_mass_after_many_steps_kernel():
    h = caterpillar_hst(6)
    rng = np.random.default_rng(9)
    c = rng.exponential(1.0, size=(5000, 6)) * rng.choice([0.01, 1.0, 20.0], size=(5000, 1))
    c[rng.random(c.shape) < 0.05] = np.inf
    c[np.isinf(c).all(axis=1), 0] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericalWarning)
        r = online_algs.run(MultiscaleHSTMTS(h, max_substeps=4), c, states=True, thin=50)
    S = np.asarray(r.states)
    assert np.abs(S.sum(axis=1) - 1).max() <= 1e-12 and S.min() >= 0.0


def test_capped_tasks_warn_once():
    h = random_hst(12, seed=1)
    c = np.random.default_rng(1).exponential(1.0, size=(25, 12))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = online_algs.run(MultiscaleHSTMTS(h, tol=1e-12, max_substeps=2), c)
    assert r.info["capped_tasks"] > 0
    assert sum(issubclass(x.category, NumericalWarning) for x in w) == 1
    assert "MultiscaleHSTMTS" in str([x.message for x in w])


# ---------------------------------------------------------------- rejections
def test_reject_nan_costs():
    with pytest.raises(InvalidInputError, match="NaN"):
        online_algs.run(MultiscaleHSTMTS(HST.balanced(1, 2)), np.array([[0.0, np.nan]]))


def test_reject_negative_costs():
    with pytest.raises(InvalidInputError, match="non-negative"):
        online_algs.run(MultiscaleHSTMTS(HST.balanced(1, 3)), -np.ones((2, 3)))


def test_reject_costs_wrong_shape():
    with pytest.raises(InvalidInputError, match="shape"):
        online_algs.run(MultiscaleHSTMTS(HST.balanced(2, 2)), np.ones((2, 3)))


def test_reject_all_infinite_task():
    with pytest.raises(InvalidInputError, match="infinite cost on every state"):
        online_algs.run(MultiscaleHSTMTS(HST.balanced(1, 2)), np.array([[np.inf, np.inf]]))


def test_reject_eta():
    with pytest.raises(InvalidInputError, match="'eta' parameter of MultiscaleHSTMTS"):
        online_algs.run(MultiscaleHSTMTS(HST.balanced(1, 2), eta=0.0), np.ones((1, 2)))


def test_reject_tol():
    with pytest.raises(InvalidInputError, match="'tol'"):
        online_algs.run(MultiscaleHSTMTS(HST.balanced(1, 2), tol=2.0), np.ones((1, 2)))


def test_reject_max_substeps_not_power_of_two():
    with pytest.raises(InvalidInputError, match="power of two"):
        online_algs.run(MultiscaleHSTMTS(HST.balanced(1, 2), max_substeps=48), np.ones((1, 2)))


def test_reject_start_out_of_range():
    with pytest.raises(InvalidInputError, match="'start'"):
        online_algs.run(MultiscaleHSTMTS(HST.balanced(1, 2), start=5), np.ones((1, 2)))


def test_reject_seed():
    with pytest.raises(InvalidInputError, match="'seed'"):
        online_algs.run(MultiscaleHSTMTS(random_metric("general", 4, seed=0), seed=-1), np.ones((2, 4)))


def test_adaptive_adversary_replays_and_charges_the_heaviest_leaf():
    from proofs_check.checks.mts_entropic import adaptive_max_mass_tasks

    h = HST.balanced(3, 2)
    c = adaptive_max_mass_tasks(MultiscaleHSTMTS(h), 25)
    r = online_algs.run(MultiscaleHSTMTS(h), c, states=True)
    for t in range(25):
        assert np.flatnonzero(c[t]).tolist() == [int(np.argmax(r.states[t]))]
        assert c[t].sum() == 2.0  # twice the leaf edge (length 1)
