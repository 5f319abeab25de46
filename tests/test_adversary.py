"""Adversary search: hypothesis targeted search inside property tests, and the search machinery."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, target

import online_algs
from online_algs.caching import LRU, belady_misses
from online_algs.metrics import uniform
from online_algs.mts import WorkFunctionAlgorithm, offline_optimum
from proofs_check.adversary import (constructive_search, load_fixtures, local_search, random_search, replay,
                                    save_fixture)
from proofs_check.adversary.problems import ratio_of
from proofs_check.adversary.registry import kserver_dc_line, mts_lazywfa_uniform, mts_wfa_uniform, paging_lru


@settings(max_examples=60)
@given(st.integers(2, 5).flatmap(lambda k: st.tuples(st.just(k), st.lists(st.integers(0, k), min_size=k + 1,
                                                                        max_size=80))))
def test_lru_ratio_targeted(case):
    """LRU <= k * OPT (both caches start empty), searched with hypothesis.target on the ratio."""
    k, xs = case
    trace = np.asarray(xs, dtype=np.int64)
    alg = online_algs.run(LRU(capacity=k), trace).misses
    opt = belady_misses(trace, k)
    target(ratio_of(alg, opt) / k, label="LRU ratio / k")
    assert alg <= k * opt


@settings(max_examples=40)
@given(st.integers(2, 4).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.integers(0, n - 1), min_size=1,
                                                                        max_size=40))))
def test_wfa_ratio_targeted(case):
    """WFA <= (2n-1) OPT + C on elementary tasks, searched with hypothesis.target on the excess."""
    n, xs = case
    m = uniform(n)
    costs = np.zeros((len(xs), n))
    costs[np.arange(len(xs)), xs] = 0.5
    alg = online_algs.run(WorkFunctionAlgorithm(m, start=0), costs).total_cost
    opt = offline_optimum(m, costs, start=0).value
    C = 2.0 * float(np.sum(m.d.max(axis=0) - m.d[0]))
    target(alg - (2 * n - 1) * opt, label="WFA excess")
    assert alg <= (2 * n - 1) * opt + C + 1e-9


def test_incremental_matches_full_evaluation():
    for p in (mts_wfa_uniform(3), paging_lru(3), kserver_dc_line(2)):
        rng = np.random.default_rng(0)
        seq = rng.integers(0, p.menu_size, 30).tolist()
        node = p.start()
        for c in seq:
            node = p.step(node, c)
        a, o = p.evaluate(seq)
        assert node.alg == pytest.approx(a) and node.opt == pytest.approx(o)


def test_constructive_rediscovers_cruel_taskmaster():
    res = constructive_search(mts_wfa_uniform(3), 60, seed=0)
    assert res.ratio >= 0.9 * 5


def test_planted_bug_is_found():
    n = 3
    res = constructive_search(mts_lazywfa_uniform(n), 60, seed=0)
    C = 2.0 * (n - (n - 1))  # uniform metric from state 0
    assert res.alg - (2 * n - 1) * res.opt - C > 0


def test_local_beats_random_same_budget():
    p = paging_lru(3)
    loc = local_search(p, 60, evaluations=200, seed=3)
    rnd = random_search(p, 60, evaluations=200, seed=3)
    assert loc.ratio >= rnd.ratio
    assert loc.evaluations <= 200 and rnd.evaluations <= 200


def test_search_is_deterministic():
    p = paging_lru(2)
    a = local_search(p, 30, evaluations=50, seed=5)
    b = local_search(p, 30, evaluations=50, seed=5)
    assert a.seq == b.seq and a.ratio == b.ratio


def test_fixture_roundtrip(tmp_path):
    p = paging_lru(2)
    res = constructive_search(p, 40, seed=0)
    path = save_fixture(p.spec, p.algorithm, res, seed=0, method="constructive", bound=p.bound, directory=tmp_path)
    fx = load_fixtures(tmp_path)
    assert len(fx) == 1 and path.exists()
    r, a, o = replay(fx[0])
    assert r == pytest.approx(res.ratio, abs=1e-12)


def test_bundled_fixtures_replay():
    fx = load_fixtures()
    assert len(fx) >= 15
    for f in fx:
        r, _, _ = replay(f)
        assert r == pytest.approx(f["ratio"], abs=1e-9)
        assert r >= f["target"] - 1e-9
