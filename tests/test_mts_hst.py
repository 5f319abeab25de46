"""HST type, random HSTs, the FRT embedding and its distortion."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from naive_mts_entropic import naive_tree_metric

from online_algs.exceptions import InvalidInputError
from online_algs.metrics import FiniteMetric, random_metric, uniform
from online_algs.mts import HST, distortion, frt_embedding, random_hst, random_hst_metric
from online_algs.testing.strategies import metrics, seeds


def _small():
    #        0
    #      /   \
    #     1     2 (leaf)
    #    / \
    #   3   4
    return HST([-1, 0, 0, 1, 1], [0.0, 2.0, 5.0, 1.0, 1.5])


# ----------------------------------------------------------------------- the type
def test_arrays_of_a_small_tree():
    h = _small()
    assert h.root == 0 and h.n_nodes == 5 and h.n_leaves == 3
    assert list(h.leaves) == [2, 3, 4]
    assert list(h.point_of_node) == [-1, -1, 0, 1, 2]
    assert list(h.n_leaves_below) == [3, 2, 1, 1, 1]
    assert list(h.depth) == [0, 1, 1, 2, 2]
    assert list(h.children(0)) == [1, 2] and list(h.children(1)) == [3, 4] and h.children(3).size == 0
    assert h.order[0] == 0 and all(np.flatnonzero(h.order == h.parent[v])[0] < np.flatnonzero(h.order == v)[0]
                                   for v in range(1, 5))
    np.testing.assert_allclose(h.rootdist, [0, 2, 5, 3, 3.5])
    d = h.metric().d
    np.testing.assert_allclose(d, [[0, 8, 8.5], [8, 0, 2.5], [8.5, 2.5, 0]])
    assert h.metric().kind == "hst" and h.metric().info["hst"] is h
    assert h.tree_distance(0, 2) == pytest.approx(8.5)
    assert h.lca(3, 4) == 1 and h.lca(2, 3) == 0


def test_custom_leaf_order_and_levels():
    h = HST([-1, 0, 0, 1, 1], [0.0, 2.0, 5.0, 1.0, 1.5], leaves=[4, 2, 3], level=[9, 5, 5, 1, 1])
    assert list(h.leaves) == [4, 2, 3] and list(h.point_of_node) == [-1, -1, 1, 2, 0]
    assert list(h.level) == [9, 5, 5, 1, 1]
    np.testing.assert_allclose(h.metric().d, naive_tree_metric(h))


@pytest.mark.parametrize("depth, b", [(1, 5), (2, 3), (3, 2), (4, 2)])
def test_balanced(depth, b):
    h = HST.balanced(depth, b, ratio=3.0)
    assert h.n_leaves == b ** depth and h.height == depth
    assert set(h.depth[h.leaves]) == {depth}
    np.testing.assert_allclose(h.length[h.leaves], 1.0)
    assert list(h.level[h.leaves]) == [0] * h.n_leaves and h.level[h.root] == depth
    np.testing.assert_allclose(h.metric().d, naive_tree_metric(h))
    FiniteMetric(h.metric().d)  # a valid metric


@given(n=st.integers(1, 40), seed=seeds)
def test_random_hst_is_an_hst_with_valid_metric(n, seed):
    h = random_hst(n, seed)
    assert h.n_leaves == n
    # edge lengths halve (ratio 2) from each level to the next
    nonroot = h.parent >= 0
    np.testing.assert_allclose(h.length[nonroot], 0.5 ** (h.depth[nonroot] - 1))
    if n > 1:
        kids = np.diff(h.child_ptr)
        assert kids[kids > 0].min() >= 2  # random_hst never makes single-child chains
    d = h.metric().d
    np.testing.assert_allclose(d, naive_tree_metric(h), atol=1e-12)
    if n > 1:
        FiniteMetric(d)


def test_random_hst_metric_matches_random_metric():
    m = random_metric("hst", 9, seed=4)
    assert m.kind == "hst" and m.n == 9 and isinstance(m.info["hst"], HST)
    assert random_hst_metric(9, seed=7) == random_hst_metric(9, seed=7)
    a, b = random_hst(12, seed=1), random_hst(12, seed=1)
    assert a == b and hash(a) == hash(b)


def test_subtree_masses_and_emd(rng):
    h = random_hst(15, seed=3)
    x = rng.dirichlet(np.ones(15))
    y = rng.dirichlet(np.ones(15))
    X = h.subtree_masses(x)
    assert X[h.root] == pytest.approx(1.0)
    for v in range(h.n_nodes):
        ch = h.children(v)
        if ch.size:
            assert X[v] == pytest.approx(X[ch].sum())
    from naive_mts_entropic import naive_transport

    assert h.emd(x, y) == pytest.approx(naive_transport(h.metric().d, x, y), rel=1e-7, abs=1e-9)


def test_pickle_roundtrip():
    h = random_hst(10, seed=2)
    h2 = pickle.loads(pickle.dumps(h))
    assert h2 == h and np.array_equal(h2.metric().d, h.metric().d)
    assert not h2.parent.flags.writeable


# ------------------------------------------------------------------ rejections
def test_reject_two_roots():
    with pytest.raises(InvalidInputError, match="exactly one root"):
        HST([-1, -1, 0], [0, 1, 1])


def test_reject_no_root():
    with pytest.raises(InvalidInputError, match="exactly one root"):
        HST([1, 0], [1, 1])


def test_reject_cycle():
    with pytest.raises(InvalidInputError, match="does not reach the root"):
        HST([-1, 2, 1, 0], [0, 1, 1, 1])


def test_reject_self_loop():
    with pytest.raises(InvalidInputError, match="self-loop"):
        HST([-1, 1, 0], [0, 1, 1])


def test_reject_parent_out_of_range():
    with pytest.raises(InvalidInputError, match="node ids"):
        HST([-1, 0, 7], [0, 1, 1])


def test_reject_float_parent():
    with pytest.raises(InvalidInputError, match="integer array"):
        HST([-1.0, 0.0], [0, 1])


def test_reject_length_shape():
    with pytest.raises(InvalidInputError, match="must have shape"):
        HST([-1, 0, 0], [0, 1])


def test_reject_nonpositive_length():
    with pytest.raises(InvalidInputError, match="positive and finite"):
        HST([-1, 0, 0], [0, 1, 0])


def test_reject_nan_length():
    with pytest.raises(InvalidInputError, match="positive and finite"):
        HST([-1, 0, 0], [0, 1, np.nan])


def test_reject_bad_leaves():
    with pytest.raises(InvalidInputError, match="permutation of the 2 childless"):
        HST([-1, 0, 0], [0, 1, 1], leaves=[1, 0])


def test_reject_bad_level():
    with pytest.raises(InvalidInputError, match="'level'"):
        HST([-1, 0, 0], [0, 1, 1], level=[1, 0])


def test_reject_balanced_depth():
    with pytest.raises(InvalidInputError, match="'depth'"):
        HST.balanced(0, 2)


def test_reject_balanced_ratio():
    with pytest.raises(InvalidInputError, match="'ratio'"):
        HST.balanced(2, 2, ratio=0.5)


def test_reject_balanced_too_large():
    with pytest.raises(InvalidInputError, match="2,000,000"):
        HST.balanced(30, 2)


def test_reject_random_hst_n():
    with pytest.raises(InvalidInputError, match="'n_leaves'"):
        random_hst(0, 1)


def test_reject_random_hst_branching():
    with pytest.raises(InvalidInputError, match="'max_branching'"):
        random_hst(5, 1, max_branching=1)


def test_reject_random_hst_seed():
    with pytest.raises(InvalidInputError, match="'seed'"):
        random_hst(5, -1)


def test_reject_subtree_masses_shape():
    with pytest.raises(InvalidInputError, match="shape"):
        _small().subtree_masses([0.5, 0.5])


# ------------------------------------------------------------------------- FRT
@given(m=metrics(min_n=2, max_n=12), seed=seeds)
def test_frt_dominates_and_separates(m, seed):
    h, lop = frt_embedding(m, seed=seed)
    assert h.n_leaves == m.n and len(set(h.leaves[lop].tolist())) == m.n
    dt = naive_tree_metric(h)[np.ix_(lop, lop)]
    assert np.all(dt >= m.d * (1 - 1e-12))
    np.testing.assert_allclose(h.distance_matrix()[np.ix_(lop, lop)], dt, rtol=1e-12, atol=1e-12)
    # structure: levels decrease by one per edge, leaves at level 0, edge lengths 2^(i+1) (scaled)
    nonroot = h.parent >= 0
    assert np.all(h.level[h.parent[nonroot]] == h.level[nonroot] + 1)
    assert np.all(h.level[h.leaves] == 0)
    scale = m.min_distance
    np.testing.assert_allclose(h.length[nonroot], scale * 2.0 ** (h.level[nonroot] + 1))
    dist = distortion(m, h, lop)
    assert dist.min >= 1 - 1e-12 and dist.max >= dist.mean >= dist.min


def test_frt_same_seed_same_tree():
    m = random_metric("euclidean", 20, seed=3)
    a = frt_embedding(m, seed=5)
    b = frt_embedding(m, seed=5)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])
    c = frt_embedding(m, seed=6)
    assert not (c[0] == a[0])


def test_frt_top_level_and_radius_rule():
    """delta = ceil(log2(diam / min d)) + 1 levels below the root; a pair at distance d first
    splits at a level i with 2^(i+1) > d / 2 (radius of the level-(i+1) cluster >= d / 2)."""
    m = random_metric("line", 16, seed=1)
    for s in range(10):
        h, lop = frt_embedding(m, seed=s)
        delta = int(np.ceil(np.log2(m.diameter / m.min_distance))) + 1
        assert h.level[h.root] == delta
        n = m.n
        for i in range(n):
            for j in range(i + 1, n):
                a, b = h.leaves[lop[i]], h.leaves[lop[j]]
                lev = h.level[h.lca(a, b)]  # the pair is in one level-`lev` cluster
                # both within beta * 2^(lev-1) < 2^lev of one centre: d < 2^(lev+1) (scaled)
                assert m.d[i, j] / m.min_distance < 2.0 ** (lev + 1) + 1e-9


def test_frt_uniform_metric_mean_stretch_reasonable():
    m = uniform(8)
    means = [distortion(m, *frt_embedding(m, seed=s)).mean for s in range(30)]
    H = sum(1 / k for k in range(1, 9))
    assert 1.0 <= np.mean(means) <= 16 / np.log(2) * H


def test_frt_single_point():
    h, lop = frt_embedding(uniform(1), seed=0)
    assert h.n_leaves == 1 and list(lop) == [0]


def test_frt_accepts_matrix():
    h, lop = frt_embedding(np.array([[0, 1.0], [1.0, 0]]), seed=0)
    assert h.tree_distance(lop[0], lop[1]) >= 1.0


def test_reject_frt_bad_metric():
    with pytest.raises(InvalidInputError, match="not a valid metric"):
        frt_embedding(np.array([[0, 1.0], [2.0, 0]]))


def test_reject_frt_seed():
    with pytest.raises(InvalidInputError, match="'seed'"):
        frt_embedding(uniform(3), seed=-2)


def test_reject_distortion_hst_type():
    with pytest.raises(InvalidInputError, match="must be an HST"):
        distortion(uniform(3), "tree", np.arange(3))


def test_reject_distortion_leaf_map():
    h, _ = frt_embedding(uniform(3), seed=0)
    with pytest.raises(InvalidInputError, match="leaf_of_point"):
        distortion(uniform(3), h, np.array([0, 1, 5]))
