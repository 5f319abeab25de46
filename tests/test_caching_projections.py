"""Capped-simplex projections: kernels vs naive twins vs cvxpy, KKT forms, rejections."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from naive_caching_learners import (cvxpy_project_euclid, cvxpy_project_kl, naive_project_euclid,
                                    naive_project_kl)
from online_algs.caching import project_capped_simplex, project_capped_simplex_kl
from online_algs.exceptions import InvalidInputError


@st.composite
def euclid_instances(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    N = draw(st.integers(2, 40))
    integral = draw(st.booleans())
    C = int(rng.integers(1, N)) if integral else float(rng.uniform(0.05, N - 0.05))
    scale = draw(st.sampled_from([1e-3, 1.0, 10.0, 1e3]))
    z = rng.normal(0, 1, N) * scale
    if draw(st.booleans()):
        z = np.round(z)  # ties and breakpoints that coincide
    return z, C


@st.composite
def kl_instances(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    N = draw(st.integers(2, 40))
    y = rng.exponential(1.0, N) * draw(st.sampled_from([1e-6, 1.0, 1e4]))
    if draw(st.booleans()):
        y[rng.random(N) < 0.3] = 0.0
    if draw(st.booleans()):
        y = np.round(y, 1) + (y > 0) * 0.1  # ties
    npos = int((y > 0).sum())
    if npos < 1:
        y[0] = 1.0
        npos = 1
    C = int(rng.integers(1, min(npos, N - 1) + 1)) if npos >= 1 else 1
    C = min(C, N - 1)
    return y, C


@given(euclid_instances())
def test_euclid_matches_naive_twin_and_kkt(inst):
    z, C = inst
    y, tau = project_capped_simplex(z, C, return_tau=True)
    assert abs(y.sum() - C) <= 1e-9 * max(1, C) * max(1, np.abs(z).max() / 1e3)
    np.testing.assert_allclose(y, np.clip(z - tau, 0, 1), atol=0)  # KKT form with the returned tau
    np.testing.assert_allclose(y, naive_project_euclid(z, C), atol=1e-9 * max(1.0, np.abs(z).max()))


@given(kl_instances())
def test_kl_matches_naive_twin_and_kkt(inst):
    y, C = inst
    x, c = project_capped_simplex_kl(y, C, return_scale=True)
    assert abs(x.sum() - C) <= 1e-9 * max(1, C)
    assert np.all(x[y == 0] == 0)
    np.testing.assert_allclose(x, np.minimum(1.0, c * y), atol=1e-12)
    np.testing.assert_allclose(x, naive_project_kl(y, C), atol=1e-9)


def test_against_cvxpy(rng):
    for _ in range(4):
        N = int(rng.integers(5, 25))
        C = int(rng.integers(1, N))
        z = rng.normal(0, 1.5, N)
        raw, pol = cvxpy_project_euclid(z, C)
        ours = project_capped_simplex(z, C)
        assert np.abs(ours - raw).max() <= 1e-5 and np.abs(ours - pol).max() <= 1e-8
        y = rng.exponential(1.0, N) + 1e-3
        raw, pol = cvxpy_project_kl(y, C)
        ours = project_capped_simplex_kl(y, C)
        assert np.abs(ours - raw).max() <= 1e-5 and np.abs(ours - pol).max() <= 1e-8


def test_already_feasible_is_fixed_point(rng):
    y = np.full(10, 0.3)
    np.testing.assert_allclose(project_capped_simplex(y, 3.0), y, atol=1e-15)
    np.testing.assert_allclose(project_capped_simplex_kl(y, 3.0), y, atol=1e-15)


def test_kl_exactly_capacity_positive_gives_indicator():
    y = np.array([0.0, 2.0, 0.0, 5.0, 0.1])
    np.testing.assert_array_equal(project_capped_simplex_kl(y, 3), [0, 1, 0, 1, 1])


def test_euclid_example_by_hand():
    # z = (2, 0.5, 0, 0), C = 2: for tau in (-1/2, 0], g = 1 + (0.5 - tau) + 2 (-tau) = 2 -> tau = -1/6
    y, tau = project_capped_simplex(np.array([2.0, 0.5, 0.0, 0.0]), 2, return_tau=True)
    assert tau == pytest.approx(-1 / 6, abs=1e-15)
    np.testing.assert_allclose(y, [1.0, 2 / 3, 1 / 6, 1 / 6], atol=1e-15)


def test_rejects_capacity_zero():
    with pytest.raises(InvalidInputError, match="capacity"):
        project_capped_simplex(np.ones(4), 0)


def test_rejects_capacity_n():
    with pytest.raises(InvalidInputError, match="capacity"):
        project_capped_simplex_kl(np.ones(4), 4)


def test_rejects_nan_z():
    with pytest.raises(InvalidInputError, match="NaN"):
        project_capped_simplex(np.array([0.0, np.nan, 1.0]), 1)


def test_rejects_inf_z():
    with pytest.raises(InvalidInputError, match="finite"):
        project_capped_simplex(np.array([0.0, np.inf, 1.0]), 1)


def test_rejects_2d_z():
    with pytest.raises(InvalidInputError, match="1-d"):
        project_capped_simplex(np.ones((2, 3)), 1)


def test_kl_rejects_negative():
    with pytest.raises(InvalidInputError, match="non-negative"):
        project_capped_simplex_kl(np.array([0.5, -0.1, 1.0]), 1)


def test_kl_rejects_too_few_positive():
    with pytest.raises(InvalidInputError, match="positive entries"):
        project_capped_simplex_kl(np.array([0.0, 0.0, 1.0, 0.0]), 2)
