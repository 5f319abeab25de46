"""dc_hk_cycle_search: the exact maximum-ratio periodic schedule of Double Coverage against h servers
on small unit-edge trees (search vs the tree DC of DoubleCoverage, vs a brute-force cycle check, the
exact OPT_h, determinism, bad input)."""

import itertools

import networkx as nx
import numpy as np
import pytest

from online_algs import run
from online_algs.exceptions import InvalidInputError
from online_algs.kserver import DoubleCoverage, dc_hk_cycle_search, dc_hk_ratio, offline_optimum
from online_algs.kserver.families import _unit_tree_dc_step
from online_algs.metrics import tree


def spider(legs):
    g = nx.Graph()
    g.add_node(0)
    nid = 1
    for length in legs:
        prev = 0
        for _ in range(length):
            g.add_edge(prev, nid)
            prev, nid = nid, nid + 1
    return g


def _nxt(g):
    n = g.number_of_nodes()
    out = []
    for r in range(n):
        par = [r] * n
        for u, v in nx.bfs_edges(g, r):
            par[v] = u
        out.append(par)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_unit_step_matches_double_coverage_on_trees(seed):
    """The search's unit-edge DC step is the slow twin of DoubleCoverage's tree event simulation."""
    rng = np.random.default_rng(seed)
    g = nx.random_labeled_tree(9, seed=seed) if hasattr(nx, "random_labeled_tree") else nx.random_tree(9, seed=seed)
    m = tree(g, nodes=list(range(9)))
    nxt = _nxt(g)
    k = int(rng.integers(2, 5))
    init = sorted(rng.choice(9, size=k, replace=False).tolist())
    alg = DoubleCoverage(m, init)
    alg.reset()
    X = tuple(init)
    for r in rng.integers(0, 9, size=40):
        X, cost = _unit_tree_dc_step(X, int(r), nxt)
        _, mv = alg.serve(int(r))
        assert mv == pytest.approx(cost)
        assert tuple(sorted(p[0] for p in alg.state)) == X
        assert all(p[0] == p[1] for p in alg.state)      # unit edges: DC's servers stay on nodes


def test_h1_k2_path_attains_four_thirds():
    """(1, 2) on 7 points: the best cycle is 4/3 = c, DC and the exact OPT_1 agree with it."""
    inst = dc_hk_cycle_search(nx.path_graph(7), 1, 2, phases=3)
    assert inst.ratio == pytest.approx(4 / 3) and inst.exact and inst.construction == "cycle_search"
    dc = run(DoubleCoverage(inst.metric, inst.dc_initial), inst.requests).total_cost
    opt = offline_optimum(inst.metric, inst.requests, inst.opt_initial).value
    assert dc == pytest.approx(inst.ratio * inst.schedule_cost)
    assert opt <= inst.schedule_cost + 1e-9
    assert dc / opt >= 4 / 3 - 1e-12


def test_h1_k3_path_attains_c():
    inst = dc_hk_cycle_search(nx.path_graph(7), 1, 3)
    assert inst.ratio == pytest.approx(dc_hk_ratio(1, 3)) and inst.exact


def test_schedule_is_consistent_and_cycle_returns():
    """The schedule serves every request, costs schedule_cost, and the phase returns to the start."""
    inst = dc_hk_cycle_search(spider((2, 2, 1)), 2, 3, phases=2)
    d = inst.metric.d
    prev, cost = tuple(inst.opt_initial), 0.0
    for r, conf in zip(inst.requests, inst.schedule):
        assert int(r) in conf
        moved = set(prev) ^ set(conf)
        assert len(moved) in (0, 2)
        if moved:
            a, b = sorted(set(prev) - set(conf)), sorted(set(conf) - set(prev))
            cost += d[a[0], b[0]]
        prev = conf
    assert cost == pytest.approx(inst.schedule_cost)
    L = len(inst.requests) // 2
    assert tuple(sorted(inst.schedule[L - 1])) == tuple(sorted(inst.opt_initial))
    alg = DoubleCoverage(inst.metric, inst.dc_initial)
    alg.reset()
    for r in inst.requests[:L]:
        alg.serve(int(r))
    assert sorted(p[0] for p in alg.state) == sorted(inst.dc_initial)


def _brute_best_ratio(g, h, k, max_len):
    """Best ratio over all request cycles of length <= max_len from every state (tiny cases only)."""
    n = g.number_of_nodes()
    nxt = _nxt(g)
    d = dict(nx.all_pairs_shortest_path_length(g))
    best = 0.0
    for X0 in itertools.combinations_with_replacement(range(n), k):
        for Y0 in itertools.combinations(range(n), h):
            stack = [(X0, Y0, 0.0, 0.0, 0)]
            while stack:
                X, Y, dc, adv, L = stack.pop()
                if L and X == X0 and Y == Y0 and adv > 0:
                    best = max(best, dc / adv)
                if L == max_len:
                    continue
                for r in range(n):
                    X2, c = _unit_tree_dc_step(X, r, nxt)
                    moves = [(Y, 0.0)] if r in Y else [
                        (tuple(sorted(Y[:s] + Y[s + 1:] + (r,))), float(d[Y[s]][r])) for s in range(h)]
                    for Y2, a in moves:
                        stack.append((X2, Y2, dc + c, adv + a, L + 1))
    return best


