"""Input validation helpers with scikit-learn style messages.

Each helper names the parameter, states the constraint, reports the value received and
raises :class:`~online_algs.exceptions.InvalidInputError`. Public constructors and
``run`` call them once, up front; kernels never validate.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .exceptions import InvalidInputError

__all__ = [
    "check_int",
    "check_float",
    "check_seed",
    "check_choice",
    "check_int_array",
    "check_cost_matrix",
    "check_float_array",
]


#: ``hint=`` for arrays of vectors or points (catalog, queries, features), whose NaN is not a missing cost
VECTOR_HINT = "drop or impute the rows with missing coordinates (vectors must be real-valued)."
#: ``hint=`` for class labels
LABEL_HINT = "labels are class indices 0..C-1: remap them with np.unique(y, return_inverse=True)[1]."
#: ``hint=`` for request counts / weights of a batched caching request
COUNT_HINT = "requests are non-negative counts (or weights) per item: replace missing or negative entries by 0."


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None,
              owner: str | None = None) -> int:
    """Return ``value`` as an ``int`` if it is an integer in ``[low, high]``."""
    where = f"The {name!r} parameter" + (f" of {owner}" if owner else "")
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        rng = _range_text(low, high)
        raise InvalidInputError(f"{where} must be an int{rng}. Got {_short(value)} "
                                f"of type {type(value).__name__} instead.")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise InvalidInputError(f"{where} must be an int{_range_text(low, high)}. Got {value} instead.")
    return value


def check_float(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False, owner: str | None = None,
                allow_inf: bool = False) -> float:
    """Return ``value`` as a finite ``float`` in the given (half-)open or closed range."""
    where = f"The {name!r} parameter" + (f" of {owner}" if owner else "")
    # an infinite end is open unless inf itself is allowed: "(0.0, inf)" for a finite real
    lo_b = "(" if low_open or (low is None and not allow_inf) else "["
    hi_b = ")" if high_open or (high is None and not allow_inf) else "]"
    rng = ""
    if low is not None or high is not None:
        rng = f" in the range {lo_b}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi_b}"
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise InvalidInputError(f"{where} must be a real number{rng}. Got {_short(value)} "
                                f"of type {type(value).__name__} instead.")
    value = float(value)
    if np.isnan(value) or (np.isinf(value) and not allow_inf):
        raise InvalidInputError(f"{where} must be a finite real number{rng}. Got {value} instead.")
    bad = ((low is not None and (value < low or (low_open and value == low)))
           or (high is not None and (value > high or (high_open and value == high))))
    if bad:
        raise InvalidInputError(f"{where} must be a real number{rng}. Got {value} instead.")
    return value


def check_seed(value: Any, owner: str | None = None) -> int | None:
    """A seed is ``None`` or a non-negative int."""
    if value is None:
        return None
    return check_int("seed", value, low=0, owner=owner)


def check_choice(name: str, value: Any, choices, owner: str | None = None):
    """``value`` must be one of ``choices``."""
    if value not in choices:
        where = f"The {name!r} parameter" + (f" of {owner}" if owner else "")
        raise InvalidInputError(f"{where} must be one of {sorted(map(str, choices))}. Got {_short(value)} instead.")
    return value


def _range_text(low, high) -> str:
    if low is None and high is None:
        return ""
    if high is None:
        return f" >= {low}"
    if low is None:
        return f" <= {high}"
    return f" in the range [{low}, {high}]"


def check_int_array(name: str, value: Any, *, low: int | None = 0, high: int | None = None,
                    ndim: int = 1, owner: str | None = None, allow_empty: bool = False,
                    hint: str | None = None) -> np.ndarray:
    """Return a contiguous int64 array of ``ndim`` dimensions with entries in ``[low, high]``.

    Float arrays whose entries are all whole numbers are accepted; anything else is rejected.
    The input is never modified (a copy is made when a conversion is needed). ``hint``, when
    given, replaces the default fix-it text of the range messages (ids below ``low`` or above
    ``high``), e.g. for class labels rather than item ids.
    """
    where = f"The {name!r} argument" + (f" of {owner}" if owner else "")
    if isinstance(value, (str, bytes)):
        raise InvalidInputError(f"{where} must be a {ndim}-d array of integers. Got a {type(value).__name__} "
                                f"({_short(value)}); pass a list or array of integer ids.")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise InvalidInputError(f"{where} must be array-like of integers; could not convert it: {exc}") from exc
    if arr.ndim != ndim:
        if arr.ndim == 0:
            got = f"a scalar {_short(value)} of type {type(value).__name__}"
            fix = "wrap it in a list" if ndim == 1 else f"pass a {ndim}-d array"
        else:
            got = f"an array of shape {arr.shape}"
            fix = f"{'flatten it or ' if ndim == 1 else ''}pass one sequence at a time"
        raise InvalidInputError(f"{where} must be a {ndim}-d array of integers. Got {got}; {fix}.")
    if arr.size == 0 and not allow_empty:
        raise InvalidInputError(f"{where} must not be empty. Got an array of shape {arr.shape}.")
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise InvalidInputError(f"{where} must hold integers. Got dtype {arr.dtype}; convert ids with "
                                f"np.unique(x, return_inverse=True)[1] if they are labels.")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise InvalidInputError(f"{where} must hold integers. Got floats that are not whole numbers "
                                    f"(or NaN/inf); cast to int after checking them.")
    if arr.size and arr.dtype.kind in "uf":  # the int64 cast would wrap these around
        over = (arr > np.iinfo(np.int64).max) if arr.dtype.kind == "u" else ((arr >= 2.0**63) | (arr < -2.0**63))
        if over.any():
            i = int(np.argmax(over))
            raise InvalidInputError(f"{where} must hold ids that fit in int64 (below 2**63). Got {arr[i]} at "
                                    f"position {i}; remap ids to 0..n-1 (np.unique(..., return_inverse=True)).")
    out = np.ascontiguousarray(arr, dtype=np.int64)
    if out.size:
        mn, mx = int(out.min()), int(out.max())
        if low is not None and mn < low:
            i = int(np.argmin(out))
            raise InvalidInputError(f"{where} must hold ids >= {low}. Got {mn} at position {i}; "
                                    + (hint or "remap ids to 0..n-1 (np.unique(..., return_inverse=True))."))
        if high is not None and mx > high:
            i = int(np.argmax(out))
            raise InvalidInputError(f"{where} must hold ids <= {high}. Got {mx} at position {i}; "
                                    + (hint or "raise n_items (or the number of points) or remap the ids."))
    return out


def check_float_array(name: str, value: Any, *, ndim: int | None = None, shape: tuple | None = None,
                      nonneg: bool = False, allow_inf: bool = False, owner: str | None = None,
                      allow_empty: bool = False, hint: str | None = None) -> np.ndarray:
    """Return a contiguous float64 array checked for shape, NaN, inf and sign.

    ``hint``, when given, replaces the default fix-it text of the NaN and negative-value
    messages (which speak of costs), e.g. ``"drop or impute the rows with missing values."``
    for vectors.
    """
    where = f"The {name!r} argument" + (f" of {owner}" if owner else "")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except Exception as exc:
        raise InvalidInputError(f"{where} must be array-like of real numbers; could not convert it: {exc}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise InvalidInputError(f"{where} must be a {ndim}-d array. Got shape {arr.shape}.")
    if shape is not None:
        for i, (got, want) in enumerate(zip(arr.shape, shape)):
            if want is not None and got != want:
                raise InvalidInputError(f"{where} must have shape {tuple('*' if s is None else s for s in shape)}. "
                                        f"Got shape {arr.shape} (axis {i} is {got}, expected {want}).")
    if arr.size == 0 and not allow_empty:
        raise InvalidInputError(f"{where} must not be empty. Got shape {arr.shape}.")
    if np.isnan(arr).any():
        idx = tuple(int(i) for i in np.argwhere(np.isnan(arr))[0])
        raise InvalidInputError(f"{where} must not contain NaN. Got NaN at index {idx}; "
                                + (hint or "replace missing costs by a finite value (or np.inf where allowed)."))
    if not allow_inf and np.isinf(arr).any():
        idx = tuple(int(i) for i in np.argwhere(np.isinf(arr))[0])
        raise InvalidInputError(f"{where} must be finite. Got {arr[idx]} at index {idx}.")
    if nonneg and (arr < 0).any():
        idx = tuple(int(i) for i in np.argwhere(arr < 0)[0])
        raise InvalidInputError(f"{where} must be non-negative. Got {arr[idx]} at index {idx}; "
                                + (hint or "costs are non-negative by definition: shift or clip them."))
    return np.ascontiguousarray(arr)


def check_cost_matrix(name: str, value: Any, n_states: int, *, owner: str | None = None,
                      allow_inf: bool = True) -> np.ndarray:
    """Task costs for an MTS: a (T, n_states) array, non-negative, no NaN (inf allowed)."""
    arr = check_float_array(name, value, ndim=2, shape=(None, n_states), nonneg=True,
                            allow_inf=allow_inf, owner=owner)
    if allow_inf and np.isinf(arr).all(axis=1).any():
        t = int(np.argmax(np.isinf(arr).all(axis=1)))
        where = f"The {name!r} argument" + (f" of {owner}" if owner else "")
        raise InvalidInputError(f"{where} has a task with infinite cost on every state (row {t}); "
                                f"no schedule can serve it. Give at least one state a finite cost.")
    return arr
