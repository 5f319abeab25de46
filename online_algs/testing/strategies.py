"""Hypothesis strategies shared by the test suite and proofs_check.

They draw *parameters* (kind, size, seed) and build instances with the same numpy
generators that proofs_check and the experiments use (e.g.
:func:`online_algs.metrics.random_metric`), so a failure found by hypothesis is
reproducible as ``random_metric(kind, n, seed)``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ..metrics import random_metric

__all__ = ["metrics", "seeds", "request_sequences", "cost_sequences"]

seeds = st.integers(min_value=0, max_value=2**31 - 1)


@st.composite
def metrics(draw, kinds=("uniform", "line", "star", "tree", "euclidean", "general"), min_n=2, max_n=8):
    """A random finite metric of one of ``kinds`` with ``min_n..max_n`` points."""
    kind = draw(st.sampled_from(kinds))
    n = draw(st.integers(min_n, max_n))
    return random_metric(kind, n, seed=draw(seeds))


@st.composite
def request_sequences(draw, n_points, min_len=1, max_len=40):
    """A 1-d int64 array of requests in ``0..n_points-1``."""
    xs = draw(st.lists(st.integers(0, n_points - 1), min_size=min_len, max_size=max_len))
    return np.asarray(xs, dtype=np.int64)


@st.composite
def cost_sequences(draw, n_states, min_len=1, max_len=20, max_cost=3.0):
    """A (T, n_states) array of non-negative task costs (some exact zeros, to create ties)."""
    T = draw(st.integers(min_len, max_len))
    seed = draw(seeds)
    rng = np.random.default_rng(seed)
    c = rng.uniform(0, max_cost, size=(T, n_states))
    c[rng.random(c.shape) < 0.3] = 0.0
    return c
