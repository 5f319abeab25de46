"""Madow, coupled rounding, DepRound and the Rounded wrapper."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import online_algs
from naive_caching_learners import naive_depround, naive_madow
from online_algs.caching import OGD, OMD, CoupledRounding, Rounded, depround, madow_sample
from online_algs.caching import _kernels_learners as K
from online_algs.caching import project_capped_simplex
from online_algs.exceptions import InvalidInputError


def _random_fractional(rng, N, C):
    return project_capped_simplex(rng.normal(0, 1, N), C)


@st.composite
def fractional_caches(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    N = draw(st.integers(2, 30))
    C = int(rng.integers(1, N))
    y = _random_fractional(rng, N, C)
    if draw(st.booleans()):
        y = np.round(y * 4) / 4  # many exact 0, 1 and halves
        y = project_capped_simplex(y, C)
    return y, C, float(rng.random())


@given(fractional_caches())
def test_madow_exactly_c_and_matches_naive(inst):
    y, C, u = inst
    ids = madow_sample(y, u)
    assert len(ids) == C == len(np.unique(ids))
    assert np.all(y[ids] > 0)
    np.testing.assert_array_equal(ids, naive_madow(y, u))


@given(fractional_caches())
def test_depround_kernel_matches_naive_twin(inst):
    y, C, _ = inst
    u = np.random.default_rng(int(1e6 * y[0]) + C).random(len(y))
    out = np.empty(len(y))
    K.depround_kernel(y, u, out)
    np.testing.assert_array_equal(out, naive_depround(y, u))
    assert out.sum() == C


def _max_dev(sampler, y, M):
    freq = np.zeros(len(y))
    for m in range(M):
        freq[sampler(m)] += 1
    return float(np.abs(freq / M - y).max())


def test_marginals_madow_and_depround(rng):
    N, C, M = 15, 4, 4000
    y = _random_fractional(rng, N, C)
    hoeffding = math.sqrt(math.log(2 * N / 1e-6) / 2) / math.sqrt(M)  # fails w.p. <= 1e-6
    us = rng.random(M)
    assert _max_dev(lambda m: madow_sample(y, us[m]), y, M) <= hoeffding
    g = np.random.default_rng(1)
    assert _max_dev(lambda m: depround(y, g), y, M) <= hoeffding


def test_wrong_depround_probability_is_detected(rng):
    """The alpha/(alpha+beta) bug breaks the marginals; the same test statistic catches it."""

    def buggy(y, u):
        x = y.copy()
        k = 0
        while True:
            fr = np.flatnonzero((x > 1e-12) & (x < 1 - 1e-12))
            if len(fr) < 2:
                break
            i, j = fr[0], fr[1]
            a, b = x[i], x[j]
            al, be = min(1 - a, b), min(a, 1 - b)
            if u[k] < al / (al + be):  # wrong: should be be / (al + be)
                x[i], x[j] = a + al, b - al
            else:
                x[i], x[j] = a - be, b + be
            k += 1
        return np.flatnonzero(x > 0.5)

    y = np.array([0.2, 0.9, 0.3, 0.6])
    M = 4000
    hoeffding = math.sqrt(math.log(2 * 4 / 1e-6) / 2) / math.sqrt(M)
    g = np.random.default_rng(2)
    assert _max_dev(lambda m: buggy(y, g.random(4)), y, M) > 3 * hoeffding


def test_madow_float_trap():
    # cumulative sum lands 1 ulp under C and U + C - 1 is within an ulp of C
    y = np.full(10, 0.1)
    y = y / y.sum() * 1.0 * 3  # sum 3 up to round-off
    ids = madow_sample(y, np.nextafter(1.0, 0.0))
    assert len(ids) == 3 and ids.max() <= 9
    y2 = np.array([1 - 1e-13, 1e-13, 0.5, 0.5])  # snapped to 1 and 0
    assert list(madow_sample(y2, 0.99)) == [0, 3] or list(madow_sample(y2, 0.99)) == [0, 2]
    assert 1 not in madow_sample(y2, 0.0)


def test_madow_integral_input_returns_support():
    y = np.array([0, 1, 0, 1, 1.0])
    for u in (0.0, 0.5, 0.999):
        assert list(madow_sample(y, u)) == [1, 3, 4]


def test_coupled_rounding_reuses_u_and_counts_fetches(rng):
    cr = CoupledRounding(seed=3)
    y = _random_fractional(rng, 20, 5)
    a = cr(y)
    assert cr.fetches_ == 0
    b = cr(y)
    np.testing.assert_array_equal(a, b)
    assert cr.fetches_ == 0
    y2 = y.copy()
    y2[np.argmax(y)] -= 0.05
    y2[np.argmin(y)] += 0.05
    cr(y2)
    assert cr.fetches_ <= 1


def test_coupled_fetches_bounded_by_transport_on_average(rng):
    N, C, M = 30, 6, 3000
    y = _random_fractional(rng, N, C)
    y2 = project_capped_simplex(y + rng.normal(0, 0.05, N), C)
    transport = np.abs(np.cumsum(y2 - y)[:-1]).sum()
    fetches = []
    for m in range(M):
        u = rng.random()
        fetches.append(len(np.setdiff1d(madow_sample(y2, u), madow_sample(y, u))))
    f = np.array(fetches, float)
    assert f.mean() - 3 * f.std() / math.sqrt(M) <= transport
    assert f.mean() + 3 * f.std() / math.sqrt(M) >= 0.5 * np.abs(y2 - y).sum()


def test_rounded_reports_fetches_hits_and_unbiased_gain():
    tr = np.random.default_rng(0).integers(0, 10, 200)
    frac = online_algs.run(OGD(10, 3, horizon=200), tr).total_gain
    gains = []
    for s in range(40):
        res = online_algs.run(Rounded(OGD(10, 3, horizon=200), method="madow", seed=s), tr)
        assert res.hits + res.misses == 200 and res.hits == res.total_gain
        assert res.info["fractional_gain"] == pytest.approx(frac)
        assert len(res.info["fetches"]) == 200 and res.info["fetches"][0] == 0
        gains.append(res.total_gain)
    g = np.array(gains)
    assert abs(g.mean() - frac) <= 4 * g.std() / math.sqrt(len(g)) + 1e-9


def test_rounded_coupled_moves_less_than_independent():
    from online_algs.caching.traces import zipf_trace

    tr = zipf_trace(100, 2000, 0.9, seed=4)
    coupled = online_algs.run(Rounded(OMD(100, 10, horizon=2000), "coupled", seed=1), tr).info["total_fetches"]
    indep = online_algs.run(Rounded(OMD(100, 10, horizon=2000), "madow", seed=1), tr).info["total_fetches"]
    assert coupled < indep / 5


def test_rounded_total_cost_is_number_of_fetches():
    # UAT 5: a fetch costs 1, so movement_cost (and total_cost) counts the fetches
    from online_algs.caching.traces import zipf_trace

    tr = zipf_trace(100, 1000, seed=0)
    res = online_algs.run(Rounded(OGD(100, 10), seed=0), tr)
    assert res.info["total_fetches"] > 0
    assert res.movement_cost == res.total_cost == res.info["total_fetches"]
    assert res.movement is not None and res.movement.sum() == res.info["total_fetches"]
    assert res.total_gain == res.hits
    res = online_algs.run(Rounded(OMD(100, 10, horizon=1000), "depround", seed=1), tr, series=False)
    assert res.total_cost == res.info["total_fetches"] and res.movement is None


def test_rounded_rejects_non_learner():
    with pytest.raises(InvalidInputError, match="'learner'"):
        online_algs.run(Rounded("OGD"), np.array([0, 1]))


def test_rounded_rejects_bad_method():
    with pytest.raises(InvalidInputError, match="'method'"):
        online_algs.run(Rounded(OGD(4, 2), method="round"), np.array([0, 1]))


def test_madow_rejects_out_of_range_values():
    with pytest.raises(InvalidInputError, match=r"\[0, 1\]"):
        madow_sample(np.array([1.2, 0.8, 0.0]), 0.5)


def test_madow_rejects_non_integral_sum():
    with pytest.raises(InvalidInputError, match="integer capacity"):
        madow_sample(np.array([0.5, 0.7, 0.0]), 0.5)


def test_madow_rejects_u_out_of_range():
    with pytest.raises(InvalidInputError, match="'u'"):
        madow_sample(np.array([0.5, 0.5]), 1.0)


def test_depround_rejects_nan():
    with pytest.raises(InvalidInputError, match="NaN"):
        depround(np.array([0.5, np.nan]), 0)
