r"""No-regret caching learners: OGD, OMD (negative entropy) and FTPL.

The problem (Paschos et al. 2019): N items, a cache of capacity C. Each round the learner
commits to a fractional cache :math:`y_t \in K_C = \{y \in [0,1]^N : \sum_n y_n = C\}`, then a
request :math:`x_t` is revealed -- one item id (one-hot) or a vector of non-negative counts
(batched) -- and the learner gains :math:`\sum_n w_n x_{t,n} y_{t,n}`. Regret after T rounds is
the gain of the best static cache in hindsight (top-C weighted counts, see
:func:`online_algs.caching.best_static_gain`) minus the learner's gain.

Requests: ``run(learner, trace)`` takes a 1-d int array of ids in ``0..n_items-1`` or a
``(T, n_items)`` array of non-negative counts; ``update`` takes one id or one row.

Step sizes: with ``horizon=T`` and no ``eta`` the theorem's step size for T rounds; with neither,
an anytime schedule (OGD: :math:`\eta_t = \eta_T|_{T=t}` i.e. :math:`\propto 1/\sqrt t`; OMD:
the doubling trick, restarting from the uniform cache at rounds :math:`2^m - 1`; FTPL:
:math:`\eta_t \propto \sqrt t`). See docs/theory/no_regret_caching.md.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import (COUNT_HINT, check_choice, check_float, check_float_array,
                           check_int, check_int_array, check_seed)
from ..base import CommitThenLearn
from ..exceptions import InvalidInputError
from ..run import RunResult
from . import _kernels_learners as _k
from .offline import (best_static_cache, best_static_gain, regret_curve, weighted_paging_opt_lp,
                      weighted_static_optimum_lp)
from .projections import project_capped_simplex, project_capped_simplex_kl
from .rounding import CoupledRounding, Rounded, TransportRounding, depround, madow_sample

__all__ = ["OGD", "OMD", "FTPL", "Rounded", "CoupledRounding", "TransportRounding", "madow_sample", "depround",
           "project_capped_simplex", "project_capped_simplex_kl", "best_static_gain", "best_static_cache",
           "regret_curve", "weighted_static_optimum_lp", "weighted_paging_opt_lp", "ogd_step_size", "omd_step_size", "ftpl_step_size"]

_MODE_CONST, _MODE_SQRT, _MODE_DOUBLING = 0, 1, 2
#: largest exponent of OMD's multiplicative step exp(eta w x): exp overflows float64 past 709.78
_TILT_MAX = 700.0


def _check_nct(n_items, capacity, horizon, owner):
    """N >= 2, C in [1, N - 1], T >= 1: the instance of a step-size formula."""
    N = check_int("n_items", n_items, low=2, owner=owner)
    return N, check_int("capacity", capacity, low=1, high=N - 1, owner=owner), check_int("horizon", horizon, low=1,
                                                                                           owner=owner)


def ogd_step_size(n_items, capacity, horizon, w_max=1.0, diameter=None):
    r"""OGD's step size :math:`\eta = D / (w_{max}\sqrt{T})`, D = sqrt(2 min(C, N - C)) by default.

    With ``diameter = sqrt(C (1 - C/N))`` (the distance from the uniform start to any integral
    cache) it is the step size of the sharper bound :math:`w\sqrt{C(1-C/N)T}`.
    """
    N, C, T = _check_nct(n_items, capacity, horizon, "ogd_step_size")
    w_max = check_float("w_max", w_max, low=0.0, low_open=True, owner="ogd_step_size")
    D = (math.sqrt(2 * min(C, N - C)) if diameter is None
         else check_float("diameter", diameter, low=0.0, low_open=True, owner="ogd_step_size"))
    return D / (w_max * math.sqrt(T))


def omd_step_size(n_items, capacity, horizon, tight=True):
    r"""OMD-NE's step size: :math:`\sqrt{2 C \log(N/C) / T}` (``tight``, the bound
    :math:`\sqrt{2C\log(N/C)T}(1+O(\eta))`) or :math:`\sqrt{2\log(N/C)/T}` (bound
    :math:`C\sqrt{2\log(N/C)T}`)."""
    N, C, T = _check_nct(n_items, capacity, horizon, "omd_step_size")
    return math.sqrt(2 * (C if tight else 1) * math.log(N / C) / T)


def ftpl_step_size(n_items, capacity, horizon):
    r"""FTPL's perturbation scale :math:`\eta = (4\pi\ln N)^{-1/4}\sqrt{T/C}`."""
    N, C, T = _check_nct(n_items, capacity, horizon, "ftpl_step_size")
    return (4 * math.pi * math.log(N)) ** -0.25 * math.sqrt(T / C)


