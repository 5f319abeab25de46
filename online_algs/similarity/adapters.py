r"""Three views of the k-NN datastore, so the other families' algorithms apply to it.

* **MTS** (:func:`as_mts`): states = caches of at most ``h`` objects of a small catalog, task
  costs = serving costs, movement = fetches. Fetching is asymmetric (``c |S' \ S|``); the view
  uses the symmetrised metric ``d(S, S') = (c/2) |S \triangle S'|`` (a scaled Hamming metric).
  Over a whole run from ``S_0``, ``sum_t |S_t \ S_{t-1}| - |S_{t-1} \ S_t| = |S_T| - |S_0|``, so

  .. math:: \text{asymmetric cost} = \text{symmetric cost} + \tfrac{c}{2}(|S_T| - |S_0|),

  an additive constant in ``[-c h/2, c h/2]``. A terminal task ``c(S) = (c/2)|S|`` makes the
  MTS optimum *equal* to the asymmetric optimum from the empty cache (staying or shrinking at the
  last step costs exactly ``(c/2)|S_T|``, any other move costs more), so the MTS package's exact
  DP (:func:`online_algs.mts.offline_optimum`) and every MTS algorithm apply.
* **Caching with a gain function** (:class:`GainCachingProblem`): items = catalog objects,
  gain ``G(r, x)`` concave; its supergradient at the learner's state is a non-negative weight
  vector that the caching learners (OGD, OMD, FTPL) accept as a batched request
  (:class:`~online_algs.similarity.acai.GainLearnerPolicy` runs them).
* **k-server** (:class:`KServerView`): the ``h`` cache slots are servers on the weighted star
  of the ``N`` catalog points (leaf weight ``c/2``) plus a depot (weight 0) for empty slots;
  moving a server = evicting one object and fetching another. Service is *approximate*: a
  request is served at cost ``C(r, S)`` from wherever the servers are, without moving one onto
  it. The matching cost between configurations on this star is the MTS view's metric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import InvalidInputError
from .costs import candidate_mask, gain, gain_and_supergradient
from .offline import MAX_STATES, enumerate_caches, movement_matrix
from .problem import Datastore

__all__ = ["MTSView", "as_mts", "mts_optimum", "schedule_cost", "GainCachingProblem", "KServerView"]


@dataclass
class MTSView:
    """A datastore instance as a metrical task system.

    Attributes
    ----------
    metric : FiniteMetric
        ``(update_cost / 2) |S triangle S'|`` between the caches ``states``.
    costs : ndarray of shape (T (+1), n_states)
        Serving costs; with ``terminal=True`` a last row ``(update_cost / 2) |S|``.
    states : list of frozenset
        The caches (``states[0]`` is the empty cache, the start).
    start : int
    """

    metric: object
    costs: np.ndarray
    states: list
    start: int = 0
    terminal: bool = True


def as_mts(ds: Datastore, queries, capacity, terminal: bool = True) -> MTSView:
    """The MTS view of ``(ds, queries)`` with caches of at most ``capacity`` objects (small catalogs)."""
    from ..metrics import FiniteMetric

    if not isinstance(ds, Datastore):
        raise InvalidInputError(f"The 'datastore' argument of as_mts must be a Datastore. Got {type(ds).__name__}.")
    q = ds.check_queries(queries, "as_mts")
    h = ds.check_capacity(capacity, "as_mts")
    states = enumerate_caches(ds.n, h)
    if len(states) > MAX_STATES:
        raise InvalidInputError(f"as_mts would have {len(states)} states (N={ds.n}, h={h}), more than "
                                f"{MAX_STATES}; the MTS view is for small catalogs.")
    D = movement_matrix(states, ds.update_cost, "symmetric")
    metric = FiniteMetric(D, allow_zero=ds.update_cost == 0, kind="general",
                          info={"states": states, "hamming_scale": ds.update_cost / 2})
    C = ds.costs_of_states(q, states)
    if terminal:
        C = np.vstack([C, 0.5 * ds.update_cost * np.array([len(s) for s in states])])
    return MTSView(metric=metric, costs=C, states=states, start=0, terminal=terminal)


def mts_optimum(ds: Datastore, queries, capacity) -> float:
    """The exact dynamic optimum (insert cost ``update_cost``, from the empty cache) computed by
    the MTS package's DP on :func:`as_mts` (terminal task included)."""
    from ..mts import offline_optimum

    view = as_mts(ds, queries, capacity, terminal=True)
    return float(offline_optimum(view.metric, view.costs, start=view.start, method="dp").value)


def schedule_cost(ds: Datastore, queries, schedule, start=frozenset()) -> float:
    """Cost of serving ``queries[t]`` with cache ``schedule[t]`` after moving to it (insert cost each)."""
    q = ds.check_queries(queries, "schedule_cost")
    if len(schedule) != len(q):
        raise InvalidInputError(f"schedule_cost needs one cache per query. Got {len(schedule)} caches for "
                                f"{len(q)} queries.")
    prev = frozenset(start)
    total = 0.0
    for t, s in enumerate(schedule):
        s = frozenset(int(i) for i in s)
        total += ds.update_cost * len(s - prev) + ds.cost(q[t], s)
        prev = s
    return float(total)