@pytest.mark.parametrize("g", [nx.path_graph(4), spider((2, 1, 1))], ids=["path4", "spider211"])
def test_search_is_at_least_the_brute_force_short_cycles(g):
    """(h, k) = (1, 2): no cycle of <= 4 requests beats the search (the path holds the sweep 1, 3, 2, 0)."""
    inst = dc_hk_cycle_search(g, 1, 2)
    brute = _brute_best_ratio(g, 1, 2, 4)
    assert brute > 1.0
    assert inst.ratio >= brute - 1e-12
    assert inst.ratio <= dc_hk_ratio(1, 2) + 1e-12


def test_gap_cell_beats_drift_parked_on_a_path():
    """(2, 4) on 11 points: 16/7 > 9/4 (the line drift_parked ratio), still below c = 12/5."""
    inst = dc_hk_cycle_search(nx.path_graph(11), 2, 4, phases=2)
    assert inst.ratio == pytest.approx(16 / 7)
    assert 9 / 4 < inst.ratio < dc_hk_ratio(2, 4) and not inst.exact
    dc = run(DoubleCoverage(inst.metric, inst.dc_initial), inst.requests).total_cost
    opt = offline_optimum(inst.metric, inst.requests, inst.opt_initial).value
    assert dc == pytest.approx(inst.ratio * inst.schedule_cost)
    assert dc / opt >= inst.ratio - 1e-12


def test_deterministic():
    a = dc_hk_cycle_search(spider((2, 2, 2)), 2, 3, phases=2)
    b = dc_hk_cycle_search(spider((2, 2, 2)), 2, 3, phases=2)
    assert np.array_equal(a.requests, b.requests) and a.dc_initial == b.dc_initial and a.schedule == b.schedule


# --------------------------------------------------------------------------- bad input
def test_rejects_a_graph_with_a_cycle():
    with pytest.raises(InvalidInputError, match="'graph' argument of dc_hk_cycle_search must be an undirected"):
        dc_hk_cycle_search(nx.cycle_graph(5), 1, 2)


def test_rejects_a_directed_graph():
    with pytest.raises(InvalidInputError, match="undirected networkx tree"):
        dc_hk_cycle_search(nx.DiGraph([(0, 1), (1, 2)]), 1, 2)


def test_rejects_a_non_graph():
    with pytest.raises(InvalidInputError, match="Got list"):
        dc_hk_cycle_search([0, 1, 2], 1, 2)


def test_rejects_h_above_k():
    with pytest.raises(InvalidInputError, match="1 <= h <= k"):
        dc_hk_cycle_search(nx.path_graph(6), 3, 2)


def test_rejects_k_not_below_n():
    with pytest.raises(InvalidInputError, match="'k' parameter of dc_hk_cycle_search must be smaller"):
        dc_hk_cycle_search(nx.path_graph(3), 1, 3)


def test_rejects_zero_phases():
    with pytest.raises(InvalidInputError, match="phases"):
        dc_hk_cycle_search(nx.path_graph(5), 1, 2, phases=0)


def test_rejects_a_too_large_state_graph():
    with pytest.raises(InvalidInputError, match="states"):
        dc_hk_cycle_search(nx.path_graph(30), 3, 5)


def test_rejects_a_tree_without_a_losing_cycle():
    """h = k = 1: DC = OPT on every cycle, nothing above ratio 1 to report."""
    with pytest.raises(InvalidInputError, match="no cycle with DC / adversary > 1"):
        dc_hk_cycle_search(nx.path_graph(4), 1, 1)


def test_drifting_24_cycle_of_the_theory_doc():
    """docs/theory/kserver.md §6.4: the 7-request (2, 4) cycle drifting 2 points per phase, hand-checked
    there: DC pays 32 and OPT_2 exactly 14 per phase (ratio 16/7 > 9/4, drift_parked's)."""
    from online_algs.metrics import line

    P = 12
    req = np.array([r + 2 * p for p in range(P) for r in (7, 4, 2, 3, 11, 7, 11)])
    m = line(np.arange(req.max() + 3, dtype=float))
    dc = run(DoubleCoverage(m, [0, 1, 5, 9]), req).total_cost
    opt = offline_optimum(m, req, [5, 9]).value
    assert dc == pytest.approx(32 * P)
    assert opt == pytest.approx(14 * P)
