r"""Rounding fractional caches to integral ones, keeping the marginals.

A fractional cache :math:`y \in K_C` (C integral) is turned into a random set Z of exactly C
items with :math:`P(i \in Z) = y_i`, so the expected integral gain equals the fractional gain.

* :func:`madow_sample` -- systematic sampling with one uniform U.
* :class:`CoupledRounding` -- Madow with the same U every round: a coordinate's item changes only
  when a cumulative-sum boundary crosses one of the points U + m, so the expected number of
  fetches per round is at most :math:`\sum_j |S_j(y_{t}) - S_j(y_{t-1})|` (the 1-d transport
  distance along the item order), and at least :math:`\|y_t - y_{t-1}\|_1 / 2`.
* :func:`depround` -- dependent rounding (Gandhi, Khuller, Parthasarathy, Srinivasan, J.ACM 2006).
* :class:`Rounded` -- wraps a fractional learner into an integral caching policy.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_float, check_float_array, check_seed
from ..base import CommitThenLearn
from ..exceptions import InvalidInputError
from . import _kernels_learners as _k

__all__ = ["madow_sample", "depround", "CoupledRounding", "Rounded"]

_SNAP = 1e-12


def _check_fractional(y, owner):
    y = check_float_array("y", y, ndim=1, owner=owner)
    if (y < -1e-9).any() or (y > 1 + 1e-9).any():
        i = int(np.argmax((y < -1e-9) | (y > 1 + 1e-9)))
        raise InvalidInputError(f"The 'y' argument of {owner} must lie in [0, 1] (a fractional cache). Got "
                                f"y[{i}] = {y[i]}; project it first (project_capped_simplex).")
    total = float(y.sum())
    C = int(round(total))
    if abs(total - C) > 1e-6 * max(1.0, total) or C < 1 or C > len(y):
        raise InvalidInputError(f"The 'y' argument of {owner} must sum to an integer capacity in [1, {len(y)}] "
                                f"(within 1e-6). Got sum {total!r}; rescale or project it onto the capped simplex.")
    y = y.copy()
    y[y < _SNAP] = 0.0
    y[y > 1.0 - _SNAP] = 1.0
    return y, C


def _madow_core(y, C, u):
    """Ids chosen by systematic sampling (y already snapped, C = its integral sum)."""
    N = len(y)
    S = np.cumsum(y)
    S[-1] = C  # float trap: the last cumulative sum can be 1 ulp below C
    idx = np.searchsorted(S, u + np.arange(C), side="right")
    np.minimum(idx, N - 1, out=idx)  # U + C - 1 can round up to C
    chosen = np.unique(idx)
    if len(chosen) < C:  # round-off made an interval hold two points: fill with the largest y left
        rest = np.setdiff1d(np.argsort(-y, kind="stable"), chosen, assume_unique=False)
        order = np.argsort(-y[rest], kind="stable")
        chosen = np.sort(np.concatenate([chosen, rest[order][:C - len(chosen)]]))
    return chosen.astype(np.int64)


def madow_sample(y, u):
    r"""Madow's systematic sampling: exactly C items, :math:`P(i) = y_i` for a uniform u.

    With :math:`S_i = y_0 + \dots + y_i`, item i is chosen iff one of the points u + m,
    m = 0..C-1, lies in :math:`[S_{i-1}, S_i)`. Float traps handled: values within 1e-12 of 0
    or 1 are snapped, :math:`S_{N-1} = C` exactly, indices are clamped to N - 1. O(N).
    Marginals: Theorem ``caching.rounding.marginals``.

    Parameters
    ----------
    y : array-like of shape (N,)
        A fractional cache: entries in [0, 1] summing to an integer C (within 1e-6).
    u : float
        A number in [0, 1) (a uniform draw).

    Returns
    -------
    ndarray of int64, shape (C,)
        The chosen ids, sorted.
    """
    y, C = _check_fractional(y, "madow_sample")
    u = check_float("u", u, low=0.0, high=1.0, high_open=True, owner="madow_sample")
    return _madow_core(y, C, u)


def depround(y, rng=None):
    r"""DepRound (Gandhi et al. 2006): exactly C items with :math:`P(i) = y_i`.

    Pairs two fractional coordinates a, b; :math:`\alpha = \min(1-a, b)`,
    :math:`\beta = \min(a, 1-b)`; moves to :math:`(a+\alpha, b-\alpha)` with probability
    :math:`\beta/(\alpha+\beta)`, else to :math:`(a-\beta, b+\beta)` (this keeps
    :math:`E[a'] = a`). O(N) (numba). Theorem ``caching.rounding.marginals``.

    Parameters
    ----------
    y : array-like of shape (N,)
        A fractional cache (entries in [0, 1], integral sum).
    rng : numpy Generator, int or None
        Source of the uniforms.
    """
    y, C = _check_fractional(y, "depround")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(check_seed(rng, owner="depround"))
    out = np.empty(len(y))
    _k.depround_kernel(y, gen.random(len(y)), out)
    ids = np.flatnonzero(out)
    if len(ids) != C:  # pragma: no cover - only with inputs far off the capped simplex
        raise InvalidInputError(f"depround produced {len(ids)} items for capacity {C}; the input is not a "
                                f"fractional cache to the needed accuracy.")
    return ids.astype(np.int64)


class CoupledRounding:
    r"""Madow rounding with one uniform U reused every round.

    Each call has the Madow marginals :math:`P(i) = y_i` (U is uniform); across rounds the sets
    are coupled: the number of fetches from :math:`y` to :math:`y'` is at most the number of
    points U + m crossed by a boundary, whose expectation is
    :math:`\sum_j |S_j(y') - S_j(y)|`. Theorem ``caching.rounding.coupled_movement``.
    Complexity: O(N) per call (a cumulative sum and a sorted search), plus O(C log C) to count
    the fetches.

    Parameters
    ----------
    seed : int, optional
        Seed of U.

    Attributes
    ----------
    u : float
        The shared uniform.
    fetches_ : int
        Items that entered the cache at the last call (0 at the first call).
    """

    def __init__(self, seed=None):
        self.seed = seed
        self.u = float(np.random.default_rng(check_seed(seed, owner="CoupledRounding")).random())
        self.previous_ = None
        self.fetches_ = 0

    def __call__(self, y):
        y, C = _check_fractional(y, "CoupledRounding")
        ids = _madow_core(y, C, self.u)
        self.fetches_ = 0 if self.previous_ is None else int(len(np.setdiff1d(ids, self.previous_)))
        self.previous_ = ids
        return ids

    def __repr__(self):
        return f"CoupledRounding(seed={self.seed!r})"


class Rounded(CommitThenLearn):
    r"""An integral caching policy from a fractional learner (OGD, OMD, FTPL) by rounding.

    Problem: integral caching; each round commit a set Z of exactly C items, gain
    :math:`\sum_{n \in Z} w_n x_{t,n}`; movement = fetches :math:`|Z_t \setminus Z_{t-1}|`.

    Update rule: ``predict()`` rounds the learner's fractional :math:`y_t` (``"coupled"``: Madow
    with one U for the whole run; ``"madow"``: a fresh U each round; ``"depround"``: DepRound);
    ``update`` returns the integral gain and feeds the request to the learner.

    Complexity: O(N) per round (rounding, and for one-hot requests the learner's kernel run on
    one request when the learner has ``fast=True``; otherwise the learner's ``update``). No batch
    fast path.

    Guarantee: :math:`P(i \in Z_t) = y_{t,i}`, so the expected integral gain equals the learner's
    fractional gain and the learner's regret bound carries over in expectation (Theorem
    ``caching.rounding.marginals``); coupled rounding fetches at most
    :math:`E\sum_j|\Delta S_j|` per round (Theorem ``caching.rounding.coupled_movement``).

    ``result.info``: ``fetches`` (per round, round 0 counts 0), ``total_fetches``,
    ``dy_l1`` (per-round :math:`\|y_t - y_{t-1}\|_1`), ``transport`` (per-round
    :math:`\sum_j|\Delta S_j|`), ``fractional_gain``; ``result.hits``/``misses`` for one-hot traces.

    Costs: a fetch costs 1 (like a paging miss), so ``result.movement_cost`` (and
    ``result.total_cost``) is the number of fetches, ``info['total_fetches']``; with
    ``series=True``, ``result.movement`` holds the per-round fetches. The gain is in
    ``result.total_gain`` as for every learner.

    Parameters
    ----------
    learner : OGD, OMD or FTPL
    method : {"coupled", "madow", "depround"}
    seed : int, optional
    """

    randomized = True
    _record_defaults = {"series": True, "states": False}

    def __init__(self, learner, method="coupled", seed=None):
        self.learner = learner
        self.method = method
        self.seed = seed

    def reset(self):
        from .learners import _CacheLearner

        if not isinstance(self.learner, _CacheLearner):
            raise InvalidInputError(f"The 'learner' parameter of Rounded must be a caching learner (OGD, OMD or "
                                    f"FTPL). Got {type(self.learner).__name__}.")
        check_choice("method", self.method, ("coupled", "madow", "depround"), owner="Rounded")
        self._rng = np.random.default_rng(check_seed(self.seed, owner="Rounded"))
        self.learner.reset()
        self._u = float(self._rng.random())
        self._z = None
        self._prev_ids = None
        self._prev_y = None
        self._fetches = []
        self._dy = []
        self._transport = []
        self._frac_gain = 0.0
        self._hits = 0
        self._onehot = True

    @property
    def n_items(self):
        return self.learner.N_

    def _validate_sequence(self, seq):
        out = self.learner._validate_sequence(seq)
        self._onehot = out.ndim == 1
        return out

    def _round(self, y):
        ys, C = _check_fractional(y, "Rounded")
        if self.method == "coupled":
            return _madow_core(ys, C, self._u)
        if self.method == "madow":
            return _madow_core(ys, C, float(self._rng.random()))
        out = np.empty(len(ys))
        _k.depround_kernel(ys, self._rng.random(len(ys)), out)
        return np.flatnonzero(out).astype(np.int64)

    def predict(self):
        if self._z is None:
            y = np.asarray(self.learner.predict(), dtype=float)
            ids = self._round(y)
            if self._prev_ids is None:
                self._fetches.append(0)
                self._dy.append(0.0)
                self._transport.append(0.0)
            else:
                self._fetches.append(int(len(np.setdiff1d(ids, self._prev_ids, assume_unique=True))))
                d = y - self._prev_y
                self._dy.append(float(np.abs(d).sum()))
                self._transport.append(float(np.abs(np.cumsum(d)[:-1]).sum()))
            self._prev_ids = ids
            self._prev_y = y
            z = np.zeros(len(y))
            z[ids] = 1.0
            self._z = z
        return self._z.copy()

    def update(self, request):
        z = self.predict()
        g = self.learner._request_vector(request)
        gain = float(g @ z)
        onehot = np.ndim(request) == 0
        if onehot and z[int(request)] == 1.0:
            self._hits += 1
        if onehot and getattr(self.learner, "fast", False) and hasattr(self.learner, "_step_fast"):
            self._frac_gain += self.learner._step_fast(int(request))  # same round, kernel instead of a sort
        else:
            self._frac_gain += self.learner.update(request)
        self._z = None
        return gain

    def check_state(self, state) -> bool:
        z = np.asarray(state, dtype=float)
        return (z.shape == (self.learner.N_,) and bool(np.all((z == 0) | (z == 1)))
                and int(z.sum()) == self.learner.C_)

    def _finalize(self, result):
        T = result.steps
        f = np.asarray(self._fetches[:T], dtype=np.int64)
        result.info.update(fetches=f, total_fetches=int(f.sum()), dy_l1=np.asarray(self._dy[:T]),
                           transport=np.asarray(self._transport[:T]), fractional_gain=float(self._frac_gain),
                           method=self.method)
        result.movement_cost = float(f.sum())  # a fetch costs 1, like a paging miss
        if result.gain is not None:
            result.movement = f.astype(float)
        if self._onehot:
            result.hits = int(self._hits)
            result.misses = int(T - self._hits)

    def _contract_opt(self, seq):
        return self.learner._contract_opt(seq)

    @classmethod
    def _contract_cases(cls):
        from .learners import FTPL, OGD, OMD

        rng = np.random.default_rng(6)
        tr = rng.integers(0, 6, 30)
        return [
            ({"learner": OGD(6, 2, horizon=30), "method": "coupled", "seed": 1}, tr),
            ({"learner": OMD(6, 3, horizon=30), "method": "madow", "seed": 2}, tr),
            ({"learner": OGD(6, 2, eta=0.5), "method": "depround", "seed": 3}, tr),
            ({"learner": FTPL(6, 2, horizon=30, seed=0), "method": "coupled", "seed": 4}, tr),
            ({"learner": OMD(5, 2, horizon=6), "method": "depround", "seed": 5},
             rng.integers(0, 3, size=(6, 5)).astype(float)),
        ]
