r"""The work function of a metrical task system.

Conventions (used by every MTS module of the library). A metrical task system has ``n``
states, a finite metric ``d`` and a start state ``s_0``. Task ``t`` (``t = 1..T``) is a cost
vector ``c_t`` in ``[0, inf]^n``. The protocol is request-then-move: ``c_t`` is revealed,
the algorithm moves from ``s_{t-1}`` to ``s_t`` and then serves the task in its new state,
paying

.. math::  \mathrm{cost} = \sum_{t=1}^T d(s_{t-1}, s_t) + c_t(s_t).

The offline optimum ``OPT`` minimises the same sum over schedules ``s_1..s_T``. The work
function ``w_t(s)`` is the cheapest way to serve ``c_1..c_t`` and end in ``s``:

.. math::  w_0(s) = d(s_0, s), \qquad w_t(s) = \min_x \{ w_{t-1}(x) + c_t(x) + d(x, s) \},

and ``OPT = min_s w_T(s)`` (the minimiser ``x`` of the last step is the state that served
``c_t``; ``w_{t-1}`` is 1-Lipschitz, so an extra move before serving never helps).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_cost_matrix
from ..exceptions import InvalidInputError
from ..metrics import FiniteMetric, as_metric
from . import _kernels as K

__all__ = ["work_function"]


def _metric_args(metric: FiniteMetric):
    """(D, kind code, uniform distance, star weights, triangle slack) for the kernels.

    The slack bounds how much the matrix may violate the triangle inequality: validation
    accepts violations up to ``tol * max d`` and then symmetrises (at most as much again); the
    trusted constructors are metrics up to rounding. The general min-plus kernel adds a
    rounding term and skips rows only beyond that margin, so its result stays exact.
    """
    D = np.ascontiguousarray(metric.d, dtype=np.float64)
    dist = 0.0
    wstar = np.zeros(0)
    kind = K.KIND_GENERAL
    if metric.kind == "uniform" and "distance" in metric.info and metric.n > 1:
        kind = K.KIND_UNIFORM
        dist = float(metric.info["distance"])
    elif metric.kind == "star" and "weights" in metric.info and metric.n > 1:
        kind = K.KIND_STAR
        wstar = np.ascontiguousarray(metric.info["weights"], dtype=np.float64)
    slack = 3.0 * float(metric.tol) * (float(D.max()) if D.size else 0.0)
    return D, kind, dist, wstar, slack


_NBR_MIN_N = 64       # below this the whole rows are cheap enough
_NBR_MAX_N = 8192     # above this the neighbour lists (12 n (n/16 + 1) bytes) are not built


def _neighbour_args(metric: FiniteMetric, kind: int):
    """Sorted neighbour lists for the general min-plus kernel's radius pruning, cached on the
    (immutable) metric; empty arrays switch the pruning off (uniform/star kinds, small or huge n)."""
    if kind != K.KIND_GENERAL or not (_NBR_MIN_N <= metric.n <= _NBR_MAX_N):
        return np.zeros((0, 0)), np.zeros((0, 0), dtype=np.int32), np.zeros(0)
    cached = metric.__dict__.get("_nbr_cache")
    if cached is None:
        cached = K.neighbour_lists(np.ascontiguousarray(metric.d, dtype=np.float64))
        metric.__dict__["_nbr_cache"] = cached
    return cached


def _np_step(a: np.ndarray, margs) -> np.ndarray:
    """One work-function step in numpy: the twin of the kernels' ``_step`` (same sums, exact minima)."""
    D, kind, dist, wstar, _ = margs
    if kind == K.KIND_UNIFORM:
        return np.minimum(a, a.min() + dist)
    if kind == K.KIND_STAR:
        return np.minimum(a, np.min(a + wstar) + wstar)
    return np.min(a[:, None] + D, axis=0)


def _prepare(metric, costs, start, owner):
    m = as_metric(metric, owner=owner)
    s0 = m.check_point("start", start, owner=owner)
    c = check_cost_matrix("costs", costs, m.n, owner=owner)
    return m, c, s0


def work_function(metric, costs, start=0) -> np.ndarray:
    r"""All work functions ``w_0..w_T`` of a metrical task system.

    Problem: given a metric ``d`` on ``n`` states, a start state and tasks ``c_1..c_T``, compute
    ``w_t(s)``, the least cost of serving ``c_1..c_t`` and ending in ``s``.

    Update rule: ``w_0(s) = d(start, s)``; ``w_t(s) = min_x w_{t-1}(x) + c_t(x) + d(x, s)``
    (a min-plus product with the distance matrix).

    Complexity: O(n^2) per task on a general metric (numba kernel), O(n) on a uniform metric
    or a weighted star (``metric.kind`` ``"uniform"`` / ``"star"``, read from ``metric.info``);
    O(T n) memory for the result.

    Guarantee: ``w_t`` is 1-Lipschitz in ``d``, non-decreasing in ``t``, and
    ``min_s w_T(s) = OPT`` (equal to the LP and brute-force optima): Theorem
    ``mts.workfunction.identities``.

    Parameters
    ----------
    metric : FiniteMetric or array-like of shape (n, n)
    costs : array-like of shape (T, n)
        Non-negative task costs; ``np.inf`` allowed (a forbidden state), NaN rejected.
    start : int
        The start state ``s_0``.

    Returns
    -------
    ndarray of shape (T + 1, n)
        Row ``t`` is ``w_t``.

    Examples
    --------
    >>> import numpy as np
    >>> from online_algs.metrics import uniform
    >>> from online_algs.mts import work_function
    >>> work_function(uniform(3), np.array([[1.0, 0.0, 0.0]]))
    array([[0., 1., 1.],
           [1., 1., 1.]])
    """
    m, c, s0 = _prepare(metric, costs, start, "work_function")
    D, kind, dist, wstar, slack = _metric_args(m)
    return K.work_function_kernel(D, c, s0, kind, dist, wstar, slack, *_neighbour_args(m, kind))


def _check_states(name, states, n, T, owner):
    arr = np.asarray(states)
    if arr.ndim != 1 or arr.shape[0] != T:
        raise InvalidInputError(f"The {name!r} argument of {owner} must be a 1-d array of {T} states "
                                f"(one per task). Got shape {arr.shape}.")
    if arr.dtype.kind not in "iu":
        raise InvalidInputError(f"The {name!r} argument of {owner} must hold integer state ids in [0, {n - 1}]. "
                                f"Got dtype {arr.dtype}; pass the states as ints (one per task).")
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        i = int(np.argmax((arr < 0) | (arr >= n)))
        raise InvalidInputError(f"The {name!r} argument of {owner} must hold state ids in [0, {n - 1}]. "
                                f"Got {int(arr[i])} at position {i} (of {arr.size}); the metric has {n} states.")
    return arr.astype(np.int64)


def _batch_result(alg, start, states_arr, svc, mov, series, states, thin):
    """A RunResult from the arrays a batch kernel returned (states thinned like ``run``'s loop)."""
    from ..run import RunResult

    T = len(states_arr)
    st_list = st_steps = None
    if states:
        idx = [t for t in range(T) if (t + 1) % thin == 0 or t == T - 1]
        st_list = [int(start)] + [int(states_arr[t]) for t in idx]
        st_steps = np.asarray([0] + [t + 1 for t in idx])
    return RunResult(algorithm=repr(alg), steps=T, service_cost=float(np.sum(svc)),
                     movement_cost=float(np.sum(mov)), service=svc if series else None,
                     movement=mov if series else None, states=st_list, state_steps=st_steps)
