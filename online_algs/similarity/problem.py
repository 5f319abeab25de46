r"""The local k-NN datastore problem: a catalog, a remote index over it, the cost model.

A :class:`Datastore` is immutable once built and shared by every policy that runs on it (its
``__deepcopy__`` returns itself, so ``clone()`` stays cheap for a 10^5-vector catalog).
"""

from __future__ import annotations

import numpy as np

from .._validation import VECTOR_HINT, check_float, check_float_array, check_int
from ..exceptions import InvalidInputError
from .costs import check_metric, cost_from_distances, pairwise_distances
from .index import make_index

__all__ = ["Datastore"]

REMOTE_KINDS = ("exact", "faiss-flat", "faiss-ivf")


class Datastore:
    r"""A catalog of N vectors (ids ``0..N-1``) behind a remote index, and the serving-cost model.

    Serving request ``r`` with a local cache ``S`` costs (AÇAI model, ``costs`` module)

    .. math:: C(r, S) = \sum_{o \in A(r, S)} c_d(r, o) + c_f\,[o \notin S],

    ``A(r, S)`` the ``k`` objects of smallest ``c_d(r, o) + c_f [o not in S]``. Inserting an object
    in the cache costs ``update_cost`` (default ``fetch_cost``): that is the *movement* cost of a
    policy.

    Parameters
    ----------
    catalog : array-like of shape (N, d)
        The remote catalog (float; NaN/inf rejected).
    k : int
        Answer size, ``1 <= k <= N``.
    fetch_cost : float
        ``c_f >= 0``, the extra cost of an answer object taken from the remote catalog.
    update_cost : float, optional
        Cost of inserting one object in the cache (default: ``fetch_cost``).
    metric : str or callable
        Dissimilarity (``"euclidean"`` default; others need ``remote_index="exact"``). A callable
        ``f(query, vectors)`` gets one query (d,) and a (n, d) array and must return n finite,
        non-negative dissimilarities, shape (n,); anything else raises
        :class:`~online_algs.exceptions.InvalidInputError` (probed once here, checked on every call).
    remote_index : {"exact", "faiss-flat", "faiss-ivf"}
        Backend that answers k-NN over the whole catalog. ``"exact"`` (numpy brute force) is
        the reference; ``"faiss-ivf"`` is approximate (``nlist`` lists, ``nprobe`` scanned).
    nlist, nprobe : int
        IVF parameters (``nlist`` default ``sqrt(N)``).

    Complexity: building is O(N d) (plus IVF training); a remote search is O(N d) exact.
    """

    def __init__(self, catalog, k: int = 1, fetch_cost: float = 1.0, update_cost: float | None = None,
                 metric="euclidean", remote_index: str = "exact", nlist: int | None = None, nprobe: int = 8):
        owner = "Datastore"
        cat = check_float_array("catalog", catalog, ndim=2, owner=owner, hint=VECTOR_HINT)
        cat = np.array(cat, dtype=np.float64, copy=True)
        cat.setflags(write=False)
        self.catalog = cat
        self.k = check_int("k", k, low=1, high=cat.shape[0], owner=owner)
        self.fetch_cost = check_float("fetch_cost", fetch_cost, low=0.0, owner=owner)
        self.update_cost = (self.fetch_cost if update_cost is None
                            else check_float("update_cost", update_cost, low=0.0, owner=owner))
        self.metric = check_metric(metric, owner)
        if callable(self.metric):  # probe once: shape (N,), finite, non-negative (checked on every call too)
            pairwise_distances(cat[:1], cat[:min(3, cat.shape[0])], self.metric)
        if remote_index not in REMOTE_KINDS:
            raise InvalidInputError(f"The 'remote_index' parameter of Datastore must be one of {list(REMOTE_KINDS)}. "
                                    f"Got {remote_index!r} instead.")
        if remote_index != "exact" and metric != "euclidean":
            raise InvalidInputError(f"The 'remote_index' {remote_index!r} of Datastore computes Euclidean distances "
                                    f"only. Got metric={metric!r}; use remote_index='exact'.")
        self.remote_index = remote_index
        self.nlist = None if nlist is None else check_int("nlist", nlist, low=1, high=cat.shape[0], owner=owner)
        self.nprobe = check_int("nprobe", nprobe, low=1, owner=owner)
        self._remote = None

    # ------------------------------------------------------------------ basics
    @property
    def n(self) -> int:
        return self.catalog.shape[0]

    @property
    def dim(self) -> int:
        return self.catalog.shape[1]

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return (f"Datastore(N={self.n}, d={self.dim}, k={self.k}, fetch_cost={self.fetch_cost:g}, "
                f"remote_index={self.remote_index!r})")

    def __deepcopy__(self, memo):  # immutable: sharing is safe
        return self

    def __getstate__(self):
        st = dict(self.__dict__)
        st["_remote"] = None  # rebuilt lazily (Faiss indexes are not picklable as such)
        st["catalog"] = np.array(self.catalog)
        return st

    def __setstate__(self, st):
        self.__dict__.update(st)
        self.catalog.setflags(write=False)

    # -------------------------------------------------------------- validation
    def check_queries(self, queries, owner: str | None = None) -> np.ndarray:
        """A (T, d) float64 array of finite query vectors of the catalog's dimension."""
        q = check_float_array("queries", queries, ndim=2, owner=owner, hint=VECTOR_HINT)
        if q.shape[1] != self.dim:
            raise InvalidInputError(f"The 'queries' argument of {owner or 'Datastore'} must have {self.dim} columns "
                                    f"(the catalog dimension). Got shape {q.shape}; embed queries with the "
                                    f"catalog's model (or reshape one query with q.reshape(1, -1)).")
        return q

    def check_query(self, query, owner: str | None = None) -> np.ndarray:
        """One finite query vector of the catalog's dimension."""
        q = check_float_array("query", query, ndim=1, owner=owner, hint=VECTOR_HINT)
        if q.shape[0] != self.dim:
            raise InvalidInputError(f"The 'query' argument of {owner or 'Datastore'} must have dimension {self.dim}. "
                                    f"Got dimension {q.shape[0]}; embed it with the catalog's model.")
        return q

    def check_capacity(self, capacity, owner: str) -> int:
        """A cache size ``h`` with ``k <= h <= N``."""
        h = check_int("capacity", capacity, low=1, owner=owner)
        if h < self.k:
            raise InvalidInputError(f"The 'capacity' parameter of {owner} must be >= k = {self.k} (a cache must "
                                    f"be able to hold a whole answer). Got capacity={h}; raise it or lower k.")
        if h > self.n:
            raise InvalidInputError(f"The 'capacity' parameter of {owner} must be <= the catalog size N = {self.n}. "
                                    f"Got capacity={h}; a cache larger than the catalog is the catalog itself.")
        return h

    def check_ids(self, ids, name="ids", owner=None) -> np.ndarray:
        from .._validation import check_int_array

        return check_int_array(name, ids, low=0, high=self.n - 1, owner=owner, allow_empty=True)

    # ----------------------------------------------------------------- search
    @property
    def index(self):
        """The remote index over the whole catalog (built on first use, shared)."""
        if self._remote is None:
            idx = make_index(self.remote_index, self.dim, metric=self.metric, train=self.catalog,
                             nlist=self.nlist, nprobe=self.nprobe)
            idx.add(np.arange(self.n, dtype=np.int64), self.catalog)
            self._remote = idx
        return self._remote

    def remote_knn(self, queries: np.ndarray, m: int) -> np.ndarray:
        """Ids (T, min(m, N)) of the remote index's ``m`` nearest catalog objects of each query."""
        m = min(int(m), self.n)
        _, I = self.index._search(np.asarray(queries, dtype=np.float64), m)
        return I

    def distances(self, query: np.ndarray, ids=None) -> np.ndarray:
        """Exact float64 dissimilarities from ``query`` to catalog objects ``ids`` (default all)."""
        vec = self.catalog if ids is None else self.catalog[np.asarray(ids, dtype=np.int64)]
        if self.metric == "euclidean" and vec.shape[0] <= 4096:
            diff = vec - query
            return np.sqrt(np.einsum("ij,ij->i", diff, diff))
        return pairwise_distances(query[None, :], vec, self.metric)[0]

    # ------------------------------------------------------------------- costs
    def cost(self, query, cached) -> float:
        """Exact serving cost ``C(r, S)``; ``cached`` a boolean mask of length N or an id collection."""
        query = self.check_query(query, "Datastore.cost")
        if isinstance(cached, np.ndarray) and cached.dtype == bool:
            if cached.shape != (self.n,):
                raise InvalidInputError(f"A cached mask must have shape ({self.n},). Got {cached.shape}.")
            mask = cached
        else:
            mask = np.zeros(self.n, dtype=bool)
            mask[self.check_ids(np.fromiter(cached, dtype=np.int64) if isinstance(cached, (set, frozenset))
                                else cached, "cached", "Datastore.cost")] = True
        return cost_from_distances(self.distances(query), mask, self.k, self.fetch_cost)

    def costs_of_states(self, queries, states) -> np.ndarray:
        """Serving costs (T, n_states) of every query under every cache (a list of id collections).

        Exact, O(T N d + T n_states N). Used by the offline optima and the MTS adapter.
        """
        q = self.check_queries(queries, "Datastore.costs_of_states")
        D = pairwise_distances(q, self.catalog, self.metric)
        out = np.empty((q.shape[0], len(states)))
        for j, s in enumerate(states):
            mask = np.zeros(self.n, dtype=bool)
            mask[list(s)] = True
            e = D + self.fetch_cost * (~mask)[None, :]
            if self.n <= self.k:
                out[:, j] = e.sum(axis=1)
            else:
                out[:, j] = np.partition(e, self.k - 1, axis=1)[:, :self.k].sum(axis=1)
        return out
