r"""The randomized 2H_n phase algorithm for metrical task systems on a uniform metric."""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import check_int, check_seed
from ..base import kernel_seed
from ..exceptions import InvalidInputError
from ..metrics import FiniteMetric, as_metric, uniform
from . import _kernels as K
from .wfa import _MTSBase
from .workfunction import _batch_result

__all__ = ["RandomizedUniformMTS", "harmonic"]


def harmonic(n: int) -> float:
    """The harmonic number ``H_n = 1 + 1/2 + ... + 1/n`` (``H_0 = 0``)."""
    n = check_int("n", n, low=0, owner="harmonic")
    return float(np.sum(1.0 / np.arange(1, n + 1)))


def _uniform_distance(m: FiniteMetric, owner: str) -> float:
    if m.n == 1:
        return 1.0
    if m.kind == "uniform" and "distance" in m.info:
        return float(m.info["distance"])
    off = m.d[~np.eye(m.n, dtype=bool)]
    if np.ptp(off) > 1e-12 * max(1.0, float(off.max())):
        raise InvalidInputError(f"The 'metric' parameter of {owner} must be a uniform metric (every pair of "
                                f"distinct states at the same distance). Got distances from {off.min():.6g} to "
                                f"{off.max():.6g}; pass an int n or online_algs.metrics.uniform(n, distance), or "
                                f"use WorkFunctionAlgorithm on general metrics.")
    return float(off[0])


class RandomizedUniformMTS(_MTSBase):
    r"""The randomized phase algorithm for MTS on a uniform metric (2H_n-competitive).

    Problem: a metrical task system on ``n`` states, every pair at distance ``d`` (request-then-
    move: the algorithm sees ``c_t``, moves ``s_{t-1} -> s_t``, pays ``d [s_t != s_{t-1}] + c_t(s_t)``).

    Update rule (phases): keep the phase cost ``p(s)`` of every state, capped at ``d``. On task
    ``c_t``: ``p <- min(p + c_t, d)``. If ``p(s_{t-1}) < d`` stay. Otherwise jump to a uniformly
    random state among those with ``p < d``; if every state is saturated, start a new phase
    (``p <- 0``) AND jump to a uniformly random state (among the states with finite ``c_t``; all of
    them when ``c_t`` is finite). The random jump at the start of a phase matters: without it an
    oblivious adversary saturates the known starting state first and the ratio tends to
    ``2H_{n-1} + 1 > 2H_n``.

    Complexity: O(n) time per task, O(n) memory. The batch path is a numba kernel seeded with
    :func:`online_algs.base.kernel_seed`; ``serve`` draws the same numbers from a
    ``numpy.random.RandomState`` with the same seed (its slow twin).

    Guarantee: ``E[ALG] <= 2 H_n OPT + O(d)`` against an oblivious adversary (Borodin, Linial,
    Saks, J.ACM 1992, Thm 7.1 gives ``H_n <= optimal ratio <= 2 H_n`` for the continuous-time
    phase algorithm; for this discrete version, with task costs in ``[0, d]`` or ``inf``, a crude
    accounting gives ``(2 H_n + 1) OPT + O(d)``, see ``docs/theory/mts_wfa.md``; larger tasks can
    be paid in full at a random state after a phase change and carry no bound): Theorem
    ``mts.randomized.uniform`` (checked with a confidence interval over seeds on unit elementary,
    cyclic and random tasks); no algorithm beats ``H_n`` on unit elementary tasks: Theorem
    ``mts.randomized.lower_bound``.

    Parameters
    ----------
    metric : int or FiniteMetric or array-like
        ``n`` (the uniform metric with distance 1) or a uniform metric.
    start : int
    seed : None or int
    """

    randomized = True

    def __init__(self, metric, start=0, seed=None):
        self.metric = metric
        self.start = start
        self.seed = seed

    def reset(self):
        owner = "RandomizedUniformMTS"
        if isinstance(self.metric, numbers.Integral) and not isinstance(self.metric, bool):
            if int(self.metric) < 1:
                raise InvalidInputError(f"The 'metric' parameter of {owner} must be an int n >= 1 or a uniform "
                                        f"metric. Got {self.metric} instead.")
            m = uniform(int(self.metric))
        else:
            m = as_metric(self.metric, owner=owner)
        self.distance_ = _uniform_distance(m, owner)
        self.metric_ = m
        self.start_ = m.check_point("start", self.start, owner=owner)
        self.n_ = m.n
        self._margs = (m.d,)
        self._cur = self.start_
        seed = check_seed(self.seed, owner=owner)
        self._rng = np.random.default_rng(seed)
        self._kseed = kernel_seed(self._rng)
        self._rs = np.random.RandomState(self._kseed)
        self._p = np.zeros(self.n_)
        self.phases_ = 1

    def serve(self, request):
        c = np.asarray(request, dtype=np.float64)
        dist = self.distance_
        v = self._p + c
        self._p = np.where(v < dist, v, dist)
        cur = self._cur
        nxt = cur
        if not self._p[cur] < dist:
            cand = np.flatnonzero(self._p < dist)
            if len(cand) == 0:
                self.phases_ += 1
                self._p = np.zeros(self.n_)
                cand = np.flatnonzero(c < np.inf)
            k = min(int(self._rs.random_sample() * len(cand)), len(cand) - 1)
            nxt = int(cand[k])
        self._cur = nxt
        return float(c[nxt]), (0.0 if nxt == cur else dist)

    def _run_batch(self, seq, series, states, thin):
        st, svc, mov, phases = K.randomized_uniform_kernel(seq, self.start_, self.distance_, self._kseed)
        self._cur = int(st[-1])
        self.phases_ = int(phases)
        res = _batch_result(self, self.start_, st, svc, mov, series, states, thin)
        return res

    def _finalize(self, result):
        result.info["phases"] = int(self.phases_)

    @classmethod
    def _contract_cases(cls):
        rng = np.random.default_rng(5)
        el = np.zeros((30, 4))
        el[np.arange(30), rng.integers(0, 4, size=30)] = 1.0
        rt = rng.uniform(0, 1, size=(25, 3))
        rt[7, 1] = np.inf
        rt[12, :2] = np.inf
        return [({"metric": 4, "seed": 1}, el),
                ({"metric": uniform(3, 2.0), "start": 2, "seed": 3}, rt),
                ({"metric": np.ones((2, 2)) - np.eye(2)}, np.array([[1.0, 0.0], [0.0, 1.0]] * 5))]
