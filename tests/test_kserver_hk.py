"""Double Coverage against h <= k servers: the (h, k) potential, its additive term, the lower-bound
families of dc_hk_family (hand-computed costs, exact OPT_h, per-step tightness) and bad input."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from online_algs import run
from online_algs.exceptions import InvalidInputError
from online_algs.kserver import (DCHKInstance, DoubleCoverage, dc_additive_term, dc_hk_additive_term, dc_hk_family,
                                 dc_hk_potential, dc_hk_ratio, offline_optimum, random_requests, schedule_cost)
from online_algs.metrics import line, random_metric

GRID = [(h, k) for k in range(1, 6) for h in range(1, k + 1)]
EXACT = [(h, k) for h, k in GRID if h == 1 or k - h <= 1]


def potential_naive(x, y):
    """The definition, by brute force: every injective map of the h adversary servers into DC's k."""
    k, h = len(x), len(y)
    c = k * (h + 1) / (k + 1)
    pair = lambda z: sum(abs(a - b) for a, b in itertools.combinations(z, 2))  # noqa: E731
    best = min(c * sum(abs(y[j] - x[p[j]]) for j in range(h)) + k / (k + 1) * pair([x[i] for i in p])
               for p in itertools.permutations(range(k), h))
    return pair(x) / (k + 1) + best


# --------------------------------------------------------------------------- potential
@given(st.integers(1, 5).flatmap(lambda k: st.tuples(
    st.lists(st.floats(-20, 20, allow_nan=False), min_size=k, max_size=k),
    st.lists(st.floats(-20, 20, allow_nan=False), min_size=1, max_size=k))))
def test_potential_equals_its_definition(xy):
    x, y = xy
    assert dc_hk_potential(x, y) == pytest.approx(potential_naive(x, y), rel=1e-9, abs=1e-9)


def test_potential_special_cases():
    m = line([0.0, 1.5, 4.0, 7.0, 11.0])
    X0 = [0, 2, 4]
    # h = k, adversary on DC's points: Chrobak-Larmore's sum_{i<j} d(x_i, x_j)
    assert dc_hk_additive_term(m, X0, X0) == pytest.approx(dc_additive_term(m, X0))
    # h = 1: c d(y, X) + S(X)/(k+1) with c = 2k/(k+1)
    x = np.array([0.0, 4.0, 11.0])
    assert dc_hk_potential(x, [6.0]) == pytest.approx(1.5 * 2.0 + 22.0 / 4)
    # the (1, 2) spread-and-squeeze start: D/3
    assert dc_hk_potential([0.0, 20.0], [0.0]) == pytest.approx(20 / 3)


def test_additive_term_on_a_tree_is_the_definition():
    m = random_metric("tree", 7, seed=4)
    X0, d = [0, 2, 3, 6], m.d
    for Y0 in ([3], [0, 6], [2, 3, 6], X0, [1, 5]):
        h, k = len(Y0), len(X0)
        c = k * (h + 1) / (k + 1)
        pair = lambda z: sum(d[a, b] for a, b in itertools.combinations(z, 2))  # noqa: E731
        want = pair(X0) / (k + 1) + min(c * sum(d[Y0[j], X0[p[j]]] for j in range(h))
                                        + k / (k + 1) * pair([X0[i] for i in p])
                                        for p in itertools.permutations(range(k), h))
        assert dc_hk_additive_term(m, X0, Y0) == pytest.approx(want, rel=1e-12)
    assert dc_hk_additive_term(m, X0, X0) == pytest.approx(dc_additive_term(m, X0))


@pytest.mark.parametrize("seed", range(4))
def test_upper_bound_on_trees(seed):
    """The paper's bound on trees with the line potential's constant (tree distances)."""
    rng = np.random.default_rng(seed)
    k = 2 + seed % 3
    h = 1 + seed % k
    m = random_metric("tree", k + 3, seed=seed)
    X0 = sorted(rng.choice(m.n, size=k, replace=False).tolist())
    Y0 = sorted(rng.choice(X0, size=h, replace=False).tolist())
    req = random_requests(m, 40, seed=seed)
    dc = run(DoubleCoverage(m, X0), req).total_cost
    opt = offline_optimum(m, req, Y0).value
    assert dc <= dc_hk_ratio(h, k) * opt + dc_hk_additive_term(m, X0, Y0) + 1e-9


