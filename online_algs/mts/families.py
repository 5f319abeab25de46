r"""Instance families of metrical task systems (shared by tests, proofs_check and experiments).

Random metrics come from :func:`online_algs.metrics.random_metric` (kinds ``uniform``,
``line``, ``star``, ``tree``, ``euclidean``, ``general``; ``hst`` from the HST module).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_float, check_int, check_seed
from ..base import RequestThenMove
from ..exceptions import InvalidInputError
from ..metrics import as_metric

__all__ = ["uniform_random_tasks", "unit_elementary_tasks", "cyclic_elementary_tasks", "fill_then_saturate_tasks",
           "cruel_taskmaster"]


def uniform_random_tasks(n, T, seed=None, high=1.0) -> np.ndarray:
    """A (T, n) array of i.i.d. task costs uniform in ``[0, high]``."""
    n = check_int("n", n, low=1, owner="uniform_random_tasks")
    T = check_int("T", T, low=1, owner="uniform_random_tasks")
    high = check_float("high", high, low=0.0, owner="uniform_random_tasks")
    return np.random.default_rng(check_seed(seed, owner="uniform_random_tasks")).uniform(0.0, high, size=(T, n))


def unit_elementary_tasks(n, T, seed=None) -> np.ndarray:
    """A (T, n) array of unit elementary tasks: cost 1 on one uniformly random state, 0 elsewhere.

    The lower-bound family of randomized MTS on the uniform metric: every online algorithm pays
    at least ``T/n`` in expectation, while ``E[OPT] ~ T / (n H_n)``.
    """
    n = check_int("n", n, low=1, owner="unit_elementary_tasks")
    T = check_int("T", T, low=1, owner="unit_elementary_tasks")
    c = np.zeros((T, n))
    c[np.arange(T), np.random.default_rng(check_seed(seed, owner="unit_elementary_tasks")).integers(0, n, size=T)] = 1.0
    return c


def cyclic_elementary_tasks(n, T, cost=1.0) -> np.ndarray:
    """Cost ``cost`` on state ``t mod n`` at step ``t`` (an oblivious, deterministic sequence)."""
    n = check_int("n", n, low=1, owner="cyclic_elementary_tasks")
    T = check_int("T", T, low=1, owner="cyclic_elementary_tasks")
    cost = check_float("cost", cost, low=0.0, owner="cyclic_elementary_tasks")
    c = np.zeros((T, n))
    c[np.arange(T), np.arange(T) % n] = cost
    return c


def cruel_taskmaster(alg, metric, T, eps) -> tuple[np.ndarray, float]:
    r"""The cruel taskmaster: cost ``eps`` on the algorithm's current state, 0 elsewhere.

    Adaptive: the deterministic request-then-move algorithm ``alg`` is reset and fed one task
    at a time; task ``t`` puts ``eps`` on the state ``alg`` occupies before the task
    (Borodin, Linial, Saks 1992, Thm 2.2: every deterministic algorithm then has ratio at least
    ``(2n - 1) / (1 + eps / min_{i != j} d(i, j))`` asymptotically).

    Parameters
    ----------
    alg : RequestThenMove
        A deterministic MTS algorithm on ``metric`` (its ``state`` is a state index).
    metric : FiniteMetric or array-like
    T : int
        Number of tasks.
    eps : float
        The cost put on the current state (> 0).

    Returns
    -------
    costs : ndarray of shape (T, n)
    alg_cost : float
        The algorithm's total cost on these tasks.
    """
    owner = "cruel_taskmaster"
    if not isinstance(alg, RequestThenMove):
        raise InvalidInputError(f"The 'alg' argument of {owner} must be a request-then-move algorithm "
                                f"(e.g. WorkFunctionAlgorithm). Got {type(alg).__name__}.")
    if getattr(alg, "randomized", False):
        raise InvalidInputError(f"The 'alg' argument of {owner} must be deterministic: the cruel taskmaster "
                                f"adapts to the algorithm's state, which a randomized algorithm hides from an "
                                f"oblivious adversary. Got the randomized {type(alg).__name__}.")
    m = as_metric(metric, owner=owner)
    T = check_int("T", T, low=1, owner=owner)
    eps = check_float("eps", eps, low=0.0, low_open=True, owner=owner)
    alg.reset()
    n_alg = getattr(alg, "n_", m.n)
    if n_alg != m.n:
        raise InvalidInputError(f"The 'alg' of {owner} runs on {n_alg} states but 'metric' has {m.n}; "
                                f"build the algorithm on the same metric.")
    costs = np.zeros((T, m.n))
    total = 0.0
    for t in range(T):
        costs[t, int(alg.state)] = eps
        s, mv = alg.serve(costs[t])
        total += s + mv
    return costs, float(total)


def fill_then_saturate_tasks(n, phases, delta=0.05, distance=1.0) -> np.ndarray:
    """A phase-structured oblivious sequence for the randomized uniform-metric algorithm.

    Each phase: one task of cost ``distance - delta`` on every state (everyone pays it), then
    ``delta`` on states ``0, 1, ..., n-1`` in turn (each saturates one state at the phase cap
    ``distance``). Shape ``(phases * (n + 1), n)``. The algorithm pays about
    ``distance (H_n + 1 - 1/n)`` per phase (jumps within the phase plus the random jump at the
    phase start) while OPT pays about ``distance``.
    """
    owner = "fill_then_saturate_tasks"
    n = check_int("n", n, low=1, owner=owner)
    phases = check_int("phases", phases, low=1, owner=owner)
    distance = check_float("distance", distance, low=0.0, low_open=True, owner=owner)
    delta = check_float("delta", delta, low=0.0, high=distance, low_open=True, owner=owner)
    block = np.zeros((n + 1, n))
    block[0, :] = distance - delta
    block[np.arange(1, n + 1), np.arange(n)] = delta
    return np.tile(block, (phases, 1))
