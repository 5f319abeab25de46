"""Small gaps of issue #3 closed beside TransportRounding: best_static_cache on huge ids."""

import numpy as np

from online_algs.caching import best_static_cache, best_static_gain


def _dense_top(ids, C, N):
    s = np.bincount(ids, minlength=N).astype(float)
    return np.sort(np.lexsort((np.arange(N), -s))[:C]), float(np.sort(s)[::-1][:C].sum())


def test_sparse_counting_matches_dense_top_c(rng):
    """Catalogues much larger than the trace take the np.unique path; same ids (ties to small ids)."""
    for _ in range(150):
        ids = rng.integers(0, int(rng.integers(2, 30)), int(rng.integers(1, 60)))
        N = int(ids.max()) + 1 + int(rng.integers(1, 3)) * 3000  # > 4 T + 1024: sparse path
        C = int(rng.integers(1, 41))
        want_ids, want_gain = _dense_top(ids, C, N)
        np.testing.assert_array_equal(best_static_cache(ids, C, n_items=N), want_ids)
        assert best_static_gain(ids, C, n_items=N) == want_gain


def test_ids_as_large_as_2_pow_40():
    tr = np.array([2**40, 5, 2**40, 7, 2**39, 5, 2**40], dtype=np.int64)
    np.testing.assert_array_equal(best_static_cache(tr, 2), [5, 2**40])
    assert best_static_gain(tr, 2) == 5.0
    # C above the number of distinct ids: zero-count items from the smallest ids
    np.testing.assert_array_equal(best_static_cache(tr, 6), [0, 1, 5, 7, 2**39, 2**40])


# ----------------------------------------------------------------------------- FTPL weights

import pytest  # noqa: E402

import online_algs  # noqa: E402
from online_algs.caching import FTPL  # noqa: E402
from online_algs.caching.traces import zipf_trace  # noqa: E402
from online_algs.exceptions import InvalidInputError  # noqa: E402


def test_ftpl_equal_weights_scale_the_gain():
    """weights = w * 1: the default step scales by w, the scores too, so the same caches and w times the gain."""
    tr = zipf_trace(20, 300, 0.9, seed=1)
    base = online_algs.run(FTPL(20, 4, horizon=300, seed=3), tr)
    scaled = online_algs.run(FTPL(20, 4, horizon=300, seed=3, weights=np.full(20, 2.5)), tr)
    assert scaled.total_gain == pytest.approx(2.5 * base.total_gain)
    assert scaled.hits == base.hits


def test_ftpl_weighted_fast_path_equals_protocol_loop():
    w = np.random.default_rng(2).uniform(0.5, 3.0, 15)
    tr = zipf_trace(15, 200, 0.8, seed=4)
    fast = online_algs.run(FTPL(15, 3, horizon=200, seed=1, weights=w), tr, series=True)
    slow = online_algs.run(FTPL(15, 3, horizon=200, seed=1, weights=w), tr, series=True, fast=False)
    np.testing.assert_allclose(fast.gain, slow.gain, rtol=1e-12)
    # gains are the weights of the hits
    assert np.all(np.isin(fast.gain, np.concatenate([[0.0], w])))


def test_ftpl_weighted_gain_is_weight_of_cached_requests():
    w = np.array([1.0, 4.0, 1.0, 1.0, 9.0, 1.0])
    alg = FTPL(6, 2, horizon=10, seed=0, weights=w)
    alg.reset()
    y = alg.predict()
    assert alg.update(4) == (9.0 if y[4] == 1 else 0.0)
    assert alg.X_[4] == 9.0  # cumulative weighted counts


def test_ftpl_rejects_wrong_length_weights():
    with pytest.raises(InvalidInputError, match="must have length n_items = 5"):
        online_algs.run(FTPL(5, 2, horizon=3, weights=[1.0, 2.0]), [0, 1, 2])


def test_ftpl_rejects_nonpositive_weights():
    with pytest.raises(InvalidInputError, match="must be positive"):
        online_algs.run(FTPL(3, 1, horizon=3, weights=[1.0, 0.0, 2.0]), [0, 1, 2])


# ----------------------------------------------------------------------------- batched step sizes

import math  # noqa: E402

from online_algs.caching import OGD, OMD, best_static_gain as _bsg  # noqa: E402


def _batched(rng, T, N, lam):
    return rng.poisson(lam, size=(T, N)).astype(float)


def test_ogd_batched_default_step_meets_its_bound(rng):
    """eta = D / (G sqrt(T)), G = max_t ||w x_t||_2: R_T <= G D sqrt(T) (standard OGD)."""
    for N, C, lam in ((12, 4, 0.8), (30, 10, 2.0)):
        X = _batched(rng, 300, N, lam)
        X[:, 0] += 3.0  # a popular item, multiplicity up to ~8
        w = rng.uniform(0.5, 2.0, N)
        alg = OGD(N, C, horizon=300, weights=w)
        res = online_algs.run(alg, X)
        G = float(np.sqrt(((X * w) ** 2).sum(axis=1)).max())
        D = math.sqrt(2 * min(C, N - C))
        assert alg._eta0 == pytest.approx(D / (G * math.sqrt(300)))
        assert _bsg(X, C, weights=w) - res.total_gain <= G * D * math.sqrt(300)


def test_omd_batched_default_step_meets_its_bound(rng):
    """eta = sqrt(2 C log(N/C) / (H L T)): R_T <= sqrt(2 C log(N/C) H L T) (1 + e^(eta H)) / 2."""
    for N, C, lam in ((12, 3, 0.8), (40, 8, 1.5)):
        X = _batched(rng, 400, N, lam)
        alg = OMD(N, C, horizon=400)
        res = online_algs.run(alg, X)
        H = float(X.max())
        L = float(np.sort(X, axis=1)[:, ::-1][:, :C].sum(axis=1).max())
        eta = math.sqrt(2 * C * math.log(N / C) / (H * L * 400))
        assert alg._eta0 == pytest.approx(eta)
        bound = math.sqrt(2 * C * math.log(N / C) * H * L * 400) * (1 + math.exp(eta * H)) / 2
        assert _bsg(X, C) - res.total_gain <= bound


def test_one_hot_rows_keep_the_one_hot_step():
    X = np.eye(6)[np.arange(30) % 6]
    for alg in (OGD(6, 2, horizon=30), OMD(6, 2, horizon=30)):
        a = alg.clone()
        a.reset()
        one_hot = a._eta0
        online_algs.run(alg, X)
        assert alg._eta0 == pytest.approx(one_hot)