class _CacheLearner(CommitThenLearn):
    """Shared validation and bookkeeping of the caching learners."""

    _abstract = True
    _record_defaults = {"series": True, "states": False}

    # subclasses set self.w_ (weights), self.N_, self.C_, self._t
    def _common_reset(self, owner, weights=None):
        self.N_ = check_int("n_items", self.n_items, low=2, owner=owner)
        self.C_ = check_int("capacity", self.capacity, low=1, high=self.N_ - 1, owner=owner)
        if self.horizon is not None:
            self.T_ = check_int("horizon", self.horizon, low=1, owner=owner)
        else:
            self.T_ = None
        if self.eta is not None:
            self.eta_ = check_float("eta", self.eta, low=0.0, low_open=True, owner=owner)
        else:
            self.eta_ = None
        if weights is None:
            self.w_ = np.ones(self.N_)
        else:
            w = check_float_array("weights", weights, ndim=1, owner=owner)
            if w.shape[0] != self.N_:
                raise InvalidInputError(f"The 'weights' parameter of {owner} must have length n_items = {self.N_}. "
                                        f"Got length {w.shape[0]}; pass one weight per item.")
            if (w <= 0).any():
                i = int(np.argmax(w <= 0))
                raise InvalidInputError(f"The 'weights' parameter of {owner} must be positive. Got weights[{i}] = "
                                        f"{w[i]}; drop items of weight 0 from the catalogue instead.")
            self.w_ = w.copy()
        self.w_max_ = float(self.w_.max())
        self._t = 0

    def _validate_sequence(self, seq):
        owner = type(self).__name__
        arr = np.asarray(seq)
        if arr.ndim == 2:
            X = check_float_array("trace", arr, ndim=2, nonneg=True, owner=owner, hint=COUNT_HINT)
            if X.shape[1] != self.N_:
                raise InvalidInputError(f"The 'trace' argument of {owner} is batched (2-d) and must have "
                                        f"n_items = {self.N_} columns (one count per item). Got shape {X.shape}; "
                                        f"build it with np.bincount(ids, minlength={self.N_}) per round.")
            return X
        return check_int_array("trace", arr, low=0, high=self.N_ - 1, owner=owner)

    def _request_vector(self, request):
        """Gain vector w .* x of one request (id or row)."""
        r = np.asarray(request)
        if r.ndim == 0:
            i = check_int("request", r.item() if isinstance(r, np.ndarray) else request, low=0,
                          high=self.N_ - 1, owner=type(self).__name__)
            g = np.zeros(self.N_)
            g[i] = self.w_[i]
            return g
        x = check_float_array("request", r, ndim=1, shape=(self.N_,), nonneg=True, owner=type(self).__name__,
                              hint=COUNT_HINT)
        return self.w_ * x

    def check_state(self, state) -> bool:
        y = np.asarray(state, dtype=float)
        return (y.shape == (self.N_,) and bool(np.all(y >= -1e-12)) and bool(np.all(y <= 1 + 1e-12))
                and abs(float(y.sum()) - self.C_) <= 1e-9 * max(1.0, self.C_))

    def _contract_opt(self, seq):
        # no decision gains more than the top-C of every single round
        if seq.ndim == 1:
            return float(self.w_[seq].sum())
        g = seq * self.w_
        return float(np.sort(g, axis=1)[:, ::-1][:, :self.C_].sum())

    def _batch_driver(self, seq, series, states, thin, step):
        """Run ``step(sub_seq, gains_out)`` over segments, recording states like run()'s loop."""
        T = len(seq)
        gains = np.empty(T)
        st_list = [] if states else None
        st_steps = [] if states else None
        if states:
            a = 0
            for r in sorted(set(range(0, T, thin)) | {T - 1}):  # run()'s record points: t % thin == 0, T - 1
                if r > a:
                    step(seq[a:r], gains[a:r])
                st_list.append(np.array(self.predict(), copy=True))
                st_steps.append(r)
                a = r
            if a < T:
                step(seq[a:T], gains[a:T])
        else:
            step(seq, gains)
        res = RunResult(algorithm=repr(self), steps=T, gain=gains if series else None, states=st_list,
                        state_steps=None if st_steps is None else np.asarray(st_steps))
        res.total_gain = float(gains.sum())
        return res

    def _finalize(self, result):
        result.info["n_items"] = self.N_
        result.info["capacity"] = self.C_


