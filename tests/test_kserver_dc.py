"""Double Coverage on lines and trees: hand-checked steps, kernel vs twins, line = path tree, guarantee."""

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from online_algs import run
from online_algs.kserver import DoubleCoverage, dc_additive_term, offline_optimum, random_requests
from online_algs.metrics import line, random_metric, tree
from tests.naive_kserver import dc_line_naive


def test_line_outside_span_nearest_moves():
    m = line([0.0, 2.0, 5.0, 9.0])
    dc = DoubleCoverage(m, [1, 2])
    dc.reset()
    assert dc.serve(0) == (0.0, 2.0)
    assert dc.state == (0.0, 5.0)
    assert dc.serve(3) == (0.0, 4.0)
    assert dc.state == (0.0, 9.0)


def test_line_inside_both_move_by_smaller_gap():
    m = line([0.0, 3.0, 4.0, 10.0])
    dc = DoubleCoverage(m, [0, 3])
    dc.reset()
    s, mv = dc.serve(2)           # gaps 4 and 6: left arrives, right moves 4 to 6.0
    assert mv == 8.0 and dc.state == (4.0, 6.0)
    assert dc.covered_points() == {2}
    s, mv = dc.serve(1)           # outside the span: the left server moves 1
    assert mv == 1.0 and dc.state == (3.0, 6.0)


def test_line_tie_both_arrive():
    m = line([0.0, 1.0, 2.0])
    dc = DoubleCoverage(m, [0, 2])
    dc.reset()
    assert dc.serve(1) == (0.0, 2.0)
    assert dc.state == (1.0, 1.0)


def test_tree_star_all_unobstructed_move():
    # star with centre c (not a point) and three unit leaves: both servers move to c together, one goes on
    g = nx.Graph()
    g.add_weighted_edges_from([("c", "a", 1.0), ("c", "b", 1.0), ("c", "z", 1.0)])
    m = tree(g, nodes=["a", "b", "z"])
    dc = DoubleCoverage(m, [0, 1])
    dc.reset()
    assert dc.serve(2) == (0.0, 3.0)
    cnode = 3  # first non-point node id
    assert dc.state == ((2, 2, 0.0), (cnode, cnode, 0.0))
    assert dc.check_state(dc.state)
    # next request at a: the server at the centre is unobstructed, the one at z is blocked by it
    assert dc.serve(0) == (0.0, 1.0)


def test_tree_mid_edge_state():
    g = nx.Graph()
    g.add_weighted_edges_from([(0, 1, 1.0), (1, 2, 3.0)])   # path 0 -1- 1 -3- 2
    m = tree(g, nodes=[0, 1, 2])
    dc = DoubleCoverage(m, [0, 2])
    dc.reset()
    assert dc.serve(1) == (0.0, 2.0)   # both move 1: server from 2 stops inside edge {1, 2} at 2 from node 1
    assert dc.state == ((1, 1, 0.0), (1, 2, 2.0))
    assert dc.check_state(dc.state)


@settings(max_examples=15)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 4), n=st.integers(5, 9))
def test_line_kernel_equals_serve_and_naive(seed, k, n):
    m = random_metric("line", n, seed=seed)
    rng = np.random.default_rng(seed)
    init = sorted(rng.choice(n, size=k, replace=False).tolist())
    req = rng.integers(0, n, size=60)
    fast = run(DoubleCoverage(m, init), req, series=True)
    slow = run(DoubleCoverage(m, init), req, series=True, fast=False)
    naive, _ = dc_line_naive(m.info["positions"], init, req)
    np.testing.assert_allclose(fast.movement, slow.movement, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fast.movement, naive, rtol=1e-12, atol=1e-12)


def test_line_states_fast_equals_slow():
    m = random_metric("line", 8, seed=5)
    req = random_requests(m, 50, seed=1)
    a = run(DoubleCoverage(m, [0, 3, 6]), req, states=True, thin=7)
    b = run(DoubleCoverage(m, [0, 3, 6]), req, states=True, thin=7, fast=False)
    assert a.states == b.states and list(a.state_steps) == list(b.state_steps)


@settings(max_examples=10)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 3))
def test_tree_dc_on_a_path_equals_line_dc(seed, k):
    rng = np.random.default_rng(seed)
    n = 7
    x = np.sort(rng.uniform(0, 10, size=n))
    g = nx.Graph()
    for i in range(n - 1):
        g.add_edge(i, i + 1, weight=float(x[i + 1] - x[i]))
    mt = tree(g, nodes=list(range(n)))
    ml = line(x)
    init = sorted(rng.choice(n, size=k, replace=False).tolist())
    req = rng.integers(0, n, size=40)
    a = run(DoubleCoverage(ml, init), req, series=True)
    b = run(DoubleCoverage(mt, init), req, series=True)
    np.testing.assert_allclose(a.movement, b.movement, rtol=1e-9, atol=1e-9)


@settings(max_examples=15)
@given(seed=st.integers(0, 2**31 - 1), kind=st.sampled_from(["line", "tree"]), k=st.integers(1, 3))
def test_dc_k_competitive_with_additive_term(seed, kind, k):
    m = random_metric(kind, 6, seed=seed)
    init = list(range(k))
    req = random_requests(m, 40, seed=seed)
    alg = run(DoubleCoverage(m, init), req).total_cost
    opt = offline_optimum(m, req, init).value
    assert opt <= alg + 1e-9
    assert alg <= k * opt + dc_additive_term(m, init) + 1e-9


def test_additive_term_value():
    m = line([0.0, 1.0, 4.0, 6.0])
    assert dc_additive_term(m, [0, 2, 3]) == pytest.approx(4 + 6 + 2)


def test_dc_one_server_is_follow_the_request():
    m = random_metric("tree", 6, seed=2)
    req = random_requests(m, 30, seed=3)
    res = run(DoubleCoverage(m, [0]), req)
    path = [0] + req.tolist()
    assert res.total_cost == pytest.approx(sum(m.d[a, b] for a, b in zip(path[:-1], path[1:])))
