"""online_algs: online algorithms with a verification harness.

Families (imported lazily, so ``import online_algs`` stays light):

* :mod:`online_algs.metrics` - finite metric spaces;
* :mod:`online_algs.caching` - paging policies, no-regret caching, rounding, offline optima;
* :mod:`online_algs.mts` - metrical task systems, work functions, HSTs;
* :mod:`online_algs.kserver` - k-server algorithms and optima;
* :mod:`online_algs.similarity` - the local k-NN datastore (similarity caching);
* :mod:`online_algs.analysis` - characterising data sets and traces;
* :mod:`online_algs.memory` - memory-augmented inference (a model plus a datastore).

One driver, :func:`run`, feeds a sequence to any algorithm and returns a :class:`RunResult`.
"""

from __future__ import annotations

import importlib

from .base import CommitThenLearn, OnlineAlgorithm, RequestThenMove
from .exceptions import (DataError, InfeasibleError, InvalidInputError, NumericalWarning, OnlineAlgsError,
                         SolverError)
from .run import RunResult, run

__version__ = "0.1.0"

__all__ = ["run", "RunResult", "OnlineAlgorithm", "RequestThenMove", "CommitThenLearn", "OnlineAlgsError",
           "InvalidInputError", "InfeasibleError", "SolverError", "NumericalWarning", "DataError", "__version__"]

_SUBPACKAGES = ("metrics", "caching", "mts", "kserver", "similarity", "analysis", "memory", "datasets", "testing")


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'online_algs' has no attribute {name!r}")


def import_all() -> list[str]:
    """Import every module of the library (so every algorithm class is registered).

    Returns the names of the modules imported. Used by the contract test suite.
    """
    import pkgutil

    names = []
    for info in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        if info.name.split(".")[-1].startswith("test"):
            continue
        importlib.import_module(info.name)
        names.append(info.name)
    return names
