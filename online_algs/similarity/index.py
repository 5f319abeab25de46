"""k-NN index backends behind one small interface.

Every backend stores vectors under stable integer ids and offers

* ``add(ids, vectors)``: insert new ids (rejects ids already present, wrong dimension, NaN);
* ``remove(ids)``: delete present ids (rejects unknown ids);
* ``search(queries, k) -> (distances, ids)``: shape (m, k) each, nearest first, Euclidean
  distances (not squared), padded with ``inf`` / ``-1`` when fewer than ``k`` vectors are stored;
* ``__len__``, ``contains(ids) -> bool array``.

Every call validates its whole input **before** mutating, so a rejected call leaves the index
unchanged. Backends: :class:`BruteForceIndex` (exact, numpy, float64: the reference),
:class:`FaissFlatIndex` (``IndexIDMap2(IndexFlatL2)``, exact up to float32 rounding, for the local
cache), :class:`FaissSlotIndex` (a preallocated ``IndexFlatL2`` written in place: O(d) evictions) and :class:`FaissIVFIndex` (``IndexIVFFlat``, approximate, ``nprobe`` lists scanned, for a
large remote catalog; :func:`recall_at_k` measures it against brute force).
"""

from __future__ import annotations

import numpy as np

from .._validation import VECTOR_HINT, check_float_array, check_int, check_int_array
from ..exceptions import InvalidInputError
from .costs import check_metric, pairwise_distances

__all__ = ["BruteForceIndex", "FaissFlatIndex", "FaissSlotIndex", "FaissIVFIndex", "make_index", "recall_at_k", "INDEX_KINDS"]

INDEX_KINDS = ("exact", "faiss-flat", "faiss-slots", "faiss-ivf")


