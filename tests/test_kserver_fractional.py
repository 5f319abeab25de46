"""Fractional k-server on HSTs (entropic projection variant), its rounding and the tree LP."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from naive_kserver_fractional import naive_exit_costs, naive_tree_cost

from online_algs import run
from online_algs.exceptions import InvalidInputError
from online_algs.kserver import _kernels_fractional as K
from online_algs.kserver import offline_optimum
from online_algs.kserver.fractional import (FractionalKServerHST, FractionalWeightedPaging, RoundedKServerHST,
                                            hst_exit_costs, kserver_hst_lp, kserver_lazy_dp)
from online_algs.metrics import random_metric
from online_algs.mts.hst import HST, random_hst


def _inst(seed, n=9, k=3, T=40):
    rng = np.random.default_rng(seed)
    h = random_hst(n, seed=int(rng.integers(1 << 30)))
    init = np.sort(rng.choice(n, size=k, replace=False))
    seq = rng.integers(0, n, size=T)
    return h, init, seq


# ------------------------------------------------------------------------- kernels vs twins
def test_exit_costs_match_lca_walks():
    for s in range(4):
        h, _, _ = _inst(s, n=10)
        E = hst_exit_costs(h)
        np.testing.assert_allclose(E, naive_exit_costs(h), atol=1e-12)


def test_tree_cost_kernel_matches_naive_and_hst_emd():
    rng = np.random.default_rng(1)
    for s in range(10):
        h, _, _ = _inst(s, n=8)
        a = rng.uniform(0, 1, size=8)
        b = rng.permutation(a)
        d = b - a
        buf = np.empty(h.n_nodes)
        kc = K.tree_cost(d, np.asarray(h.leaves), np.asarray(h.parent), np.asarray(h.order), np.asarray(h.length),
                         buf)
        assert kc == pytest.approx(naive_tree_cost(h, h.leaves, d), rel=1e-12)
        assert kc == pytest.approx(h.emd(b, a), rel=1e-12)


def test_star_hst_is_weighted_paging():
    # a depth-1 HST (star) with leaf lengths c: same trajectory as BBN weighted paging with costs c
    c = np.array([1.0, 2.5, 0.7, 3.0, 1.2, 2.0])
    h = HST(np.array([-1, 0, 0, 0, 0, 0, 0]), np.concatenate([[0.0], c]))
    seq = np.array([3, 4, 0, 5, 1, 3, 2, 2, 0, 4])
    init = np.array([0, 1])
    zs = run(FractionalKServerHST(h, init), seq, states=True).states
    xs = run(FractionalWeightedPaging(c, 2, initial=init), seq, states=True).states
    assert len(zs) == len(xs) == len(seq) + 1
    for z, x in zip(zs, xs):
        np.testing.assert_allclose(z[np.asarray(h.leaves)], 1.0 - x, atol=1e-12)
    # star movement on the tree = eviction + fetch cost of paging
    tree = run(FractionalKServerHST(h, init), seq)
    pg = run(FractionalWeightedPaging(c, 2, initial=init), seq)
    assert tree.total_cost == pytest.approx(pg.total_cost + pg.info["fetch_cost"], rel=1e-9)


# ------------------------------------------------------------------------- invariants
@given(st.integers(0, 2**31 - 1), st.integers(3, 12))
def test_feasible_and_fast_equals_slow_property(seed, n):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, n))
    h, init, seq = _inst(seed, n=n, k=k, T=25)
    alg = FractionalKServerHST(h, init)
    res = run(alg, seq, states=True)
    leaves = np.asarray(h.leaves)
    for t, z in enumerate(res.states):
        assert alg.check_state(z)
        if t > 0:
            assert z[leaves[seq[t - 1]]] == pytest.approx(1.0, abs=1e-12)
    slow = run(alg, seq, fast=False)
    np.testing.assert_allclose(res.movement, slow.movement, rtol=1e-9, atol=1e-9)


def test_check_state_rejects_infeasible():
    h, init, seq = _inst(2)
    alg = FractionalKServerHST(h, init)
    alg.reset()
    z = alg.state
    assert alg.check_state(z)
    bad = z.copy()
    bad[np.asarray(h.leaves)[0]] += 0.5
    assert not alg.check_state(bad)
    bad = z.copy()
    bad[h.root] = 2.0
    assert not alg.check_state(bad)


def test_mass_conservation_long_run():
    h, init, _ = _inst(3, n=16, k=5)
    seq = np.random.default_rng(0).integers(0, 16, size=20000)
    alg = FractionalKServerHST(h, init)
    res = run(alg, seq, states=True, thin=5000)
    for z in res.states:
        assert abs(z[h.root] - 5) <= 1e-12 * 5 * 10
        assert alg.check_state(z)


def test_hits_cost_nothing():
    h, init, _ = _inst(4)
    res = run(FractionalKServerHST(h, init), np.repeat(init, 3))
    assert res.total_cost == 0.0


# ------------------------------------------------------------------------- optima
def test_at_least_tree_lp_and_lp_below_integral_opt():
    for s in range(3):
        h, init, seq = _inst(10 + s, n=7, k=2, T=25)
        lp = kserver_hst_lp(h, seq, init).value
        alg = run(FractionalKServerHST(h, init), seq).total_cost
        assert alg >= lp - 1e-7
        opt_dp = kserver_lazy_dp(h.metric(), seq, init)
        opt_flow = offline_optimum(h.metric(), seq, list(init)).value
        assert opt_dp == pytest.approx(opt_flow, rel=1e-9)
        assert lp <= opt_dp + 1e-7


def test_lp_on_star_equals_paging_star_lp():
    from online_algs.kserver.fractional import weighted_paging_lp

    c = np.array([1.0, 2.0, 0.5, 1.5, 3.0])
    h = HST(np.array([-1, 0, 0, 0, 0, 0]), np.concatenate([[0.0], c / 2]))
    seq = np.array([2, 3, 4, 0, 2, 1, 4, 3])
    a = kserver_hst_lp(h, seq, [0, 1]).value
    b = weighted_paging_lp(c, 2, seq, convention="star").value
    assert a == pytest.approx(b, abs=1e-7)


# ------------------------------------------------------------------------- rounding
def test_rounded_subtree_counts_floor_ceil_and_request_served():
    h, init, seq = _inst(5, n=12, k=4, T=60)
    frac = run(FractionalKServerHST(h, init), seq, states=True).states
    for s in range(10):
        res = run(RoundedKServerHST(h, init, seed=s), seq, states=True)
        assert res.info["repairs"] == 0
        for t, cfg in enumerate(res.states):
            y = np.zeros(12)
            y[list(cfg)] = 1
            N = h.subtree_masses(y)
            assert np.all(N >= np.floor(frac[t] + 1e-9) - 1e-9)
            assert np.all(N <= np.ceil(frac[t] - 1e-9) + 1e-9)
            if t > 0:
                assert seq[t - 1] in cfg


def test_rounded_tree_movement_is_configuration_emd():
    h, init, seq = _inst(6)
    res = run(RoundedKServerHST(h, init, seed=3), seq, states=True, series=True)
    for t in range(len(seq)):
        a = np.zeros(h.n_leaves)
        b = np.zeros(h.n_leaves)
        a[list(res.states[t])] = 1
        b[list(res.states[t + 1])] = 1
        assert res.movement[t] == pytest.approx(h.emd(a, b), abs=1e-12)


def test_rounded_on_metric_real_cost_below_tree_cost_and_above_opt():
    m = random_metric("euclidean", 7, seed=3)
    init = np.array([0, 4])
    seq = np.random.default_rng(1).integers(0, 7, size=40)
    opt = offline_optimum(m, seq, list(init)).value
    for s in range(4):
        res = run(RoundedKServerHST(m, init, embedding_seed=s, seed=s), seq)
        assert res.info["embedded"]
        assert res.total_cost <= res.info["tree_movement"] + 1e-9  # FRT dominates d
        assert res.total_cost >= opt - 1e-9


def test_rounded_fast_equals_slow_on_metric():
    m = random_metric("general", 6, seed=2)
    seq = np.random.default_rng(2).integers(0, 6, size=30)
    a = run(RoundedKServerHST(m, [1, 2, 5], seed=9), seq, states=True)
    b = run(RoundedKServerHST(m, [1, 2, 5], seed=9), seq, states=True, fast=False)
    np.testing.assert_allclose(a.movement, b.movement, atol=1e-9)
    assert a.states == b.states


def test_embedding_seed_determinism():
    m = random_metric("line", 8, seed=1)
    seq = np.random.default_rng(3).integers(0, 8, size=30)
    a = run(FractionalKServerHST(m, [0, 1], embedding_seed=4), seq).total_cost
    b = run(FractionalKServerHST(m, [0, 1], embedding_seed=4), seq).total_cost
    assert a == b


# ------------------------------------------------------------------------- rejections
H = HST.balanced(2, 2)


def test_reject_bad_space_type():
    with pytest.raises(InvalidInputError, match="HST"):
        run(FractionalKServerHST("tree", [0]), [0])


def test_reject_missing_initial():
    with pytest.raises(InvalidInputError, match="required"):
        run(FractionalKServerHST(H, None), [0])


def test_reject_initial_too_many_servers():
    with pytest.raises(InvalidInputError, match="k <= n - 1"):
        run(FractionalKServerHST(H, [0, 1, 2, 3]), [0])


def test_reject_initial_empty():
    with pytest.raises(InvalidInputError, match="1 <= k"):
        run(FractionalKServerHST(H, []), [0])


def test_reject_initial_duplicates():
    with pytest.raises(InvalidInputError, match="distinct"):
        run(FractionalKServerHST(H, [1, 1]), [0])


def test_reject_initial_out_of_range():
    with pytest.raises(InvalidInputError, match="<= 3"):
        run(FractionalKServerHST(H, [0, 9]), [0])


def test_reject_request_out_of_range():
    with pytest.raises(InvalidInputError, match="<= 3"):
        run(FractionalKServerHST(H, [0, 1]), [0, 5])


def test_reject_bad_embedding_seed():
    with pytest.raises(InvalidInputError, match="seed"):
        run(FractionalKServerHST(random_metric("line", 4, seed=0), [0], embedding_seed=-3), [1])


def test_reject_bad_rounding_seed():
    with pytest.raises(InvalidInputError, match="seed"):
        run(RoundedKServerHST(H, [0], seed="x"), [1])


def test_reject_invalid_matrix():
    with pytest.raises(InvalidInputError, match="symmetric"):
        run(FractionalKServerHST(np.array([[0, 1.0], [2.0, 0]]), [0]), [1])


def test_matching_cost_matches_brute_force():
    import itertools

    from online_algs.kserver.fractional import _matching_cost

    rng = np.random.default_rng(4)
    d = random_metric("euclidean", 7, seed=5).d
    for _ in range(20):
        old = np.zeros(7, dtype=np.uint8)
        new = np.zeros(7, dtype=np.uint8)
        old[rng.choice(7, size=3, replace=False)] = 1
        new[rng.choice(7, size=3, replace=False)] = 1
        out = np.flatnonzero((old == 1) & (new == 0))
        inn = np.flatnonzero((old == 0) & (new == 1))
        best = min((sum(d[a, b] for a, b in zip(out, perm)) for perm in itertools.permutations(inn)), default=0.0)
        assert _matching_cost(d, old, new) == pytest.approx(best, abs=1e-12)


def test_lp_solver_failure_becomes_solver_error(monkeypatch):
    import cvxpy as cp

    from online_algs.exceptions import SolverError

    def boom(self, *a, **k):
        raise cp.error.SolverError("forced")

    monkeypatch.setattr(cp.Problem, "solve", boom)
    h, init, seq = _inst(1, n=5, k=2, T=5)
    with pytest.raises(SolverError) as ei:
        kserver_hst_lp(h, seq, init)
    assert ei.value.solver == "HIGHS"


def test_reject_lp_request_out_of_range():
    with pytest.raises(InvalidInputError, match="<= 3"):
        kserver_hst_lp(H, [0, 4], [1])


def test_reject_lazy_dp_bad_metric_and_budget():
    # a non-metric matrix went straight into the DP (NaN or asymmetric distances, silently)
    with pytest.raises(InvalidInputError, match="'d' argument of kserver_lazy_dp is not a valid metric"):
        kserver_lazy_dp([[0.0, np.nan], [np.nan, 0.0]], [0, 1], [0])
    with pytest.raises(InvalidInputError, match="'max_configs' parameter of kserver_lazy_dp must be an int >= 1"):
        kserver_lazy_dp(random_metric("uniform", 4, seed=0), [0, 1], [2], max_configs=0)


def test_reject_lazy_dp_too_many_configs():
    with pytest.raises(InvalidInputError, match="max_configs"):
        kserver_lazy_dp(random_metric("uniform", 30, seed=0), [0, 1], list(range(15)))


def test_single_server_is_forced_and_optimal():
    # k = 1: the server must sit on every request, so ALG = OPT = LP = sum of consecutive distances
    h, init, seq = _inst(21, n=6, k=1, T=20)
    res = run(FractionalKServerHST(h, init), seq)
    D = h.distance_matrix()
    path = np.concatenate([init, seq])
    forced = float(sum(D[a, b] for a, b in zip(path[:-1], path[1:])))
    assert res.total_cost == pytest.approx(forced, rel=1e-12)
    assert kserver_hst_lp(h, seq, init).value == pytest.approx(forced, rel=1e-7)


@given(st.integers(0, 2**31 - 1), st.integers(3, 10))
def test_rounded_fast_equals_slow_property(seed, n):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, n))
    h, init, seq = _inst(seed, n=n, k=k, T=20)
    a = run(RoundedKServerHST(h, init, seed=seed % 1000), seq, states=True)
    b = run(RoundedKServerHST(h, init, seed=seed % 1000), seq, states=True, fast=False)
    np.testing.assert_allclose(a.movement, b.movement, atol=1e-9)
    assert a.states == b.states and a.info["repairs"] == b.info["repairs"] == 0


def test_reject_lp_and_exit_costs_bad_tree():
    # a non-HST or an out-of-range point map crashed with AttributeError / IndexError
    with pytest.raises(InvalidInputError, match="'hst' argument of kserver_hst_lp must be an online_algs.mts.HST"):
        kserver_hst_lp("x", [0, 1], [0])
    with pytest.raises(InvalidInputError, match="'point_map' argument of kserver_hst_lp must hold ids <= 3"):
        kserver_hst_lp(H, [0, 1], [0], point_map=[0, 1, 2, 99])
    with pytest.raises(InvalidInputError, match="'hst' argument of hst_exit_costs"):
        hst_exit_costs(np.eye(3))
    with pytest.raises(InvalidInputError, match="'point_to_hst_point' argument of hst_exit_costs"):
        hst_exit_costs(H, [0, -1])


def test_reject_bbn_step_request_out_of_range():
    from online_algs.kserver.fractional import bbn_step

    with pytest.raises(InvalidInputError, match="'r' parameter of bbn_step must be an int in the range \\[0, 2\\]"):
        bbn_step(np.zeros(3), 5, np.ones(3), 0.5, 1.0)


def test_empty_initial_says_there_must_be_a_server():
    # UAT 18: initial=[] was told "with k >= n every point holds a server"
    h = HST.balanced(2, 2)
    with pytest.raises(InvalidInputError, match=r"Got no points \(k = 0\)") as e:
        run(FractionalKServerHST(h, initial=[]), [0, 1])
    assert "k >= n" not in str(e.value)
    with pytest.raises(InvalidInputError, match=r"Got 4 points; with k >= n every point holds a server"):
        run(FractionalKServerHST(h, initial=[0, 1, 2, 3]), [0, 1])
