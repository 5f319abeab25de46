import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from online_algs import datasets
from online_algs.analysis import (characterise_trace, doubling_dimension, levina_bickel, one_hit_wonder_share,
                                  popularity_drift, recommend_lens, reuse_distance, trace_summary, twonn,
                                  working_set_growth, zipf_exponent)
from online_algs.analysis.doubling import frt_distortion
from online_algs.analysis.intrinsic import knn_distances
from online_algs.analysis.synthetic import uniform_cube
from online_algs.exceptions import InvalidInputError, NumericalWarning


def naive_reuse(trace):
    out = []
    for t, x in enumerate(trace):
        prev = [s for s in range(t) if trace[s] == x]
        if not prev:
            out.append(-1)
        else:
            out.append(len(set(trace[prev[-1] + 1:t])))
    return np.array(out)


@given(st.lists(st.integers(0, 6), min_size=1, max_size=60))
def test_reuse_distance_kernel_matches_naive(xs):
    t = np.array(xs)
    np.testing.assert_array_equal(reuse_distance(t), naive_reuse(t))


def test_reuse_distance_predicts_lru_hits():
    # a request hits an LRU cache of size C iff 0 <= reuse distance < C
    from collections import OrderedDict

    rng = np.random.default_rng(0)
    t = rng.integers(0, 30, size=2000)
    rd = reuse_distance(t)
    C = 7
    cache = OrderedDict()
    hits = 0
    for x in t:
        if x in cache:
            hits += 1
            cache.move_to_end(x)
        else:
            cache[x] = None
            if len(cache) > C:
                cache.popitem(last=False)
    assert hits == int(((rd >= 0) & (rd < C)).sum())


def test_trace_statistics_small():
    t = np.array([0, 1, 0, 2, 0, 1, 3])
    assert one_hit_wonder_share(t) == pytest.approx(0.5)
    ts, ws = working_set_growth(t, n_points=7)
    assert ws[-1] == 4 and np.all(np.diff(ws) >= 0)
    s = trace_summary(np.tile(np.arange(10), 10))
    assert s["distinct"] == 10 and s["cold_share"] == pytest.approx(0.1)


def test_zipf_exponent_recovers():
    rng = np.random.default_rng(1)
    p = np.arange(1, 501, dtype=float) ** -1.0
    p /= p.sum()
    assert zipf_exponent(rng.choice(500, 100_000, p=p), min_count=1) == pytest.approx(1.0, rel=0.05)


def test_drift_stationary_vs_shifting():
    rng = np.random.default_rng(2)
    stationary = rng.integers(0, 50, 20_000)
    shifting = np.concatenate([rng.integers(0, 50, 10_000), rng.integers(50, 100, 10_000)])
    assert popularity_drift(shifting).max() > 0.9
    assert popularity_drift(stationary).max() < 0.2


def test_intrinsic_dimension_on_cube_and_dups():
    X = uniform_cube(3000, 3, seed=0)
    assert levina_bickel(X, boxsize=1.0).estimate == pytest.approx(3, rel=0.1)
    assert twonn(X, boxsize=1.0).estimate == pytest.approx(3, rel=0.1)
    with pytest.warns(NumericalWarning, match="duplicate"):
        est = twonn(np.vstack([X, X[:10]]), boxsize=1.0)
    assert est.n_duplicates_removed == 10


def test_intrinsic_bad_input():
    with pytest.raises(InvalidInputError, match="NaN"):
        twonn(np.array([[0.0, np.nan], [1, 1], [2, 2]]))
    with pytest.raises(InvalidInputError, match="more distinct points than k"):
        levina_bickel(np.random.default_rng(0).random((5, 2)), k=10)
    with pytest.raises(InvalidInputError, match="at least 3"):
        twonn(np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]]))
    with pytest.raises(InvalidInputError, match="2-d"):
        twonn(np.zeros(5))


def test_intrinsic_rejects_bad_parameters():
    # each crashed inside numpy/scipy (IndexError, ValueError) or, for a negative boxsize, returned 13 for a 3-cube
    X = uniform_cube(200, 3, 0)
    with pytest.raises(InvalidInputError, match="'n_boot' parameter of levina_bickel must be an int >= 1. Got 0"):
        levina_bickel(X, n_boot=0)
    with pytest.raises(InvalidInputError, match="'seed' parameter of twonn"):
        twonn(X, seed=-1)
    with pytest.raises(InvalidInputError, match="'boxsize' parameter of levina_bickel .* \\(0.0, inf\\). Got -1.0"):
        levina_bickel(X, boxsize=-1.0)
    with pytest.raises(InvalidInputError, match="periodic box \\[0, boxsize\\) = \\[0, 0.5\\)"):
        twonn(X, boxsize=0.5)
    with pytest.raises(InvalidInputError, match="'discard' parameter of twonn .* \\[0.0, 1.0\\). Got -0.5"):
        twonn(X, discard=-0.5)
    with pytest.raises(InvalidInputError, match="'k' parameter of knn_distances"):
        knn_distances(X, 0)