class _ProjectedLearner(_CacheLearner):
    """OGD and OMD: a fractional cache ``y_`` moved by a kernel for one-hot and for batched requests."""

    _abstract = True
    #: ``kernel(trace_or_rows, w, y, C, eta0, mode, t0, gains)``, updating ``y`` in place
    _onehot_kernel = None
    _batch_kernel = None

    def _step_fast(self, i):
        """One one-hot round through the one-hot kernel (O(N) set-up, no sort)."""
        g = np.empty(1)
        self._onehot_kernel(np.array([i], dtype=np.int64), self.w_, self.y_, float(self.C_), self._eta0, self._mode,
                            self._t, g)
        self._t += 1
        return float(g[0])

    def _run_batch(self, seq, series, states, thin):
        if not self.fast:
            return None
        C = float(self.C_)

        def step(sub, gains):
            kernel = self._onehot_kernel if sub.ndim == 1 else self._batch_kernel
            kernel(sub, self.w_, self.y_, C, self._eta0, self._mode, self._t, gains)
            self._t += len(sub)

        return self._batch_driver(seq, series, states, thin, step)


class OGD(_ProjectedLearner):
    r"""Online gradient ascent caching (Paschos, Destounis, Vigneri, Iosifidis, INFOCOM 2019).

    Problem: fractional caching, gain :math:`\sum_n w_n x_{t,n} y_{t,n}` with
    :math:`y_t \in K_C = \{y \in [0,1]^N, \sum y = C\}` (see the module docstring).

    Update rule: :math:`y_{t+1} = \Pi_{K_C}(y_t + \eta_t\, w \odot x_t)` with the exact Euclidean
    projection (:func:`project_capped_simplex`). Step size: ``eta`` if given; else with
    ``horizon=T``, :math:`\eta = D/(w_{max}\sqrt{T})`, :math:`D = \sqrt{2\min(C, N-C)}`; else the
    anytime :math:`\eta_t = D/(w_{max}\sqrt{t})`. For a batched (2-d) sequence given to ``run``,
    :math:`w_{max}` is replaced by the gradient-norm bound :math:`G = \max_t\|w\odot x_t\|_2`
    (:math:`\le w_{max}\sqrt{hB}` for batches of B requests with multiplicity at most h), and the
    bound reads :math:`R_T \le G\sqrt{2\min(C,N-C)T}` (standard OGD).

    Complexity: general projection O(N log N) per round (the ``update`` loop, also used for
    batched requests). Fast path (``fast=True``, one-hot requests): only :math:`y_i` rises, so
    the projection subtracts one :math:`\tau` from every positive coordinate; positive items
    live in a min-heap keyed by :math:`y_j + G` with a global offset G, items reaching 0 are
    popped: O((1 + #items reaching 0) log N), i.e. O(log N) amortised, per request.

    Guarantee: with ``horizon=T`` and the default step, :math:`R_T \le w_{max}\sqrt{2\min(C,N-C)T}`
    for one-hot requests from any start; from :math:`y_1 = (C/N)\mathbf 1` with
    :math:`\eta = \sqrt{C(1-C/N)}/(w_{max}\sqrt T)`, :math:`R_T \le w_{max}\sqrt{C(1-C/N)T}`;
    anytime: :math:`R_T \le \tfrac32 w_{max} D \sqrt{T}`. Theorem ``caching.ogd.regret``.

    Parameters
    ----------
    n_items : int
        N >= 2.
    capacity : int
        C in [1, N - 1].
    horizon : int, optional
        T, for the theorem's step size.
    eta : float, optional
        A constant step size > 0 (overrides ``horizon``).
    weights : array-like of shape (N,), optional
        Positive item weights w (default 1).
    init : {"uniform", "first"}
        :math:`y_1 = (C/N)\mathbf 1` or the indicator of items 0..C-1.
    fast : bool
        Use the lazy-projection kernel for one-hot traces in ``run``.
    """

    _onehot_kernel = staticmethod(_k.ogd_onehot_run)
    _batch_kernel = staticmethod(_k.ogd_batch_run)

    def __init__(self, n_items, capacity, horizon=None, eta=None, weights=None, init="uniform", fast=True):
        self.n_items = n_items
        self.capacity = capacity
        self.horizon = horizon
        self.eta = eta
        self.weights = weights
        self.init = init
        self.fast = fast

    def reset(self):
        self._common_reset("OGD", self.weights)
        check_choice("init", self.init, ("uniform", "first"), owner="OGD")
        if self.eta_ is not None:
            self._mode, self._eta0 = _MODE_CONST, self.eta_
        elif self.T_ is not None:
            self._mode, self._eta0 = _MODE_CONST, ogd_step_size(self.N_, self.C_, self.T_, self.w_max_)
        else:
            self._mode, self._eta0 = _MODE_SQRT, ogd_step_size(self.N_, self.C_, 1, self.w_max_)
        if self.init == "uniform":
            self.y_ = np.full(self.N_, self.C_ / self.N_)
        else:
            self.y_ = np.zeros(self.N_)
            self.y_[:self.C_] = 1.0

    def _validate_sequence(self, seq):
        seq = super()._validate_sequence(seq)
        if seq.ndim == 2 and self.eta_ is None:
            # batched requests: the gradient norm is G = max_t ||w * x_t||_2 (<= w_max sqrt(h B) for
            # batches of B requests with multiplicity <= h), not w_max: eta = D / (G sqrt(T))
            G = float(np.sqrt(((seq * self.w_) ** 2).sum(axis=1)).max())
            if G > 0:
                self._eta0 = ogd_step_size(self.N_, self.C_, self.T_ or 1, G)
        return seq

    def _eta_now(self):
        eta, _ = _k._eta_at(self._mode, self._eta0, self._t)
        return eta

    def predict(self):
        return self.y_.copy()

    def update(self, request):
        g = self._request_vector(request)
        gain = float(g @ self.y_)
        z = self.y_ + self._eta_now() * g
        out = np.empty(self.N_)
        _k.proj_capped_simplex(z, float(self.C_), out)
        self.y_ = out
        self._t += 1
        return gain

    @classmethod
    def _contract_cases(cls):
        rng = np.random.default_rng(3)
        return [
            ({"n_items": 6, "capacity": 2, "horizon": 40}, rng.integers(0, 6, 40)),
            ({"n_items": 5, "capacity": 3, "eta": 0.7, "weights": np.array([1.0, 2.0, 0.5, 1.5, 3.0])},
             np.array([0, 4, 4, 1, 4, 2, 3, 4, 0, 0, 1, 4, 4, 4])),
            ({"n_items": 8, "capacity": 1, "init": "first", "eta": 2.5}, rng.integers(0, 8, 30)),
            ({"n_items": 7, "capacity": 3}, rng.integers(0, 7, 25)),
            ({"n_items": 4, "capacity": 2, "horizon": 10}, rng.integers(0, 3, size=(10, 4)).astype(float)),
        ]


