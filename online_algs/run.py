"""The one driver: ``run(algorithm, sequence)`` and its result type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validation import check_int
from .base import CommitThenLearn, OnlineAlgorithm, RequestThenMove
from .exceptions import InvalidInputError

__all__ = ["run", "RunResult"]


@dataclass
class RunResult:
    """What a run of an online algorithm produced.

    Attributes
    ----------
    algorithm : str
        ``repr`` of the algorithm that ran.
    steps : int
        Number of requests (or tasks) fed.
    service_cost, movement_cost : float
        Totals of the two cost components (request-then-move); 0 for learners, except
        ``caching.Rounded``, whose ``movement_cost`` is its number of fetches.
    total_gain : float or None
        Sum of per-round gains (learners with ``objective == "gain"``); None otherwise.
    total_loss : float or None
        Sum of per-round losses (learners with ``objective == "loss"``); None otherwise.
    service, movement, gain : ndarray of shape (steps,) or None
        Per-step series, when recorded (``series=True``).
    states : list or None
        States visited: ``states[j]`` is the state after ``state_steps[j]`` requests
        (``state_steps[0] == 0`` is the initial state), every ``thin``-th step and the last.
    hits, misses : int or None
        Caching policies only.
    info : dict
        Family-specific extras (e.g. fetches of a rounded cache).
    """

    algorithm: str
    steps: int
    service_cost: float = 0.0
    movement_cost: float = 0.0
    total_gain: float | None = None
    total_loss: float | None = None
    service: np.ndarray | None = None
    movement: np.ndarray | None = None
    gain: np.ndarray | None = None
    states: list | None = None
    state_steps: np.ndarray | None = None
    hits: int | None = None
    misses: int | None = None
    info: dict = field(default_factory=dict)

    @property
    def total_cost(self) -> float:
        """Service plus movement (plus the loss of a loss-minimising learner)."""
        return float(self.service_cost + self.movement_cost + (self.total_loss or 0.0))

    @property
    def hit_ratio(self) -> float | None:
        if self.hits is None or self.steps == 0:
            return None
        return self.hits / self.steps

    def __repr__(self) -> str:
        parts = [f"algorithm={self.algorithm}", f"steps={self.steps}"]
        if self.total_gain is not None:
            parts.append(f"total_gain={self.total_gain:.6g}")
        else:
            parts.append(f"total_cost={self.total_cost:.6g}")
        if self.hits is not None:
            parts.append(f"hits={self.hits}, misses={self.misses}")
        return f"RunResult({', '.join(parts)})"


def _resolve(alg: OnlineAlgorithm, series, states, thin):
    if series is None:
        series = alg._record_defaults.get("series", True)
    if states is None:
        states = alg._record_defaults.get("states", True)
    thin = check_int("thin", thin, low=1, owner="run")
    return bool(series), bool(states), thin


def run(algorithm: OnlineAlgorithm, sequence: Any, *, series: bool | None = None,
        states: bool | None = None, thin: int = 1, fast: bool = True) -> RunResult:
    """Feed ``sequence`` to ``algorithm`` from a fresh state and return a :class:`RunResult`.

    Parameters
    ----------
    algorithm : OnlineAlgorithm
        Any algorithm of the library (either protocol). It is ``reset()`` first.
    sequence : array-like
        The input the algorithm's family expects: a (T, n) cost array for an MTS, a 1-d
        integer array of points for k-server, of item ids for caching, a (T, d) array of
        query vectors for a similarity cache, ...
    series : bool, optional
        Record per-step service/movement (or gain) arrays. Default: the family's default
        (on for MTS and k-server, off for caching where traces have 10^7 requests).
    states : bool, optional
        Record visited states (thinned by ``thin``). Default: the family's default.
    thin : int
        Keep every ``thin``-th state (the initial and the final state are always kept).
    fast : bool
        Use the algorithm's batch fast path (numba kernel) when it has one. ``fast=False``
        runs the step-by-step protocol loop, the slow twin the tests compare against.
    """
    if not isinstance(algorithm, OnlineAlgorithm):
        if isinstance(algorithm, type) and issubclass(algorithm, OnlineAlgorithm):
            raise InvalidInputError(f"run() takes an online_algs algorithm instance as its first argument. Got the "
                                    f"class {algorithm.__name__} itself; instantiate it with its parameters first, "
                                    f"e.g. online_algs.run({algorithm.__name__}(...), sequence).")
        raise InvalidInputError(f"run() takes an online_algs algorithm as its first argument. "
                                f"Got {type(algorithm).__name__}; build one, e.g. online_algs.caching.LRU(capacity=10).")
    series, states, thin = _resolve(algorithm, series, states, thin)
    algorithm.reset()
    seq = algorithm._validate_sequence(sequence)
    if fast and hasattr(algorithm, "_run_batch"):
        result = algorithm._run_batch(seq, series=series, states=states, thin=thin)
        if result is not None:
            algorithm._finalize(result)
            return result
        algorithm.reset()
    if isinstance(algorithm, RequestThenMove):
        result = _loop_request(algorithm, seq, series, states, thin)
    elif isinstance(algorithm, CommitThenLearn):
        result = _loop_learn(algorithm, seq, series, states, thin)
    else:  # pragma: no cover
        raise InvalidInputError(f"{type(algorithm).__name__} implements neither protocol.")
    algorithm._finalize(result)
    return result


def request_loop(alg: RequestThenMove, T: int, step, *, series: bool, states: bool, thin: int) -> RunResult:
    """The request-then-move loop with recording: ``step(t) -> (service, movement)`` serves the
    t-th request; series, thinned states and totals are recorded as :func:`run` promises.

    ``run`` uses it with ``step = lambda t: alg.serve(seq[t])``; a fast path that precomputes
    part of each step (e.g. batched remote searches) passes its own ``step``.
    """
    svc = np.empty(T) if series else None
    mov = np.empty(T) if series else None
    st_list = [alg.state] if states else None
    st_steps = [0] if states else None
    s_tot = 0.0
    m_tot = 0.0
    for t in range(T):
        s, m = step(t)
        s_tot += s
        m_tot += m
        if series:
            svc[t] = s
            mov[t] = m
        if states and ((t + 1) % thin == 0 or t == T - 1):
            st_list.append(alg.state)
            st_steps.append(t + 1)
    return RunResult(algorithm=repr(alg), steps=T, service_cost=float(s_tot), movement_cost=float(m_tot),
                     service=svc, movement=mov, states=st_list,
                     state_steps=None if st_steps is None else np.asarray(st_steps))


def _loop_request(alg: RequestThenMove, seq, series, states, thin) -> RunResult:
    return request_loop(alg, len(seq), lambda t: alg.serve(seq[t]), series=series, states=states, thin=thin)


def _loop_learn(alg: CommitThenLearn, seq, series, states, thin) -> RunResult:
    T = len(seq)
    g = np.empty(T) if series else None
    st_list = [] if states else None
    st_steps = [] if states else None
    tot = 0.0
    for t in range(T):
        decision = alg.predict()
        if states and (t % thin == 0 or t == T - 1):
            st_list.append(decision.copy() if isinstance(decision, np.ndarray) else decision)
            st_steps.append(t)
        v = alg.update(seq[t])
        tot += v
        if series:
            g[t] = v
    res = RunResult(algorithm=repr(alg), steps=T, gain=g, states=st_list,
                    state_steps=None if st_steps is None else np.asarray(st_steps))
    if alg.objective == "gain":
        res.total_gain = float(tot)
    else:
        res.total_loss = float(tot)
    return res