@given(st.integers(0, 10_000), st.integers(1, 4), st.data())
def test_potential_steps_and_upper_bound(seed, k, data):
    """Every request of an optimal h-server schedule changes Phi by at most c * OPT's move - DC's move."""
    h = data.draw(st.integers(1, k))
    rng = np.random.default_rng(seed)
    m = random_metric("line", k + 3, seed=seed)
    pos = m.info["positions"]
    X0 = sorted(rng.choice(m.n, size=k, replace=False).tolist())
    Y0 = sorted(rng.choice(X0, size=h, replace=False).tolist())
    req = random_requests(m, 25, seed=seed + 1)
    opt = offline_optimum(m, req, Y0, method="dp")
    c = dc_hk_ratio(h, k)
    dc = DoubleCoverage(m, X0)
    dc.reset()
    phi = phi0 = dc_hk_additive_term(m, X0, Y0)
    prev, total = list(Y0), 0.0
    for r, conf in zip(req, opt.schedule):
        _, mv = dc.serve(r)
        total += mv
        om = float(np.abs(np.sort(pos[prev]) - np.sort(pos[list(conf)])).sum())
        phi2 = dc_hk_potential(np.array(dc.state), pos[list(conf)])
        assert phi2 - phi <= c * om - mv + 1e-9
        phi, prev = phi2, list(conf)
    assert total <= c * opt.value + phi0 + 1e-9
    assert phi >= 0.0


# --------------------------------------------------------------------------- families
@pytest.mark.parametrize("h, k", GRID)
def test_family_shape_and_schedule(h, k):
    inst = dc_hk_family(h, k, 3)
    assert isinstance(inst, DCHKInstance)
    assert inst.requests.dtype == np.int64 and inst.requests.ndim == 1
    assert len(inst.requests) == len(inst.schedule)
    assert len(inst.dc_initial) == k == len(set(inst.dc_initial)) and k < inst.metric.n
    assert len(inst.opt_initial) == h and set(inst.opt_initial) <= set(inst.dc_initial)
    assert inst.requests.min() >= 0 and inst.requests.max() < inst.metric.n
    for r, conf in zip(inst.requests, inst.schedule):
        assert int(r) in conf and len(conf) == h
    assert schedule_cost(inst.metric, inst.requests, inst.opt_initial, inst.schedule) == pytest.approx(
        inst.schedule_cost)
    assert inst.target == pytest.approx(k * (h + 1) / (k + 1))
    assert inst.exact == ((h, k) in EXACT)
    # deterministic: no randomness in the construction
    again = dc_hk_family(h, k, 3)
    assert np.array_equal(inst.requests, again.requests) and inst.dc_initial == again.dc_initial
    # more phases: the same prefix
    longer = dc_hk_family(h, k, 5)
    assert np.array_equal(longer.requests[:len(inst.requests)], inst.requests)


def test_family_hand_computed_costs():
    # (1, 2) sweep, points 0..3, DC {0, 2}, adversary {0}; one phase requests 1, 3, 2, 0:
    # DC 2 + 2 + 2 + 2 = 8, the single server walks 1 + 2 + 1 + 2 = 6.
    inst = dc_hk_family(1, 2, 1)
    assert inst.requests.tolist() == [1, 3, 2, 0] and inst.dc_initial == [0, 2]
    assert run(DoubleCoverage(inst.metric, inst.dc_initial), inst.requests).total_cost == 8.0
    assert offline_optimum(inst.metric, inst.requests, inst.opt_initial, method="dp").value == 6.0
    # (2, 3) drift: DC {0, 1, 9}, adversary {1, 9}; requests 3 (DC pulls 1 -> 3 and 9 -> 7: 4),
    # 2 (3 -> 2 and 0 -> 1: 2), 10 (7 -> 10: 3): DC 9; adversary 2 + 1 + 1 = 4.
    inst = dc_hk_family(2, 3, 1)
    assert inst.dc_initial == [0, 1, 9] and inst.opt_initial == [1, 9] and inst.requests.tolist() == [3, 2, 10]
    assert run(DoubleCoverage(inst.metric, inst.dc_initial), inst.requests).total_cost == 9.0
    assert offline_optimum(inst.metric, inst.requests, inst.opt_initial, method="dp").value == 4.0
    # (2, 2) drift: walker +1 pulls the anchor's server by 1 (DC 2), the anchor steps +1 (DC 2): 4 vs 2
    inst = dc_hk_family(2, 2, 1)
    assert run(DoubleCoverage(inst.metric, inst.dc_initial), inst.requests).total_cost == 4.0
    assert offline_optimum(inst.metric, inst.requests, inst.opt_initial, method="dp").value == 2.0