class OMD(_ProjectedLearner):
    r"""Online mirror ascent with negative entropy (Si Salem, Neglia, Ioannidis, ICC 2021 /
    ACM TOMPECS 2023).

    Problem: fractional caching on :math:`K_C` (see the module docstring).

    Update rule: :math:`\tilde y = y_t \odot \exp(\eta_t\, w \odot x_t)`, then the KL (Bregman)
    projection :math:`y_{t+1} = \min(1, c\,\tilde y)` (:func:`project_capped_simplex_kl`), from
    :math:`y_1 = (C/N)\mathbf 1`. Step size: ``eta`` if given; else with ``horizon=T``,
    :math:`\eta = \sqrt{2C\log(N/C)/T}`; else the doubling trick (restart from the uniform cache
    at rounds :math:`2^m - 1` with the step :math:`\min(1, \sqrt{2C\log(N/C)/2^m})` of horizon
    :math:`2^m`; the regret is at most the sum of the per-epoch bounds). For a batched (2-d)
    sequence given to ``run``, the step is divided by :math:`\sqrt{HL}`, with
    :math:`H = \max_t\|w\odot x_t\|_\infty` and L the largest sum of the C largest entries of a
    row :math:`w\odot x_t` (derived in docs/theory/no_regret_caching.md: the bound becomes
    :math:`\sqrt{2C\log(N/C)HLT}(1 + O(\eta H))`; not separately checked by proofs_check).

    Complexity: general projection O(N log N) per round (``update`` loop, batched requests).
    Fast path (one-hot): a global multiplier for the unsaturated items and at most ONE saturated
    item (a KL projection after a one-hot step has c < 1, so the previously saturated item
    drops below 1; only the requested item can saturate): O(1) amortised per request (an O(N)
    renormalisation every N rounds).

    Guarantee (one-hot, any constant :math:`\eta`): :math:`R_T \le C\log(N/C)/\eta +
    \sum_t y_t[i_t]\,(e^{\eta w_{i_t}} - 1 - \eta w_{i_t})/\eta`; with the default step and
    w = 1 this is :math:`\sqrt{2C\log(N/C)T}\,(1 + O(\eta))`; with
    :math:`\eta = \sqrt{2\log(N/C)/T}`, :math:`R_T \le C\sqrt{2\log(N/C)T}`; anytime: at most the
    sum of the per-epoch bounds. Theorem ``caching.omd.regret``.

    Parameters
    ----------
    n_items, capacity, horizon, eta, weights, fast
        As for :class:`OGD`.
    """

    _onehot_kernel = staticmethod(_k.omd_onehot_run)
    _batch_kernel = staticmethod(_k.omd_batch_run)

    def __init__(self, n_items, capacity, horizon=None, eta=None, weights=None, fast=True):
        self.n_items = n_items
        self.capacity = capacity
        self.horizon = horizon
        self.eta = eta
        self.weights = weights
        self.fast = fast

    def reset(self):
        self._common_reset("OMD", self.weights)
        if self.eta_ is not None:
            self._mode, self._eta0 = _MODE_CONST, self.eta_
        elif self.T_ is not None:
            self._mode, self._eta0 = _MODE_CONST, omd_step_size(self.N_, self.C_, self.T_)
        else:
            self._mode, self._eta0 = _MODE_DOUBLING, omd_step_size(self.N_, self.C_, 1)
        self.y_ = np.full(self.N_, self.C_ / self.N_)

    def _check_tilt(self, top):
        """Reject a step exp(eta w x) that overflows float64 (the projection would return NaN)."""
        eta_max = self._eta0 if self._mode == _MODE_CONST else min(1.0, self._eta0)  # eta_t never grows
        if eta_max * top > _TILT_MAX:
            raise InvalidInputError(f"The 'eta' parameter of OMD times the largest weighted request must be at most "
                                    f"{_TILT_MAX:g} (exp(eta w x) overflows float64 beyond). Got eta = {eta_max:.6g} and "
                                    f"w x = {top:.6g}; lower eta or rescale the weights / counts (the regret "
                                    f"scales linearly with them).")

    def _validate_sequence(self, seq):
        seq = super()._validate_sequence(seq)
        if seq.ndim == 2 and self.eta_ is None:
            # batched requests: with H = max_t ||w * x_t||_inf and L = max_t (sum of the C largest
            # entries of w * x_t), sum_i y_i g_i^2 <= H <y, g> <= H L, so the one-hot step
            # sqrt(2 C log(N/C) / T) becomes sqrt(2 C log(N/C) / (H L T)) (docs/theory/no_regret_caching.md)
            g = seq * self.w_
            H = float(g.max())
            L = float((-np.partition(-g, self.C_ - 1, axis=1)[:, :self.C_]).sum(axis=1).max())
            if H > 0 and L > 0:
                self._eta0 = omd_step_size(self.N_, self.C_, self.T_ or 1) / math.sqrt(H * L)
        self._check_tilt(float(self.w_[seq].max()) if seq.ndim == 1 else float((seq.max(axis=0) * self.w_).max()))
        return seq

    def predict(self):
        return self.y_.copy()

    def update(self, request):
        g = self._request_vector(request)
        self._check_tilt(float(g.max()))
        eta, restart = _k._eta_at(self._mode, self._eta0, self._t)
        if restart and self._t > 0:
            self.y_ = np.full(self.N_, self.C_ / self.N_)
        gain = float(g @ self.y_)
        out = np.empty(self.N_)
        _k.proj_capped_simplex_kl(self.y_ * np.exp(eta * g), float(self.C_), out)
        self.y_ = out
        self._t += 1
        return gain

    @classmethod
    def _contract_cases(cls):
        rng = np.random.default_rng(4)
        return [
            ({"n_items": 6, "capacity": 2, "horizon": 40}, rng.integers(0, 6, 40)),
            ({"n_items": 5, "capacity": 3, "eta": 1.5, "weights": np.array([1.0, 2.0, 0.5, 1.5, 3.0])},
             np.array([0, 4, 4, 1, 4, 2, 3, 4, 0, 0, 1, 4, 4, 4])),
            ({"n_items": 8, "capacity": 1, "eta": 3.0}, np.array([2, 2, 2, 5, 2, 2, 5, 5, 5, 1, 2])),
            ({"n_items": 7, "capacity": 3}, rng.integers(0, 7, 25)),
            ({"n_items": 4, "capacity": 2, "horizon": 10}, rng.integers(0, 3, size=(10, 4)).astype(float)),
        ]


