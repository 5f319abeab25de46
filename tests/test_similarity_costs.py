"""Cost model, gain and index backends of the similarity package."""

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

from naive_similarity import naive_gain, naive_serving_cost
from online_algs.similarity import (BruteForceIndex, Datastore, FaissFlatIndex, FaissIVFIndex, FaissSlotIndex, answer,
                                    gain,
                                    gain_and_supergradient, pairwise_distances, recall_at_k, serving_cost)
from online_algs.similarity.costs import candidate_mask


def _instance(seed, n=None):
    rng = np.random.default_rng(seed)
    n = n or int(rng.integers(3, 8))
    k = int(rng.integers(1, min(n, 3) + 1))
    cat = rng.uniform(0, 3, size=(n, 2))
    q = rng.uniform(0, 3, size=2)
    cf = float(rng.choice([0.0, 0.3, 1.0, 4.0]))
    cached = set(rng.choice(n, size=int(rng.integers(0, n + 1)), replace=False).tolist())
    return cat, q, k, cf, cached


def test_serving_cost_docstring_example():
    cat = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0]])
    assert serving_cost([0.9, 0.0], {0}, cat, k=2, fetch_cost=1.0) == pytest.approx(2.0)
    # all cached: the two nearest, no fetch
    assert serving_cost([0.9, 0.0], {0, 1, 2}, cat, k=2, fetch_cost=1.0) == pytest.approx(0.9 + 0.1)
    # nothing cached: two nearest plus two fetches
    assert serving_cost([0.9, 0.0], set(), cat, k=2, fetch_cost=1.0) == pytest.approx(1.0 + 2.0)


@given(st.integers(0, 10**6))
def test_serving_cost_matches_brute_force(seed):
    cat, q, k, cf, cached = _instance(seed)
    assert serving_cost(q, cached, cat, k, cf) == pytest.approx(naive_serving_cost(q, cached, cat, k, cf), abs=1e-12)


def test_answer_ids_and_flags():
    cat = np.array([[0.0], [1.0], [2.0], [10.0]])
    ids, local, costs = answer([1.9], {0}, cat, k=3, fetch_cost=0.5)
    # costs: 0 local 1.9; 1 remote 0.9+0.5; 2 remote 0.1+0.5 -> order 2, 1, 0
    assert ids.tolist() == [2, 1, 0]
    assert local.tolist() == [False, False, True]
    np.testing.assert_allclose(costs, [0.6, 1.4, 1.9])


@pytest.mark.parametrize("metric, scipy_name", [("sqeuclidean", "sqeuclidean"), ("cityblock", "cityblock"),
                                                ("cosine", "cosine"), ("euclidean", "euclidean")])
def test_pairwise_metrics_match_scipy(metric, scipy_name):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(5, 4)), rng.normal(size=(7, 4))
    np.testing.assert_allclose(pairwise_distances(a, b, metric), cdist(a, b, scipy_name), atol=1e-12)


def test_callable_metric_and_serving_cost_metric_parameter():
    rng = np.random.default_rng(2)
    cat, q = rng.normal(size=(6, 3)), rng.normal(size=3)
    l1 = serving_cost(q, {1, 2}, cat, 2, 0.5, metric="cityblock")
    f = serving_cost(q, {1, 2}, cat, 2, 0.5, metric=lambda x, V: np.abs(V - x).sum(axis=1))
    assert l1 == pytest.approx(f)


@given(st.integers(0, 10**6))
def test_gain_is_the_fill_extension(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 9))
    k = int(rng.integers(1, n + 1))
    cf = float(rng.choice([0.0, 0.5, 2.0]))
    d = rng.uniform(0, 3, size=n)
    x = rng.random(n)
    x[rng.random(n) < 0.3] = 0.0
    assert gain(d, x, k, cf) == pytest.approx(naive_gain(d, x, k, cf), abs=1e-10)


@given(st.integers(0, 10**6))
def test_gain_of_integral_cache_is_cost_difference(seed):
    cat, q, k, cf, cached = _instance(seed)
    d = np.linalg.norm(cat - q, axis=1)
    x = np.zeros(len(cat))
    x[list(cached)] = 1.0
    diff = serving_cost(q, set(), cat, k, cf) - serving_cost(q, cached, cat, k, cf)
    assert gain(d, x, k, cf) == pytest.approx(diff, abs=1e-12)


@given(st.integers(0, 10**6))
def test_supergradient_inequality_and_support(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 12))
    k = int(rng.integers(1, min(4, n) + 1))
    cf = float(rng.choice([0.2, 1.0, 3.0]))
    d = rng.uniform(0, 3, size=n)
    x, y = rng.random(n), rng.random(n)
    Gx, g = gain_and_supergradient(d, x, k, cf)
    assert Gx == pytest.approx(gain(d, x, k, cf))
    assert gain(d, y, k, cf) <= Gx + g @ (y - x) + 1e-10
    assert np.all(g >= 0) and np.all(g <= cf + 1e-12)
    assert np.all(g[~candidate_mask(d, k, cf)] == 0)


