"""Request-trace generators for paging and caching.

Every generator returns a 1-d ``int64`` array of item ids in ``0..n_items-1`` and is
deterministic given ``seed``. Shared by the tests, proofs_check, the benchmarks and the
experiments of both caching parts (classic policies and no-regret learners).

* :func:`zipf_trace` -- i.i.d. requests with ``P(item of rank i) ∝ (i + 1) ** -alpha``.
  Ranks are NOT shuffled: item ``i`` is the ``i``-th most popular (item 0 the most
  popular), which keeps "the top-C items" readable in tests.
* :func:`shifting_trace` -- Zipf whose rank -> item map is re-drawn (a uniformly random
  permutation) at the start of each of ``n_phases`` equal phases (the first phase is a
  random permutation too).
* :func:`cycle_trace` -- the (k+1)-page cycle ``0, 1, ..., k, 0, 1, ...``: LRU and FIFO miss
  on every request with a k-cache, Belady once per k requests (Theorem ``caching.lru.competitive``).
* :func:`adversarial_pairs_trace` -- ``N = 2C`` items in C pairs ``(2j, 2j+1)``; each round a
  uniformly random pair and a uniformly random member: the regret lower-bound family of
  no-regret caching (every policy that commits before the request gains T/2 in expectation).
* :func:`uniform_trace` -- i.i.d. uniform requests (with ``n_items = k + 1``: the H_k lower-bound
  family of randomized paging, Theorem ``caching.randomized.lower_bound``).
* :func:`load_real_trace` -- a bundled real trace, through :func:`online_algs.datasets.load_trace`.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_float, check_int, check_seed

__all__ = ["zipf_trace", "shifting_trace", "cycle_trace", "adversarial_pairs_trace", "uniform_trace",
           "load_real_trace", "zipf_probabilities", "REAL_TRACES"]

#: names accepted by :func:`load_real_trace`
REAL_TRACES = ("web07", "web12", "orm-busy", "cloudphysics")


def zipf_probabilities(n_items: int, alpha: float = 1.0) -> np.ndarray:
    """``p[i] = (i + 1) ** -alpha / sum_j (j + 1) ** -alpha`` for ``i = 0..n_items-1``."""
    n_items = check_int("n_items", n_items, low=1, owner="zipf_probabilities")
    alpha = check_float("alpha", alpha, low=0.0, owner="zipf_probabilities")
    w = np.arange(1, n_items + 1, dtype=np.float64) ** (-alpha)
    return w / w.sum()


def _zipf_ranks(rng: np.random.Generator, n_items: int, length: int, alpha: float) -> np.ndarray:
    # inverse-CDF sampling: O(N) setup, O(log N) per request
    cdf = np.cumsum(zipf_probabilities(n_items, alpha))
    cdf[-1] = 1.0
    u = rng.random(length)
    idx = np.searchsorted(cdf, u, side="right")
    np.minimum(idx, n_items - 1, out=idx)
    return idx.astype(np.int64, copy=False)


def zipf_trace(n_items, length, alpha=1.0, seed=None) -> np.ndarray:
    """I.i.d. Zipf requests: ``P(i) ∝ (i + 1) ** -alpha``, item 0 the most popular (not shuffled).

    Parameters
    ----------
    n_items : int >= 1
    length : int >= 0
    alpha : float >= 0 (0 is uniform)
    seed : None or int >= 0

    Returns
    -------
    ndarray of int64, shape (length,)
    """
    n_items = check_int("n_items", n_items, low=1, owner="zipf_trace")
    length = check_int("length", length, low=0, owner="zipf_trace")
    alpha = check_float("alpha", alpha, low=0.0, owner="zipf_trace")
    rng = np.random.default_rng(check_seed(seed, owner="zipf_trace"))
    return _zipf_ranks(rng, n_items, length, alpha)


def shifting_trace(n_items, length, alpha=1.0, n_phases=4, seed=None) -> np.ndarray:
    """Zipf requests whose popularity ranking is re-permuted at each phase.

    The trace is cut into ``n_phases`` phases of (almost) equal length; in each phase the
    item of popularity rank ``r`` is ``perm[r]`` for a fresh uniformly random permutation
    ``perm``. A static cache that is good in one phase is poor in the next.
    """
    n_items = check_int("n_items", n_items, low=1, owner="shifting_trace")
    length = check_int("length", length, low=0, owner="shifting_trace")
    alpha = check_float("alpha", alpha, low=0.0, owner="shifting_trace")
    n_phases = check_int("n_phases", n_phases, low=1, owner="shifting_trace")
    rng = np.random.default_rng(check_seed(seed, owner="shifting_trace"))
    ranks = _zipf_ranks(rng, n_items, length, alpha)
    out = np.empty(length, dtype=np.int64)
    bounds = np.linspace(0, length, n_phases + 1).round().astype(np.int64)
    for p in range(n_phases):
        a, b = int(bounds[p]), int(bounds[p + 1])
        perm = rng.permutation(n_items).astype(np.int64)
        out[a:b] = perm[ranks[a:b]]
    return out


def cycle_trace(k, length) -> np.ndarray:
    """The (k+1)-page cycle ``0, 1, ..., k, 0, 1, ...`` of ``length`` requests.

    With a cache of ``k`` pages, LRU and FIFO miss on every request, Belady on about one in
    ``k`` (after the ``k`` cold misses): the deterministic lower bound k.
    """
    k = check_int("k", k, low=1, owner="cycle_trace")
    length = check_int("length", length, low=0, owner="cycle_trace")
    return np.arange(length, dtype=np.int64) % (k + 1)


def adversarial_pairs_trace(capacity, length, seed=None) -> np.ndarray:
    """The pairs lower-bound family: ``N = 2 * capacity`` items in pairs ``(2j, 2j + 1)``.

    Each request picks a uniformly random pair ``j`` and a uniformly random member, i.e.
    item ``2j + b`` with ``j ~ U{0..C-1}``, ``b ~ U{0, 1}``: every item has probability
    ``1 / (2C)``, independently across rounds.
    """
    capacity = check_int("capacity", capacity, low=1, owner="adversarial_pairs_trace")
    length = check_int("length", length, low=0, owner="adversarial_pairs_trace")
    rng = np.random.default_rng(check_seed(seed, owner="adversarial_pairs_trace"))
    pair = rng.integers(0, capacity, size=length, dtype=np.int64)
    member = rng.integers(0, 2, size=length, dtype=np.int64)
    return 2 * pair + member


def uniform_trace(n_items, length, seed=None) -> np.ndarray:
    """I.i.d. uniform requests over ``0..n_items-1`` (Zipf with ``alpha = 0``)."""
    n_items = check_int("n_items", n_items, low=1, owner="uniform_trace")
    length = check_int("length", length, low=0, owner="uniform_trace")
    rng = np.random.default_rng(check_seed(seed, owner="uniform_trace"))
    return rng.integers(0, n_items, size=length, dtype=np.int64)


def load_real_trace(name) -> np.ndarray:
    """A bundled real trace as an int64 array of ids remapped to ``0..N-1``.

    Delegates to :func:`online_algs.datasets.load_trace`; ``name`` is one of
    :data:`REAL_TRACES` (``"web07"``, ``"web12"``, ``"orm-busy"``, ``"cloudphysics"``).
    """
    from .._validation import check_choice

    check_choice("name", name, REAL_TRACES, owner="load_real_trace")
    from ..datasets import load_trace

    return np.ascontiguousarray(load_trace(name), dtype=np.int64)