class FTPL(_CacheLearner):
    r"""Follow the perturbed leader caching (Bhattacharjee, Banerjee, Sinha, SIGMETRICS 2020).

    Problem: integral caching (a set of C items; the gain is the weighted number of hits
    :math:`\sum_{n \in Z} w_n x_{t,n}`, x one-hot or batched counts).

    Update rule: cache the top-C of :math:`X_t + \eta_t \gamma`, X the cumulative weighted counts
    :math:`\sum_s w .* x_s`,
    :math:`\gamma \sim N(0, I_N)` drawn once (``redraw=False``) or every round (``redraw=True``).
    Step: ``eta`` if given; else with ``horizon=T``, :math:`\eta = (4\pi\ln N)^{-1/4}\sqrt{T/C}`;
    else anytime :math:`\eta_t = (4\pi\ln N)^{-1/4}\sqrt{t/C}`. With ``weights``, the default
    step is multiplied by :math:`w_{max}` (the gains scale by at most :math:`w_{max}`; with equal
    weights w this is exactly FTPL on counts scaled by w, whose regret scales by w).

    Complexity: with a fixed :math:`\gamma` and a constant :math:`\eta` (one-hot), a min-heap on the
    cached scores: O(log C) per request (the fast path). Otherwise O(N) per round.

    Guarantee: :math:`E[R_T] \le 1.51 (\ln N)^{1/4}\sqrt{CT}` with the default step and a fixed
    :math:`\gamma` (Theorem ``caching.ftpl.regret``; the tail is heavy: single runs can exceed it);
    with weights, :math:`w_{max}` times that bound (by scaling; not separately checked).

    Parameters
    ----------
    n_items, capacity, horizon, eta
        As for :class:`OGD` (``eta`` is the perturbation scale).
    weights : array-like of shape (n_items,), optional
        Positive per-item gains (default all 1), as for :class:`OGD`.
    redraw : bool
        Draw a fresh perturbation every round.
    seed : int, optional
        Seed of the perturbations.
    """

    randomized = True

    def __init__(self, n_items, capacity, horizon=None, eta=None, redraw=False, seed=None, weights=None):
        self.n_items = n_items
        self.capacity = capacity
        self.horizon = horizon
        self.eta = eta
        self.redraw = redraw
        self.seed = seed
        self.weights = weights

    def reset(self):
        self._common_reset("FTPL", self.weights)
        seed = check_seed(self.seed, owner="FTPL")
        self._rng = np.random.default_rng(seed)
        if self.eta_ is not None:
            self._mode, self._eta0 = _MODE_CONST, self.eta_
        elif self.T_ is not None:
            self._mode, self._eta0 = _MODE_CONST, self.w_max_ * ftpl_step_size(self.N_, self.C_, self.T_)
        else:
            self._mode, self._eta0 = _MODE_SQRT, self.w_max_ * ftpl_step_size(self.N_, self.C_, 1)
        self.X_ = np.zeros(self.N_)
        self._gamma = self._rng.standard_normal(self.N_)
        self._cache = None

    def _eta_now(self):
        if self._mode == _MODE_CONST:
            return self._eta0
        return self._eta0 * math.sqrt(self._t + 1.0)

    def _top(self, score):
        idx = np.argpartition(-score, self.C_ - 1)[:self.C_]
        y = np.zeros(self.N_)
        y[idx] = 1.0
        return y

    def predict(self):
        if self._cache is None:
            if self.redraw and self._t > 0:
                self._gamma = self._rng.standard_normal(self.N_)
            self._cache = self._top(self.X_ + self._eta_now() * self._gamma)
        return self._cache.copy()

    def update(self, request):
        y = self.predict()
        g = self._request_vector(request)
        gain = float(g @ y)
        self.X_ += g
        self._t += 1
        self._cache = None
        return gain

    def _run_batch(self, seq, series, states, thin):
        if seq.ndim != 1 or self.redraw or self._mode != _MODE_CONST:
            return None

        def step(sub, gains):
            score = self.X_ + self._eta0 * self._gamma
            in_set = self.predict().astype(np.bool_)
            best = np.empty(len(sub))
            _k.topc_run(sub, self.w_, score, in_set, self.C_, gains, best)
            np.add.at(self.X_, sub, self.w_[sub])
            self._cache = in_set.astype(float)
            self._t += len(sub)

        return self._batch_driver(seq, series, states, thin, step)

    def check_state(self, state) -> bool:
        y = np.asarray(state, dtype=float)
        return super().check_state(y) and bool(np.all((y == 0) | (y == 1)))

    @classmethod
    def _contract_cases(cls):
        rng = np.random.default_rng(5)
        return [
            ({"n_items": 6, "capacity": 2, "horizon": 40, "seed": 1}, rng.integers(0, 6, 40)),
            ({"n_items": 5, "capacity": 3, "eta": 0.3, "seed": 2}, np.array([0, 4, 4, 1, 4, 2, 3, 4, 0, 0, 1])),
            ({"n_items": 6, "capacity": 2, "seed": 3}, rng.integers(0, 6, 20)),
            ({"n_items": 6, "capacity": 2, "horizon": 20, "redraw": True, "seed": 4}, rng.integers(0, 6, 20)),
            ({"n_items": 4, "capacity": 2, "horizon": 8, "seed": 5}, rng.integers(0, 3, size=(8, 4)).astype(float)),
            ({"n_items": 6, "capacity": 2, "horizon": 30, "seed": 6, "weights": np.array([1, 2, 3, 1, 5, 1.0])},
             rng.integers(0, 6, 30)),
        ]