class _BaseIndex:
    kind = ""

    def __init__(self, dim: int):
        self.dim = check_int("dim", dim, low=1, owner=type(self).__name__)
        self._ids: set[int] = set()

    def __len__(self) -> int:
        return len(self._ids)

    # -------------------------------------------------------------- validation
    def _check_vectors(self, vectors, n=None) -> np.ndarray:
        owner = f"{type(self).__name__}.add"
        v = check_float_array("vectors", vectors, ndim=2, owner=owner, allow_empty=True, hint=VECTOR_HINT)
        if v.shape[1] != self.dim:
            raise InvalidInputError(f"The 'vectors' argument of {owner} must have {self.dim} columns (the index "
                                    f"dimension). Got shape {v.shape}; use vectors from the same embedding.")
        if n is not None and v.shape[0] != n:
            raise InvalidInputError(f"{owner} needs one vector per id. Got {n} ids and {v.shape[0]} vectors.")
        return v

    def _check_new_ids(self, ids) -> np.ndarray:
        owner = f"{type(self).__name__}.add"
        ids = check_int_array("ids", ids, low=0, owner=owner, allow_empty=True)
        if len(np.unique(ids)) != len(ids):
            raise InvalidInputError(f"The 'ids' argument of {owner} must not repeat an id. Got {len(ids)} ids, "
                                    f"{len(np.unique(ids))} distinct.")
        present = [int(i) for i in ids if int(i) in self._ids]
        if present:
            raise InvalidInputError(f"The 'ids' argument of {owner} holds ids already in the index: "
                                    f"{present[:5]}; remove them first or use new ids.")
        return ids

    def _check_known_ids(self, ids) -> np.ndarray:
        owner = f"{type(self).__name__}.remove"
        ids = check_int_array("ids", ids, low=None, owner=owner, allow_empty=True)
        unknown = [int(i) for i in ids if int(i) not in self._ids]
        if unknown:
            raise InvalidInputError(f"The 'ids' argument of {owner} holds ids not in the index: {unknown[:5]}; "
                                    f"only stored ids can be evicted (check index.contains(ids) first).")
        if len(np.unique(ids)) != len(ids):
            raise InvalidInputError(f"The 'ids' argument of {owner} must not repeat an id.")
        return ids

    def _check_queries(self, queries, k) -> tuple[np.ndarray, int]:
        owner = f"{type(self).__name__}.search"
        q = check_float_array("queries", queries, ndim=2, owner=owner, hint=VECTOR_HINT)
        if q.shape[1] != self.dim:
            raise InvalidInputError(f"The 'queries' argument of {owner} must have {self.dim} columns. Got shape "
                                    f"{q.shape}; reshape a single query with q.reshape(1, -1).")
        k = check_int("k", k, low=1, owner=owner)
        return q, k

    # Unchecked updates for callers that keep the index consistent themselves (AÇAI's batched cache
    # moves: the ids come from a 0/1 array mirroring the index): no validation, same effect.
    def _add_unchecked(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self.add(ids, vectors)

    def _remove_unchecked(self, ids: np.ndarray) -> None:
        self.remove(ids)

    def contains(self, ids) -> np.ndarray:
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        return np.array([int(i) in self._ids for i in ids], dtype=bool)

    @property
    def ids(self) -> np.ndarray:
        return np.array(sorted(self._ids), dtype=np.int64)


class BruteForceIndex(_BaseIndex):
    """Exact k-NN by brute force in float64 (the reference backend).

    Any dissimilarity of :data:`~online_algs.similarity.costs.METRICS` (or a callable).
    ``add``/``remove`` O(n d) (array rebuild), ``search`` O(m n d). Ties broken by id.
    """

    kind = "exact"

    def __init__(self, dim: int, metric="euclidean"):
        super().__init__(dim)
        self.metric = check_metric(metric, "BruteForceIndex")
        self._id_arr = np.empty(0, dtype=np.int64)
        self._vec = np.empty((0, self.dim))

    def add(self, ids, vectors) -> None:
        ids = self._check_new_ids(ids)
        v = self._check_vectors(vectors, len(ids))
        self._id_arr = np.concatenate([self._id_arr, ids])
        self._vec = np.concatenate([self._vec, v])
        self._ids.update(int(i) for i in ids)

    def remove(self, ids) -> None:
        ids = self._check_known_ids(ids)
        keep = ~np.isin(self._id_arr, ids)
        self._id_arr = self._id_arr[keep]
        self._vec = self._vec[keep]
        self._ids.difference_update(int(i) for i in ids)

    def search(self, queries, k: int):
        q, k = self._check_queries(queries, k)
        return self._search(q, k)

    def _search(self, q: np.ndarray, k: int):
        m = q.shape[0]
        D = np.full((m, k), np.inf)
        I = np.full((m, k), -1, dtype=np.int64)
        n = len(self._id_arr)
        if n == 0:
            return D, I
        dist = pairwise_distances(q, self._vec, self.metric)
        kk = min(k, n)
        for i in range(m):
            order = np.lexsort((self._id_arr, dist[i]))[:kk]
            D[i, :kk] = dist[i, order]
            I[i, :kk] = self._id_arr[order]
        return D, I

    def vectors_of(self, ids) -> np.ndarray:
        pos = {int(i): j for j, i in enumerate(self._id_arr)}
        return self._vec[[pos[int(i)] for i in ids]]


def _faiss():
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - faiss-cpu is a dependency
        raise InvalidInputError("The faiss backends need faiss-cpu (pip install faiss-cpu); use index='exact' "
                                "instead.") from exc
    return faiss


class FaissFlatIndex(_BaseIndex):
    """Exact L2 k-NN with Faiss: ``IndexIDMap2(IndexFlatL2(dim))`` (stable ids, add and remove).

    Faiss works in float32 and returns *squared* L2 distances: they are converted with a
    clipped square root. ``add`` O(n_new d), ``remove`` O(n) (compaction), ``search`` O(m n d).
    Agrees with :class:`BruteForceIndex` up to float32 rounding (Theorem ``similarity.index.exact``).
    """

    kind = "faiss-flat"

    def __init__(self, dim: int):
        super().__init__(dim)
        faiss = _faiss()
        self._index = faiss.IndexIDMap2(faiss.IndexFlatL2(self.dim))

    def add(self, ids, vectors) -> None:
        ids = self._check_new_ids(ids)
        v = self._check_vectors(vectors, len(ids))
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(v, dtype=np.float32), ids)
            self._ids.update(int(i) for i in ids)

    def remove(self, ids) -> None:
        ids = self._check_known_ids(ids)
        if len(ids):
            removed = self._index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64))
            assert removed == len(ids), "faiss removed a different number of ids than requested"
            self._ids.difference_update(int(i) for i in ids)

    def _add_unchecked(self, ids, v) -> None:
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(v, dtype=np.float32), np.ascontiguousarray(ids, dtype=np.int64))
            self._ids.update(ids.tolist())

    def _remove_unchecked(self, ids) -> None:
        if len(ids):
            removed = self._index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64))
            assert removed == len(ids), "faiss removed a different number of ids than requested"
            self._ids.difference_update(ids.tolist())

    def search(self, queries, k: int):
        q, k = self._check_queries(queries, k)
        return self._search(q, k)

    def _search(self, q: np.ndarray, k: int):
        if len(self._ids) == 0:
            return np.full((q.shape[0], k), np.inf), np.full((q.shape[0], k), -1, dtype=np.int64)
        D, I = self._index.search(np.ascontiguousarray(q, dtype=np.float32), k)
        D = np.sqrt(np.maximum(D.astype(np.float64), 0.0))
        D[I < 0] = np.inf
        return D, I.astype(np.int64)

    def __getstate__(self):
        faiss = _faiss()
        st = dict(self.__dict__)
        st["_index"] = faiss.serialize_index(self._index)
        return st

    def __setstate__(self, st):
        faiss = _faiss()
        st = dict(st)
        st["_index"] = faiss.deserialize_index(st["_index"])
        self.__dict__.update(st)