@pytest.mark.parametrize("h, k", EXACT)
def test_exact_families_attain_the_ratio(h, k):
    inst = dc_hk_family(h, k, 4)
    m = inst.metric
    pos = m.info["positions"]
    c = dc_hk_ratio(h, k)
    dc = DoubleCoverage(m, inst.dc_initial)
    dc.reset()
    phi = phi0 = dc_hk_additive_term(m, inst.dc_initial, inst.opt_initial)
    prev, total = inst.opt_initial, 0.0
    for r, conf in zip(inst.requests, inst.schedule):   # every step tight
        _, mv = dc.serve(r)
        total += mv
        om = float(np.abs(np.sort(pos[list(prev)]) - np.sort(pos[list(conf)])).sum())
        phi2 = dc_hk_potential(np.array(dc.state), pos[list(conf)])
        assert phi2 - phi == pytest.approx(c * om - mv, abs=1e-9)
        phi, prev = phi2, conf
    assert phi == pytest.approx(phi0)                    # periodic: Phi_T = Phi_0
    method = "dp" if h <= 2 else "flow"
    opt = offline_optimum(m, inst.requests, inst.opt_initial, method=method).value
    assert opt == pytest.approx(inst.schedule_cost)       # the adversary's schedule is optimal
    assert total == pytest.approx(c * opt, rel=1e-12)     # DC = k(h+1)/(k+1) OPT_h exactly


@pytest.mark.parametrize("h, k", [(2, 6)])
def test_parked_families_fall_short_and_say_so(h, k):
    # k > 5: no crawl family, the drift instance with parked servers ((h+1)^2/(h+2) < c)
    inst = dc_hk_family(h, k, 4)
    assert not inst.exact and inst.construction == "drift_parked"
    dc = run(DoubleCoverage(inst.metric, inst.dc_initial), inst.requests).total_cost
    opt = offline_optimum(inst.metric, inst.requests, inst.opt_initial).value
    assert dc / opt == pytest.approx(inst.ratio) and inst.ratio < inst.target


# --------------------------------------------------------------------------- bad input
def test_h_larger_than_k_rejected():
    with pytest.raises(InvalidInputError, match="1 <= h <= k"):
        dc_hk_family(3, 2)


def test_h_below_one_rejected():
    with pytest.raises(InvalidInputError, match="'h' parameter of dc_hk_family"):
        dc_hk_family(0, 2)


def test_k_below_one_rejected():
    with pytest.raises(InvalidInputError, match="'k' parameter of dc_hk_family"):
        dc_hk_family(1, 0)


def test_h_not_an_int_rejected():
    with pytest.raises(InvalidInputError, match="must be an int"):
        dc_hk_family(1.5, 3)


def test_phases_below_one_rejected():
    with pytest.raises(InvalidInputError, match="'phases' parameter"):
        dc_hk_family(1, 2, 0)


def test_ratio_rejects_h_above_k():
    with pytest.raises(InvalidInputError, match="1 <= h <= k"):
        dc_hk_ratio(4, 3)


def test_potential_rejects_more_adversary_servers():
    with pytest.raises(InvalidInputError, match="1 <= h <= k"):
        dc_hk_potential([0.0, 1.0], [0.0, 1.0, 2.0])


def test_potential_rejects_nan():
    with pytest.raises(InvalidInputError, match="NaN"):
        dc_hk_potential([0.0, np.nan], [0.0])


