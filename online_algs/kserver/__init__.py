"""k-server: Double Coverage, the Work Function Algorithm, fractional entropic k-server on HSTs,
weighted paging, and offline optima (min-cost flow, configuration DP).

Modules: ``core`` (Double Coverage, WFA for k-server, offline optima, adversaries and families)
and ``fractional`` (fractional k-server on HSTs: the entropic BBN-style variant and the multiscale
projection of issue #5, with rounding,
weighted paging).
"""

from .core import *  # noqa: F401,F403
from .core import __all__ as _core_all
from .fractional import *  # noqa: F401,F403
from .fractional import __all__ as _fractional_all

__all__ = list(_core_all) + list(_fractional_all)
