r"""Exact offline optima of metrical task systems and the schedule verifier."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_choice
from ..exceptions import InvalidInputError, SolverError
from . import _kernels as K
from .workfunction import _check_states, _metric_args, _prepare

__all__ = ["offline_optimum", "schedule_cost", "OfflineResult", "BRUTE_FORCE_LIMIT"]

#: largest number of schedules n**T that ``method="brute"`` enumerates
BRUTE_FORCE_LIMIT = 200_000


@dataclass
class OfflineResult:
    """An offline optimum of an MTS instance.

    Attributes
    ----------
    value : float
        The optimal cost (service + movement, request-then-move convention).
    states : ndarray of shape (T,)
        An optimal schedule ``s_1..s_T`` (``states[t]`` serves task ``t``, 0-based).
    method : str
        ``"dp"``, ``"lp"`` or ``"brute"``.
    info : dict
        Method extras (the LP's solver status, the number of schedules enumerated, ...).
    """

    value: float
    states: np.ndarray
    method: str
    info: dict = field(default_factory=dict)


def schedule_cost(metric, costs, states, start=0) -> tuple[float, float, float]:
    r"""The cost of a schedule: ``(service, movement, total)``.

    ``service = sum_t c_t(s_t)``, ``movement = sum_t d(s_{t-1}, s_t)`` with ``s_0 = start``
    (request-then-move convention: the state reached at step ``t`` serves task ``t``). The
    verifier beside :func:`offline_optimum`. O(T) time.

    Parameters
    ----------
    metric : FiniteMetric or array-like of shape (n, n)
    costs : array-like of shape (T, n)
    states : array-like of int, shape (T,)
    start : int
    """
    m, c, s0 = _prepare(metric, costs, start, "schedule_cost")
    s = _check_states("states", states, m.n, c.shape[0], "schedule_cost")
    prev = np.concatenate([[s0], s[:-1]])
    service = float(np.sum(c[np.arange(len(s)), s]))
    movement = float(np.sum(m.d[prev, s]))
    return service, movement, service + movement


def offline_optimum(metric, costs, start=0, method="dp") -> OfflineResult:
    r"""The offline optimum of a metrical task system, with an optimal schedule.

    Problem: ``min over s_1..s_T of sum_t d(s_{t-1}, s_t) + c_t(s_t)`` with ``s_0 = start``.

    Methods:

    * ``"dp"``: the work-function dynamic program (``OPT = min_s w_T(s)``) with back-pointers;
      numba kernel; O(T n^2) time (O(T n) on uniform metrics and weighted stars), O(T n) memory.
    * ``"lp"``: a min-cost flow of one unit through the layers ``(t, state)`` solved as an LP
      with cvxpy/HiGHS (the constraint matrix is a network matrix, so the optimal vertex is a
      schedule); O(T n^2) variables: small instances, for cross-checks. A solver failure raises
      :class:`~online_algs.exceptions.SolverError` carrying the status.
    * ``"brute"``: enumerate all ``n**T`` schedules (refused above ``BRUTE_FORCE_LIMIT``).

    Guarantee: the three methods agree to 1e-9 and equal ``min_s w_T(s)``: Theorem
    ``mts.workfunction.identities``.

    Returns
    -------
    OfflineResult
        ``.value``, ``.states`` (an optimal schedule), ``.method``.

    Examples
    --------
    >>> import numpy as np
    >>> from online_algs.metrics import uniform
    >>> from online_algs.mts import offline_optimum
    >>> r = offline_optimum(uniform(2), np.array([[1.0, 0.0], [1.0, 0.0]]))
    >>> r.value, r.states.tolist()
    (1.0, [1, 1])
    """
    check_choice("method", method, ("dp", "lp", "brute"), owner="offline_optimum")
    m, c, s0 = _prepare(metric, costs, start, "offline_optimum")
    if method == "dp":
        D, kind, dist, wstar, _ = _metric_args(m)
        value, states = K.dp_optimum_kernel(D, c, s0, kind, dist, wstar)
        return OfflineResult(value=float(value), states=states, method="dp")
    if method == "brute":
        return _brute(m, c, s0)
    return _lp(m, c, s0)


def _brute(m, c, s0) -> OfflineResult:
    T, n = c.shape
    count = float(n) ** T
    if count > BRUTE_FORCE_LIMIT:
        raise InvalidInputError(f"offline_optimum(method='brute') enumerates n**T = {n}**{T} = {count:.3g} schedules, "
                                f"more than the limit {BRUTE_FORCE_LIMIT}. Use method='dp' (exact, O(T n^2)) "
                                f"or a shorter cost sequence.")
    S = np.array(list(itertools.product(range(n), repeat=T)), dtype=np.int64).reshape(-1, T)
    prev = np.concatenate([np.full((len(S), 1), s0), S[:, :-1]], axis=1)
    tot = c[np.arange(T)[None, :], S].sum(axis=1) + m.d[prev, S].sum(axis=1)
    i = int(np.argmin(tot))
    return OfflineResult(value=float(tot[i]), states=S[i].copy(), method="brute", info={"schedules": len(S)})


def _lp(m, c, s0) -> OfflineResult:
    import cvxpy as cp
    import scipy.sparse as sp

    T, n = c.shape
    D = np.asarray(m.d)
    # x[t, i, j]: flow from state i (before task t) to state j (serving task t); flattened t*n*n + i*n + j
    nv = T * n * n
    cost = (D[None, :, :] + np.where(np.isinf(c), 0.0, c)[:, None, :]).reshape(-1)
    forbidden = np.broadcast_to(np.isinf(c)[:, None, :], (T, n, n)).reshape(-1)
    idx = np.arange(nv).reshape(T, n, n)
    rows, cols, vals, rhs = [], [], [], []
    r = 0
    # layer 0: one unit leaves the start state
    for i in range(n):
        rows.extend([r] * n)
        cols.extend(idx[0, i, :].tolist())
        vals.extend([1.0] * n)
        rhs.append(1.0 if i == s0 else 0.0)
        r += 1
    # conservation: what arrives at j serving task t leaves j before task t + 1
    for t in range(T - 1):
        for j in range(n):
            rows.extend([r] * n)
            cols.extend(idx[t, :, j].tolist())
            vals.extend([1.0] * n)
            rows.extend([r] * n)
            cols.extend(idx[t + 1, j, :].tolist())
            vals.extend([-1.0] * n)
            rhs.append(0.0)
            r += 1
    A = sp.csr_matrix((vals, (rows, cols)), shape=(r, nv))
    x = cp.Variable(nv)
    cons = [A @ x == np.asarray(rhs), x >= 0]
    if forbidden.any():
        cons.append(x[np.flatnonzero(forbidden)] == 0)
    prob = cp.Problem(cp.Minimize(cost @ x), cons)
    try:
        prob.solve(solver="HIGHS")
    except cp.error.SolverError as exc:
        raise SolverError(f"offline_optimum(method='lp'): HiGHS failed: {exc}", status="solver_error",
                          solver="HIGHS") from exc
    if prob.status != cp.OPTIMAL or x.value is None:
        raise SolverError(f"offline_optimum(method='lp'): HiGHS returned status {prob.status!r}.",
                          status=str(prob.status), solver="HIGHS")
    flow = np.asarray(x.value).reshape(T, n, n)
    occ = flow.sum(axis=1)  # occ[t, j]: mass serving task t in j
    states = np.argmax(occ, axis=1).astype(np.int64)
    return OfflineResult(value=float(prob.value), states=states, method="lp",
                         info={"status": str(prob.status), "max_fraction": float(occ.max(axis=1).min())})
