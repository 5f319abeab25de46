"""Offline optima: flow (sparse, dense) = DP = brute force; DP schedules verify; sparse graph smaller."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from online_algs.exceptions import SolverError
from online_algs.kserver import flow_graph, offline_optimum, random_requests, schedule_cost
from online_algs.metrics import line, random_metric
from tests.naive_kserver import brute_force_opt


@settings(max_examples=20)
@given(seed=st.integers(0, 2**31 - 1), kind=st.sampled_from(["line", "tree", "general", "uniform", "star", "euclidean"]),
       k=st.integers(1, 3), T=st.integers(1, 25))
def test_flow_sparse_dense_dp_agree(seed, kind, k, T):
    m = random_metric(kind, 6, seed=seed)
    rng = np.random.default_rng(seed)
    init = sorted(rng.choice(6, size=k, replace=False).tolist())
    req = rng.integers(0, 6, size=T)
    dp = offline_optimum(m, req, init, method="dp")
    a = offline_optimum(m, req, init, method="flow").value
    b = offline_optimum(m, req, init, method="flow_dense").value
    assert a == pytest.approx(dp.value, rel=1e-9, abs=1e-9)
    assert b == pytest.approx(dp.value, rel=1e-9, abs=1e-9)
    assert schedule_cost(m, req, init, dp.schedule) == pytest.approx(dp.value, rel=1e-9, abs=1e-9)


@settings(max_examples=20)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 2), T=st.integers(1, 7))
def test_opt_equals_brute_force(seed, k, T):
    m = random_metric("general", 5, seed=seed)
    rng = np.random.default_rng(seed)
    init = sorted(rng.choice(5, size=k, replace=False).tolist())
    req = rng.integers(0, 5, size=T)
    bf = brute_force_opt(m.d, init, req)
    assert offline_optimum(m, req, init).value == pytest.approx(bf, rel=1e-9, abs=1e-12)
    assert offline_optimum(m, req, init, method="dp").value == pytest.approx(bf, rel=1e-9, abs=1e-12)


def test_hand_example():
    m = line([0.0, 1.0, 10.0])
    # one server at 0: requests 1, 10, 1 cost 1 + 9 + 9
    assert offline_optimum(m, [1, 2, 1], [0]).value == pytest.approx(19.0)
    # two servers at 0 and 10: the server at 0 serves every 1, the one at 10 stays
    assert offline_optimum(m, [1, 2, 1], [0, 2]).value == pytest.approx(1.0)
    assert offline_optimum(m, [], [0, 2]).value == 0.0


def test_sparse_graph_has_fewer_edges():
    m = random_metric("line", 10, seed=1)
    req = random_requests(m, 200, seed=2)
    Gs, _ = flow_graph(m, req, [0, 1, 2], sparse=True)
    Gd, _ = flow_graph(m, req, [0, 1, 2], sparse=False)
    assert Gs.number_of_edges() < Gd.number_of_edges() / 5
    # every sparse b_j -> a_l edge goes to the first occurrence of its point after j
    for u, v in Gs.edges:
        if isinstance(u, tuple) and u[0] == "b" and isinstance(v, tuple) and v[0] == "a":
            j, l = u[1], v[1]
            assert req[l] not in req[j + 1:l]


def test_dp_schedule_covers_requests():
    m = random_metric("tree", 6, seed=4)
    req = random_requests(m, 30, seed=5)
    res = offline_optimum(m, req, [0, 1], method="dp")
    assert res.method == "dp" and len(res.schedule) == len(req)
    for r, c in zip(req, res.schedule):
        assert int(r) in c and len(c) == 2


def test_solver_failure_becomes_solver_error(monkeypatch):
    import networkx as nx

    def boom(G):
        raise nx.NetworkXUnfeasible("no feasible flow")

    monkeypatch.setattr(nx, "network_simplex", boom)
    with pytest.raises(SolverError) as ei:
        offline_optimum(line([0.0, 1.0, 2.0]), [1, 2], [0])
    assert ei.value.status == "infeasible"


def test_wrong_flow_becomes_solver_error(monkeypatch):
    import networkx as nx

    real = nx.network_simplex

    def wrong(G):
        cost, flow = real(G)
        flow[("a", 0)][("b", 0)] = 0
        return cost, flow

    monkeypatch.setattr(nx, "network_simplex", wrong)
    with pytest.raises(SolverError) as ei:
        offline_optimum(line([0.0, 1.0, 2.0]), [1, 2], [0])
    assert ei.value.status == "uncovered"
