r"""Exact projections onto the capped simplex :math:`K_C = \{y \in [0,1]^N : \sum_i y_i = C\}`.

* :func:`project_capped_simplex` -- Euclidean: :math:`y = \mathrm{clip}(z - \tau, 0, 1)`.
* :func:`project_capped_simplex_kl` -- negative-entropy (generalised KL) Bregman projection:
  :math:`x = \min(1, c\,y)`.

Both are exact (sort and sweep over the breakpoints, no bisection), O(N log N), and are
checked against cvxpy and against their naive twins (Theorem ``caching.projection.exact``).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_float, check_float_array
from ..exceptions import InvalidInputError
from . import _kernels_learners as _k

__all__ = ["project_capped_simplex", "project_capped_simplex_kl"]


def _check_capacity(capacity, n, owner):
    c = check_float("capacity", capacity, low=0.0, high=float(n), low_open=True, high_open=True, owner=owner)
    return c


def project_capped_simplex(z, capacity, *, return_tau: bool = False):
    r"""Euclidean projection onto the capped simplex.

    .. math:: \Pi(z) = \arg\min_{y \in [0,1]^N,\ \sum y = C} \|y - z\|_2
              = \mathrm{clip}(z - \tau, 0, 1)

    where :math:`\tau` is the root of :math:`g(\tau) = \sum_i \mathrm{clip}(z_i - \tau, 0, 1) = C`.

    Algorithm: g is piecewise linear and non-increasing with breakpoints :math:`z_i` and
    :math:`z_i - 1`; one sort of z orders both lists, a sweep finds the piece that contains the
    root, and the root is solved exactly on it. O(N log N) time, O(N) memory. Guarantee: exact
    up to round-off (Theorem ``caching.projection.exact``: agrees with cvxpy to 1e-8, sum = C
    to 1e-9, KKT form holds).

    Parameters
    ----------
    z : array-like of shape (N,)
        Finite reals.
    capacity : float
        C, a real in the open interval (0, N) (an integer for caching).
    return_tau : bool
        Also return the threshold :math:`\tau`.

    Returns
    -------
    y : ndarray of shape (N,)
    tau : float (when ``return_tau``)
    """
    z = check_float_array("z", z, ndim=1, owner="project_capped_simplex",
                          hint="the point to project must be real-valued: drop or fill its NaN entries.")
    C = _check_capacity(capacity, len(z), "project_capped_simplex")
    out = np.empty_like(z)
    tau = _k.proj_capped_simplex(z, C, out)
    return (out, float(tau)) if return_tau else out


def project_capped_simplex_kl(y, capacity, *, return_scale: bool = False):
    r"""Negative-entropy Bregman projection onto the capped simplex.

    .. math:: \arg\min_{x \in [0,1]^N,\ \sum x = C} \sum_i x_i \log\frac{x_i}{y_i} - x_i + y_i
              = \min(1, c\,y)

    with one scalar :math:`c > 0`. Algorithm: sort y decreasingly; with m saturated items,
    :math:`c_m = (C - m) / \sum_{l > m} y_{(l)}`; the first m with :math:`c_m y_{(m+1)} \le 1` is
    the answer (suffix sums are accumulated from the smallest value up). O(N log N).
    Guarantee: exact up to round-off (Theorem ``caching.projection.exact``).

    Parameters
    ----------
    y : array-like of shape (N,)
        Finite, non-negative. Zeros are allowed and stay zero (the KL divergence is infinite
        for any x with support outside y's), so at least C entries must be positive.
    capacity : float
        C, a real in the open interval (0, N).
    return_scale : bool
        Also return the scale c.
    """
    y = check_float_array("y", y, ndim=1, nonneg=True, owner="project_capped_simplex_kl")
    C = _check_capacity(capacity, len(y), "project_capped_simplex_kl")
    npos = int(np.count_nonzero(y > 0))
    if npos < C:
        raise InvalidInputError(
            f"The 'y' argument of project_capped_simplex_kl must have at least capacity = {C:g} positive "
            f"entries (zeros stay zero under a KL projection). Got {npos} positive entries; add a small "
            f"positive floor (e.g. y + 1e-12) or lower the capacity.")
    out = np.empty_like(y)
    c = _k.proj_capped_simplex_kl(y, C, out)
    return (out, float(c)) if return_scale else out
