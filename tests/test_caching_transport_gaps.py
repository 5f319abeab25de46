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
