r"""Rounding fractional caches to integral ones, keeping the marginals.

A fractional cache :math:`y \in K_C` (C integral) is turned into a random set Z of exactly C
items with :math:`P(i \in Z) = y_i`, so the expected integral gain equals the fractional gain.

* :func:`madow_sample` -- systematic sampling with one uniform U.
* :class:`CoupledRounding` -- Madow with the same U every round: a coordinate's item changes only
  when a cumulative-sum boundary crosses one of the points U + m, so the expected number of
  fetches per round is at most :math:`\sum_j |S_j(y_{t}) - S_j(y_{t-1})|` (the 1-d transport
  distance along the item order), and at least :math:`\|y_t - y_{t-1}\|_1 / 2`.
* :class:`TransportRounding` -- one U and a layout of the circle into C-sets updated by transfers
  and swaps: at most :math:`\|y_t - y_{t-1}\|_1` expected fetches per round (plus the counted
  movement of budget compactions); derivation in docs/theory/coupled_rounding.md.
* :func:`depround` -- dependent rounding (Gandhi, Khuller, Parthasarathy, Srinivasan, J.ACM 2006).
* :class:`Rounded` -- wraps a fractional learner into an integral caching policy.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from .._validation import check_choice, check_float, check_float_array, check_int, check_seed
from ..base import CommitThenLearn
from ..exceptions import InvalidInputError
from . import _kernels_learners as _k

__all__ = ["madow_sample", "depround", "CoupledRounding", "TransportRounding", "Rounded"]

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


_MASK = (1 << 64) - 1
_MERGE_SCAN = 16  # merging transfers look at least at the 16 smallest atoms of a decreasing item,
_MERGE_BUDGET = 65536  # and at its smallest 65536 / (number of increasing items) atoms (hash look-ups)
_EPS = 1e-13  # changes and pieces at most this long are treated as zero (float tolerance of the layout)


def _madow_layout(y, C, u, gaps=None):
    """The Madow layout of ``y`` as atoms {C-set: length} in circle order, and where ``u`` falls
    (``gaps``, when a list, receives the arcs ``(start, end, set)`` in circle order).

    Item i owns the arc ``[S_{i-1}, S_i) mod 1`` (one or two pieces since y_i <= 1); the set at a
    point v of the circle is the set of items whose arc covers v, i.e. ``madow_sample(y, v)``.
    """
    S = np.cumsum(y)
    S[-1] = C
    lo = np.concatenate([[0.0], S[:-1]])
    events = []  # (position, 0 = leave / 1 = enter, item)
    for i in np.flatnonzero(y > 0):
        a, b = float(lo[i]), float(S[i])
        f = math.floor(a)
        start, end = a - f, b - f
        if end <= 1.0:
            events.append((start, 1, int(i)))
            events.append((end, 0, int(i)))
        else:
            events.append((start, 1, int(i)))
            events.append((1.0, 0, int(i)))
            events.append((0.0, 1, int(i)))
            events.append((end - 1.0, 0, int(i)))
    events.sort()
    atoms = {}
    active = {}  # item -> number of its pieces covering the sweep point (2 on a 1-ulp overlap)
    ukey, uoff = None, 0.0
    k = 0
    n = len(events)
    pos = 0.0
    while k < n:
        p = events[k][0]
        if p > pos and active:
            length = p - pos
            key = frozenset(active)
            if len(key) != C:
                if length > 1e-12:  # pragma: no cover - would be a bug of the sweep
                    raise RuntimeError(f"Madow layout: {len(key)} items on an arc of length {length}")
            else:
                base = atoms.get(key, 0.0)
                if pos <= u < p:
                    ukey, uoff = key, base + (u - pos)
                atoms[key] = base + length
                if gaps is not None:
                    gaps.append((pos, p, key))
        pos = max(pos, p)
        while k < n and events[k][0] == p:
            _, kind, item = events[k]
            if kind:
                active[item] = active.get(item, 0) + 1
            elif active.get(item, 0) > 1:
                active[item] -= 1
            else:
                active.pop(item, None)
            k += 1
    if ukey is None:  # u fell on a dropped sliver: take the last atom
        ukey = next(reversed(atoms))
        uoff = atoms[ukey]
    return atoms, ukey, uoff


def _overlay_cost(gaps, keys, starts, ends):
    r""":math:`\int |new(v) \setminus old(v)| dv` for two partitions of [0, 1): ``gaps`` the new arcs
    ``(start, end, set)`` in order, ``keys[b]`` the old set on ``[starts[b], ends[b])`` (in order)."""
    cost, a = 0.0, 0
    n = len(keys)
    for g0, g1, key in gaps:
        while a < n and ends[a] <= g0:
            a += 1
        b = a
        while b < n and starts[b] < g1:
            over = min(g1, ends[b]) - max(g0, starts[b])
            if over > 0:
                cost += over * len(key - keys[b])
            b += 1
    return cost


def _compaction_candidates(keys, lens, z, N):
    """Candidate (arrangement of the collapsed atoms, Madow item order) pairs for a compaction:
    the original (length order, id order) and a label-preserving one (see ``_compact``)."""
    yield np.arange(len(keys)), np.arange(N)
    frac = np.flatnonzero((z > 0) & (z < 1))
    if len(frac) == 0:
        return
    K = len(keys)
    pos = {int(i): c for c, i in enumerate(frac[np.argsort(-z[frac], kind="stable")])}
    M = np.zeros((K, len(frac)), dtype=np.int8)
    for r, k in enumerate(keys):
        cols = [pos[i] for i in k if i in pos]
        M[r, cols] = 1
    B = np.bitwise_xor.accumulate(M, axis=1)  # reflected Gray code -> binary: lexicographic order
    arr = np.lexsort(B.T[::-1]) if K > 1 else np.arange(K)
    L = lens[arr]
    starts = np.concatenate([[0.0], np.cumsum(L)[:-1]])
    Ms = M[arr]
    p = np.zeros(len(frac))
    for c in range(len(frac)):  # start of each item's longest run in the arrangement
        col = np.concatenate([[0], Ms[:, c], [0]]).astype(np.int8)
        d = np.diff(col)
        on, off = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
        if len(on):
            runlen = np.array([L[a:b].sum() for a, b in zip(on, off)])
            p[c] = starts[on[int(np.argmax(runlen))]]
    zf = z[np.asarray(sorted(pos, key=pos.get), dtype=np.int64)]
    items = np.asarray(sorted(pos, key=pos.get), dtype=np.int64)
    left = np.ones(len(items), dtype=bool)
    order = []
    q = 0.0
    for _ in range(len(items)):
        d = np.abs(p - q)
        d = np.minimum(d, 1.0 - d)
        d[~left] = np.inf
        c = int(np.argmin(d))
        left[c] = False
        order.append(int(items[c]))
        q = (q + zf[c]) % 1.0
    full = np.flatnonzero(z >= 1.0)
    rest = np.setdiff1d(np.arange(N), np.concatenate([full, np.asarray(order, dtype=np.int64)]))
    yield arr, np.concatenate([full, np.asarray(order, dtype=np.int64), rest]).astype(np.int64)


def _nearest_later(keys, N, n):
    """For each of the first ``n`` labels (C-sets, in increasing atom length), the index of the later
    label sharing the most items (ties to the latest, i.e. the larger atom). Sparse label matrix,
    overlaps computed in row blocks of at most ~2e6 entries (memory O(K C + 2e6))."""
    import scipy.sparse as sp

    K, C = len(keys), len(keys[0])
    cols = np.fromiter((z for k in keys for z in k), dtype=np.int64, count=K * C)
    M = sp.csr_matrix((np.ones(K * C, dtype=np.float32), cols, np.arange(0, K * C + 1, C)), shape=(K, N))
    MT = M.T.tocsc()
    block = max(1, 2_000_000 // K)
    out = np.empty(n, dtype=np.int64)
    later = np.arange(K)[None, :]
    for s in range(0, n, block):
        e = min(n, s + block)
        ov = (M[s:e] @ MT).toarray()  # shared items (exact: integers <= C)
        ov[later <= np.arange(s, e)[:, None]] = -1.0  # only later (larger) atoms
        out[s:e] = (K - 1) - np.argmax(ov[:, ::-1], axis=1)
    return out


class TransportRounding:
    r"""Coupled rounding whose layout updates fetch at most :math:`\|y_t - y_{t-1}\|_1` per round in
    expectation (budget compactions, when triggered, are counted apart).

    Problem: turn a sequence of fractional caches :math:`y_t \in K_C = \{y \in [0,1]^N, \sum y = C\}`
    into random sets :math:`Z_t` of exactly C items with exact marginals
    :math:`P(i \in Z_t) = y_{t,i}` every round, fetching few items between rounds.

    Representation (a *layout*): the circle [0, 1) cut into atoms, each labelled with a C-set;
    ``atoms`` maps each C-set to its total length (equal sets are merged by a measure-preserving
    rearrangement of the circle), so :math:`\sum_{A \ni i} |A| = y_i`. One uniform U is drawn
    at :meth:`reset_with` and carried along every rearrangement; the cache is the set of the atom
    holding U. The first layout is Madow's (``madow_sample(y_0, U)`` is the first cache).

    Update rule (:meth:`update`, :math:`\delta = y' - x` with x the layout's marginals): every
    decreasing item i first makes *merging transfers*: over its smallest full atoms a (all of them
    up to max(16, 65536 / #increasing items); smallest first), if
    :math:`(a \setminus \{i\}) \cup \{e\}` is already an atom for an increasing e (smallest such id;
    one hash look-up per candidate, labels hashed by sums of fixed random words), a piece of a is
    relabelled from i to e and merges there (no new atom); then it hands measure to increasing items
    absent from its smallest atoms (transfers), and gives up the rest from its smallest atoms first
    (one split at most), which leaves holes; every increasing item j (in id order) fills holes where it is absent,
    smallest first; if holes remain only where j is present, a *swap* takes a full atom F
    without j and an item k in F missing from the hole atom H: k moves from F to H, j takes k's
    place in F (such F and k always exist: docs/theory/coupled_rounding.md). Numerical leftovers
    (holes below 1e-9) are filled by the most under-served item.

    Guarantee: exactly C items, marginals exact (to float round-off); the expected number of
    fetches of a round is at most the measure of the additions, ``movement_bound_``
    :math:`= \sum_j(\text{fill}_j + 2\,\text{swap}_j) \le \|y' - y\|_1` (Theorem
    ``caching.rounding.transport_movement``), against at least :math:`\|y'-y\|_1/2` for any
    rounding with exact marginals.

    Complexity: O(N) to read y, plus O(C) per atom touched (a split or a merge touches two
    atoms; a decreasing item touches its atoms smallest-first, an increasing item the atoms with
    holes); a swap scans the atoms, O(K); merging transfers cost O(k + 65536) hash look-ups per
    decreasing item (k its atoms); a merge compaction of k atoms costs a sparse label product
    (O(k C^2 K / N) expected, in blocks of 2e6 entries), O(C) per merge and one update; a Madow
    compaction O(k (C + F) + F^2) for F fractional items (two candidate layouts and their exact
    overlay cost). Pure Python with dict/frozenset (no numba kernel).

    Fragmentation budget: dense small updates (every uncapped OGD/OMD coordinate moves each
    round) cut about one atom per changed item per round and the layout grows without bound.
    When it exceeds ``max_atoms`` atoms, the smallest atoms are *compacted*. ``compaction="merge"``
    (default): all but ``max(max_atoms // 2, max_atoms - 2(N + C))`` atoms are merged, smallest
    first, into their nearest larger atom (most shared items), and one ordinary update restores the
    marginals (a second pass, then the Madow rule, if the budget is still exceeded).
    ``compaction="madow"`` (the rule before issue #3): all but ``max_atoms // 2`` atoms are replaced
    by a Madow layout of their own conditional marginals (marginals unchanged, U mapped by its
    relative position), the cheaper of two item orders. Either way U stays uniform and the marginals
    exact. A compaction moves items: its exact expected fetches are reported in
    ``compaction_movement_`` and are NOT covered by the :math:`\|\Delta y\|_1` bound (measured in
    docs/caching.md: web07, C = 50, T = 3000, OMD compactions 1.12 x sum ||dy||_1 with merging,
    5.77 with Madow; layout updates 0.52).

    Incremental API::

        r = TransportRounding(capacity, seed)
        cache = r.reset_with(y0)              # sorted int64 array of C ids
        fetched, evicted = r.update(y_new)    # int64 arrays, sorted
        r.cache                               # the current C ids (sorted int64)

    Parameters
    ----------
    capacity : int
        C, the number of cached items; every y must sum to it.
    seed : int, optional
        Seed of U.
    max_atoms : int, optional
        Layout budget (default ``8 * (N + C)``, at least ``2 * (N + C)``).
    compaction : {"merge", "madow"}
        Budget compaction rule (see above).

    Attributes
    ----------
    compaction_movement_ : float
        Exact expected fetches caused by a compaction in the last update (0 if none).
    n_compactions_ : int
        Compactions since :meth:`reset_with`.
    movement_bound_ : float
        Measure of the additions of the last update (fills + 2 * swaps): an upper bound on the
        expected fetches of that round, at most ||dy||_1.
    dy_l1_ : float
        ||y' - x||_1 of the last update (x the layout's marginals before it).
    swap_measure_ : float
        Measure moved by swaps in the last update.
    n_atoms : int
        Current number of atoms (distinct C-sets of the layout).
    """

    def __init__(self, capacity, seed=None, max_atoms=None, compaction="merge"):
        self.capacity = capacity
        self.seed = seed
        self.max_atoms = max_atoms
        self.compaction = compaction
        self._atoms = None

    def __repr__(self):
        return (f"TransportRounding(capacity={self.capacity!r}, seed={self.seed!r}, max_atoms={self.max_atoms!r}, "
                f"compaction={self.compaction!r})")

    # ------------------------------------------------------------------ state
    def _ensure(self, owner):
        if self._atoms is None:
            raise InvalidInputError(f"{owner} needs a layout: call reset_with(y0) first.")

    def _check_y(self, y, owner, n=None):
        y, C = _check_fractional(y, owner)
        if C != self.C_:
            raise InvalidInputError(f"The 'y' argument of {owner} must sum to capacity = {self.C_}. Got sum "
                                    f"{float(y.sum())!r}; project it onto the capped simplex with C = {self.C_}.")
        if n is not None and len(y) != n:
            raise InvalidInputError(f"The 'y' argument of {owner} must have length {n} (the length of y0). Got "
                                    f"length {len(y)}; pass one value per item of the catalogue.")
        return y

    @property
    def cache(self):
        """The cached ids (sorted int64 array of length C)."""
        self._ensure("TransportRounding.cache")
        return np.array(sorted(self._ukey), dtype=np.int64)

    @property
    def n_atoms(self):
        return 0 if self._atoms is None else len(self._atoms)

    def layout(self):
        """The layout: ``(sets, lengths)``, sets an int64 array (K, C) of sorted rows."""
        self._ensure("TransportRounding.layout")
        keys = list(self._atoms)
        sets = np.array([sorted(k) for k in keys], dtype=np.int64).reshape(len(keys), self.C_)
        return sets, np.array([self._atoms[k] for k in keys])

    def marginals(self):
        """:math:`P(i \\in Z) = \\sum_{A \\ni i} |A|`, recomputed from the atoms."""
        sets, lengths = self.layout()
        return np.bincount(sets.ravel(), weights=np.repeat(lengths, self.C_), minlength=self.N_)

    def check_state(self, y=None, tol=1e-9):
        """True iff the layout is valid: every atom a C-set of ids in [0, N) with positive length,
        lengths summing to 1, U inside its atom, and (given ``y``) marginals equal to y within tol."""
        self._ensure("TransportRounding.check_state")
        sets, lengths = self.layout()
        ok = (len(sets) > 0 and bool(np.all(lengths > 0)) and abs(float(lengths.sum()) - 1.0) <= tol
              and bool(np.all(sets >= 0)) and bool(np.all(sets < self.N_))
              and bool(np.all(np.diff(sets, axis=1) > 0)) and self._ukey in self._atoms
              and -tol <= self._uoff <= self._atoms[self._ukey] + tol and not self._holes)
        if ok and y is not None:
            ok = float(np.abs(self.marginals() - np.asarray(y, dtype=float)).max()) <= tol
        return bool(ok)

    # ------------------------------------------------------------------ build
    def reset_with(self, y0):
        """Start from the Madow layout of ``y0`` with a fresh U; returns the cache (sorted int64)."""
        owner = "TransportRounding"
        self.C_ = check_int("capacity", self.capacity, low=1, owner=owner)
        check_choice("compaction", self.compaction, ("merge", "madow"), owner=owner)
        rng = np.random.default_rng(check_seed(self.seed, owner=owner))
        y, C = _check_fractional(y0, "TransportRounding.reset_with")
        if C != self.C_:
            raise InvalidInputError(f"The 'y0' argument of TransportRounding.reset_with must sum to capacity = "
                                    f"{self.C_}. Got sum {float(y.sum())!r}; project it onto the capped simplex.")
        self.N_ = len(y)
        if self.max_atoms is None:
            self.max_atoms_ = 8 * (self.N_ + C)
        else:
            self.max_atoms_ = check_int("max_atoms", self.max_atoms, low=2 * (self.N_ + C), owner=owner)
        u = float(rng.random())
        self._atoms, self._ukey, self._uoff = _madow_layout(y, C, u)
        self._init_index()
        self._x = self.marginals()
        self.movement_bound_ = 0.0
        self.dy_l1_ = 0.0
        self.swap_measure_ = 0.0
        self.compaction_movement_ = 0.0
        self.n_compactions_ = 0
        return self.cache

    def _init_index(self):
        """Build the per-item index, the hole index and the hash index of the full atoms."""
        self._where = [dict() for _ in range(self.N_)]
        self._holes = {}
        self._seg = None  # run bookkeeping, only during a compaction
        # label hashes: h(L) = sum of fixed random 64-bit words of L's items (mod 2^64), so the hash
        # of (a - {i}) | {e} is h(a) - w_i + w_e and the existence of that atom is one dict look-up
        # (verified on the set itself). Fixed words: the layout never depends on U.
        self._w = [int(v) for v in np.random.default_rng(0x5EED).integers(0, 2**63 - 1, self.N_, dtype=np.int64)]
        self._hk = {}  # full atom -> its hash
        self._hfull = {}  # hash -> full atom
        for key in self._atoms:
            self._index(key)

    def _index(self, key):
        for z in key:
            self._where[z][key] = None
        if len(key) < self.C_:
            self._holes[key] = None
        else:
            w = self._w
            h = self._hk[key] = sum(w[z] for z in key) & _MASK
            self._hfull.setdefault(h, key)

    def _unindex(self, key):
        for z in key:
            del self._where[z][key]
        if self._holes.pop(key, 0) is None:
            return
        h = self._hk.pop(key)
        if self._hfull.get(h) == key:
            del self._hfull[h]

    def _merge_candidates(self, cands, i, live):
        """The full atoms of ``cands`` (in order) for which the hash of (a - {i}) | {e} is a full
        atom's hash for some e in ``live``: a superset of the atoms with a merge partner (hash
        collisions are removed by :meth:`_merge_partner`), one dict look-up per (atom, e)."""
        hk, hf, w = self._hk, self._hfull, self._w
        ds = [w[e] - w[i] for e in live]
        if len(ds) == 1:
            d = ds[0]
            return [a for a in cands if (h := hk.get(a)) is not None and ((h + d) & _MASK) in hf]
        return [a for a in cands if (h := hk.get(a)) is not None and any(((h + d) & _MASK) in hf for d in ds)]

    def _merge_partner(self, a, i, inc, need):
        """The smallest increasing id e (need[e] > eps, e not in a) such that the C-set
        (a - {i}) | {e} is already an atom, so that a piece of a relabelled from i to e merges instead
        of adding an atom; ``a`` a full atom containing i. Returns (e, label) or None."""
        base = self._hk[a] - self._w[i]
        hfull, w = self._hfull, self._w
        for e in inc:
            if need[e] > _EPS and e not in a:
                b = hfull.get((base + w[e]) & _MASK)
                if b is not None and e in b and i not in b and len(a & b) == self.C_ - 1:
                    return e, b
        return None

    def _move(self, a, new, r):
        """Relabel the last ``r`` of atom ``a`` (all of it when r >= |a| - eps) with set ``new``;
        the piece is appended at the end of atom ``new``. Returns the length moved."""
        atoms = self._atoms
        length = atoms[a]
        whole = r >= length - _EPS
        if whole:
            r = length
            del atoms[a]
            self._unindex(a)
        else:
            atoms[a] = length - r
        base = atoms.get(new)
        if base is None:
            base = 0.0
            self._index(new)
        atoms[new] = base + r
        if self._seg is not None:
            self._track(a, new, length, r, whole, base)
        if self._ukey == a:
            cut = 0.0 if whole else length - r
            if whole or self._uoff >= cut:
                self._ukey = new
                self._uoff = base + min(max(self._uoff - cut, 0.0), r)
        return r

    def _track(self, a, new, length, r, whole, base):
        r"""Segment bookkeeping of a compaction: every touched atom keeps its points in order as
        ``[pre-compaction label, length]`` runs (an untouched atom is one run of its own label), so
        the exact expected fetches :math:`\int |S_{new}(u) \setminus S_{old}(u)| du` can be read
        off at the end. Mirrors :meth:`_move`: the last ``r`` of ``a`` is appended to ``new``."""
        seg = self._seg
        runs = seg.pop(a, None) or [[a, length]]
        if whole:
            tail = runs
        else:
            keep = length - r
            tail, acc = [], 0.0
            for k, (lab, ln) in enumerate(runs):
                if acc + ln <= keep:
                    acc += ln
                    continue
                cut = keep - acc
                head = runs[:k] + ([[lab, cut]] if cut > 0 else [])
                tail = [[lab, ln - cut]] + runs[k + 1:]
                break
            else:  # float: nothing beyond ``keep``; move a zero-length run
                head, tail = runs, [[runs[-1][0], 0.0]]
            seg[a] = head
        dest = seg.get(new)
        if dest is None:
            dest = seg[new] = [[new, base]] if base > 0 else []
        dest.extend(tail)

    def _keep(self):
        """Atoms kept by a budget compaction: ``max_atoms // 2`` (Madow), and for merging
        ``max(max_atoms // 2, max_atoms - 2 (N + C))`` (smaller, more frequent compactions)."""
        if self.compaction == "madow":
            return self.max_atoms_ // 2
        return max(self.max_atoms_ // 2, self.max_atoms_ - 2 * (self.N_ + self.C_))

    def _compact(self, target, limit=None):
        """Budget compaction down to about ``target`` atoms (the rule named by ``compaction``); the
        merge rule ends with at most ``limit`` atoms when given."""
        if self.compaction == "madow":
            return self._compact_madow(target)
        return self._compact_merge(target, limit)

    def _compact_merge(self, target, limit=None):
        r"""Budget compaction by merging to near neighbours, then one transport fix.

        The atoms are sorted by length; each of the smallest ``len(atoms) - target`` (in increasing
        length) is relabelled whole to its nearest larger atom (fewest differing items; ties to the
        larger atom), into which it merges; atoms merged into are processed later in turn, so a
        small atom ends in a kept atom, usually after a few one- or two-item hops. This changes the
        marginals by :math:`\Delta`; one ordinary layout update (:meth:`_apply`: transfers, holes,
        fills, swaps) then restores the marginals exactly. Everything depends on the layout only,
        never on U, and every step is a relabel of pieces, so U stays uniform. If the fix leaves more
        than ``limit`` atoms, a second pass (target halved) runs and, if still above, the Madow
        compaction to ``limit // 2`` atoms (at most ``limit`` atoms after it, since
        ``limit >= 2 (N + C)``). Returns the exact expected fetches of the whole compaction,
        :math:`\int |S_{new}(u) \setminus S_{old}(u)| du` (run bookkeeping of :meth:`_track`)."""
        atoms = self._atoms
        y = self._x.copy()
        self._seg = {}
        for step in range(2):
            self._merge_pass(target if step == 0 else target // 2, y)
            if limit is None or len(atoms) <= limit:
                break
        else:
            self._x = self.marginals()
            return self._compact_madow(limit // 2)  # counts the runs of this compaction too
        cost = self._run_cost(set())
        self._seg = None
        self._x = self.marginals()
        return cost

    def _merge_pass(self, target, y):
        """One merge pass of :meth:`_compact_merge` (the smallest atoms merged into their nearest
        later atoms, then one :meth:`_apply` back to the marginals ``y``)."""
        atoms, N = self._atoms, self.N_
        keys = sorted(atoms, key=atoms.__getitem__)
        K = len(keys)
        n_small = min(max(K - target, 1), K - 1)
        if n_small <= 0:
            return
        nn = _nearest_later(keys, N, n_small)
        x = self._x
        for t in range(n_small):
            f = keys[t]
            g = keys[int(nn[t])]
            ln = atoms[f]
            self._move(f, g, ln)
            x[list(f - g)] -= ln
            x[list(g - f)] += ln
        self._apply(y)

    def _run_cost(self, skip):
        """Sum over the tracked atoms (except ``skip``) and their runs of length x |label - old label|."""
        cost = 0.0
        for lab, runs in self._seg.items():
            if lab in self._atoms and lab not in skip:
                for old, ln in runs:
                    if ln > 0:
                        cost += ln * len(lab - old)
        return cost

    def _compact_madow(self, target):
        r"""Budget compaction: the smallest atoms, down to ``target`` atoms kept, are re-laid out as
        a Madow layout of their own conditional marginals (scaled into their total length m).

        Two candidate re-layouts are built and the one with the smaller exact expected fetches is
        kept (the choice depends on the layout only, never on U): (a) the collapsed atoms in
        length order against Madow in id order (the original rule); (b) the collapsed atoms in
        reflected-Gray order of their labels (so that each frequent item occupies few runs) against
        Madow in a *greedy item order*: after the items of conditional marginal 1, the next item is
        always the one whose longest old run starts closest (on the circle) to the current
        cumulative sum, so each item's new arc tends to lie on its old run.
        Marginals are unchanged; U, if it lies in the collapsed part, is mapped by its relative
        position in the chosen arrangement (a measure-preserving map). Returns the exact expected
        fetches it causes, :math:`\int |S_{new}(u) \setminus S_{old}(u)| du \le C m`."""
        atoms, C = self._atoms, self.C_
        keys = sorted(atoms, key=atoms.__getitem__)[: max(len(atoms) - target, 2)]
        lengths = np.array([atoms[k] for k in keys])
        m = float(lengths.sum())
        z = np.zeros(self.N_)
        for k, ln in zip(keys, lengths):
            z[list(k)] += ln
        z /= m
        z = np.clip(z, 0.0, 1.0)
        z[z < _SNAP] = 0.0
        z[z > 1.0 - _SNAP] = 1.0
        seg = self._seg  # runs of an ongoing merge compaction: cost against the labels before it
        best = None
        for arr, perm in _compaction_candidates(keys, lengths / m, z, self.N_):
            ks = [keys[a] for a in arr]
            lens = lengths[arr] / m
            starts = np.concatenate([[0.0], np.cumsum(lens)[:-1]])
            gaps = []
            sub, _, _ = _madow_layout(z[perm], C, 0.0, gaps)
            gaps = [(g0, g1, frozenset(int(perm[i]) for i in key)) for g0, g1, key in gaps]
            if seg is None:
                cost = _overlay_cost(gaps, ks, starts, starts + lens)
            else:
                rk, rs, re_ = [], [], []
                for k, s0 in zip(ks, starts):
                    pos = s0
                    for lab, ln in seg.get(k) or [[k, atoms[k]]]:
                        rk.append(lab)
                        rs.append(pos)
                        pos += ln / m
                        re_.append(pos)
                cost = _overlay_cost(gaps, rk, rs, re_)
            if best is None or cost < best[0] - 1e-15:
                best = (cost, ks, starts, gaps)
        cost, ks, starts, gaps = best
        v = None
        if self._ukey in set(ks):
            v = float(starts[ks.index(self._ukey)] + self._uoff / m)
            v = min(v, np.nextafter(1.0, 0.0))
        for k in keys:
            del atoms[k]
            self._unindex(k)
        placed = False
        for g0, g1, key in gaps:
            base = atoms.get(key)
            if base is None:
                base = 0.0
                self._index(key)
            atoms[key] = base + (g1 - g0) * m
            if v is not None and not placed and g0 <= v < g1:
                self._ukey, self._uoff = key, base + (v - g0) * m
                placed = True
        if v is not None and not placed:  # v on a dropped sliver: the last piece
            key = gaps[-1][2]
            self._ukey, self._uoff = key, atoms[key]
        self._x = self.marginals()
        if seg is not None:  # the kept atoms touched by the merge passes before
            extra = self._run_cost(set(ks))
            self._seg = None
            return cost * m + extra
        return cost * m

    # ----------------------------------------------------------------- update
    def update(self, y_new):
        """Move the layout to ``y_new``; returns ``(fetched, evicted)`` (sorted int64 arrays)."""
        self._ensure("TransportRounding.update")
        y = self._check_y(y_new, "TransportRounding.update", n=self.N_)
        before = self._ukey
        self.dy_l1_ = float(np.abs(y - self._x).sum())
        self.movement_bound_, self.swap_measure_ = self._apply(y)
        self.compaction_movement_ = 0.0
        if len(self._atoms) > self.max_atoms_:
            self.compaction_movement_ = self._compact(self._keep(), limit=self.max_atoms_)
            self.n_compactions_ += 1
        after = self._ukey
        return (np.array(sorted(after - before), dtype=np.int64),
                np.array(sorted(before - after), dtype=np.int64))

    def _apply(self, y):
        """The layout update to marginals ``y`` (transfers, holes, fills, swaps, round-off fills);
        returns ``(additions, swap measure)``."""
        atoms, x = self._atoms, self._x
        delta = y - x
        added = 0.0
        swapped = 0.0
        inc = [int(j) for j in np.flatnonzero(delta > _EPS)]
        need = {j: float(delta[j]) for j in inc}
        for i in np.flatnonzero(delta < -_EPS):
            i = int(i)
            r = float(-delta[i])
            # merging transfers first: over i's full atoms (smallest first; the smallest
            # max(16, 65536 / #increasing) of them), relabel a piece from i to an increasing e when
            # (a - {i}) | {e} is already an atom (the piece merges: no new atom). Merges only grow
            # existing atoms, so an atom without a partner now gets none later in this loop: the
            # atoms with a partner are found first and only they are sorted.
            wi = self._where[i]
            live = [e for e in inc if need[e] > _EPS]
            lim = max(_MERGE_SCAN, _MERGE_BUDGET // max(1, len(live)))
            cands = wi if len(wi) <= lim else heapq.nsmallest(lim, wi, key=atoms.__getitem__)
            hits = self._merge_candidates(cands, i, live) if live else []
            hits = [a for a in hits if self._merge_partner(a, i, inc, need) is not None]
            hits.sort(key=atoms.__getitem__)
            for a in hits:
                while r > _EPS and a in atoms:
                    hit = self._merge_partner(a, i, inc, need)
                    if hit is None:
                        break
                    e, b = hit
                    got = self._move(a, b, min(r, need[e]))
                    x[i] -= got
                    x[e] += got
                    need[e] -= got
                    added += got
                    r -= got
                if r <= _EPS:
                    break
            if r <= _EPS:
                continue
            # transfer: hand i's measure straight to an increasing item absent from the atom
            for a in sorted(self._where[i], key=atoms.__getitem__):
                j = next((j for j in inc if need[j] > _EPS and j not in a), None)
                if j is None:
                    continue
                got = self._move(a, (a - {i}) | {j}, min(r, need[j]))
                x[i] -= got
                x[j] += got
                need[j] -= got
                added += got
                r -= got
                if r <= _EPS:
                    break
            if r <= _EPS:
                continue
            # what no increasing item can take here becomes holes, smallest atoms first
            for a in sorted(self._where[i], key=atoms.__getitem__):
                got = self._move(a, a - {i}, r)
                x[i] -= got
                r -= got
                if r <= _EPS:
                    break
        for j in inc:
            r = need[j]
            if r <= _EPS or not self._holes:
                continue
            for a in sorted([h for h in self._holes if j not in h], key=atoms.__getitem__):
                got = self._move(a, a | {j}, r)
                x[j] += got
                added += got
                r -= got
                if r <= _EPS:
                    break
            # swaps: every hole left holds j; a full atom f without j gives an item k to the hole
            # and takes j in its place (f and k exist: docs/theory/coupled_rounding.md)
            while r > _EPS and self._holes:
                fs = sorted((a for a in atoms if len(a) == self.C_ and j not in a), key=atoms.__getitem__,
                            reverse=True)
                if not fs:  # pragma: no cover - excluded by the counting argument
                    break
                p = 0
                for h in sorted(self._holes, key=atoms.__getitem__):
                    while r > _EPS and h in atoms:
                        while p < len(fs) and fs[p] not in atoms:
                            p += 1
                        if p == len(fs):
                            break
                        f = fs[p]
                        k = min(f - h)
                        step = min(r, atoms[h], atoms[f])
                        self._move(h, h | {k}, step)
                        self._move(f, (f - {k}) | {j}, step)
                        x[j] += step
                        added += 2.0 * step
                        swapped += step
                        r -= step
                        h = h | {k}
                        if len(h) == self.C_:
                            break
                    if r <= _EPS or p == len(fs):
                        break
        # float leftovers: fill each remaining hole with its most under-served absent item
        if self._holes:
            order = np.argsort(-(y - x), kind="stable")
            for h in list(self._holes):
                length = atoms[h]
                if length > 1e-9:  # pragma: no cover - would contradict the proof
                    raise RuntimeError(f"TransportRounding: a hole of length {length} is left after the update")
                new = set(h)
                for z in order:
                    if len(new) == self.C_:
                        break
                    if int(z) not in new:
                        new.add(int(z))
                        x[int(z)] += length
                        added += length
                self._move(h, frozenset(new), length)
        return added, swapped


class Rounded(CommitThenLearn):
    r"""An integral caching policy from a fractional learner (OGD, OMD, FTPL) by rounding.

    Problem: integral caching; each round commit a set Z of exactly C items, gain
    :math:`\sum_{n \in Z} w_n x_{t,n}`; movement = fetches :math:`|Z_t \setminus Z_{t-1}|`.

    Update rule: ``predict()`` rounds the learner's fractional :math:`y_t` (``"coupled"``: Madow
    with one U for the whole run; ``"madow"``: a fresh U each round; ``"depround"``: DepRound;
    ``"transport"``: :class:`TransportRounding`, one U and a layout updated by transfers);
    ``update`` returns the integral gain and feeds the request to the learner.

    Complexity: O(N) per round (rounding, and for one-hot requests the learner's kernel run on
    one request when the learner has ``fast=True``; otherwise the learner's ``update``). No batch
    fast path.

    Guarantee: :math:`P(i \in Z_t) = y_{t,i}`, so the expected integral gain equals the learner's
    fractional gain and the learner's regret bound carries over in expectation (Theorem
    ``caching.rounding.marginals``); coupled rounding fetches at most
    :math:`E\sum_j|\Delta S_j|` per round (Theorem ``caching.rounding.coupled_movement``);
    transport rounding at most :math:`\|\Delta y\|_1` per round plus the counted movement of its
    budget compactions (Theorem ``caching.rounding.transport_movement``).

    ``result.info``: ``fetches`` (per round, round 0 counts 0), ``total_fetches``,
    ``dy_l1`` (per-round :math:`\|y_t - y_{t-1}\|_1`), ``transport`` (per-round
    :math:`\sum_j|\Delta S_j|`), ``fractional_gain``; ``result.hits``/``misses`` for one-hot traces.
    With ``"transport"`` also ``movement_bound`` (per-round expected-fetch bound of the layout
    update, <= ``dy_l1``), ``compaction_movement`` (per-round expected fetches of compactions),
    ``n_atoms`` (layout size) and ``n_compactions``.

    Costs: a fetch costs 1 (like a paging miss), so ``result.movement_cost`` (and
    ``result.total_cost``) is the number of fetches, ``info['total_fetches']``; with
    ``series=True``, ``result.movement`` holds the per-round fetches. The gain is in
    ``result.total_gain`` as for every learner.

    Parameters
    ----------
    learner : OGD, OMD or FTPL
    method : {"coupled", "madow", "depround", "transport"}
        ``"transport"``: :class:`TransportRounding` (one U, movement-optimal layout updates;
        at most :math:`\|\Delta y\|_1` expected fetches per round plus counted compactions).
    seed : int, optional
    max_atoms : int, optional
        Layout budget of ``"transport"`` (see :class:`TransportRounding`); ignored otherwise.
    """

    randomized = True
    _record_defaults = {"series": True, "states": False}

    def __init__(self, learner, method="coupled", seed=None, max_atoms=None):
        self.learner = learner
        self.method = method
        self.seed = seed
        self.max_atoms = max_atoms

    def reset(self):
        from .learners import _CacheLearner

        if not isinstance(self.learner, _CacheLearner):
            raise InvalidInputError(f"The 'learner' parameter of Rounded must be a caching learner (OGD, OMD or "
                                    f"FTPL). Got {type(self.learner).__name__}.")
        check_choice("method", self.method, ("coupled", "madow", "depround", "transport"), owner="Rounded")
        self._rng = np.random.default_rng(check_seed(self.seed, owner="Rounded"))
        self.learner.reset()
        self._u = float(self._rng.random())
        self._z = None
        self._prev_ids = None
        self._prev_y = None
        self._fetches = []
        self._dy = []
        self._transport = []
        self._tr = None
        self._bound = []
        self._compaction = []
        self._atoms = []
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
        if self.method == "transport":
            if self._tr is None:
                self._tr = TransportRounding(C, seed=int(self._rng.integers(0, 2**31 - 1)),
                                             max_atoms=self.max_atoms)
                ids = self._tr.reset_with(ys)
            else:
                self._tr.update(ys)
                ids = self._tr.cache
            self._bound.append(self._tr.movement_bound_)
            self._compaction.append(self._tr.compaction_movement_)
            self._atoms.append(self._tr.n_atoms)
            return ids
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
        if self.method == "transport":
            result.info.update(movement_bound=np.asarray(self._bound[:T]),
                               compaction_movement=np.asarray(self._compaction[:T]),
                               n_atoms=np.asarray(self._atoms[:T], dtype=np.int64),
                               n_compactions=0 if self._tr is None else int(self._tr.n_compactions_))
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
            ({"learner": OGD(6, 2, horizon=30), "method": "transport", "seed": 6}, tr),
            ({"learner": OMD(5, 2, horizon=6), "method": "transport", "seed": 7},
             rng.integers(0, 3, size=(6, 5)).astype(float)),
            ({"learner": OMD(5, 2, horizon=6), "method": "depround", "seed": 5},
             rng.integers(0, 3, size=(6, 5)).astype(float)),
        ]
