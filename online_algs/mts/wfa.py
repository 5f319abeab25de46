r"""Deterministic MTS algorithms: the Work Function Algorithm and the greedy baseline."""

from __future__ import annotations

import numpy as np

from .._validation import check_cost_matrix
from ..base import RequestThenMove
from ..metrics import as_metric, line, uniform, weighted_star
from . import _kernels as K
from .workfunction import _batch_result, _metric_args, _neighbour_args, _np_step

__all__ = ["WorkFunctionAlgorithm", "Greedy"]


def _contract_metrics():
    rng = np.random.default_rng(3)
    return [uniform(3), line([0.0, 1.0, 3.5, 4.0]), weighted_star([0.5, 1.0, 2.0]),
            np.array([[0, 1, 2], [1, 0, 1.5], [2, 1.5, 0]])], rng


class _MTSBase(RequestThenMove):
    """Shared plumbing of the MTS algorithms: metric and start validation, task validation."""

    _abstract = True

    def _setup(self):
        owner = type(self).__name__
        self.metric_ = as_metric(self.metric, owner=owner)
        self.start_ = self.metric_.check_point("start", self.start, owner=owner)
        self.n_ = self.metric_.n
        self._margs = _metric_args(self.metric_)
        self._cur = self.start_

    def _validate_sequence(self, seq):
        return check_cost_matrix("costs", seq, self.n_, owner=type(self).__name__)

    @property
    def state(self) -> int:
        """The current state (an int in ``0..n-1``)."""
        return int(self._cur)

    def check_state(self, state) -> bool:
        return isinstance(state, (int, np.integer)) and not isinstance(state, bool) and 0 <= int(state) < self.n_

    def _contract_opt(self, seq):
        from .offline import offline_optimum

        return float(offline_optimum(self.metric_, seq, start=self.start_).value)


