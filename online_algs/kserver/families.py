"""Request families for k-server: the cruel (k+1)-point adversary, random, clustered and drifting
requests on any metric, and the (h, k) lower-bound families of Double Coverage on a line (with the
(h, k) potential that certifies them)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_float, check_float_array, check_int, check_int_array, check_seed
from ..base import RequestThenMove
from ..exceptions import InvalidInputError
from ..metrics import METRIC_KINDS, line, random_metric
from .offline import _metric

__all__ = ["cruel_requests", "random_requests", "clustered_requests", "drifting_requests", "dc_hk_line_family",
           "dc_hk_family", "dc_hk_crawl_ratio", "dc_hk_cycle_search", "DCHKInstance", "dc_hk_ratio", "dc_hk_potential",
           "dc_hk_additive_term",
           "metric_kinds", "FAMILIES", "family_requests"]


def _covered(alg) -> set:
    if hasattr(alg, "covered_points"):
        return set(alg.covered_points())
    return {int(x) for x in alg.state}


def cruel_requests(alg, metric, T, points=None) -> np.ndarray:
    """The cruel (k+1)-point adversary against a deterministic online algorithm.

    Restricts requests to ``k + 1`` points (``points``; default: the algorithm's initial
    configuration plus the lowest-index other point) and always requests one of them that
    holds no server of ``alg`` (the lowest such index), feeding each request to ``alg``
    (adaptive: ``alg`` is reset and driven step by step). Replaying the returned sequence on a
    fresh copy of a deterministic ``alg`` reproduces its costs. Every deterministic algorithm
    pays ALG >= k OPT - O(k^2 diam) on it (Theorem ``kserver.deterministic.lower_bound``).

    Returns a 1-d int64 array of ``T`` requests.
    """
    if not isinstance(alg, RequestThenMove):
        raise InvalidInputError(f"The 'alg' argument of cruel_requests must be a request-then-move algorithm "
                                f"(e.g. online_algs.kserver.DoubleCoverage). Got {type(alg).__name__}.")
    m = _metric(metric, "cruel_requests")
    T = check_int("T", T, low=1, owner="cruel_requests")
    alg.reset()
    k = alg.k_
    if points is None:
        init = sorted(int(x) for x in alg._init)
        extra = next(p for p in range(m.n) if p not in set(init))
        points = sorted(init + [extra])
    else:
        points = sorted(int(p) for p in points)
        if len(set(points)) != k + 1 or min(points) < 0 or max(points) >= m.n:
            raise InvalidInputError(f"The 'points' argument of cruel_requests must hold k + 1 = {k + 1} distinct point "
                                    f"indices in [0, {m.n - 1}]. Got {points}.")
    out = np.empty(T, dtype=np.int64)
    for t in range(T):
        cov = _covered(alg)
        r = next(p for p in points if p not in cov)
        out[t] = r
        alg.serve(r)
    return out


def random_requests(metric, T, seed=None) -> np.ndarray:
    """``T`` i.i.d. uniform points of ``metric``."""
    m = _metric(metric, "random_requests")
    T = check_int("T", T, low=1, owner="random_requests")
    rng = np.random.default_rng(check_seed(seed, owner="random_requests"))
    return rng.integers(0, m.n, size=T).astype(np.int64)


def _neighbourhoods(m, size):
    order = np.argsort(m.d, axis=1, kind="stable")  # each point first (distance 0), then its nearest
    return order[:, :size]


def clustered_requests(metric, T, seed=None, n_clusters: int = 3, p_switch: float = 0.05) -> np.ndarray:
    """Requests from clusters: ``n_clusters`` random centres, each with its ``max(2, n // (2 n_clusters))``
    nearest points; requests are uniform in the current cluster, which switches to a uniformly random
    cluster with probability ``p_switch`` per request."""
    m = _metric(metric, "clustered_requests")
    T = check_int("T", T, low=1, owner="clustered_requests")
    n_clusters = check_int("n_clusters", n_clusters, low=1, high=m.n, owner="clustered_requests")
    p_switch = check_float("p_switch", p_switch, low=0.0, high=1.0, owner="clustered_requests")
    rng = np.random.default_rng(check_seed(seed, owner="clustered_requests"))
    size = min(m.n, max(2, m.n // (2 * n_clusters)))
    centres = rng.choice(m.n, size=n_clusters, replace=False)
    nb = _neighbourhoods(m, size)
    cur = int(rng.integers(n_clusters))
    out = np.empty(T, dtype=np.int64)
    for t in range(T):
        if rng.random() < p_switch:
            cur = int(rng.integers(n_clusters))
        out[t] = nb[centres[cur], int(rng.integers(size))]
    return out


def drifting_requests(metric, T, seed=None, window: int = 3, p_move: float = 0.2) -> np.ndarray:
    """A drifting hot spot: a centre point random-walks (with probability ``p_move`` per request) to
    one of its ``window - 1`` nearest other points; each request is uniform among the centre's
    ``window`` nearest points (itself included)."""
    m = _metric(metric, "drifting_requests")
    T = check_int("T", T, low=1, owner="drifting_requests")
    window = check_int("window", window, low=1, high=m.n, owner="drifting_requests")
    p_move = check_float("p_move", p_move, low=0.0, high=1.0, owner="drifting_requests")
    rng = np.random.default_rng(check_seed(seed, owner="drifting_requests"))
    nb = _neighbourhoods(m, window)
    c = int(rng.integers(m.n))
    out = np.empty(T, dtype=np.int64)
    for t in range(T):
        if window > 1 and rng.random() < p_move:
            c = int(nb[c, int(rng.integers(1, window))])
        out[t] = nb[c, int(rng.integers(window))]
    return out


def dc_hk_line_family(D: int = 20, phases: int = 10):
    """The (h, k) = (1, 2) "spread and squeeze" family of Double Coverage on a line.

    Points ``0, 1, ..., 3D/2`` (``D`` even); DC's two servers start at 0 and D, OPT's single
    server at 0. First a squeeze: requests 1, 2, ..., D/2 (DC's two servers meet at D/2; DC pays D,
    OPT D/2). Then ``phases`` times: with DC's servers together at ``c``, request ``c + s D``
    (``s = +1, -1, +1, ...``; DC and OPT pay D), then squeeze back: requests
    ``c + s D - s i`` for ``i = 1..D/2`` (DC pays D, OPT D/2). Per phase DC pays 2D and the
    1-server OPT (forced to follow the requests) pays 3D/2: the ratio tends to
    4/3 = k(h+1)/(k+1) (derivation in ``docs/theory/kserver.md``). For every ``1 <= h <= k`` see
    :func:`dc_hk_family` (its ``h = 1`` sweep attains 2k/(k+1) exactly, with no additive term).

    Returns ``(metric, requests, dc_initial, opt_initial)``.
    """
    D = check_int("D", D, low=2, owner="dc_hk_line_family")
    if D % 2:
        raise InvalidInputError(f"The 'D' parameter of dc_hk_line_family must be even. Got {D}; use {D + 1}.")
    phases = check_int("phases", phases, low=0, owner="dc_hk_line_family")
    half = D // 2
    metric = line(np.arange(3 * half + 1, dtype=float))
    req = list(range(1, half + 1))
    c, s = half, 1
    for _ in range(phases):
        far = c + s * D
        req.append(far)
        req.extend(far - s * i for i in range(1, half + 1))
        c = far - s * half
        s = -s
    return metric, np.asarray(req, dtype=np.int64), [0, D], [0]


# --------------------------------------------------------------------------- (h, k): DC against h servers
def dc_hk_ratio(h, k) -> float:
    """The competitive ratio of Double Coverage with ``k`` servers against ``h <= k`` servers on a
    line or a tree: ``k (h + 1) / (k + 1)`` (Bansal, Elias, Jez, Koumoutsos, Pruhs 2018)."""
    h, k = _check_hk(h, k, "dc_hk_ratio")
    return k * (h + 1) / (k + 1)


def _check_hk(h, k, owner):
    k = check_int("k", k, low=1, owner=owner)
    h = check_int("h", h, low=1, owner=owner)
    if h > k:
        raise InvalidInputError(f"The 'h' parameter of {owner} must satisfy 1 <= h <= k (the offline optimum has at "
                                f"most as many servers as Double Coverage). Got h = {h} > k = {k}; swap them or "
                                f"lower h.")
    return h, k


def _pair_sum(x) -> float:
    """sum_{i<j} |x_i - x_j| of points on a line, O(m log m)."""
    x = np.sort(np.asarray(x, dtype=float))
    m = len(x)
    return float(np.sum(x * (2 * np.arange(m) - m + 1)))


#: largest number C(k, h) of matched subsets :func:`dc_hk_potential` enumerates
_MAX_SUBSETS = 200_000


def dc_hk_potential(dc_positions, opt_positions) -> float:
    r"""The (h, k) potential of Double Coverage on a line.

    With DC's servers at :math:`x_1..x_k`, the h-server adversary's at :math:`y_1..y_h`
    (``h <= k``) and :math:`c = k(h+1)/(k+1)`:

    .. math::

        \Phi = \frac{1}{k+1} \sum_{i<j} |x_i - x_j|
              + \min_{A \subseteq X,\ |A| = h} \Big[ c\, M(Y, A) + \frac{k}{k+1} \sum_{a<a' \in A} |a - a'| \Big]

    where :math:`M(Y, A)` is the min-cost perfect matching between Y and A (on a line: match
    both in sorted order). For ``h = k`` it is Chrobak-Larmore's :math:`k M + \sum_{i<j}`, for
    ``h = 1`` it is :math:`c\, d(y, X) + \sum_{i<j} |x_i - x_j| / (k+1)`. Each request
    changes it by at most ``c * OPT's move - DC's move`` (derivation in
    ``docs/theory/kserver.md`` §5), so ``DC <= c OPT_h + Phi_0 - Phi_T`` on every sequence,
    with equality exactly when every step is tight (Theorems ``kserver.dc.hk_competitive`` and
    ``kserver.dc.hk_lower``).

    Parameters
    ----------
    dc_positions : array-like of k reals
    opt_positions : array-like of h reals, 1 <= h <= k

    Complexity: O(C(k, h) h) (every h-subset of DC's servers).
    """
    x = check_float_array("dc_positions", dc_positions, ndim=1, owner="dc_hk_potential",
                          hint="give every server a real position on the line.")
    y = check_float_array("opt_positions", opt_positions, ndim=1, owner="dc_hk_potential",
                          hint="give every server a real position on the line.")
    h, k = _check_hk(len(y), len(x), "dc_hk_potential")
    from math import comb

    if comb(k, h) > _MAX_SUBSETS:
        raise InvalidInputError(f"dc_hk_potential enumerates the C(k, h) = C({k}, {h}) = {comb(k, h)} matched subsets, "
                                f"more than {_MAX_SUBSETS}. Use fewer servers.")
    c = k * (h + 1) / (k + 1)
    xs = np.sort(x)
    ys = np.sort(y)
    best = np.inf
    for A in itertools.combinations(range(k), h):
        a = xs[list(A)]
        v = c * float(np.abs(ys - a).sum()) + k / (k + 1) * _pair_sum(a)
        best = min(best, v)
    return float(_pair_sum(xs) / (k + 1) + best)


def _metric_potential(d, x, y, h, k) -> float:
    """The (h, k) potential with distances ``d`` between point indices ``x`` (k) and ``y`` (h)."""
    from math import comb

    from scipy.optimize import linear_sum_assignment

    if comb(k, h) > _MAX_SUBSETS:
        raise InvalidInputError(f"dc_hk_additive_term enumerates the C(k, h) = C({k}, {h}) = {comb(k, h)} matched "
                                f"subsets, more than {_MAX_SUBSETS}. Use fewer servers.")
    c = k * (h + 1) / (k + 1)
    pairs = lambda z: float(np.triu(d[np.ix_(z, z)], 1).sum())  # noqa: E731
    best = np.inf
    for A in itertools.combinations(range(k), h):
        a = [int(x[i]) for i in A]
        cost = d[np.ix_(list(y), a)]
        ri, ci = linear_sum_assignment(cost)
        best = min(best, c * float(cost[ri, ci].sum()) + k / (k + 1) * pairs(a))
    return pairs(list(x)) / (k + 1) + best


def dc_hk_additive_term(metric, dc_initial, opt_initial) -> float:
    r"""The additive term of DC's (h, k) guarantee: :math:`\Phi_0` of :func:`dc_hk_potential` at
    the two initial configurations, so that ``DC <= k(h+1)/(k+1) * OPT_h + dc_hk_additive_term(...)``
    for every request sequence (Theorem ``kserver.dc.hk_competitive``).

    On a line (``metric.kind == "line"``) this is the derived bound (``docs/theory/kserver.md`` §5).
    On a tree (``"tree"``) the same formula with tree distances (min-cost matching by the
    Hungarian method) is used; the per-step inequality behind it is checked, not proved, there.
    When ``opt_initial`` is a subset of ``dc_initial`` (the adversary starts on h of DC's
    points, M = 0) it is at most ``(S(X0) + k S(Y0)) / (k+1)``, ``S`` the sum of pairwise
    distances; for ``h = k`` it equals :func:`~online_algs.kserver.dc_additive_term`.
    Complexity: O(C(k, h) h^3).
    """
    from .offline import _initial

    m = _metric(metric, "dc_hk_additive_term")
    if m.kind not in ("line", "tree"):
        raise InvalidInputError(f"The 'metric' argument of dc_hk_additive_term must be a line or a tree metric "
                                f"(metric.kind 'line' or 'tree'), where Double Coverage runs. Got kind {m.kind!r}; "
                                f"build it with online_algs.metrics.line(positions) or online_algs.metrics.tree(graph).")
    x0 = _initial(dc_initial, m, "dc_hk_additive_term")
    y0 = check_int_array("opt_initial", opt_initial, low=0, high=m.n - 1, owner="dc_hk_additive_term")
    if len(np.unique(y0)) != len(y0):
        raise InvalidInputError(f"The 'opt_initial' argument of dc_hk_additive_term must hold h distinct point "
                                f"indices. Got {y0.tolist()}; put the servers on distinct points.")
    h, k = _check_hk(len(y0), len(x0), "dc_hk_additive_term")
    if m.kind == "line":
        pos = np.asarray(m.info["positions"], dtype=float)
        return dc_hk_potential(pos[x0], pos[y0])
    return _metric_potential(m.d, x0, y0, h, k)


@dataclass
class DCHKInstance:
    """A lower-bound instance of Double Coverage (k servers) against an h-server adversary.

    Attributes
    ----------
    metric : FiniteMetric
        A line on the integer points ``0..n-1``.
    requests : ndarray of int64
    dc_initial, opt_initial : list of int
        DC's k starting points and the adversary's h starting points (a subset of DC's).
    h, k : int
    construction : str
        ``"sweep"`` (h = 1), ``"drift"`` (k - h <= 1), ``"crawl"`` ((h, k) = (2, 4), (2, 5), (3, 5), asymptotic)
        or ``"drift_parked"`` (the other cells, see :func:`dc_hk_family`).
    exact : bool
        Every step is tight for :func:`dc_hk_potential`, hence
        ``DC = target * schedule_cost + Phi_0 - Phi_T`` exactly.
    ratio : float
        The ratio DC / schedule_cost the construction attains per phase (for ``"crawl"`` the closed
        form :func:`dc_hk_crawl_ratio`, below ``target`` by ``O(1/L)``).
    target : float
        ``k (h+1) / (k+1)``.
    schedule : list of tuple
        The adversary's h-server configuration serving each request (point indices).
    schedule_cost : float
        The cost of ``schedule`` from ``opt_initial`` (an upper bound on OPT_h).
    phases : int
    L : int or None
        The size parameter of the ``"crawl"`` construction (None for the others).
    """

    metric: object
    requests: np.ndarray
    dc_initial: list
    opt_initial: list
    h: int
    k: int
    construction: str
    exact: bool
    ratio: float
    target: float
    schedule: list = field(repr=False)
    schedule_cost: float
    phases: int
    L: int | None = None

    @property
    def opt_final(self) -> tuple:
        """The adversary's configuration after the last request."""
        return self.schedule[-1] if self.schedule else tuple(self.opt_initial)


def _sweep(k, phases):
    """h = 1: one adversary server sweeps across DC's k servers packed on 0..k+1."""
    dc0 = [0] + list(range(2, k + 1))
    cycle = list(range(1, k)) + [k + 1] + list(range(k, 1, -1)) + [0]
    req = cycle * phases
    sched = [(r,) for r in req]
    cost = float(phases * (2 * k + 2))
    return k + 2, dc0, [0], req, sched, cost


def _drift(h, k, phases):
    """k - h <= 1 (``parked = 0``) or more (``parked = k - h - 1``): a walker, h - 1 anchors, all
    drifting right by one point per phase; ``k - h - 1`` extra DC servers parked at the left."""
    kp = min(k - h + 1, 2)           # DC servers of the walker's group (partner + at most one free server)
    parked = k - h - (kp - 1)        # DC servers never requested (0 when k - h <= 1)
    G = 2 * h + 4                    # anchor spacing (pulls reach at most h + 1)
    o = parked + 1 if parked else 0  # the parked servers sit on 0..parked-1
    if kp == 2:
        w0 = o + 1
        dc0 = list(range(parked)) + [o, w0] + [w0 + j * G for j in range(1, h)]
    else:
        w0 = o
        dc0 = list(range(parked)) + [w0] + [w0 + j * G for j in range(1, h)]
    y = [w0] + [w0 + j * G for j in range(1, h)]
    opt0 = list(y)
    req, sched = [], []
    for t in range(phases):
        if kp == 2:                  # walker +2 (pulls anchor 1, or an outside move), then -1 (squeezes the free server)
            steps = [(0, y[0] + 2), (0, y[0] + 1)]
        else:                        # walker +1
            steps = [(0, y[0] + 1)]
        steps += [(j, y[j] + 1) for j in range(1, h)]   # anchor j steps +1 (returns its pulled DC server)
        for j, q in steps:
            y[j] = q
            req.append(q)
            sched.append(tuple(sorted(y)))
    cost = float(phases * ((3 if kp == 2 else 1) + (h - 1)))
    n = max(max(req), max(dc0)) + 2
    return n, dc0, opt0, req, sched, cost


def dc_hk_crawl_ratio(h, k, L) -> float:
    r"""The per-phase ratio DC / adversary of the ``"crawl"`` family of :func:`dc_hk_family`.

    * ``(2, 4)``: ``(12 L + 4) / (5 L + 2) = c - 4 / (5 (5 L + 2))`` (adversary ``20 L + 8``, DC
      ``48 L + 16`` per phase), ``c = 12/5``;
    * ``(2, 5)``: with ``t = L - 2``, ``(450 t + 250) / (180 t + 108) = c - 5 / (45 t + 27)``
      (adversary ``180 t + 108``, DC ``450 t + 250`` per phase), ``c = 5/2``;
    * ``(3, 5)``: with ``u = L - 1``, ``(600 u + 10) / (180 u + 8) = c - 25 / (270 u + 12)``
      (adversary ``180 u + 8``, DC ``600 u + 10`` per phase), ``c = 10/3``.

    All three increase with ``L`` and tend to ``c`` (Theorem ``kserver.dc.hk_lower``; derivations in
    ``docs/theory/kserver.md`` §6.3)."""
    h, k = _check_hk(h, k, "dc_hk_crawl_ratio")
    L = check_int("L", L, low=2, owner="dc_hk_crawl_ratio")
    if (h, k) not in _CRAWL_CELLS:
        raise InvalidInputError(f"The (h, k) cell of dc_hk_crawl_ratio must be one with a crawl family, "
                                f"{list(_CRAWL_CELLS)}. Got (h, k) = ({h}, {k}); use dc_hk_family(h, k).ratio for the "
                                f"other cells.")
    if (h, k) == (2, 4):
        return (12 * L + 4) / (5 * L + 2)
    if (h, k) == (3, 5):
        u = L - 1
        return (600 * u + 10) / (180 * u + 8)
    t = L - 2
    return (450 * t + 250) / (180 * t + 108)


#: the cells served by the asymptotic ``"crawl"`` construction
_CRAWL_CELLS = ((2, 4), (2, 5), (3, 5))


class _Schedule:
    """Requests and the adversary's configurations, built move by move."""

    def __init__(self, y0):
        self.y = sorted(y0)
        self.req, self.sched = [], []

    def ask(self, r, move=None):            # request r; the adversary first moves one server (from, to)
        if move is not None:
            self.y.remove(move[0])
            self.y.append(move[1])
            self.y.sort()
        self.req.append(r)
        self.sched.append(tuple(self.y))

    def crawl(self, P, nhalf):
        """Pair on P, P+2 (the adversary on it), DC's near free server b = P - nhalf behind: nhalf half-blocks
        (requests P+1, P+2, P; adversary 3 / 1 alternately, DC 5 each, nhalf odd) pull b onto P, then P+1.
        Ends with DC on ..., P, P+1, P+1 and the adversary on P, P+1."""
        for j in range(nhalf):
            if j % 2 == 0:                  # adversary on P, P+2
                self.ask(P + 1, (P, P + 1))
                self.ask(P + 2)
                self.ask(P, (P + 2, P))
            else:                           # adversary on P, P+1
                self.ask(P + 1)
                self.ask(P + 2, (P + 1, P + 2))
                self.ask(P)
        self.ask(P + 1)

    def sweep(self, P, L):
        """Leftward sweep from DC on a, P, P+1, P+1 (P - a = 4L + 2), the adversary on P, P+1: L - 1 blocks
        and a closing block; returns a'' = a + 3L + 1 (DC on a'', a''+1, a''+1, a''+3, the adversary on
        a''+1, a''+3)."""
        Q = P
        for j in range(L - 1):
            self.ask(Q - 1, (Q + 1, Q - 1) if j == 0 else None)
            for r, move in ((Q, None), (Q - 2, (Q, Q - 2)), (Q - 1, None), (Q, (Q - 1, Q)), (Q - 1, (Q, Q - 1))):
                self.ask(r, move)
            Q -= 1
        for r, move in ((Q - 1, None), (Q, None), (Q - 2, (Q, Q - 2)), (Q - 1, None), (Q, (Q - 1, Q)),
                        (Q + 1, (Q, Q + 1)), (Q - 2, None), (Q - 1, (Q - 2, Q - 1))):
            self.ask(r, move)
        return Q - 2

    def walk(self, p, steps):
        """The pair p, p+2 steps right ``steps`` times (requests p+1, p+3 each)."""
        for q in range(p, p + steps):
            self.ask(q + 1, (q, q + 1))
            self.ask(q + 3, (q + 2, q + 3))


def _crawl24(L, phases):
    """(h, k) = (2, 4), D = 4L + 2: crawl, leftward sweep, walk; one phase shifts everything by 3L + 1.

    A phase starts in ``A(a)``: DC on ``a, a+1, P, P+2``, the adversary on ``P, P+2`` (``P = a + D``).
    Returns ``(n, dc0, opt0, requests, schedule, cost)``; ``cost`` = phases * (20 L + 8).
    """
    D = 4 * L + 2
    s = _Schedule([D, D + 2])
    a = 0
    for _ in range(phases):
        P = a + D
        s.crawl(P, D - 1)                   # DC on a, P, P+1, P+1
        a = s.sweep(P, L)                   # = old a + 3L + 1; DC on a, a+1, a+1, a+3
        s.walk(a + 1, D - 1)                # DC on a, a+1, a+D, a+D+2
    n = a + D + 3
    return n, [0, 1, D, D + 2], [D, D + 2], s.req, s.sched, float(phases * (20 * L + 8))


#: (3, 5) sweep cycle: 14 steps (request, adversary move or None), relative to a base that moves one point left
#: after steps 3 and 13; the far free server gains 10 points on the group per cycle (adversary 10, DC 40)
_SWEEP35 = ((2, (3, 2)), (3, (2, 3)), (4, None), (-1, (0, -1)), (3, (5, 3)), (4, None), (2, (3, 2)), (0, None),
            (2, None), (3, (2, 3)), (4, None), (2, (4, 2)), (3, None), (-1, (0, -1)))
#: (3, 5) crawl block relative to P (DC's group on P+2, P+3, P+5, the adversary on P, P+2, P+4)
_CRAWL35 = ((0, None), (4, None), (2, None), (3, (2, 3)), (5, (4, 5)), (4, (3, 4)), (5, None), (3, (5, 3)), (2, (3, 2)))
#: (3, 5) transition from the sweep's end to the walk (relative to o = g + 24u - 16)
_T2_35 = ((16, None), (15, (16, 15)), (21, (20, 21)), (16, (15, 16)), (17, (16, 17)), (19, None), (20, (19, 20)),
          (18, (17, 18)), (19, (18, 19)), (21, None))


def _crawl35(L, phases):
    """(h, k) = (3, 5), u = L - 1, P0 = 30u + 1: into the crawl shape, crawl, merge, sweep, join, walk; one phase
    shifts everything by 24u.

    A phase starts with DC on ``g, g+2, W, W+1, W+3`` and the adversary on ``W, W+1, W+3`` (``W = g + P0 + 3``).
    Returns ``(n, dc0, opt0, requests, schedule, cost)``; ``cost`` = phases * (180 u + 8).
    """
    u = L - 1
    P0 = 30 * u + 1
    W0 = P0 + 3
    s = _Schedule([W0, W0 + 1, W0 + 3])

    def rel(seq, o):
        for r, mv in seq:
            s.ask(r + o, None if mv is None else (mv[0] + o, mv[1] + o))

    g = 0
    for _ in range(phases):
        rel(((2, (3, 2)), (-1, (2, -1)), (-3, (0, -3)), (-1, None)), g + W0)  # DC on g, g+5, P+2, P+3, P+5
        P = g + P0                          # the adversary on P, P+2, P+4
        for _ in range(10 * u - 2):         # the crawl pulls the near free server g+5 to P-2, 3 points per block
            rel(_CRAWL35, P)
        rel(((0, None), (3, (4, 3)), (2, None), (3, None), (2, None), (3, None), (-2, (0, -2))), P)  # merge
        B, i = P - 2, 4                     # the sweep (entered at step 4) pulls the far free server g
        for _ in range(42 * u - 1):
            rel((_SWEEP35[i],), B)
            if i in (3, 13):
                B -= 1
            i = (i + 1) % 14
        o = g + 24 * u - 16
        rel(_T2_35, o)                      # the far server joins; two free servers stay behind
        w = o + 19
        for q in range(w, w + P0):          # the triple walks right P0 points (adversary 3, DC 9 per point)
            rel(((1, None), (3, (2, 3)), (2, (1, 2)), (3, None), (1, (0, 1))), q)
        rel(((1, None), (3, (2, 3))), w + P0)   # DC on g', g'+2, W', W'+1, W'+3 (g' = g + 24u)
        g += 24 * u
    n = g + P0 + 7
    return n, [0, 2, W0, W0 + 1, W0 + 3], [W0, W0 + 1, W0 + 3], s.req, s.sched, float(phases * (180 * u + 8))


def _crawl25(L, phases):
    """(h, k) = (2, 5), t = L - 2, M = 8t + 4 (the first sweep's size): crawl, sweep, jump, second sweep,
    walk (pulling the fifth server in), pair out, walk; one phase shifts everything by 18t + 10.

    A phase starts with DC on ``g, g+1, g+2t+2, P, P+2`` and the adversary on ``P, P+2``
    (``P = g + 4M + 3``). Returns ``(n, dc0, opt0, requests, schedule, cost)``; ``cost`` = phases * (180 t + 108).
    """
    t = L - 2
    M = 8 * t + 4
    P0 = 4 * M + 3
    s = _Schedule([P0, P0 + 2])
    g = 0
    for _ in range(phases):
        P = g + P0
        s.crawl(P, P - (g + 2 * t + 2))     # the near free server g+2t+2 onto P (30t + 17 half-blocks)
        a2 = s.sweep(P, M)                  # the middle one (g+1, gap 4M + 2): DC on g, a2, a2+1, a2+1, a2+3
        s.ask(a2, (a2 + 3, a2))             # jump: the adversary onto a2, a2+1 (DC covers a2)
        g = s.sweep(a2, 6 * t + 3)          # the far one (gap a2 - g = 4(6t+3) + 2); the fifth DC server stays right
        s.walk(g + 1, 2 * t + 1)            # the pair pulls the fifth server in: DC on g, g+1, w, w+2, w+2
        w = g + 2 * t + 2
        s.ask(w + 4, (w, w + 4))            # pair out: the adversary onto w+2, w+4
        s.walk(w + 2, 30 * t + 15)          # DC on g, g+1, w, P', P'+2 with P' = g + 4M + 3
    n = g + P0 + 3
    return n, [0, 1, 2 * t + 2, P0, P0 + 2], [P0, P0 + 2], s.req, s.sched, float(phases * (180 * t + 108))


def dc_hk_family(h, k, phases: int = 10, L: int = 4) -> DCHKInstance:
    r"""Lower-bound instances of Double Coverage with k servers against h <= k servers on a line.

    Problem: a request sequence and an h-server adversary schedule on which DC (k servers) pays as
    close as possible to :math:`c = k(h+1)/(k+1)` (:func:`dc_hk_ratio`) times the adversary. The
    exact constructions (``exact = True``) are periodic adversary schedules whose steps are all
    *tight* for the potential :func:`dc_hk_potential` (``Delta Phi = c * adversary's move - DC's
    move``), so ``DC = c * schedule_cost + Phi_0 - Phi_T``; since Phi is translation-invariant and
    the configurations repeat (up to a shift), ``DC = c * schedule_cost`` after every whole phase.
    The asymptotic ``"crawl"`` constructions have a few non-tight steps per phase (total slack 16/5
    for (2, 4), 20 for (2, 5), 50/3 for (3, 5), independent of ``L``) in phases whose cost grows like ``L``, so their
    ratio is ``c - O(1/L)``.
    Guarantee: ``DC / OPT_h >= ratio`` (``OPT_h <= schedule_cost``) and ``ratio -> c`` as ``L -> oo``
    for ``"crawl"`` (Theorem ``kserver.dc.hk_lower``). Derivations and per-phase costs:
    ``docs/theory/kserver.md`` §6. Complexity: O(T h) to build.

    * ``h = 1`` (``"sweep"``, zero drift): points ``0..k+1``; DC starts on ``0, 2, 3, ..., k``,
      the adversary on 0. A phase requests ``1, 2, ..., k-1, k+1, k, k-1, ..., 2, 0``: unit steps
      inside DC's span (DC pays 2, the adversary 1) and one jump of 2 outside at each end (both
      pay 2). Per phase the adversary pays ``2k + 2``, DC ``4k``: ratio ``2k/(k+1)``.
    * ``k - h <= 1``, ``h >= 2`` (``"drift"``): a walker and ``h - 1`` anchors spaced
      ``2h + 4`` apart (plus, when ``k = h + 1``, one free DC server just left of the walker).
      A phase: the walker steps ``+2`` then ``-1`` (``k = h + 1``; it pulls anchor 1's DC server by
      2, then squeezes the free server by 1) or ``+1`` (``k = h``), then anchors 1..h-1 each step
      ``+1`` (anchor j's DC server returns and pulls anchor j+1's; the last one is an outside
      move). Everything shifts right by one point per phase. Per phase: ``k = h``: adversary h,
      DC h^2 (ratio h); ``k = h + 1``: adversary h + 2, DC (h+1)^2 (ratio (h+1)^2/(h+2)).
    * ``(h, k) = (2, 4)`` (``"crawl"``, asymptotic, ``exact = False``), ``D = 4L + 2``: a phase
      starts with DC on ``a, a+1, P, P+2`` and the adversary on the *pair* ``P, P+2`` (``P = a + D``).
      (1) *crawl*: ``D - 1`` half-blocks of 3 requests (``P+1, P+2, P``) in which the adversary
      shuffles its pair over ``P..P+2`` (cost 3 or 1, alternately) and DC pays 5, pulling its
      free server from ``a+1`` to ``P`` one point per half-block; (2) *leftward sweep*: blocks of 6
      requests around the pair, which moves left one point per block while DC's far free server
      ``a`` is pulled right 3 points (adversary 4, DC 12), L - 1 blocks and a closing block of 8;
      (3) *walk*: the pair steps right ``D - 1`` times (requests ``p+1, p+3``; adversary 2, DC 4).
      Everything ends shifted by ``3L + 1``. Per phase: adversary ``20 L + 8``, DC ``48 L + 16``,
      ratio ``(12 L + 4)/(5 L + 2) = c - 4/(5 (5 L + 2))`` (:func:`dc_hk_crawl_ratio`; 2.333 at
      L = 2, 2.364 at L = 4, 2.392 at L = 20, c = 2.4). T = phases * (26 L + 8) requests on
      ``phases (3L + 1) + 4L + 5`` points.
    * ``(h, k) = (2, 5)`` (``"crawl"``, asymptotic), ``t = L - 2``, ``M = 8t + 4``: a phase starts with DC
      on ``g, g+1, g+2t+2, P, P+2`` and the adversary on ``P, P+2`` (``P = g + 4M + 3``): the crawl pulls
      DC's near free server onto the pair, a leftward sweep of size M the middle one (``g`` untouched),
      a jump (the adversary moves ``a''+3 -> a''``, DC pays 0) sets up a second sweep of size
      ``6t + 3`` that pulls ``g`` (DC's fifth server stays behind on the right), the pair walks
      ``2t + 1`` steps pulling that server in, steps out (adversary 4, DC 2) and walks ``30t + 15``
      steps. Everything ends shifted by ``18t + 10``. Per phase: adversary ``180 t + 108``, DC
      ``450 t + 250``, ratio ``(450 t + 250)/(180 t + 108) = c - 5/(45 t + 27)`` (2.315 at L = 2, 2.457
      at L = 4, 2.496 at L = 30; c = 2.5); ``238 t + 132`` requests per phase.
    * ``(h, k) = (3, 5)`` (``"crawl"``, asymptotic), ``u = L - 1``, ``P0 = 30u + 1``, ``W = P0 + 3``: a phase
      starts with DC on ``g, g+2, g+W, g+W+1, g+W+3`` and the adversary on ``g+W, g+W+1, g+W+3``. Four
      requests bring the group into the crawl shape (DC on ``P+2, P+3, P+5``, the adversary on ``P, P+2,
      P+4``, ``P = g + P0``) and pull the near free server to ``g+5``; ``10u - 2`` crawl blocks of 9 requests
      (adversary 6, DC 21) pull it to ``P-2``; a merge of 7 requests; a sweep of ``42u - 1`` requests
      (14-request cycles: the triple moves 2 left, the far free server ``g`` 8 right; adversary 10, DC 40)
      pulls ``g`` to the group; a join of 10 requests leaves two free servers on ``g+24u, g+24u+2``; the
      triple walks ``P0`` points (5 requests, adversary 3, DC 9 each) and two requests restore the start
      shifted by ``24u``. Per phase: adversary ``180u + 8``, DC ``600u + 10``, ratio
      ``(600u + 10)/(180u + 8) = c - 25/(270u + 12)`` (3.245 at L = 2, 3.303 at L = 4, 3.330 at L = 30;
      c = 10/3); ``282u + 9`` requests per phase; five non-tight steps (slack 50/3) per phase.
    * ``k - h >= 2``, ``h >= 2``, ``k >= 6`` (``"drift_parked"``, **not** attaining the target):
      the ``(h, h+1)`` drift instance with ``k - h - 1`` extra DC servers parked on the left, never
      requested; it attains ``(h+1)^2/(h+2) < c`` (``exact = False``); see ``docs/theory/kserver.md``
      §6.3-6.4.

    The adversary starts on h of DC's initial points. OPT_h (``offline_optimum(metric, requests,
    opt_initial)``) is at most ``schedule_cost`` and, by the upper bound, at least
    ``schedule_cost - Phi_T / c`` for the exact constructions.

    Parameters
    ----------
    h, k : int
        ``1 <= h <= k``.
    phases : int
        Number of phases (>= 1); T = phases * 2k requests for the sweep, phases * h for the
        drift with k = h, phases * (26 L + 8) for the (2, 4) crawl, phases * (238 (L-2) + 132) for the
        (2, 5) crawl, phases * (282 (L-1) + 9) for the (3, 5) crawl and phases * (h + 1) otherwise.
    L : int
        Size of the crawl constructions (>= 2), validated for every cell, used only by ``"crawl"``.

    Returns
    -------
    DCHKInstance
    """
    h, k = _check_hk(h, k, "dc_hk_family")
    phases = check_int("phases", phases, low=1, owner="dc_hk_family")
    L = check_int("L", L, low=2, owner="dc_hk_family")
    size = None
    if h == 1:
        n, dc0, opt0, req, sched, cost = _sweep(k, phases)
        construction, exact, ratio = "sweep", True, 2 * k / (k + 1)
    elif (h, k) in _CRAWL_CELLS:
        n, dc0, opt0, req, sched, cost = {(2, 4): _crawl24, (2, 5): _crawl25, (3, 5): _crawl35}[(h, k)](L, phases)
        construction, exact, ratio, size = "crawl", False, dc_hk_crawl_ratio(h, k, L), L
    else:
        n, dc0, opt0, req, sched, cost = _drift(h, k, phases)
        exact = k - h <= 1
        construction = "drift" if exact else "drift_parked"
        ratio = float(h) if k == h else (h + 1) ** 2 / (h + 2)
    metric = line(np.arange(n, dtype=float))
    return DCHKInstance(metric=metric, requests=np.asarray(req, dtype=np.int64), dc_initial=dc0,
                        opt_initial=opt0, h=h, k=k, construction=construction, exact=exact, ratio=float(ratio),
                        target=k * (h + 1) / (k + 1), schedule=sched, schedule_cost=cost, phases=phases, L=size)


def metric_kinds() -> tuple[str, ...]:
    """The metric families of :func:`online_algs.metrics.random_metric` available here (``hst``
    when the MTS package provides it)."""
    kinds = tuple(METRIC_KINDS)
    try:
        random_metric("hst", 4, seed=0)
        kinds = kinds + ("hst",)
    except Exception:  # HST generator not available yet
        pass
    return kinds


FAMILIES = ("random", "clustered", "drifting")


def family_requests(family: str, metric, T: int, seed=None) -> np.ndarray:
    """Requests of one of :data:`FAMILIES` (the cruel family needs an algorithm: :func:`cruel_requests`)."""
    if family == "random":
        return random_requests(metric, T, seed)
    if family == "clustered":
        return clustered_requests(metric, T, seed)
    if family == "drifting":
        return drifting_requests(metric, T, seed)
    raise InvalidInputError(f"The 'family' argument of family_requests must be one of {list(FAMILIES)}. "
                            f"Got {family!r}; use cruel_requests(alg, metric, T) for the adversary.")


# --------------------------------------------------------------------------- (h, k): periodic-schedule search
#: largest state graph (DC configurations x adversary configurations) :func:`dc_hk_cycle_search` builds
_MAX_CYCLE_STATES = 400_000


def _unit_tree_dc_step(X, r, nxt):
    """DC on a tree with unit edges, servers on nodes (``X`` a sorted tuple, repeats allowed): every
    unobstructed server (one per occupied node) steps one edge toward ``r`` until one arrives.
    Returns ``(new sorted tuple, cost)``. Positions stay on nodes: all movers start on nodes and every
    edge has length 1, so they reach the next node together."""
    X = list(X)
    cost = 0
    nx_r = nxt[r]
    while r not in X:
        occ = set(X)
        movers = []
        seen = set()
        for i, p in enumerate(X):
            if p in seen:           # co-located: only the first one counts
                continue
            seen.add(p)
            u = nx_r[p]
            while u not in occ and u != r:
                u = nx_r[u]
            if u not in occ:        # reached r, which is empty
                movers.append(i)
        for i in movers:
            X[i] = nx_r[X[i]]
        cost += len(movers)
    return tuple(sorted(X)), cost


def _positive_cycle(n_states, src, dst, w, maxit=200_000, check=25):
    """A cycle of positive total weight ``w`` in the graph (edge index list) or None (Bellman-Ford for
    longest paths, the predecessor graph inspected every ``check`` rounds)."""
    order = np.argsort(src, kind="stable")
    s_src, s_dst, s_w = src[order], dst[order], w[order]
    starts = np.flatnonzero(np.r_[True, s_src[1:] != s_src[:-1]])
    owners = s_src[starts]
    V = np.zeros(n_states)
    for it in range(maxit):
        cand = s_w + V[s_dst]
        Vn = V.copy()
        Vn[owners] = np.maximum(V[owners], np.maximum.reduceat(cand, starts))
        if np.all(Vn - V <= 1e-9):
            return None
        V = Vn
        if it % check != check - 1:
            continue
        att = np.flatnonzero(cand >= V[s_src] - 1e-12)
        first = att[np.r_[True, s_src[att][1:] != s_src[att][:-1]]]
        pred = -np.ones(n_states, dtype=np.int64)
        pred[s_src[first]] = first
        color = np.zeros(n_states, dtype=np.int8)
        for u0 in np.flatnonzero((pred >= 0) & (V > 0)):
            if color[u0]:
                continue
            path, u = [], int(u0)
            while u >= 0 and color[u] == 0 and pred[u] >= 0:
                color[u] = 1
                path.append(u)
                u = int(s_dst[pred[u]])
            if u >= 0 and color[u] == 1:
                cyc = path[path.index(u):]
                es = [int(order[pred[x]]) for x in cyc]
                if w[es].sum() > 1e-9:
                    return es
            for x in path:
                color[x] = 2
    from ..exceptions import SolverError

    raise SolverError("dc_hk_cycle_search: the positive-cycle test did not settle", status="iteration_limit",
                      solver="bellman-ford")


def dc_hk_cycle_search(graph, h, k, phases: int = 1) -> DCHKInstance:
    r"""The best periodic (h, k) lower-bound schedule against Double Coverage on a small tree.

    Problem: on a tree with unit edges (every node a point; ``graph`` a networkx tree, edge weights
    ignored), find the cycle of requests that maximises DC's cost over the adversary's cost. The
    states are pairs (DC's k positions on nodes, repeats allowed; the adversary's h distinct
    nodes); a move is a request ``r`` served by one adversary server (cost ``d(y, r)``, or 0 when
    the adversary already covers ``r``) followed by DC's response (the unit-edge event
    simulation :func:`_unit_tree_dc_step`, DC's tree rule). The maximum-ratio cycle is found
    exactly by Dinkelbach's iteration: with ``lam`` the ratio of the best cycle so far, look for a
    cycle of positive weight ``DC - lam * ADV`` (Bellman-Ford); none means ``lam`` is optimal.
    Repeating the cycle ``phases`` times from a state where DC's servers are distinct gives an
    instance with ``DC = ratio * schedule_cost`` and ``OPT_h <= schedule_cost``, so
    ``DC / OPT_h >= ratio``: a certified lower bound on DC's (h, k) ratio on that tree, below
    ``c = k(h+1)/(k+1)`` (Theorem ``kserver.dc.hk_competitive``), reported against ``c`` by
    Theorem ``kserver.dc.hk_lower`` (search ranges and results in ``docs/theory/kserver.md`` §6.4).

    Complexity: ``S = C(n+k-1, k) C(n, h)`` states and ``O(S n h)`` edges to build (Python), each
    Bellman-Ford round ``O(S n h)`` (numpy); for (2, 4) a path of 11 points (55,055 states) took
    2-4 s here, 13 points about 12 s, 15 points (321,300 states) about 2 minutes.

    Parameters
    ----------
    graph : networkx.Graph
        A tree; its nodes become the points (in ``sorted`` order when sortable).
    h, k : int
        ``1 <= h <= k``, ``k < number of nodes``.
    phases : int
        Repetitions of the cycle in the returned instance.

    Returns
    -------
    DCHKInstance
        ``construction = "cycle_search"``, ``ratio`` the best cycle's DC / adversary cost,
        ``exact`` whether it equals ``c`` (to 1e-12), ``metric`` the tree metric (kind ``"tree"``).
    """
    import networkx as nx

    from ..metrics import tree as tree_metric

    owner = "dc_hk_cycle_search"
    if not isinstance(graph, nx.Graph) or graph.is_directed() or graph.number_of_nodes() == 0 \
            or not nx.is_tree(graph):
        raise InvalidInputError(f"The 'graph' argument of {owner} must be an undirected networkx tree. Got "
                                f"{type(graph).__name__}; build one with networkx.path_graph(n) or add edges to an "
                                f"nx.Graph().")
    h, k = _check_hk(h, k, owner)
    phases = check_int("phases", phases, low=1, owner=owner)
    try:
        nodes = sorted(graph.nodes)
    except TypeError:
        nodes = list(graph.nodes)
    n = len(nodes)
    if k >= n:
        raise InvalidInputError(f"The 'k' parameter of {owner} must be smaller than the number of tree nodes ({n}). "
                                f"Got k = {k}; use a larger tree.")
    from math import comb

    n_states = comb(n + k - 1, k) * comb(n, h)
    if n_states > _MAX_CYCLE_STATES:
        raise InvalidInputError(f"{owner} would build C(n+k-1, k) C(n, h) = {n_states} states (n = {n}), more than "
                                f"{_MAX_CYCLE_STATES}. Use a smaller tree or fewer servers.")
    g = nx.relabel_nodes(graph, {v: i for i, v in enumerate(nodes)})
    unit = nx.Graph()
    unit.add_nodes_from(range(n))
    unit.add_edges_from(g.edges)
    dist = np.zeros((n, n))
    for u, lengths in nx.all_pairs_shortest_path_length(unit):
        for v, l in lengths.items():
            dist[u, v] = l
    nxt = []
    for r in range(n):
        par = [r] * n
        for u, v in nx.bfs_edges(unit, r):
            par[v] = u
        nxt.append(par)
    Xs = list(itertools.combinations_with_replacement(range(n), k))
    Ys = list(itertools.combinations(range(n), h))
    xi = {X: i for i, X in enumerate(Xs)}
    yi = {Y: i for i, Y in enumerate(Ys)}
    nX, nY = len(Xs), len(Ys)
    dcx = np.empty((nX, n), dtype=np.int64)
    dcc = np.empty((nX, n))
    for i, X in enumerate(Xs):
        for r in range(n):
            X2, cost = _unit_tree_dc_step(X, r, nxt)
            dcx[i, r] = xi[X2]
            dcc[i, r] = cost
    # the adversary's options from each Y: (Y index, request, new Y index, cost, moved server)
    opts = []
    for j, Y in enumerate(Ys):
        for s in range(h):
            for r in range(n):
                if r not in Y:
                    opts.append((j, r, yi[tuple(sorted(Y[:s] + Y[s + 1:] + (r,)))], dist[Y[s], r]))
        for r in Y:
            opts.append((j, r, j, 0.0))
    oj, orq, oy2, oa = (np.array(v) for v in zip(*opts))
    X_idx = np.arange(nX)[:, None]
    src = (X_idx * nY + oj[None, :]).ravel()
    dst = (dcx[:, orq] * nY + oy2[None, :]).ravel()
    A = np.broadcast_to(oa[None, :], (nX, len(oa))).ravel().astype(float)
    C = dcc[:, orq].ravel()
    R = np.broadcast_to(orq[None, :], (nX, len(oa))).ravel()
    keep = (src != dst) | (A > 0)
    src, dst, A, C, R = src[keep], dst[keep], A[keep], C[keep], R[keep]
    S = nX * nY
    lam, best = 1.0, None                        # DC / ADV > 1 is what a lower bound needs
    while True:
        es = _positive_cycle(S, src, dst, C - lam * A)
        if es is None:
            break
        if A[es].sum() <= 0:                     # DC pays while the adversary rests: impossible for DC (h <= k)
            raise AssertionError("a cycle with adversary cost 0 and DC cost > 0")  # pragma: no cover
        best, lam = es, float(C[es].sum() / A[es].sum())
    if best is None:
        raise InvalidInputError(f"{owner} found no cycle with DC / adversary > 1 on this tree (h = {h}, k = {k}). "
                                f"Use a larger tree.")
    # rotate the cycle to start where DC's servers are distinct (DoubleCoverage needs distinct starts)
    starts = [i for i, e in enumerate(best) if len(set(Xs[src[e] // nY])) == k]
    if not starts:
        raise InvalidInputError(f"{owner}: the best cycle never has DC's k servers on distinct nodes; it cannot be "
                                f"replayed from a DoubleCoverage start. Use a larger tree.")
    best = best[starts[0]:] + best[:starts[0]]
    s0 = int(src[best[0]])
    dc0, opt0 = list(Xs[s0 // nY]), list(Ys[s0 % nY])
    req, sched = [], []
    for _ in range(phases):
        for e in best:
            req.append(int(R[e]))
            sched.append(tuple(Ys[int(dst[e]) % nY]))
    adv = float(A[best].sum())
    ratio = float(C[best].sum()) / adv
    target = k * (h + 1) / (k + 1)
    metric = tree_metric(unit, nodes=list(range(n)))
    return DCHKInstance(metric=metric, requests=np.asarray(req, dtype=np.int64), dc_initial=dc0, opt_initial=opt0,
                        h=h, k=k, construction="cycle_search", exact=abs(ratio - target) <= 1e-12, ratio=ratio,
                        target=target, schedule=sched, schedule_cost=phases * adv, phases=phases)
