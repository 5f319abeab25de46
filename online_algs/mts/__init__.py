"""Metrical task systems: work functions, WFA, randomized and entropic algorithms, HSTs, offline optima.

Modules: ``core`` (work function, WFA, randomized uniform-metric algorithm, offline optima,
instance families) and ``hst`` / ``entropic`` (HST metrics, FRT embedding, entropic mirror
descent on weighted stars and HSTs).
"""

from .core import *  # noqa: F401,F403
from .core import __all__ as _core_all
from .hst import *  # noqa: F401,F403
from .hst import __all__ as _hst_all
from .entropic import *  # noqa: F401,F403
from .entropic import __all__ as _entropic_all

__all__ = list(_core_all) + list(_hst_all) + list(_entropic_all)
