"""MTS core: work function, WFA, randomized uniform-metric algorithm, offline optima, instance families.

The implementation is split into ``workfunction``, ``wfa``, ``randomized``, ``offline`` and
``families``; this module re-exports their public names (``online_algs.mts`` re-exports them
in turn). Conventions (request-then-move indexing) are stated in
:mod:`online_algs.mts.workfunction` and ``docs/mts.md``.
"""

from .families import *  # noqa: F401,F403
from .families import __all__ as _families_all
from .offline import *  # noqa: F401,F403
from .offline import __all__ as _offline_all
from .randomized import *  # noqa: F401,F403
from .randomized import __all__ as _randomized_all
from .wfa import *  # noqa: F401,F403
from .wfa import __all__ as _wfa_all
from .workfunction import *  # noqa: F401,F403
from .workfunction import __all__ as _wf_all

__all__ = list(_wf_all) + list(_wfa_all) + list(_randomized_all) + list(_offline_all) + list(_families_all)