class FaissSlotIndex(_BaseIndex):
    """Exact L2 k-NN over a fixed number of slots: ``IndexFlatL2`` written in place (fast evictions).

    The ``capacity`` slots are preallocated; an empty slot holds a far-away sentinel vector and
    is filtered from the results. ``add`` writes vectors into free slots and ``remove`` writes the
    sentinel back, each as one batched write: O(d) per id, against O(n) compaction plus a
    reverse-map rebuild per ``IndexIDMap2.remove_ids`` call. ``search`` O(m capacity d). Float32 inside, distances converted to
    Euclidean (not squared) float64.
    """

    kind = "faiss-slots"
    SENTINEL = 1e15

    def __init__(self, dim: int, capacity: int):
        super().__init__(dim)
        self.capacity = check_int("capacity", capacity, low=1, owner="FaissSlotIndex")
        self._build()
        self._slot_id = np.full(self.capacity, -1, dtype=np.int64)
        self._slot_of: dict[int, int] = {}
        self._free = list(range(self.capacity - 1, -1, -1))

    def _build(self, index=None):
        faiss = _faiss()
        if index is None:
            index = faiss.IndexFlatL2(self.dim)
            index.add(np.full((self.capacity, self.dim), self.SENTINEL, dtype=np.float32))
        self._index = index
        self._xb = faiss.rev_swig_ptr(index.get_xb(), self.capacity * self.dim).reshape(self.capacity, self.dim)

    def add(self, ids, vectors) -> None:
        ids = self._check_new_ids(ids)
        v = self._check_vectors(vectors, len(ids))
        if len(ids) > len(self._free):
            raise InvalidInputError(f"FaissSlotIndex.add: {len(ids)} new ids do not fit the {len(self._free)} free "
                                    f"slots (capacity {self.capacity}); remove ids first.")
        self._add_unchecked(ids, v)

    def _add_unchecked(self, ids, v) -> None:
        n = len(ids)
        if n == 0:
            return
        slots = self._free[-n:][::-1]  # the slots one pop() per id would take, in the same order
        del self._free[-n:]
        id_list = ids.tolist()
        self._xb[slots] = v            # one batched write (float32)
        self._slot_id[slots] = ids
        self._slot_of.update(zip(id_list, slots))
        self._ids.update(id_list)

    def remove(self, ids) -> None:
        self._remove_unchecked(self._check_known_ids(ids))

    def _remove_unchecked(self, ids) -> None:
        if len(ids) == 0:
            return
        id_list = ids.tolist()
        slots = [self._slot_of.pop(i) for i in id_list]
        self._xb[slots] = self.SENTINEL
        self._slot_id[slots] = -1
        self._free.extend(slots)
        self._ids.difference_update(id_list)

    def search(self, queries, k: int):
        q, k = self._check_queries(queries, k)
        return self._search(q, k)

    def _search(self, q: np.ndarray, k: int):
        m = q.shape[0]
        D = np.full((m, k), np.inf)
        I = np.full((m, k), -1, dtype=np.int64)
        kk = min(k, len(self))
        if kk == 0:
            return D, I
        Df, If = self._index.search(np.ascontiguousarray(q, dtype=np.float32), kk)
        ids = self._slot_id[np.maximum(If, 0)]
        ids[If < 0] = -1
        D[:, :kk] = np.where(ids >= 0, np.sqrt(np.maximum(Df.astype(np.float64), 0.0)), np.inf)
        I[:, :kk] = ids
        return D, I

    def __getstate__(self):
        faiss = _faiss()
        st = dict(self.__dict__)
        st["_index"] = faiss.serialize_index(self._index)
        del st["_xb"]
        return st

    def __setstate__(self, st):
        faiss = _faiss()
        st = dict(st)
        index = faiss.deserialize_index(st.pop("_index"))
        self.__dict__.update(st)
        self._build(index)


