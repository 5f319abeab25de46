"""k-server, part 1: Double Coverage (line and tree), the Work Function Algorithm, greedy and
harmonic baselines, offline optima (min-cost flow, configuration DP), adversaries and request
families.

The implementation is split over ``double_coverage``, ``wfa``, ``offline`` and ``families``;
this module re-exports their public names.
"""

from .double_coverage import *  # noqa: F401,F403
from .double_coverage import __all__ as _dc_all
from .families import *  # noqa: F401,F403
from .families import __all__ as _fam_all
from .offline import *  # noqa: F401,F403
from .offline import __all__ as _off_all
from .wfa import *  # noqa: F401,F403
from .wfa import __all__ as _wfa_all

__all__ = list(_dc_all) + list(_wfa_all) + list(_off_all) + list(_fam_all)
