"""The library's exceptions and warnings.

Every error raised on bad input is an :class:`InvalidInputError`, which is also a
:class:`ValueError` so that ``except ValueError`` keeps working. Messages follow the
scikit-learn style: they name the parameter, the constraint and the value received,
and say how to fix it.
"""

from __future__ import annotations

__all__ = [
    "OnlineAlgsError",
    "InvalidInputError",
    "InfeasibleError",
    "SolverError",
    "NumericalWarning",
    "DataError",
]


class OnlineAlgsError(Exception):
    """Base class of every error raised by online_algs."""


class InvalidInputError(OnlineAlgsError, ValueError):
    """A parameter, a metric, a sequence or a data file does not satisfy its constraints."""


class InfeasibleError(OnlineAlgsError):
    """The instance has no feasible solution (e.g. more servers than points)."""


class SolverError(OnlineAlgsError):
    """An offline solver (LP, min-cost flow, ...) failed.

    Attributes
    ----------
    status : str
        The solver's own status string (e.g. cvxpy's ``"infeasible"``).
    solver : str
        The solver that was used.
    """

    def __init__(self, message: str, *, status: str | None = None, solver: str | None = None):
        super().__init__(message)
        self.status = status
        self.solver = solver


class DataError(InvalidInputError):
    """A bundled or user data file is missing, damaged or malformed."""


class NumericalWarning(UserWarning):
    """A computation lost accuracy (e.g. a root-find stopped at its iteration cap)."""