class GainCachingProblem:
    r"""The datastore as a caching problem with a concave gain (items = catalog objects).

    ``gain(query, x)`` = ``G(r, x)`` for a fractional ``x`` in ``[0, 1]^N``;
    ``supergradient(query, x)`` = a supergradient ``g`` with ``0 <= g <= c_f`` supported on the
    candidates; ``linearized_request(query, x)`` = ``g`` as a request for the caching learners
    (their gain ``g . y`` upper-bounds ``G(r, y) - G(r, x) + g . x`` by concavity).
    Complexity O(N d + K_r log K_r) per call.
    """

    def __init__(self, datastore: Datastore):
        if not isinstance(datastore, Datastore):
            raise InvalidInputError(f"GainCachingProblem takes a Datastore. Got {type(datastore).__name__}.")
        self.datastore = datastore

    @property
    def n_items(self) -> int:
        return self.datastore.n

    def _x(self, x):
        from .._validation import check_float_array

        x = check_float_array("x", x, ndim=1, shape=(self.n_items,), owner="GainCachingProblem")
        if (x < -1e-12).any() or (x > 1 + 1e-12).any():
            raise InvalidInputError("The 'x' argument of GainCachingProblem must lie in [0, 1]^N. Got values outside; "
                                    "clip it or project it onto the capped simplex.")
        return np.clip(x, 0.0, 1.0)

    def gain(self, query, x) -> float:
        ds = self.datastore
        q = ds.check_query(query, "GainCachingProblem.gain")
        d = ds.distances(q)
        m = candidate_mask(d, ds.k, ds.fetch_cost)
        return gain(d[m], self._x(x)[m], ds.k, ds.fetch_cost)

    def supergradient(self, query, x) -> np.ndarray:
        ds = self.datastore
        q = ds.check_query(query, "GainCachingProblem.supergradient")
        d = ds.distances(q)
        m = candidate_mask(d, ds.k, ds.fetch_cost)
        g = np.zeros(ds.n)
        g[m] = gain_and_supergradient(d[m], self._x(x)[m], ds.k, ds.fetch_cost)[1]
        return g

    linearized_request = supergradient


class KServerView:
    r"""The k-server view: ``h`` servers on a weighted star of the catalog plus a depot.

    ``metric`` is :func:`online_algs.metrics.weighted_star` with leaf weights ``update_cost / 2``
    for the ``N`` catalog points and a tiny weight for the depot (point ``N``, where empty slots
    wait; the star metric needs positive weights, so the depot weight ``eps`` adds at most
    ``eps`` per move). A configuration is a length-``h`` array of points; its cache is the set of
    non-depot points. ``movement(a, b)`` is the min-cost matching between configurations (scipy's
    assignment solver) and ``service(config, query)`` the approximate service cost ``C(r, S)``.
    """

    def __init__(self, datastore: Datastore, capacity: int, depot_weight: float = 1e-9):
        from ..metrics import weighted_star

        if not isinstance(datastore, Datastore):
            raise InvalidInputError(f"KServerView takes a Datastore. Got {type(datastore).__name__}.")
        self.datastore = datastore
        self.capacity = datastore.check_capacity(capacity, "KServerView")
        if datastore.update_cost <= 0:
            raise InvalidInputError("KServerView needs update_cost > 0 (a star metric has positive edges). "
                                    "Got update_cost = 0.")
        w = np.full(datastore.n + 1, datastore.update_cost / 2)
        w[-1] = depot_weight
        self.metric = weighted_star(w)
        self.depot = datastore.n

    def config_of(self, cache) -> np.ndarray:
        ids = sorted(int(i) for i in cache)
        if len(ids) > self.capacity:
            raise InvalidInputError(f"A cache of {len(ids)} objects does not fit {self.capacity} servers.")
        return np.array(ids + [self.depot] * (self.capacity - len(ids)), dtype=np.int64)

    def movement(self, a, b) -> float:
        from scipy.optimize import linear_sum_assignment

        D = self.metric.d[np.ix_(np.asarray(a), np.asarray(b))]
        r, c = linear_sum_assignment(D)
        return float(D[r, c].sum())

    def service(self, config, query) -> float:
        return self.datastore.cost(query, {int(p) for p in config if p != self.depot})

    def schedule_cost(self, queries, caches) -> float:
        """Symmetric (matching) movement plus approximate service of a schedule of caches from empty."""
        q = self.datastore.check_queries(queries, "KServerView.schedule_cost")
        prev = self.config_of(())
        tot = 0.0
        for t, s in enumerate(caches):
            cfg = self.config_of(s)
            tot += self.movement(prev, cfg) + self.service(cfg, q[t])
            prev = cfg
        return tot
