"""Offline optima, the MTS / gain-caching / k-server adapters and the workloads."""

import itertools

import numpy as np
import pytest

from naive_similarity import naive_dynamic_optimum, naive_greedy_static, naive_serving_cost
from online_algs.similarity import (Datastore, GainCachingProblem, KServerView, as_mts, best_static, dynamic_optimum,
                                    empty_costs, enumerate_caches, gaussian_mixture_workload, greedy_static,
                                    lp_static_bound, mnist_workload, movielens_workload, mts_optimum, schedule_cost,
                                    serving_cost, static_gain)


def _tiny(seed, n=4, T=3, k=1, cf=1.0, uc=None):
    rng = np.random.default_rng(seed)
    cat = rng.uniform(0, 3, size=(n, 2))
    q = cat[rng.integers(0, n, size=T)] + rng.normal(0, 0.3, size=(T, 2))
    return Datastore(cat, k=k, fetch_cost=cf, update_cost=uc), q


@pytest.mark.parametrize("seed, k, uc", [(0, 1, None), (1, 2, 0.4), (2, 1, 3.0)])
def test_dynamic_optimum_equals_brute_force_over_schedules(seed, k, uc):
    ds, q = _tiny(seed, k=k, uc=uc)
    res = dynamic_optimum(ds, q, 2, return_schedule=True)
    assert res["cost"] == pytest.approx(naive_dynamic_optimum(ds, q, 2), abs=1e-9)
    assert schedule_cost(ds, q, res["schedule"]) == pytest.approx(res["cost"], abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_mts_view_optimum_equals_dp(seed):
    ds, q = _tiny(seed, n=6, T=15, k=1 + seed % 2)
    assert mts_optimum(ds, q, 3) == pytest.approx(dynamic_optimum(ds, q, 3)["cost"], abs=1e-9)


def test_symmetrisation_identity_on_random_schedules():
    ds, q = _tiny(3, n=5, T=8, uc=0.7)
    view = as_mts(ds, q, 2, terminal=False)
    rng = np.random.default_rng(0)
    for _ in range(20):
        sched = [int(rng.integers(len(view.states))) for _ in range(len(q))]
        prev, sym = view.start, 0.0
        for t, s in enumerate(sched):
            sym += view.metric.d[prev, s] + view.costs[t, s]
            prev = s
        asym = schedule_cost(ds, q, [view.states[s] for s in sched])
        assert asym == pytest.approx(sym + 0.5 * ds.update_cost * len(view.states[sched[-1]]), abs=1e-9)


def test_kserver_view_matching_cost_is_the_hamming_metric():
    ds, q = _tiny(4, n=5, T=6)
    kv = KServerView(ds, 2)
    caches = [frozenset(), frozenset({1}), frozenset({1, 3}), frozenset({0, 4}), frozenset({4})]
    for a, b in itertools.product(caches, repeat=2):
        mv = kv.movement(kv.config_of(a), kv.config_of(b))
        assert mv == pytest.approx(0.5 * ds.update_cost * len(a ^ b), abs=1e-8)
    sched = [frozenset({1}), frozenset({1, 3}), frozenset({3}), frozenset({0, 3}), frozenset({0, 3}), frozenset({0})]
    assert kv.service(kv.config_of({1, 3}), q[0]) == pytest.approx(ds.cost(q[0], {1, 3}))
    assert kv.schedule_cost(q, sched) == pytest.approx(
        schedule_cost(ds, q, sched) - 0.5 * ds.update_cost * len(sched[-1]), abs=1e-7)


@pytest.mark.parametrize("seed, k", [(0, 1), (1, 2), (2, 3)])
def test_greedy_static_matches_naive_and_bounds(seed, k):
    cat, q, meta = gaussian_mixture_workload(n_catalog=9, T=25, dim=2, n_clusters=3, seed=seed)
    ds = Datastore(cat, k=k, fetch_cost=meta["nn_distance"] * 2)
    h = k + 1
    g = greedy_static(ds, q, h)
    assert g["ids"].tolist() == naive_greedy_static(ds, q, h)
    assert g["gain"] == pytest.approx(static_gain(ds, q, g["ids"]), abs=1e-9)
    best = best_static(ds, q, h, method="exact")
    brute = max(static_gain(ds, q, S) for S in itertools.combinations(range(9), h))
    assert best["gain"] == pytest.approx(brute, abs=1e-9)
    assert g["gain"] >= (1 - 1 / np.e) * best["gain"] - 1e-9
    assert lp_static_bound(ds, q, h)["bound"] >= best["gain"] - 1e-6


def test_best_static_greedy_mode_has_lp_upper():
    cat, q, meta = gaussian_mixture_workload(n_catalog=40, T=60, dim=3, seed=4)
    ds = Datastore(cat, k=2, fetch_cost=meta["nn_distance"])
    res = best_static(ds, q, 5, method="greedy")
    assert not res["exact"] and res["upper"] >= res["gain"] > 0


def test_empty_costs_and_gain_problem():
    ds, q = _tiny(5, n=6, T=5, k=2)
    e0 = empty_costs(ds, q)
    for t in range(5):
        assert e0[t] == pytest.approx(naive_serving_cost(q[t], set(), ds.catalog, 2, ds.fetch_cost))
    prob = GainCachingProblem(ds)
    x = np.zeros(6)
    x[[1, 4]] = 1
    assert prob.gain(q[0], x) == pytest.approx(e0[0] - serving_cost(q[0], {1, 4}, ds.catalog, 2, ds.fetch_cost))
    g = prob.supergradient(q[0], np.full(6, 0.5))
    assert g.shape == (6,) and np.all(g >= 0) and np.all(g <= ds.fetch_cost + 1e-12)


def test_enumerate_caches_counts():
    assert len(enumerate_caches(5, 2)) == 1 + 5 + 10
    assert len(enumerate_caches(5, 2, full=True)) == 10


def test_workloads_seeded_and_shaped():
    c1, q1, m1 = gaussian_mixture_workload(n_catalog=50, T=30, dim=3, seed=1)
    c2, q2, _ = gaussian_mixture_workload(n_catalog=50, T=30, dim=3, seed=1)
    c3, q3, _ = gaussian_mixture_workload(n_catalog=50, T=30, dim=3, seed=2)
    assert c1.shape == (50, 3) and q1.shape == (30, 3)
    assert np.array_equal(q1, q2) and not np.array_equal(q1, q3)
    c, q, m = mnist_workload(n_catalog=100, T=40, popularity="drift", period=10, seed=0)
    assert c.shape == (100, 784) and q.shape == (40, 784) and m["items"].max() < 100
    assert 0 <= c.min() and c.max() <= 1
    c, q, m = mnist_workload(n_catalog=100, T=40, dim=12, seed=0)
    assert c.shape == (100, 12) and q.shape == (40, 12)
    c, q, m = movielens_workload(dim=8, n_items=50, T=100, seed=0)
    assert c.shape == (50, 8) and q.shape == (100, 8)
    np.testing.assert_allclose(q, c[m["items"]])  # noise=0: queries are item embeddings
