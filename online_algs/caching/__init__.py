"""Paging and caching: classic policies, no-regret fractional caching, rounding, offline optima.

Modules: ``classic`` (LRU, FIFO, LFU, CLOCK, random eviction, Marking, ARC; Belady),
``projections`` (capped-simplex projections), ``learners`` (OGD, OMD, FTPL), ``rounding``
(Madow, coupled, DepRound), ``offline`` (best static cache, weighted optimum), ``traces``
(generators).
"""

from .classic import *  # noqa: F401,F403
from .classic import __all__ as _classic_all
from .learners import *  # noqa: F401,F403
from .learners import __all__ as _learners_all

__all__ = list(_classic_all) + list(_learners_all)