class _FaissSlotArrayIndex(FaissSlotIndex):
    """:class:`FaissSlotIndex` with array bookkeeping for ids in ``[0, id_bound)`` (AÇAI's cache):
    ``slot_of`` is an id-indexed array and the free slots a stack array, so a batch of inserts or
    evictions is one numba call (``_kernels_acai.slots_add_rows`` / ``slots_remove``) instead of
    per-id dict and set updates. Same slots, same search results, same validation as the parent."""

    def __init__(self, dim: int, capacity: int, id_bound: int):
        super().__init__(dim, capacity)
        self.id_bound = check_int("id_bound", id_bound, low=1, owner="FaissSlotIndex")
        self._slot_arr = np.full(self.id_bound, -1, dtype=np.int64)
        self._free_arr = np.arange(self.capacity - 1, -1, -1, dtype=np.int64)
        self._nfree = np.array([self.capacity], dtype=np.int64)
        self._free = None  # the parent's list and dict are not used
        self._slot_of = None

    def __len__(self) -> int:
        return int(self.capacity - self._nfree[0])

    def _present(self, ids) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        ok = (ids >= 0) & (ids < self.id_bound)
        out = np.zeros(len(ids), dtype=bool)
        out[ok] = self._slot_arr[ids[ok]] >= 0
        return out

    def _check_new_ids(self, ids) -> np.ndarray:
        owner = "FaissSlotIndex.add"
        ids = check_int_array("ids", ids, low=0, high=self.id_bound - 1, owner=owner, allow_empty=True)
        if len(np.unique(ids)) != len(ids):
            raise InvalidInputError(f"The 'ids' argument of {owner} must not repeat an id. Got {len(ids)} ids, "
                                    f"{len(np.unique(ids))} distinct.")
        present = ids[self._present(ids)]
        if len(present):
            raise InvalidInputError(f"The 'ids' argument of {owner} holds ids already in the index: "
                                    f"{present[:5].tolist()}; remove them first or use new ids.")
        return ids

    def _check_known_ids(self, ids) -> np.ndarray:
        owner = "FaissSlotIndex.remove"
        ids = check_int_array("ids", ids, low=None, owner=owner, allow_empty=True)
        unknown = ids[~self._present(ids)]
        if len(unknown):
            raise InvalidInputError(f"The 'ids' argument of {owner} holds ids not in the index: "
                                    f"{unknown[:5].tolist()}; only stored ids can be evicted (check "
                                    f"index.contains(ids) first).")
        if len(np.unique(ids)) != len(ids):
            raise InvalidInputError(f"The 'ids' argument of {owner} must not repeat an id.")
        return ids

    def add(self, ids, vectors) -> None:
        ids = self._check_new_ids(ids)
        v = self._check_vectors(vectors, len(ids))
        if len(ids) > self._nfree[0]:
            raise InvalidInputError(f"FaissSlotIndex.add: {len(ids)} new ids do not fit the {int(self._nfree[0])} "
                                    f"free slots (capacity {self.capacity}); remove ids first.")
        self._add_unchecked(ids, v)

    def _add_unchecked(self, ids, v) -> None:
        self._add_rows(np.asarray(ids, dtype=np.int64), np.arange(len(ids), dtype=np.int64),
                       np.ascontiguousarray(v, dtype=np.float64))

    def _add_rows(self, ids, rows, vectors) -> None:
        """Insert ``ids[j]`` with the vector ``vectors[rows[j]]`` (e.g. rows of the catalog)."""
        from ._kernels_acai import slots_add_rows

        if len(ids):
            slots_add_rows(ids, rows, vectors, self._xb, self._slot_id, self._slot_arr, self._free_arr, self._nfree)

    def _remove_unchecked(self, ids) -> None:
        from ._kernels_acai import slots_remove

        if len(ids):
            slots_remove(np.asarray(ids, dtype=np.int64), self._xb, np.float32(self.SENTINEL), self._slot_id,
                         self._slot_arr, self._free_arr, self._nfree)

    def contains(self, ids) -> np.ndarray:
        return self._present(np.atleast_1d(np.asarray(ids, dtype=np.int64)))

    @property
    def ids(self) -> np.ndarray:
        return np.flatnonzero(self._slot_arr >= 0).astype(np.int64)


