"""Numba flags in one place.

Every kernel in the library is compiled with :func:`njit` from this module, never with
``numba.njit`` directly, so the flags below apply everywhere. ``fastmath`` stays off:
several checks compare floating-point inequalities at the last bit, which fastmath may
reorder. ``cache`` writes compiled kernels to ``NUMBA_CACHE_DIR`` (the Makefile points it
at ``.numba_cache``) so that test runs after the first do not recompile.

Set ``NUMBA_DISABLE_JIT=1`` to run every kernel as plain Python (coverage, debugging).
"""

from __future__ import annotations

import numba

FASTMATH = False
CACHE = True
NOGIL = True


def njit(*args, **kwargs):
    """``numba.njit`` with the library's flags (``fastmath=False, cache=True, nogil=True``)."""
    kwargs.setdefault("fastmath", FASTMATH)
    kwargs.setdefault("cache", CACHE)
    kwargs.setdefault("nogil", NOGIL)
    if len(args) == 1 and callable(args[0]) and not kwargs.get("_signature"):
        return numba.njit(**kwargs)(args[0])
    return numba.njit(*args, **kwargs)