def test_additive_term_rejects_a_metric_dc_cannot_run_on():
    with pytest.raises(InvalidInputError, match="line or a tree metric"):
        dc_hk_additive_term(random_metric("general", 5, seed=0), [0, 1], [0])


def test_additive_term_rejects_repeated_adversary_points():
    with pytest.raises(InvalidInputError, match="h distinct"):
        dc_hk_additive_term(line([0.0, 1.0, 2.0, 3.0]), [0, 1, 2], [1, 1])


def test_additive_term_rejects_h_above_k():
    with pytest.raises(InvalidInputError, match="1 <= h <= k"):
        dc_hk_additive_term(line([0.0, 1.0, 2.0, 3.0]), [0, 1], [0, 1, 2])


# --------------------------------------------------------------------------- trees: the potential step, checked
def _tree_potential(m, state, Y, h, k):
    """The (h, k) potential on a tree: DC's servers given as DoubleCoverage's public tree state."""
    import networkx as nx
    from scipy.optimize import linear_sum_assignment

    g, nodes = m.info["graph"], list(m.info["nodes"])
    allnodes = nodes + [v for v in g.nodes if v not in set(nodes)]
    D = dict(nx.all_pairs_dijkstra_path_length(g))

    def ends(p):
        a, b, off = p
        if a == b:
            return [(allnodes[a], 0.0)]
        length = g.edges[allnodes[a], allnodes[b]]["weight"]
        return [(allnodes[a], off), (allnodes[b], length - off)]

    def dist(p, q):
        if p[0] != p[1] and p[:2] == q[:2]:
            return abs(p[2] - q[2])
        return min(x + D[u][v] + y for u, x in ends(p) for v, y in ends(q))

    c = k * (h + 1) / (k + 1)
    X = list(state)
    Yp = [(y, y, 0.0) for y in Y]
    pair = lambda z: sum(dist(a, b) for a, b in itertools.combinations(z, 2))  # noqa: E731
    best = np.inf
    for A in itertools.combinations(range(k), h):
        C = np.array([[dist(y, X[i]) for i in A] for y in Yp])
        ri, ci = linear_sum_assignment(C)
        best = min(best, c * C[ri, ci].sum() + k / (k + 1) * pair([X[i] for i in A]))
    return pair(X) / (k + 1) + best


@pytest.mark.parametrize("seed", range(5))
def test_potential_steps_on_steiner_trees(seed):
    """Not proved on trees (docs/theory/kserver.md §5): the line potential with tree distances,
    checked step by step along an optimal schedule, on trees whose inner nodes are not all points."""
    import networkx as nx
    from scipy.optimize import linear_sum_assignment

    from online_algs.metrics import tree

    rng = np.random.default_rng(seed)
    g = nx.Graph()
    for v in range(1, 9):
        g.add_edge(int(rng.integers(0, v)), v, weight=float(rng.uniform(0.5, 2.0)))
    leaves = [v for v in g.nodes if g.degree(v) == 1]
    pts = leaves + [v for v in g.nodes if v not in leaves][: max(0, 6 - len(leaves))]
    m = tree(g, nodes=pts)
    k = 2 + seed % 3
    h = 1 + seed % k
    X0 = sorted(rng.choice(m.n, size=k, replace=False).tolist())
    Y0 = sorted(rng.choice(X0, size=h, replace=False).tolist())
    req = random_requests(m, 15, seed=seed)
    opt = offline_optimum(m, req, Y0, method="dp")
    c = dc_hk_ratio(h, k)
    dc = DoubleCoverage(m, X0)
    dc.reset()
    phi = _tree_potential(m, dc.state, Y0, h, k)
    assert phi == pytest.approx(dc_hk_additive_term(m, X0, Y0))
    prev = list(Y0)
    for r, conf in zip(req, opt.schedule):
        _, mv = dc.serve(r)
        C = m.d[np.ix_(prev, list(conf))]
        ri, ci = linear_sum_assignment(C)
        phi2 = _tree_potential(m, dc.state, list(conf), h, k)
        assert phi2 - phi <= c * C[ri, ci].sum() - mv + 1e-9
        phi, prev = phi2, list(conf)