class FaissIVFIndex(FaissFlatIndex):
    """Approximate L2 k-NN with Faiss ``IndexIVFFlat`` (inverted lists over a k-means coarse quantiser).

    Trained once on ``train`` vectors (``nlist`` centroids, deterministic k-means seed); a search
    scans the ``nprobe`` closest lists: O(nlist d + nprobe (n / nlist) d) per query instead of
    O(n d). Recall against brute force: :func:`recall_at_k` (reported by Theorem
    ``similarity.index.exact``). Supports add and remove with stable ids.
    """

    kind = "faiss-ivf"

    def __init__(self, dim: int, train, nlist: int = 100, nprobe: int = 8, seed: int = 0):
        _BaseIndex.__init__(self, dim)
        faiss = _faiss()
        owner = "FaissIVFIndex"
        tr = check_float_array("train", train, ndim=2, owner=owner, hint=VECTOR_HINT)
        if tr.shape[1] != self.dim:
            raise InvalidInputError(f"The 'train' argument of {owner} must have {self.dim} columns. Got {tr.shape}.")
        self.nlist = check_int("nlist", nlist, low=1, high=tr.shape[0], owner=owner)
        self.nprobe = check_int("nprobe", nprobe, low=1, high=self.nlist, owner=owner)
        quant = faiss.IndexFlatL2(self.dim)
        self._index = faiss.IndexIVFFlat(quant, self.dim, self.nlist, faiss.METRIC_L2)
        self._index.cp.seed = int(seed)
        self._index.train(np.ascontiguousarray(tr, dtype=np.float32))
        self._index.nprobe = self.nprobe

    def set_nprobe(self, nprobe: int) -> None:
        self.nprobe = check_int("nprobe", nprobe, low=1, high=self.nlist, owner="FaissIVFIndex.set_nprobe")
        self._index.nprobe = self.nprobe

    def __setstate__(self, st):
        super().__setstate__(st)
        self._index.nprobe = self.nprobe


def make_index(kind: str, dim: int, *, metric="euclidean", train=None, nlist=None, nprobe=8, seed=0,
               capacity=None, id_bound=None):
    """Build an empty index of ``kind`` in :data:`INDEX_KINDS` (Faiss backends: Euclidean only;
    ``"faiss-slots"`` needs ``capacity``; with ``id_bound`` it keeps array bookkeeping for ids in
    ``[0, id_bound)``)."""
    if kind not in INDEX_KINDS:
        raise InvalidInputError(f"The index kind must be one of {list(INDEX_KINDS)}. Got {kind!r} instead.")
    if kind != "exact" and metric != "euclidean":
        raise InvalidInputError(f"The Faiss backends compute Euclidean distances only. Got metric={metric!r} "
                                f"with index {kind!r}; use index='exact' for other dissimilarities.")
    if kind == "exact":
        return BruteForceIndex(dim, metric)
    if kind == "faiss-flat":
        return FaissFlatIndex(dim)
    if kind == "faiss-slots":
        if id_bound is not None:
            return _FaissSlotArrayIndex(dim, capacity, id_bound)
        return FaissSlotIndex(dim, capacity)
    if nlist is None:
        nlist = max(1, int(np.sqrt(len(train))))
    return FaissIVFIndex(dim, train, nlist=nlist, nprobe=nprobe, seed=seed)


def recall_at_k(index, reference, queries, k: int) -> float:
    """Mean fraction of the true k nearest (by ``reference``) that ``index`` returns."""
    _, I = index.search(queries, k)
    _, R = reference.search(queries, k)
    hits = [len(set(I[i][I[i] >= 0]) & set(R[i][R[i] >= 0])) / max(1, int((R[i] >= 0).sum()))
            for i in range(len(I))]
    return float(np.mean(hits))
