"""proofs_check: every theorem the library states, as a numeric check that can fail.

Run ``python -m proofs_check [--quick|--thorough] [--only PATTERN] [--json PATH]``.
Check modules live in ``proofs_check/checks/`` (one per family) and are discovered
automatically; a module that fails to import becomes an ``error`` result, so one broken
family never hides the others.
"""

from __future__ import annotations

import importlib
import pkgutil

from .registry import (THEOREMS, CheckResult, Context, Theorem, mean_ci, run_checks, run_one, select,
                       theorem)

__all__ = ["THEOREMS", "CheckResult", "Context", "Theorem", "theorem", "select", "run_checks", "run_one",
           "load_all", "mean_ci", "IMPORT_ERRORS"]

IMPORT_ERRORS: dict[str, str] = {}
_LOADED = False


def load_all() -> dict[str, Theorem]:
    """Import every module of ``proofs_check.checks`` (once) and return the registry."""
    global _LOADED
    if not _LOADED:
        from . import checks

        for info in sorted(pkgutil.iter_modules(checks.__path__), key=lambda m: m.name):
            name = f"{checks.__name__}.{info.name}"
            try:
                importlib.import_module(name)
            except Exception as exc:  # reported by the CLI as an error result
                IMPORT_ERRORS[name] = f"{type(exc).__name__}: {exc}"
        _LOADED = True
    return THEOREMS
