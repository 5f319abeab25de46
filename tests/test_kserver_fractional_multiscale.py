"""MultiscaleKServerHST: the multiscale Bregman projection on HSTs, its kernel vs generic solvers,
invariants, rounding, and input rejections."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from online_algs import run
from online_algs.exceptions import InvalidInputError
from online_algs.kserver import _kernels_fractional as K
from online_algs.kserver.fractional import (FractionalWeightedPaging, MultiscaleKServerHST,
                                            RoundedMultiscaleKServerHST, kserver_hst_lp, multiscale_project)
from online_algs.metrics import random_metric
from online_algs.mts.hst import HST, random_hst


def _inst(seed, n=9, k=3, T=40):
    rng = np.random.default_rng(seed)
    h = random_hst(n, seed=int(rng.integers(1 << 30)))
    init = np.sort(rng.choice(n, size=k, replace=False))
    seq = rng.integers(0, n, size=T)
    return h, init, seq


def _reachable_x(h, k, rng, steps=5):
    n = h.n_leaves
    alg = MultiscaleKServerHST(h, np.sort(rng.choice(n, size=k, replace=False)))
    alg.reset()
    for r in rng.integers(0, n, size=steps):
        alg.serve(int(r))
    return alg._x.copy()


def _kkt_residual(h, x_old, x_new, r, k, boost=4.0):
    """Independent optimality check: the leaf gradients sum_{u on path} (w_u/eta_u) log((y'_u + s_u)/(y_u + s_u))
    are equal (= lambda) at free points, >= lambda at points at 0 (other than r), <= lambda at points at 1."""
    leaves = np.asarray(h.leaves)
    y0 = h.subtree_masses(x_old)
    y1 = h.subtree_masses(x_new)
    L = np.asarray(h.n_leaves_below, float)
    s = L / k
    eta = 1.0 + boost * np.log(np.maximum(1.0, k / L))
    g = np.where(np.asarray(h.parent) >= 0, np.asarray(h.length) / eta * np.log((y1 + s) / (y0 + s)), 0.0)
    grad = np.zeros(h.n_leaves)
    for i, v in enumerate(leaves):
        u = int(v)
        while u >= 0:
            grad[i] += g[u]
            u = int(h.parent[u])
    free = [i for i in range(h.n_leaves) if i != r and 1e-9 < x_new[i] < 1 - 1e-9]
    lam = np.mean(grad[free]) if free else 0.0
    err = max((abs(grad[i] - lam) for i in free), default=0.0)
    for i in range(h.n_leaves):
        if i != r and x_new[i] <= 1e-9 and free:
            err = max(err, lam - grad[i])
        if x_new[i] >= 1 - 1e-9 and free:
            err = max(err, grad[i] - lam)
    return err


def _objective(h, x_old, x_new, k, boost=4.0):
    y0 = h.subtree_masses(x_old)
    y1 = h.subtree_masses(np.clip(x_new, 0.0, 1.0))
    L = np.asarray(h.n_leaves_below, float)
    s = L / k
    c = np.asarray(h.length) / (1.0 + boost * np.log(np.maximum(1.0, k / L)))
    d = c * ((y1 + s) * np.log((y1 + s) / (y0 + s)) - (y1 - y0))
    return float(d[np.asarray(h.parent) >= 0].sum())


# ------------------------------------------------------------------------- kernel vs generic twins
def test_newton_kernel_equals_nested_root_finds():
    rng = np.random.default_rng(0)
    for rep in range(25):
        n = int(rng.integers(3, 10))
        k = int(rng.integers(1, n))
        h = random_hst(n, seed=rep)
        x = _reachable_x(h, k, rng)
        r = int(rng.integers(n))
        boost = (0.0, 4.0)[rep % 2]
        a = multiscale_project(h, x, r, level_boost=boost)
        b = multiscale_project(h, x, r, method="nested", level_boost=boost)
        np.testing.assert_allclose(a, b, atol=1e-8, rtol=0)


def test_newton_kernel_equals_cvxpy_program():
    rng = np.random.default_rng(1)
    for rep in range(3):
        h = random_hst(7, seed=10 + rep)
        x = _reachable_x(h, 3, rng)
        r = int(np.argmax(x))  # a point with anti-server mass: the projection moves something
        a = multiscale_project(h, x, r)
        c = multiscale_project(h, x, r, method="cvxpy")
        assert np.abs(a - x).max() > 1e-3
        np.testing.assert_allclose(a, c, atol=1e-4, rtol=0)  # CLARABEL: 1e-6..1e-4 on these entropies
        fa, fc = _objective(h, x, a, 3), _objective(h, x, c, 3)
        assert fa <= fc + 1e-7 * max(1.0, abs(fc))  # the kernel is never worse than the generic solver


def test_projection_satisfies_kkt_and_constraints():
    rng = np.random.default_rng(2)
    for rep in range(15):
        n = int(rng.integers(4, 20))
        k = int(rng.integers(1, n))
        h = random_hst(n, seed=100 + rep)
        x = _reachable_x(h, k, rng)
        r = int(rng.integers(n))
        boost = (0.0, 1.0, 4.0)[rep % 3]
        y = multiscale_project(h, x, r, level_boost=boost)
        assert y[r] == 0.0
        assert abs(y.sum() - (n - k)) <= 1e-12 * n
        assert y.min() >= 0.0 and y.max() <= 1.0
        assert _kkt_residual(h, x, y, r, k, boost) <= 1e-8


def test_star_is_bbn_weighted_paging():
    c = np.array([1.0, 2.5, 0.7, 3.0, 1.2, 2.0])
    h = HST(np.array([-1, 0, 0, 0, 0, 0, 0]), np.concatenate([[0.0], c]))
    seq = np.array([3, 4, 0, 5, 1, 3, 2, 2, 0, 4])
    init = np.array([0, 1])
    zs = run(MultiscaleKServerHST(h, init), seq, states=True).states
    xs = run(FractionalWeightedPaging(c, 2, initial=init), seq, states=True).states
    for z, x in zip(zs, xs):
        np.testing.assert_allclose(z[np.asarray(h.leaves)], 1.0 - x, atol=1e-12)


def test_batch_kernel_equals_serve_loop_and_masses_kernel():
    h, init, seq = _inst(3, n=14, k=4, T=60)
    a = run(MultiscaleKServerHST(h, init), seq, states=True)
    b = run(MultiscaleKServerHST(h, init), seq, states=True, fast=False)
    np.testing.assert_allclose(a.movement, b.movement, atol=1e-12)
    for za, zb in zip(a.states, b.states):
        np.testing.assert_allclose(za, zb, atol=1e-12)
    x = np.random.default_rng(0).uniform(size=14)
    y0 = np.empty(h.n_nodes)
    K.node_deltas(x, np.asarray(h.leaves), np.asarray(h.parent), np.asarray(h.order), y0)
    np.testing.assert_allclose(y0, h.subtree_masses(x), atol=1e-12)


# ------------------------------------------------------------------------- invariants
@given(st.integers(0, 2**31 - 1), st.integers(3, 14))
def test_feasible_request_served_property(seed, n):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, n))
    h, init, seq = _inst(seed, n=n, k=k, T=20)
    alg = MultiscaleKServerHST(h, init)
    res = run(alg, seq, states=True)
    leaves = np.asarray(h.leaves)
    for t, z in enumerate(res.states):
        assert alg.check_state(z)
        if t > 0:
            assert z[leaves[seq[t - 1]]] == pytest.approx(1.0, abs=1e-12)
    assert res.info["newton_steps_max"] <= K._MS_MAX_NEWTON
    assert res.total_cost >= 0


def test_hits_cost_nothing_and_k1_is_forced():
    h, init, _ = _inst(4)
    assert run(MultiscaleKServerHST(h, init), np.repeat(init, 3)).total_cost == 0.0
    h, _, seq = _inst(5, n=8, k=1)
    res = run(MultiscaleKServerHST(h, [int(seq[0])]), seq)
    d = h.distance_matrix()
    assert res.total_cost == pytest.approx(sum(d[seq[t], seq[t + 1]] for t in range(len(seq) - 1)), rel=1e-9)


def test_at_least_tree_lp():
    for s in range(3):
        h, init, seq = _inst(20 + s, n=8, k=3, T=25)
        lp = kserver_hst_lp(h, seq, init).value
        assert run(MultiscaleKServerHST(h, init), seq).total_cost >= lp - 1e-7


def test_same_input_same_result_on_metric():
    m = random_metric("line", 8, seed=1)
    seq = np.random.default_rng(3).integers(0, 8, size=30)
    a = run(MultiscaleKServerHST(m, [0, 1], embedding_seed=4), seq)
    b = run(MultiscaleKServerHST(m, [0, 1], embedding_seed=4), seq)
    assert a.total_cost == b.total_cost and a.info["embedded"]


def test_unsettled_projection_warns():
    from online_algs.exceptions import NumericalWarning

    h, init, seq = _inst(7)
    alg = MultiscaleKServerHST(h, init)
    res = run(alg, seq)
    assert res.info["newton_steps_max"] <= K._MS_MAX_NEWTON
    alg._acc["newton"] = K._MS_MAX_NEWTON + 1  # what the kernel returns when the rounds did not settle
    with pytest.warns(NumericalWarning, match="Newton steps"):
        alg._finalize(res)


# ------------------------------------------------------------------------- rounding
def test_rounded_counts_floor_ceil_marginals_and_served():
    h, init, seq = _inst(5, n=12, k=4, T=30)
    frac = np.array(run(MultiscaleKServerHST(h, init), seq, states=True).states)
    M = 150
    freq = np.zeros_like(frac)
    for s in range(M):
        res = run(RoundedMultiscaleKServerHST(h, init, seed=s), seq, states=True)
        assert res.info["repairs"] == 0
        for t, cfg in enumerate(res.states):
            y = np.zeros(12)
            y[list(cfg)] = 1
            N = h.subtree_masses(y)
            freq[t] += N
            assert np.all(N >= np.floor(frac[t] + 1e-9) - 1e-9)
            assert np.all(N <= np.ceil(frac[t] - 1e-9) + 1e-9)
            if t > 0:
                assert seq[t - 1] in cfg
    leaves = np.asarray(h.leaves)
    z = frac[:, leaves]
    ok = z * (1 - z) > 0.01  # cells where the normal approximation of Binomial(M, z) is fair
    assert ok.sum() > 20
    zscore = np.abs(freq[:, leaves] / M - z)[ok] / np.sqrt(z * (1 - z) / M)[ok]
    assert zscore.max() < 5.0
    # integral cells are exact: z = 0 or 1 always gives frequency 0 or 1
    exact = (z < 1e-12) | (z > 1 - 1e-12)
    np.testing.assert_array_equal(np.round(freq[:, leaves] / M)[exact], np.round(z)[exact])


def test_rounded_fast_equals_slow_and_frac_movement_matches():
    h, init, seq = _inst(6, n=10, k=3, T=40)
    a = run(RoundedMultiscaleKServerHST(h, init, seed=9), seq, states=True)
    b = run(RoundedMultiscaleKServerHST(h, init, seed=9), seq, states=True, fast=False)
    np.testing.assert_allclose(a.movement, b.movement, atol=1e-12)
    assert a.states == b.states
    frac = run(MultiscaleKServerHST(h, init), seq).total_cost
    assert a.info["fractional_movement"] == pytest.approx(frac, rel=1e-9)
    assert b.info["fractional_movement"] == pytest.approx(frac, rel=1e-9)


def test_rounded_on_metric_real_cost_below_tree_cost():
    m = random_metric("euclidean", 7, seed=3)
    seq = np.random.default_rng(1).integers(0, 7, size=30)
    res = run(RoundedMultiscaleKServerHST(m, [0, 4], embedding_seed=2, seed=2), seq)
    assert res.info["embedded"]
    assert res.total_cost <= res.info["tree_movement"] + 1e-9


# ------------------------------------------------------------------------- rejections
H = HST.balanced(2, 2)


def test_reject_initial_wrong_size():
    with pytest.raises(InvalidInputError, match="1 <= k <= n - 1"):
        run(MultiscaleKServerHST(H, [0, 1, 2, 3]), [0])


def test_reject_initial_out_of_range():
    with pytest.raises(InvalidInputError, match="'initial'.*<= 3"):
        run(MultiscaleKServerHST(H, [0, 7]), [0])


def test_reject_initial_not_1d():
    with pytest.raises(InvalidInputError, match="shape"):
        run(MultiscaleKServerHST(H, [[0, 1]]), [0])


def test_reject_request_out_of_range():
    with pytest.raises(InvalidInputError, match="'requests'"):
        run(MultiscaleKServerHST(H, [0, 1]), [0, 4])


def test_reject_bad_space():
    with pytest.raises(InvalidInputError, match="'hst'"):
        run(MultiscaleKServerHST("tree", [0]), [0])


def test_reject_rounding_seed():
    with pytest.raises(InvalidInputError, match="'seed'"):
        run(RoundedMultiscaleKServerHST(H, [0, 1], seed=-1), [0])


def test_reject_project_method():
    with pytest.raises(InvalidInputError, match="'method'"):
        multiscale_project(H, np.array([0, 0, 1, 1.0]), 2, method="bisect")


def test_reject_project_x_not_integral_total():
    with pytest.raises(InvalidInputError, match="whole number"):
        multiscale_project(H, np.array([0.5, 0, 1, 1.0]), 2)


def test_reject_project_x_out_of_box():
    with pytest.raises(InvalidInputError, match=r"\[0, 1\]"):
        multiscale_project(H, np.array([-0.5, 0.5, 1, 1.0]), 2)


def test_reject_project_x_wrong_shape():
    with pytest.raises(InvalidInputError, match="shape"):
        multiscale_project(H, np.array([0, 1, 1.0]), 2)


def test_reject_project_not_an_hst():
    with pytest.raises(InvalidInputError, match="HST"):
        multiscale_project(np.eye(3), np.array([0, 1, 1.0]), 2)


def test_reject_project_request_out_of_range():
    with pytest.raises(InvalidInputError, match="'request'"):
        multiscale_project(H, np.array([0, 0, 1, 1.0]), 9)


def test_reject_negative_level_boost():
    with pytest.raises(InvalidInputError, match="'level_boost'"):
        run(MultiscaleKServerHST(H, [0, 1], level_boost=-1.0), [0])


def test_reject_level_boost_not_a_number():
    with pytest.raises(InvalidInputError, match="'level_boost'"):
        multiscale_project(H, np.array([0, 0, 1, 1.0]), 2, level_boost="big")


def test_reject_nested_on_large_tree():
    h = random_hst(30, seed=1)
    x = np.ones(30)
    x[:3] = 0
    with pytest.raises(InvalidInputError, match="40 nodes"):
        multiscale_project(h, x, 5, method="nested")