class WorkFunctionAlgorithm(_MTSBase):
    r"""The Work Function Algorithm (WFA) for metrical task systems.

    Problem: serve tasks ``c_1, c_2, ...`` (cost vectors over ``n`` states of a finite metric
    ``d``) online, starting in ``start``; on task ``c_t`` move ``s_{t-1} -> s_t`` and pay
    ``d(s_{t-1}, s_t) + c_t(s_t)`` (request-then-move: the task is known before the move).

    Update rule: keep the work function ``w_t`` (see :func:`work_function`);
    ``s_t = argmin_s { w_t(s) + d(s_{t-1}, s) }`` over the *fundamental* states, those with
    ``w_t(s) = w_{t-1}(s) + c_t(s)`` (without this restriction the algorithm can stay forever
    in a state whose cost keeps rising). Tie-break: stay in ``s_{t-1}`` if it is a minimiser,
    else the lowest index. This is the same rule as ``argmin_s { w_{t-1}(s) + c_t(s) +
    d(s_{t-1}, s) }``; it gives ``c_t(s_t) = w_t(s_t) - w_{t-1}(s_t)`` and
    ``d(s_{t-1}, s_t) = w_t(s_{t-1}) - w_t(s_t)``.

    Complexity: O(n^2) time per task on a general metric, O(n) on a uniform metric or a weighted
    star; O(n) memory. The batch path is a numba kernel; ``serve`` is its numpy twin.

    Guarantee: ``ALG <= (2n - 1) OPT + C`` with
    ``C = 2 sum_s (max_x d(x, s) - d(start, s)) <= 2 n diam`` independent of the tasks
    (Borodin, Linial, Saks, J.ACM 1992, Thm 1.1; the constant is derived in
    ``docs/theory/mts_wfa.md``): Theorem ``mts.wfa.competitive``. ``2n - 1`` is the best ratio of
    any deterministic algorithm; the cruel taskmaster attains it: Theorem ``mts.wfa.cruel_lower``.

    Parameters
    ----------
    metric : FiniteMetric or array-like of shape (n, n)
    start : int
        Start state.

    Examples
    --------
    >>> import numpy as np, online_algs
    >>> from online_algs.mts import WorkFunctionAlgorithm
    >>> from online_algs.metrics import uniform
    >>> res = online_algs.run(WorkFunctionAlgorithm(uniform(2)), np.array([[1.0, 0.0]] * 3))
    >>> res.total_cost, res.states
    (3.0, [0, 0, 0, 1])
    """

    def __init__(self, metric, start=0):
        self.metric = metric
        self.start = start

    def reset(self):
        self._setup()
        self._w = np.array(self.metric_.d[self.start_], dtype=np.float64)

    @property
    def work(self) -> np.ndarray:
        """A copy of the current work function ``w_t``."""
        return self._w.copy()

    def serve(self, request):
        c = np.asarray(request, dtype=np.float64)
        D = self._margs[0]
        prev = self._cur
        a = self._w + c
        wn = _np_step(a, self._margs)
        fund = wn == a
        vals = np.where(fund, wn + D[prev], np.inf)
        best = vals.min()
        if fund[prev] and vals[prev] <= best:
            s = prev
        else:
            s = int(np.argmin(vals))
        self._w = wn
        self._cur = s
        return float(c[s]), float(D[prev, s])

    def _run_batch(self, seq, series, states, thin):
        D, kind, dist, wstar, slack = self._margs
        st, svc, mov, w = K.wfa_kernel(D, seq, self.start_, kind, dist, wstar, slack,
                                       *_neighbour_args(self.metric_, kind))
        self._w = w
        self._cur = int(st[-1])
        return _batch_result(self, self.start_, st, svc, mov, series, states, thin)

    @classmethod
    def _contract_cases(cls):
        mets, rng = _contract_metrics()
        cases = []
        for i, m in enumerate(mets):
            n = len(m) if not hasattr(m, "n") else m.n
            c = rng.uniform(0, 2, size=(12, n))
            c[rng.random(c.shape) < 0.3] = 0.0
            if i == 1:
                c[3, 0] = np.inf
                c[5, :2] = np.inf
            cases.append(({"metric": m, "start": i % n}, c))
        # the cruel taskmaster on 2 states (the WFA must move away)
        cases.append(({"metric": uniform(2)}, np.array([[0.5, 0.0]] * 4 + [[0.0, 0.5]] * 4)))
        return cases


class Greedy(_MTSBase):
    r"""Greedy baseline for metrical task systems.

    Problem: as :class:`WorkFunctionAlgorithm`. Update rule: ``s_t = argmin_s { c_t(s) +
    d(s_{t-1}, s) }`` (the cheapest way to serve the current task alone); stay on ties, else the
    lowest index. Complexity: O(n) per task, O(1) memory besides the metric.

    Guarantee: none; greedy is not competitive (a task of cost just below the distance to a free
    state, repeated, makes it pay forever while OPT moves once). Its ratio is reported
    empirically: Theorem ``mts.greedy.empirical``.

    Parameters
    ----------
    metric : FiniteMetric or array-like of shape (n, n)
    start : int
    """

    def __init__(self, metric, start=0):
        self.metric = metric
        self.start = start

    def reset(self):
        self._setup()

    def serve(self, request):
        c = np.asarray(request, dtype=np.float64)
        D = self._margs[0]
        prev = self._cur
        vals = c + D[prev]
        best = vals.min()
        s = prev if c[prev] <= best else int(np.argmin(vals))
        self._cur = s
        return float(c[s]), float(D[prev, s])

    def _run_batch(self, seq, series, states, thin):
        st, svc, mov = K.greedy_kernel(self._margs[0], seq, self.start_)
        self._cur = int(st[-1])
        return _batch_result(self, self.start_, st, svc, mov, series, states, thin)

    @classmethod
    def _contract_cases(cls):
        mets, rng = _contract_metrics()
        cases = []
        for i, m in enumerate(mets):
            n = len(m) if not hasattr(m, "n") else m.n
            c = rng.uniform(0, 2, size=(10, n))
            if i == 2:
                c[4, 1:] = np.inf
            cases.append(({"metric": m, "start": i % n}, c))
        return cases