def test_gain_is_concave_along_a_segment():
    rng = np.random.default_rng(3)
    d = rng.uniform(0, 2, size=9)
    x, y = rng.random(9), rng.random(9)
    for lam in np.linspace(0, 1, 11):
        mid = gain(d, lam * x + (1 - lam) * y, 3, 1.0)
        assert mid >= lam * gain(d, x, 3, 1.0) + (1 - lam) * gain(d, y, 3, 1.0) - 1e-12


def test_datastore_cost_equals_serving_cost():
    rng = np.random.default_rng(4)
    cat = rng.normal(size=(20, 5))
    ds = Datastore(cat, k=3, fetch_cost=0.7)
    for _ in range(10):
        q = rng.normal(size=5)
        S = set(rng.choice(20, 6, replace=False).tolist())
        assert ds.cost(q, S) == pytest.approx(serving_cost(q, S, cat, 3, 0.7))


# ----------------------------------------------------------------- indexes
SLOTS = lambda d: FaissSlotIndex(d, 60)  # noqa: E731


@pytest.mark.parametrize("cls", [BruteForceIndex, FaissFlatIndex, SLOTS])
def test_index_add_search_remove_stable_ids(cls):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(50, 8))
    ids = np.arange(100, 150)
    idx = cls(8)
    idx.add(ids, X)
    assert len(idx) == 50
    D, I = idx.search(X[:3], 1)
    assert I[:, 0].tolist() == [100, 101, 102]
    np.testing.assert_allclose(D[:, 0], 0.0, atol=1e-3)
    idx.remove([100, 101])
    assert len(idx) == 48 and idx.contains([100, 102]).tolist() == [False, True]
    D, I = idx.search(X[:1], 3)
    assert 100 not in I[0]
    ref = np.sort(np.linalg.norm(X[2:] - X[0], axis=1))[:3]
    np.testing.assert_allclose(D[0], ref, rtol=1e-5)


@pytest.mark.parametrize("cls", [BruteForceIndex, FaissFlatIndex, SLOTS])
def test_index_pads_when_fewer_than_k(cls):
    idx = cls(2)
    idx.add([7], [[0.0, 0.0]])
    D, I = idx.search([[1.0, 0.0]], 3)
    assert I[0].tolist() == [7, -1, -1]
    assert D[0, 0] == pytest.approx(1.0) and np.all(np.isinf(D[0, 1:]))


def test_faiss_flat_matches_brute_force_and_pickles():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(300, 16))
    bf, ff = BruteForceIndex(16), FaissFlatIndex(16)
    bf.add(np.arange(300), X)
    ff.add(np.arange(300), X)
    Q = rng.normal(size=(20, 16))
    assert recall_at_k(ff, bf, Q, 5) == 1.0
    ff2 = pickle.loads(pickle.dumps(ff))
    np.testing.assert_array_equal(ff2.search(Q, 5)[1], ff.search(Q, 5)[1])


def test_ivf_exact_when_all_lists_probed_and_supports_remove():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(400, 8))
    bf = BruteForceIndex(8)
    bf.add(np.arange(400), X)
    ivf = FaissIVFIndex(8, X, nlist=10, nprobe=10)
    ivf.add(np.arange(400), X)
    Q = rng.normal(size=(30, 8))
    assert recall_at_k(ivf, bf, Q, 5) == 1.0
    ivf.set_nprobe(1)
    assert 0.0 < recall_at_k(ivf, bf, Q, 5) <= 1.0
    ivf.remove([0, 1, 2])
    assert len(ivf) == 397 and not ivf.contains([0]).any()


def test_slot_index_reuses_slots_matches_brute_force_and_pickles():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(200, 6))
    slots, bf = FaissSlotIndex(6, 30), BruteForceIndex(6)
    live = []
    for step in range(60):  # random inserts and evictions, always <= 30 stored
        if len(live) == 30 or (live and rng.random() < 0.4):
            o = live.pop(int(rng.integers(len(live))))
            slots.remove([o])
            bf.remove([o])
        else:
            o = int(rng.choice(np.setdiff1d(np.arange(200), live)))
            live.append(o)
            slots.add([o], X[[o]])
            bf.add([o], X[[o]])
    Q = rng.normal(size=(25, 6))
    assert recall_at_k(slots, bf, Q, 5) == 1.0
    np.testing.assert_allclose(slots.search(Q, 5)[0], bf.search(Q, 5)[0], rtol=1e-5)
    s2 = pickle.loads(pickle.dumps(slots))
    np.testing.assert_array_equal(s2.search(Q, 5)[1], slots.search(Q, 5)[1])
    s2.add([999], X[[0]])  # the unpickled copy writes into its own memory
    assert 999 not in slots.search(X[[0]], 1)[1]