def test_trace_statistics_reject_bad_parameters():
    # min_count = 0 fitted the never-requested ids too; top = -1 silently dropped an item; n_points < 0 crashed
    with pytest.raises(InvalidInputError, match="'min_count' parameter of zipf_exponent must be an int >= 1"):
        zipf_exponent([0, 0, 1, 1, 5, 5], min_count=0)
    with pytest.raises(InvalidInputError, match="'top' parameter of popularity_drift must be an int >= 1. Got -1"):
        popularity_drift(np.arange(40) % 5, top=-1)
    with pytest.raises(InvalidInputError, match="'n_points' parameter of working_set_growth"):
        working_set_growth(np.arange(40) % 5, n_points=-3)


def test_doubling_rejects_bad_parameters():
    X = uniform_cube(50, 2, 0)
    with pytest.raises(InvalidInputError, match="'n_radii' parameter of doubling_dimension must be an int >= 1"):
        doubling_dimension(X, n_radii=0)
    with pytest.raises(InvalidInputError, match="'seed' parameter of doubling_dimension"):
        doubling_dimension(X, seed=-1)
    with pytest.raises(InvalidInputError, match="'n_samples' parameter of frt_distortion"):
        frt_distortion(X[:20], n_samples=0)


def test_trace_bad_input():
    with pytest.raises(InvalidInputError, match="empty"):
        trace_summary([])
    with pytest.raises(InvalidInputError, match=">= 0"):
        reuse_distance([1, -1])
    with pytest.raises(InvalidInputError, match="at least 2 items"):
        zipf_exponent([0, 1, 2])


def test_doubling_dimension_monotone_and_bad_input():
    a = doubling_dimension(uniform_cube(400, 1, 0), n_centers=20)["median_dimension"]
    b = doubling_dimension(uniform_cube(400, 3, 0), n_centers=20)["median_dimension"]
    assert b > a
    with pytest.raises(InvalidInputError, match="exactly one"):
        doubling_dimension()


def test_recommendation_on_real_and_synthetic():
    rng = np.random.default_rng(0)
    p = np.arange(1, 1001, dtype=float) ** -0.8
    p /= p.sum()
    st_ = characterise_trace(rng.choice(1000, 50_000, p=p))
    assert recommend_lens(st_)["lens"] == "stochastic"
    web = characterise_trace(datasets.load_trace("web07"))
    rec = recommend_lens(web)
    assert rec["lens"] in ("regret", "competitive") and rec["reasons"]
    assert web["drift_ratio"] > 1.5


@pytest.mark.parametrize("bad", [np.arange(50), [1, 2, 3], {}, {"drift_ratio": 1.0}, "web07"])
def test_recommend_lens_rejects_raw_input_with_a_hint(bad):
    # UAT 6: a trace, a list or a partial dict used to raise IndexError / TypeError / KeyError
    with pytest.raises(InvalidInputError, match=r"pass characterise_trace\(trace\)"):
        recommend_lens(bad)


def test_recommend_lens_rejects_bad_vector_stats_and_no_input():
    with pytest.raises(InvalidInputError, match=r"pass characterise_vectors\(X\)"):
        recommend_lens(vector_stats=np.zeros((5, 2)))
    with pytest.raises(InvalidInputError, match=r"pass characterise_vectors\(X\)"):
        recommend_lens(vector_stats={"id_twonn": 2.0})
    with pytest.raises(InvalidInputError, match=r"characterise_trace\(trace\) and/or"):
        recommend_lens()


def test_characterise_trace_short_trace_names_itself():
    with pytest.raises(InvalidInputError, match=r"'trace' argument of characterise_trace.*at least 20"):
        characterise_trace([1, 2, 3])


def test_frt_distortion_dominating():
    from online_algs.analysis import frt_distortion

    r = frt_distortion(uniform_cube(60, 2, 1), n_samples=3)
    assert r["least_stretch"] >= 1.0 - 1e-12
    assert r["worst_stretch"] >= r["mean_stretch"] >= 1.0
