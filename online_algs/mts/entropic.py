r"""Entropic (mirror-descent) algorithms for metrical task systems on weighted stars and HSTs.

``EntropicStarMTS`` (weighted stars), ``EntropicHSTMTS`` (HSTs, recursive simplified steps) and
``MultiscaleHSTMTS`` (HSTs, exact Bregman projections for the multiscale entropy). All are
*fractional*: the state is a probability distribution ``x`` over the n states (equivalently a
randomized algorithm against an oblivious adversary). On task ``c_t``
the algorithm moves from ``x_{t-1}`` to ``x_t`` and pays

* service ``<c_t, x_t>`` (move, then serve; states with ``c_t = inf`` get ``x_t = 0``), and
* movement = the earth-mover (optimal transport) distance between ``x_{t-1}`` and ``x_t`` in
  the metric: ``sum_i w_i |x_t - x_{t-1}|_i`` on a weighted star, ``sum_u length_u |X_t - X_{t-1}|_u``
  over subtree masses on an HST, an exact transport LP on a general metric.

The derivation of the steps is in ``docs/theory/entropic_mts.md``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .._validation import check_cost_matrix, check_float, check_int, check_seed
from ..base import RequestThenMove
from ..exceptions import InvalidInputError, NumericalWarning, SolverError
from ..metrics import FiniteMetric, as_metric
from ..run import RunResult
from . import _kernels_entropic as _k
from .hst import HST, frt_embedding

__all__ = ["EntropicStarMTS", "EntropicHSTMTS", "MultiscaleHSTMTS", "star_projection", "multiscale_projection",
           "transport_cost", "star_weights"]


# ----------------------------------------------------------------- reference steps
def star_projection(x: Any, c: Any, omega: Any, delta: Any) -> tuple[np.ndarray, float]:
    r"""The exact entropic (Bregman) projection step on the simplex (numpy reference).

    Solves :math:`\min_{y \in \Delta_n} \langle c, y\rangle + D_\Phi(y, x)` for
    :math:`\Phi(y) = \sum_i \omega_i (y_i + \delta_i) \log(y_i + \delta_i)`:
    :math:`y_i = \max(0, (x_i + \delta_i) e^{(\Lambda - c_i)/\omega_i} - \delta_i)`, the scalar
    :math:`\Lambda` the root of :math:`\sum_i y_i = 1` (bisection in the bracket where every
    term is clipped / one term reaches 1, then renormalised to sum 1 to rounding).
    ``c_i = inf`` forces ``y_i = 0``. O(n log(1/eps)). Returns ``(y, Lambda)``; with every cost
    infinite, ``(x, nan)``. The numba kernel ``_kernels_entropic.star_project`` does the same.
    Exactness: Theorem ``mts.entropic.star_step_exact``.
    """
    x = np.asarray(x, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    omega = np.broadcast_to(np.asarray(omega, dtype=np.float64), x.shape)
    dl = np.broadcast_to(np.asarray(delta, dtype=np.float64), x.shape)
    fin = np.isfinite(c)
    if not fin.any():
        return x.copy(), float("nan")
    xf, cf, of, df = x[fin], c[fin], omega[fin], dl[fin]
    lo = float(np.min(cf + of * np.log(df / (xf + df))))
    hi = float(np.min(cf + of * np.log((1.0 + df) / (xf + df))))

    def total(lam):
        return float(np.sum(np.maximum(0.0, (xf + df) * np.exp((lam - cf) / of) - df)))

    for _ in range(400):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if total(mid) > 1.0:
            hi = mid
        else:
            lo = mid
    lam = 0.5 * (lo + hi)
    y = np.zeros_like(x)
    y[fin] = np.maximum(0.0, (xf + df) * np.exp((lam - cf) / of) - df)
    s = y.sum()
    if s > 0:
        y /= s
    return y, lam


def _service(c: np.ndarray, x: np.ndarray) -> float:
    pos = x > 0
    return float(np.dot(c[pos], x[pos]))


def transport_cost(d: Any, x: Any, y: Any) -> float:
    """Earth-mover distance between distributions ``x`` and ``y`` under the distance matrix ``d``.

    Exact: the transportation LP from the surplus of ``x - y`` to its deficit, solved with
    scipy's HiGHS (``linprog``). The LP is solved on normalised data (distances divided by the
    largest one involved, masses by the total surplus) and scaled back, so the result does not
    depend on the units: HiGHS's absolute tolerances would otherwise make it inexact at
    distances or mass differences near 1e-9. Raises
    :class:`~online_algs.exceptions.SolverError` if the solver fails.
    """
    from scipy.optimize import linprog

    d = np.asarray(d, dtype=np.float64)
    diff = np.asarray(x, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    src = np.flatnonzero(diff > 0)
    dst = np.flatnonzero(diff < 0)
    if src.size == 0 or dst.size == 0:
        return 0.0
    a = diff[src]
    b = -diff[dst]
    # balance the (rounding-level) difference of the totals onto the larger side's slack
    sa, sb = a.sum(), b.sum()
    if sa > sb:
        a = a * (sb / sa)
    else:
        b = b * (sa / sb)
    if src.size == 1 or dst.size == 1:
        return float(np.sum(d[np.ix_(src, dst)] * (np.outer(a, b) / max(a.sum(), 1e-300))))
    ns, nd = src.size, dst.size
    cost = d[np.ix_(src, dst)].ravel()
    # normalise (HiGHS tolerances are absolute) and scale the optimum back
    d_scale = float(np.max(cost))
    if not (np.isfinite(d_scale) and d_scale > 0):
        d_scale = 1.0
    m_scale = float(a.sum())
    cost = cost / d_scale
    a, b = a / m_scale, b / m_scale
    A = np.zeros((ns + nd, ns * nd))
    for i in range(ns):
        A[i, i * nd:(i + 1) * nd] = 1.0
    for j in range(nd):
        A[ns + j, j::nd] = 1.0
    res = linprog(cost, A_eq=A, b_eq=np.concatenate([a, b]), bounds=(0, None), method="highs")
    if res.status != 0:
        raise SolverError(f"transport LP failed: {res.message}", status=str(res.status), solver="highs")
    return float(res.fun) * d_scale * m_scale


def star_weights(metric: FiniteMetric, tol: float = 1e-9) -> np.ndarray | None:
    """Leaf weights ``w`` with ``d(i, j) = w_i + w_j`` (i != j) if the metric is a weighted star
    (or uniform, or has at most two points), else None."""
    n = metric.n
    if metric.kind == "star" and "weights" in metric.info:
        return np.asarray(metric.info["weights"], dtype=np.float64).copy()
    if n == 1:
        return np.ones(1)
    if n == 2:
        return np.full(2, metric.d[0, 1] / 2.0)
    d = metric.d
    j, k = (1, 2)
    w = np.empty(n)
    w[0] = 0.5 * (d[0, j] + d[0, k] - d[j, k])
    w[1:] = d[0, 1:] - w[0]
    pred = w[:, None] + w[None, :]
    np.fill_diagonal(pred, 0.0)
    if (w <= 0).any() or np.abs(pred - d).max() > tol * max(metric.diameter, 1e-300):
        return None
    return w


def _opt_dp(d: np.ndarray, costs: np.ndarray, start: int) -> float:
    """The MTS offline optimum by the work-function DP, O(T n^2) (fallback for ``_contract_opt``)."""
    v = np.array(d[start], dtype=np.float64)
    for c in costs:
        v = c + np.min(v[:, None] + d, axis=0)
    return float(v.min())


def _mts_opt(metric: FiniteMetric, costs: np.ndarray, start: int) -> float:
    try:
        from .core import offline_optimum  # part 1's DP, once it lands
    except ImportError:
        return _opt_dp(metric.d, costs, start)
    return float(offline_optimum(metric, costs, start=start, method="dp").value)


def _check_common(owner, eta, tol, max_substeps):
    eta = check_float("eta", eta, low=0.0, low_open=True, owner=owner)
    tol = check_float("tol", tol, low=0.0, low_open=True, high=1.0, owner=owner)
    max_substeps = check_int("max_substeps", max_substeps, low=1, high=2**20, owner=owner)
    if max_substeps & (max_substeps - 1):
        raise InvalidInputError(f"The 'max_substeps' parameter of {owner} must be a power of two (the sub-step "
                                f"count doubles). Got {max_substeps}; use e.g. {1 << max_substeps.bit_length()}.")
    return eta, tol, max_substeps


def _substep_info(alg, result):
    """Record the sub-step counts in ``result.info`` and warn once per run about capped tasks."""
    subs = np.asarray(alg.substeps_ if alg.substeps_ else [0])
    capped = int(np.sum(subs >= alg.max_substeps_)) if len(alg.substeps_) else 0
    result.info["max_substeps_used"] = int(subs.max())
    result.info["capped_tasks"] = capped
    if capped:
        # stacklevel 4: _substep_info <- _finalize <- online_algs.run <- the caller
        warnings.warn(f"{alg.name}: {capped} of {len(alg.substeps_)} tasks reached max_substeps="
                      f"{alg.max_substeps_} before the sub-step totals agreed within tol={alg.tol_:g}; those "
                      f"tasks ran a coarser discretisation (still a feasible online algorithm, costs "
                      f"approximate the continuous dynamics). Raise max_substeps (a power of two) or tol; "
                      f"result.info['capped_tasks'] counts them.", NumericalWarning, stacklevel=4)


# ---------------------------------------------------------------------- the star
class EntropicStarMTS(RequestThenMove):
    r"""Entropic mirror descent for MTS on a weighted star (uniform metrics included).

    Problem: MTS on the leaves of a weighted star, ``d(i, j) = w_i + w_j``; a uniform metric
    with distance ``D`` is the star with ``w_i = D / 2``. Fractional: the state is a
    distribution ``x`` on the n states; task ``c_t`` costs ``<c_t, x_t> + sum_i w_i |x_t - x_{t-1}|_i``.

    Update rule: the continuous mirror-descent dynamics ``grad^2 Phi(x) x' = -eta c - lambda``
    for ``Phi(x) = sum_i w_i (x_i + delta) log(x_i + delta)`` run for unit time. For a constant
    task this equals one Bregman projection of the whole task (derivation in
    ``docs/theory/entropic_mts.md``):

    .. math:: x'_i = \max\bigl(0, (x_i + \delta)\, e^{(\Lambda - \eta c_i)/w_i} - \delta\bigr),
              \quad \textstyle\sum_i x'_i = 1,

    with the scalar ``Lambda`` found by a safeguarded root-find; ``c_i = inf`` gives ``x'_i = 0``. The task is
    still discretised into N = 1, 2, 4, ... sub-steps of ``c / N`` until the task's total cost
    changes by < ``tol`` relative (on a star this stops at N = 2, the sub-steps composing
    exactly); service ``<c_t, x_t>`` and end-to-end movement are charged.

    Complexity: O(n) per root-finding round; the numba kernel runs Newton from the right end of
    the bracket (the sum is convex in ``Lambda``, so the iterates decrease monotonically; a few
    to ~25 rounds, bisection as fallback), the numpy ``serve`` path bisects (~60 rounds). O(n) memory.

    Guarantee: the state is always a distribution (mass 1 and non-negative to 1e-12, Theorem
    ``mts.entropic.mass``); the step equals a generic convex solver's Bregman projection
    (Theorem ``mts.entropic.star_step_exact``). Competitive ratio: O(log n) on weighted stars for
    the continuous dynamics with ``delta = 1/n`` (Bubeck, Cohen, Lee, Lee, SODA 2019;
    Abernethy et al. ALT 2010 on uniform metrics); measured here against ``ln n`` as an
    empirical report, Theorem ``mts.entropic.ratio``.

    Parameters
    ----------
    metric : FiniteMetric or array-like
        A weighted star (``kind="star"``), a uniform metric, or any matrix of the form
        ``w_i + w_j`` (detected); other metrics are rejected (use :class:`EntropicHSTMTS`).
    start : int
        Initial state (the initial distribution is the point mass on it).
    eta : float
        Cost scale of the dynamics (> 0).
    delta : float or None
        Entropy shift (> 0); default ``1 / n``.
    tol : float
        Relative tolerance of the sub-step doubling.
    max_substeps : int
        Largest number of sub-steps per task (a power of two). Tasks that reach it are counted in
        ``result.info["capped_tasks"]``; a run with any emits one
        :class:`~online_algs.exceptions.NumericalWarning`.
    """

    _record_defaults = {"series": True, "states": True}

    def __init__(self, metric, start=0, eta=1.0, delta=None, tol=1e-6, max_substeps=64):
        self.metric = metric
        self.start = start
        self.eta = eta
        self.delta = delta
        self.tol = tol
        self.max_substeps = max_substeps

    def reset(self):
        owner = "EntropicStarMTS"
        self.metric_ = as_metric(self.metric, owner=owner)
        w = star_weights(self.metric_)
        if w is None:
            raise InvalidInputError(f"The 'metric' parameter of {owner} must be a weighted star (d(i,j) = w_i + w_j) "
                                    f"or a uniform metric. Got a {self.metric_.kind!r} metric that is not; use "
                                    f"EntropicHSTMTS for general metrics.")
        n = self.metric_.n
        self.start_ = self.metric_.check_point("start", self.start, owner=owner)
        self.eta_, self.tol_, self.max_substeps_ = _check_common(owner, self.eta, self.tol, self.max_substeps)
        delta = 1.0 / n if self.delta is None else self.delta
        self.delta_ = check_float("delta", delta, low=0.0, low_open=True, owner=owner)
        self.w_ = w
        self.dl_ = np.full(n, self.delta_)
        self.x_ = np.zeros(n)
        self.x_[self.start_] = 1.0
        self.substeps_: list[int] = []

    def _validate_sequence(self, seq):
        return check_cost_matrix("costs", seq, self.metric_.n, owner="EntropicStarMTS")

    def _step(self, x, c):
        return star_projection(x, c, self.w_, self.dl_)[0]

    def serve(self, request):
        c = np.asarray(request, dtype=np.float64)
        x = self.x_
        prev = np.nan
        N = 1
        while True:
            cur = x
            for _ in range(N):
                cur = self._step(cur, self.eta_ * c / N)
            sv = _service(c, cur)
            mv = float(np.sum(self.w_ * np.abs(cur - x)))
            tot = sv + mv
            if abs(tot - prev) <= self.tol_ * max(abs(tot), 1e-300) or abs(tot - prev) <= 1e-15 \
                    or N >= self.max_substeps_:
                break
            prev = tot
            N *= 2
        self.x_ = cur
        self.substeps_.append(N)
        return sv, mv

    def _run_batch(self, seq, series, states, thin):
        svc, mov, subs, st, steps = _k.star_run(seq, self.w_, self.w_, self.dl_, self.eta_, self.x_, self.tol_,
                                                self.max_substeps_, thin, False)
        self.x_ = st[-1].copy()
        self.substeps_ = subs.tolist()
        return RunResult(algorithm=repr(self), steps=len(seq), service_cost=float(svc.sum()),
                         movement_cost=float(mov.sum()), service=svc if series else None,
                         movement=mov if series else None,
                         states=[r.copy() for r in st] if states else None,
                         state_steps=steps if states else None)

    def _finalize(self, result):
        _substep_info(self, result)

    @property
    def state(self):
        return self.x_.copy()

    def check_state(self, state):
        x = np.asarray(state, dtype=np.float64)
        return (x.shape == (self.metric_.n,) and bool(np.all(np.isfinite(x))) and bool(np.all(x >= 0))
                and abs(float(x.sum()) - 1.0) <= 1e-9)

    @classmethod
    def _contract_cases(cls):
        from ..metrics import uniform, weighted_star

        rng = np.random.default_rng(3)
        c1 = rng.uniform(0, 2, size=(25, 4))
        c2 = rng.exponential(1.0, size=(20, 5))
        c2[3, 1] = np.inf
        c2[7, [0, 2]] = np.inf
        return [({"metric": uniform(4)}, c1),
                ({"metric": weighted_star([0.5, 1.0, 2.0, 0.7, 1.3]), "start": 2, "eta": 2.0}, c2)]

    def _contract_opt(self, seq):
        return _mts_opt(self.metric_, seq, self.start_)


# ------------------------------------------------------------------------ HSTs
def _tree_step_np(Q, cleaf, hst: HST, omega, dl, multiscale):
    """Numpy twin of ``_kernels_entropic._tree_substep`` (in place on ``Q``); returns ``chat``."""
    chat = np.empty(hst.n_nodes)
    for v in hst.order[::-1]:
        ch = hst.children(v)
        if ch.size == 0:
            chat[v] = cleaf[hst.point_of_node[v]]
            continue
        if ch.size == 1:
            Q[ch[0]] = 1.0
            chat[v] = chat[ch[0]]
            continue
        q_old = Q[ch]
        y, lam = star_projection(q_old, chat[ch], omega[ch], dl[ch])
        if math.isnan(lam):
            chat[v] = np.inf
            continue
        Q[ch] = y
        chat[v] = lam
        if multiscale:
            chat[v] += float(np.sum(omega[ch] * (dl[ch] * np.log((y + dl[ch]) / (q_old + dl[ch])) - (y - q_old))))
    return chat


def _hst_substep_np(Q, cleaf, hst: HST, omega, dl):
    """Numpy twin of ``_kernels_entropic.hst_substep`` (in place on ``Q``)."""
    _tree_step_np(Q, cleaf, hst, omega, dl, False)


def multiscale_projection(Q: Any, cleaf: Any, hst: HST, omega: Any, dl: Any) -> tuple[np.ndarray, np.ndarray]:
    r"""The exact Bregman projection of a cost step onto the HST polytope (numpy reference).

    Solves :math:`\min_{Y} \langle c, Y\rangle + D_\Phi(Y, X)` over the tree polytope
    (``Y_root = 1``, ``Y_u = sum`` over children, ``Y >= 0``; costs on the leaves) for the multiscale
    entropy :math:`\Phi(X) = \sum_{v \ne root} \omega_v (X_v + \delta_v X_{p(v)}) \log(X_v / X_{p(v)} + \delta_v)`,
    in conditional coordinates ``Q`` (``q_v = X_v / X_p(v)``). The KKT conditions decompose
    bottom-up (derivation in ``docs/theory/entropic_mts.md``): at every internal node ``u`` the
    children take the star step :func:`star_projection` with their effective costs, and ``u``'s
    effective cost is
    :math:`\hat c_u = \beta_u + \sum_c \omega_c(\delta_c \log\frac{q'_c+\delta_c}{q_c+\delta_c} - (q'_c - q_c))`
    (``beta_u`` the star step's multiplier). A node whose children all cost ``inf`` gets
    ``chat = inf`` and keeps its conditionals. O(n_nodes * b * 60) (bisection).

    Parameters: ``Q`` (n_nodes,) conditionals, ``cleaf`` (n_leaves,) costs by HST point, ``omega``
    and ``dl`` (n_nodes,). Returns ``(Q', chat)``. The numba kernel
    ``_kernels_entropic.multiscale_substep`` does the same; Theorem
    ``mts.entropic.multiscale.step_exact`` checks both against a generic convex solver.
    """
    Q = np.array(Q, dtype=np.float64)
    cleaf = np.asarray(cleaf, dtype=np.float64)
    omega = np.asarray(omega, dtype=np.float64)
    dl = np.asarray(dl, dtype=np.float64)
    chat = _tree_step_np(Q, cleaf, hst, omega, dl, True)
    return Q, chat


def _masses_np(Q, hst: HST):
    X = np.empty(hst.n_nodes)
    X[hst.root] = 1.0
    for v in hst.order[1:]:
        X[v] = X[hst.parent[v]] * Q[v]
    return X


class EntropicHSTMTS(RequestThenMove):
    r"""Recursive entropic mirror descent for MTS on an HST (any metric through FRT).

    Problem: MTS on the leaves of an HST (or on any finite metric, embedded into a random HST by
    :func:`~online_algs.mts.frt_embedding`, states mapped to leaves). Fractional: the state is a
    distribution ``x`` on the states, held as conditionals ``q_v = X_v / X_parent(v)`` of the
    subtree masses ``X`` (so ``X_root = 1``, ``X_u = sum`` over children, ``X >= 0`` hold exactly
    by construction, and a subtree that empties keeps its internal shape).

    Update rule (a sound simplification of the multiscale entropy, see
    ``docs/theory/entropic_mts.md``): the regulariser
    ``Phi(X) = sum_u (w_u/eta_u) X_p(u) (q_u + delta_u) log(q_u + delta_u)`` with
    ``delta_u = leaves(u)/leaves(p(u))`` and ``eta_u = 1 + log(1/delta_u)`` is the fact sheet's
    template ``(w_u/eta_u)(x_u + delta_u x_p) log(x_u/x_p + delta_u)`` written on conditionals.
    Instead of the joint Bregman projection over the tree polytope, one step processes the tree
    bottom-up and, at each internal node ``u``, applies the exact star step of
    :class:`EntropicStarMTS` to the children's conditionals (weights ``w_c/eta_c``, shifts
    ``delta_c``) with each child's *effective cost* ``chat_c``: a leaf's task cost, or, for an
    internal child, the multiplier ``Lambda_c`` of its own step (the marginal price of a unit of
    mass entering ``c``; it lies between the smallest and largest finite child cost). Each task is
    cut into N = 1, 2, 4, ... sub-steps of ``eta * c / N`` until the task's total (service + tree
    movement) changes by < ``tol`` relative, or N reaches ``max_substeps``
    (``result.info["capped_tasks"]`` counts those, and a run with any emits one
    :class:`~online_algs.exceptions.NumericalWarning`). With the multiplier as effective cost the
    sub-steps compose exactly unless a conditional hits 0 during the task (then the
    dynamics has a kink and the totals converge at rate O(1/N)); most tasks stop at N = 2.
    Caveat: the doubling test can stop on a plateau (N and 2N equal, 64N different); the
    algorithm run is then a coarser discretisation, still a feasible online algorithm.

    Costs charged: service ``<c_t, x_t>``; movement = the exact earth-mover distance between
    consecutive distributions *in the metric given*: on an HST metric the tree formula
    ``sum_u length_u |dX_u|``; on any other metric an exact transport LP (scipy HiGHS) in the
    original metric; ``result.info["tree_movement"]`` always holds the tree's EMD (an upper
    bound, since ``d_T >= d``).

    Complexity: O(n_nodes * b * log(1/eps)) per sub-step (b = largest branching), plus one
    small LP per task on a general metric. FRT costs O(n^2 log diam) once per reset.

    Guarantee: the state is a distribution at every step (Theorem ``mts.entropic.mass``).
    The exact multiscale dynamics is O(log n)-competitive on HSTs and O(log^2 n) on any metric
    (Bubeck, Cohen, Lee, Lee, SODA 2019); this discretised recursive variant has no proven
    constant: its ratio to OPT is reported against n, Theorem ``mts.entropic.ratio``
    (empirical). :class:`MultiscaleHSTMTS` is the exact Bregman-projection step for the same
    regulariser (kept beside this one, which is the documented simplified variant; at the same
    ``eta`` their measured ratios are within a few percent, Theorem ``mts.entropic.multiscale.ratio``).

    Parameters
    ----------
    metric : HST, FiniteMetric or array-like
        An :class:`~online_algs.mts.HST`, a metric with ``kind="hst"`` (its ``info["hst"]`` is
        used), a weighted star or uniform metric (a depth-1 HST, exact), or any other metric
        (FRT-embedded with ``seed``).
    start : int
    eta : float
        Cost scale (> 0). Default 0.25: best of {0.25, 0.5, 1} on random HSTs (elementary and
        uniform tasks, n = 4..64) in a small sweep (``docs/mts.md``).
    seed : int or None
        Seed of the FRT embedding (unused when the metric is already an HST or a star).
    tol : float
    max_substeps : int
        A power of two. A run where some task reaches it emits one
        :class:`~online_algs.exceptions.NumericalWarning` with the count.
    """

    randomized = True
    _record_defaults = {"series": True, "states": True}

    def __init__(self, metric, start=0, eta=0.25, seed=None, tol=1e-4, max_substeps=64):
        self.metric = metric
        self.start = start
        self.eta = eta
        self.seed = seed
        self.tol = tol
        self.max_substeps = max_substeps

    #: which sub-step the class runs (the subclass MultiscaleHSTMTS sets True)
    _multiscale = False

    def _substep_np(self, Q, cleaf):
        _hst_substep_np(Q, cleaf, self.hst_, self.omega_, self.dl_)

    def reset(self):
        owner = self.name
        seed = check_seed(self.seed, owner=owner)
        self.exact_tree_ = True
        if isinstance(self.metric, HST):
            hst = self.metric
            metric = hst.metric()
            lop = np.arange(hst.n_leaves, dtype=np.int64)
        else:
            metric = as_metric(self.metric, owner=owner)
            w = None if metric.kind == "hst" else star_weights(metric)
            if metric.kind == "hst" and isinstance(metric.info.get("hst"), HST):
                hst = metric.info["hst"]
                lop = np.arange(metric.n, dtype=np.int64)
            elif w is not None:
                n = metric.n
                hst = HST(np.concatenate([[-1], np.zeros(n, dtype=np.int64)]), np.concatenate([[0.0], w]))
                lop = np.arange(n, dtype=np.int64)
            else:
                hst, lop = frt_embedding(metric, seed=seed)
                self.exact_tree_ = False
        self.metric_ = metric
        self.hst_ = hst
        self.leaf_of_point_ = lop
        self.leaf_node_ = np.ascontiguousarray(hst.leaves[lop])
        self.start_ = metric.check_point("start", self.start, owner=owner)
        self.eta_, self.tol_, self.max_substeps_ = _check_common(owner, self.eta, self.tol, self.max_substeps)
        nlb = hst.n_leaves_below.astype(np.float64)
        par = hst.parent
        dl = np.ones(hst.n_nodes)
        nonroot = par >= 0
        dl[nonroot] = nlb[nonroot] / nlb[par[nonroot]]
        self.dl_ = dl
        self.omega_ = np.where(nonroot, hst.length / (1.0 + np.log(1.0 / dl)), 1.0)
        # initial conditionals: the point mass on start along its path, leaf shares elsewhere
        Q = dl.copy()
        Q[hst.root] = 1.0
        v = int(self.leaf_node_[self.start_])
        while par[v] >= 0:
            sib = hst.children(int(par[v]))
            Q[sib] = 0.0
            Q[v] = 1.0
            v = int(par[v])
        self.Q_ = Q
        self.X_ = _masses_np(Q, hst)
        self.substeps_: list[int] = []
        self.tree_movement_ = 0.0

    def _validate_sequence(self, seq):
        return check_cost_matrix("costs", seq, self.metric_.n, owner=self.name)

    def _points(self, X):
        return X[self.leaf_node_]

    def _move_cost(self, x_old, x_new, tree_mv):
        if self.exact_tree_:
            return tree_mv
        return transport_cost(self.metric_.d, x_old, x_new)

    def serve(self, request):
        c = np.asarray(request, dtype=np.float64)
        hst = self.hst_
        cleaf = np.zeros(hst.n_leaves)
        prev = np.nan
        N = 1
        while True:
            cleaf[self.leaf_of_point_] = self.eta_ * c / N
            Q = self.Q_.copy()
            for _ in range(N):
                self._substep_np(Q, cleaf)
            X = _masses_np(Q, hst)
            sv = _service(c, self._points(X))
            tmv = float(np.dot(hst.length, np.abs(X - self.X_)))
            tot = sv + tmv
            if abs(tot - prev) <= self.tol_ * max(abs(tot), 1e-300) or abs(tot - prev) <= 1e-15 \
                    or N >= self.max_substeps_:
                break
            prev = tot
            N *= 2
        mv = self._move_cost(self._points(self.X_), self._points(X), tmv)
        self.Q_, self.X_ = Q, X
        self.substeps_.append(N)
        self.tree_movement_ += tmv
        return sv, mv

    def _run_batch(self, seq, series, states, thin):
        h = self.hst_
        keep_all = not self.exact_tree_
        svc, tmov, subs, st, steps, Q = _k.hst_run(seq, self.Q_, h.order, h.parent, h.point_of_node, h.child_ptr,
                                                   h.child_idx, h.length, self.omega_, self.dl_, self.leaf_node_,
                                                   self.eta_, self.tol_, self.max_substeps_, thin, keep_all,
                                                   self._multiscale)
        if keep_all:
            mov = np.array([transport_cost(self.metric_.d, st[t], st[t + 1]) for t in range(len(seq))])
            sel = np.array([(t % thin == 0) or t == len(seq) for t in range(len(seq) + 1)])
            st, steps = st[sel], steps[sel]
        else:
            mov = tmov
        self.Q_ = Q
        self.X_ = _masses_np(Q, h)
        self.substeps_ = subs.tolist()
        self.tree_movement_ = float(tmov.sum())
        return RunResult(algorithm=repr(self), steps=len(seq), service_cost=float(svc.sum()),
                         movement_cost=float(mov.sum()), service=svc if series else None,
                         movement=mov if series else None,
                         states=[r.copy() for r in st] if states else None,
                         state_steps=steps if states else None)

    def _finalize(self, result):
        _substep_info(self, result)
        result.info["tree_movement"] = float(self.tree_movement_)
        result.info["embedded"] = not self.exact_tree_

    @property
    def state(self):
        return self._points(self.X_).copy()

    def check_state(self, state):
        x = np.asarray(state, dtype=np.float64)
        return (x.shape == (self.metric_.n,) and bool(np.all(np.isfinite(x))) and bool(np.all(x >= 0))
                and abs(float(x.sum()) - 1.0) <= 1e-9)

    @classmethod
    def _contract_cases(cls):
        from ..metrics import random_metric
        from .hst import HST

        rng = np.random.default_rng(5)
        c1 = rng.uniform(0, 2, size=(15, 8))
        c1[4, 3] = np.inf
        c2 = rng.exponential(1.0, size=(12, 6))
        c3 = rng.uniform(0, 1, size=(10, 5))
        # tol=1e-3: at the default 1e-4 the inf task caps at 64 sub-steps (a NumericalWarning)
        return [({"metric": HST.balanced(3, 2), "start": 5, "tol": 1e-3}, c1),
                ({"metric": random_metric("hst", 6, seed=2), "eta": 2.0}, c2),
                ({"metric": random_metric("general", 5, seed=4), "seed": 1}, c3)]

    def _contract_opt(self, seq):
        return _mts_opt(self.metric_, seq, self.start_)


class MultiscaleHSTMTS(EntropicHSTMTS):
    r"""Mirror descent on an HST with the multiscale (conditional) entropy, exact projection steps.

    Problem: MTS on the leaves of an HST (or any finite metric through
    :func:`~online_algs.mts.frt_embedding`), fractional, as in :class:`EntropicHSTMTS`: the state
    is the vector of subtree masses ``X`` on the tree polytope (``X_root = 1``, ``X_u = sum`` over
    children, ``X >= 0``; held as conditionals ``q_v = X_v / X_p(v)``), movement is the tree
    earth-mover distance ``sum_u w_u |dX_u|`` (``w_u`` the length of the edge above ``u``).

    Regulariser (the fact sheet's multiscale entropy; Bubeck, Cohen, Lee, Lee, SODA 2019, in the
    conditional form of Coester and Lee, COLT 2019):

    .. math:: \Phi(X) = \sum_{u \ne root} \frac{w_u}{\eta_u} (X_u + \delta_u X_{p(u)})
              \log\Bigl(\frac{X_u}{X_{p(u)}} + \delta_u\Bigr),\quad
              \delta_u = \frac{\mathrm{leaves}(u)}{\mathrm{leaves}(p(u))},\ \eta_u = 1 + \log\frac{1}{\delta_u}.

    Update rule: the continuous dynamics ``grad^2 Phi(X) X' = -eta c - lambda`` (``lambda`` in the
    normal cone of the polytope) decomposes over the nodes: each node's conditionals follow the
    star dynamics driven by its children's *expected* cost rates ``chat_v = sum_c q_c chat_c``
    (``docs/theory/entropic_mts.md``). It is discretised by exact Bregman projections: each task is
    cut into N = 1, 2, 4, ... sub-steps of cost ``eta c / N``, each the exact minimiser of
    ``<eta c / N, Y> + D_Phi(Y, X)`` over the tree polytope (:func:`multiscale_projection`; one
    bottom-up sweep of star steps whose effective costs are the subtrees' marginal values), until
    the task's total (service + tree movement) changes by < ``tol`` relative, or N reaches
    ``max_substeps`` (``result.info["capped_tasks"]`` counts those; a run with any emits one
    :class:`~online_algs.exceptions.NumericalWarning`). The projection is the implicit (proximal)
    Euler step of the dynamics, first order: the totals converge like 1/N. Service
    ``<c_t, x_t>`` and end-to-end movement are charged (the exact transport LP in the original
    metric when the metric is not a tree, as in :class:`EntropicHSTMTS`).

    Complexity: O(n_nodes * b * Newton rounds) per sub-step (b = largest branching); up to
    ``2 * max_substeps - 1`` sub-steps per task.

    Guarantee: the state is a distribution at every step (Theorem
    ``mts.entropic.multiscale.mass``); each sub-step equals a generic convex solver's Bregman
    projection on the tree polytope to 1e-8 (Theorem ``mts.entropic.multiscale.step_exact``). The
    continuous dynamics is O(log n)-competitive on HSTs (O(log^2 n) on any metric through FRT)
    (BCLL 2019; Coester and Lee 2019); the discretised algorithm's ratio to the exact offline
    optimum is measured against n with a fitted ``c ln n`` (empirical, Theorem
    ``mts.entropic.multiscale.ratio``).

    Parameters
    ----------
    metric : HST, FiniteMetric or array-like
        As :class:`EntropicHSTMTS` (an HST metric uses its tree, stars the depth-1 tree, anything
        else is FRT-embedded with ``seed``).
    start : int
    eta : float
        Cost scale of the dynamics (> 0).
    seed : int or None
        Seed of the FRT embedding.
    tol : float
        Relative tolerance of the sub-step doubling (default 1e-6, the fact sheet's).
    max_substeps : int
        A power of two.
    """

    _multiscale = True

    def __init__(self, metric, start=0, eta=0.1, seed=None, tol=1e-6, max_substeps=1024):
        self.metric = metric
        self.start = start
        self.eta = eta
        self.seed = seed
        self.tol = tol
        self.max_substeps = max_substeps

    def _substep_np(self, Q, cleaf):
        Q[:] = multiscale_projection(Q, cleaf, self.hst_, self.omega_, self.dl_)[0]

    @classmethod
    def _contract_cases(cls):
        from ..metrics import random_metric
        from .hst import HST

        rng = np.random.default_rng(7)
        c1 = rng.uniform(0, 2, size=(12, 8))
        c1[4, 3] = np.inf
        c2 = rng.exponential(1.0, size=(10, 6))
        c3 = rng.uniform(0, 1, size=(8, 5))
        return [({"metric": HST.balanced(3, 2), "start": 5, "tol": 1e-3, "max_substeps": 64}, c1),
                ({"metric": random_metric("hst", 6, seed=2), "eta": 2.0, "tol": 1e-3, "max_substeps": 64}, c2),
                ({"metric": random_metric("general", 5, seed=4), "seed": 1, "tol": 1e-3, "max_substeps": 64}, c3)]
