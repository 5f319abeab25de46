"""WFA for k-server: configuration indexing, w_0 kernel, work-function updates and moves vs naive twins."""

import itertools
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from online_algs import run
from online_algs.kserver import GreedyKServer, RandomKServer, WorkFunctionKServer, offline_optimum, random_requests
from online_algs.kserver import _kernels as K
from online_algs.kserver.offline import ConfigSpace
from online_algs.metrics import random_metric
from tests.naive_kserver import matching_distance, wfa_naive, work_function_dict


@pytest.mark.parametrize("n,k", [(5, 1), (6, 2), (7, 3), (9, 4), (10, 9)])
def test_config_table_is_colex_ranked(n, k):
    sp = ConfigSpace(n, k)
    assert sp.size == comb(n, k) == len(sp.cfg)
    assert {tuple(r) for r in sp.cfg.tolist()} == set(itertools.combinations(range(n), k))
    for i, row in enumerate(sp.cfg.tolist()):
        assert row == sorted(row)
        assert sp.rank(row) == i


@settings(max_examples=10)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 4))
def test_wf_init_equals_scipy_matching(seed, k):
    m = random_metric("general", 7, seed=seed)
    init = np.sort(np.random.default_rng(seed).choice(7, size=k, replace=False))
    sp = ConfigSpace(7, k)
    w = K.wf_init(sp.cfg, init.astype(np.int64), np.ascontiguousarray(m.d))
    ref = [matching_distance(m.d, init, row) for row in sp.cfg]
    np.testing.assert_allclose(w, ref, rtol=1e-12, atol=1e-12)


@settings(max_examples=10)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 3),
       kind=st.sampled_from(["line", "tree", "general", "uniform", "star"]))
def test_lazy_update_equals_definition(seed, k, kind):
    m = random_metric(kind, 6, seed=seed)
    init = list(range(k))
    req = random_requests(m, 8, seed=seed)
    ws = work_function_dict(m.d, init, req)
    sp = ConfigSpace(6, k)
    w = K.wf_init(sp.cfg, np.array(init, dtype=np.int64), np.ascontiguousarray(m.d))
    w2 = np.empty_like(w)
    dummy = np.empty(1, dtype=np.int8)
    for t, r in enumerate(req):
        K.wf_step(w, w2, sp.cfg, sp.B, int(r), np.ascontiguousarray(m.d), dummy, False)
        w = w2.copy()
        ref = np.array([ws[t + 1][frozenset(row)] for row in sp.cfg.tolist()])
        np.testing.assert_allclose(w, ref, rtol=1e-9, atol=1e-9)


@settings(max_examples=10)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 3), kind=st.sampled_from(["line", "tree", "general"]))
def test_wfa_kernel_serve_and_naive_agree(seed, k, kind):
    m = random_metric(kind, 6, seed=seed)
    init = list(range(k))
    req = random_requests(m, 12, seed=seed + 1)
    fast = run(WorkFunctionKServer(m, init), req, series=True, states=True)
    slow = run(WorkFunctionKServer(m, init), req, series=True, states=True, fast=False)
    np.testing.assert_allclose(fast.movement, slow.movement, rtol=1e-12, atol=1e-12)
    assert fast.states == slow.states
    # against the definitional work functions: every move of the kernel attains the WFA minimum
    # (to 1e-9; exact ties may be broken differently by the two float computations)
    _, ws = wfa_naive(m.d, init, req)
    for t, r in enumerate(req.tolist()):
        before, after = list(fast.states[t]), list(fast.states[t + 1])
        if r in before:
            assert after == before
            continue
        w = ws[t + 1]
        vals = [w[frozenset(before[:j] + before[j + 1:] + [r])] + m.d[before[j], r] for j in range(k)]
        gone = (set(before) - set(after)).pop()
        assert vals[before.index(gone)] <= min(vals) + 1e-9


def test_wfa_work_function_min_is_opt():
    m = random_metric("tree", 7, seed=11)
    req = random_requests(m, 50, seed=2)
    alg = WorkFunctionKServer(m, [0, 2, 4])
    run(alg, req)
    assert alg.work_function.min() == pytest.approx(offline_optimum(m, req, [0, 2, 4]).value, rel=1e-12)


def test_wfa_within_2k_minus_1():
    m = random_metric("general", 8, seed=3)
    req = random_requests(m, 300, seed=4)
    alg = run(WorkFunctionKServer(m, [0, 1, 2]), req).total_cost
    opt = offline_optimum(m, req, [0, 1, 2]).value
    assert opt <= alg <= 5 * opt + 2 * 9 * m.diameter


def test_greedy_moves_nearest():
    from online_algs.metrics import line

    m = line([0.0, 1.0, 5.0, 6.5])
    g = GreedyKServer(m, [0, 3])
    g.reset()
    assert g.serve(1) == (0.0, 1.0) and g.state == (1, 3)
    assert g.serve(2) == (0.0, 1.5) and g.state == (1, 2)
    assert g.serve(2) == (0.0, 0.0)


def test_harmonic_probabilities_and_seed():
    m = random_metric("line", 6, seed=1)
    req = random_requests(m, 200, seed=2)
    a = run(RandomKServer(m, [0, 1], seed=3), req).total_cost
    b = run(RandomKServer(m, [0, 1], seed=3), req).total_cost
    c = [run(RandomKServer(m, [0, 1], seed=s), req).total_cost for s in range(6)]
    assert a == b and len(set(c)) > 1
    # empirical move frequencies follow 1/d: servers at distances 1 and 3 -> 0.75 / 0.25
    from online_algs.metrics import line

    ml = line([0.0, 1.0, 4.0])
    hits = 0
    N = 4000
    alg = RandomKServer(ml, [0, 2], seed=9)
    alg.reset()
    for _ in range(N):
        alg._conf = np.array([0, 2])
        alg.serve(1)
        hits += alg.state == (1, 2)
    assert abs(hits / N - 0.75) < 4 * np.sqrt(0.75 * 0.25 / N)


def test_harmonic_on_a_pseudo_metric_moves_the_zero_distance_server():
    from online_algs.metrics import FiniteMetric

    d = np.array([[0.0, 0.0, 2.0], [0.0, 0.0, 2.0], [2.0, 2.0, 0.0]])
    m = FiniteMetric(d, allow_zero=True)
    alg = RandomKServer(m, [0, 2], seed=1)
    alg.reset()
    assert alg.serve(1) == (0.0, 0.0) and alg.state == (1, 2)
