r"""Hierarchically separated trees (HSTs) and the FRT embedding of a finite metric into them.

Stable API (used by the entropic MTS algorithms and by fractional k-server on HSTs):

* :class:`HST` - a rooted, edge-weighted tree whose *leaves are the points*;
  ``HST(parent, length, leaves=None, level=None)``, ``HST.balanced(depth, branching, ratio, top_length)``;
  ``.metric()`` gives the leaf metric as a :class:`~online_algs.metrics.FiniteMetric` with
  ``kind == "hst"`` and ``info["hst"]`` the tree.
* :func:`random_hst` (an :class:`HST`), :func:`random_hst_metric` (its metric; called by
  ``online_algs.metrics.random_metric("hst", n, seed)``).
* :func:`frt_embedding` ``(metric, seed) -> (HST, leaf_of_point)`` and
  :func:`distortion` ``(metric, hst, leaf_of_point) -> Distortion(max, mean, min)``.

Array conventions of :class:`HST` (all read-only numpy arrays, nodes numbered ``0..n_nodes-1``):

=================  ===========================================================================
``parent``         int64 (n_nodes,), parent of each node, ``-1`` at the root
``length``         float64 (n_nodes,), length (weight) of the edge to the parent, 0 at the root
``level``          int64 (n_nodes,), the level of the node (FRT level; by default the height
                   ``max depth - depth``; the root has the largest level)
``depth``          int64 (n_nodes,), number of edges from the root
``order``          int64 (n_nodes,), a topological order (root first, every parent before its
                   children): a bottom-up pass is ``for v in order[::-1]``
``leaves``         int64 (n_leaves,), the node of each point (the leaf -> node map): point ``i``
                   of :meth:`HST.metric` is node ``leaves[i]``
``point_of_node``  int64 (n_nodes,), inverse of ``leaves`` (``-1`` at internal nodes)
``n_leaves_below`` int64 (n_nodes,), number of leaves in each node's subtree
``child_ptr``,     CSR children lists: the children of ``v`` are
``child_idx``      ``child_idx[child_ptr[v]:child_ptr[v + 1]]`` (``children(v)`` returns them)
``rootdist``       float64 (n_nodes,), distance from the root
=================  ===========================================================================

The leaf metric is ``d(i, j) = sum of the edge lengths on the tree path`` between
``leaves[i]`` and ``leaves[j]``. Internal nodes may have a single child (FRT produces such
chains); every non-root edge has a positive length, so distinct leaves are at positive distance.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._validation import check_float, check_int, check_seed
from ..exceptions import InvalidInputError
from ..metrics import FiniteMetric, as_metric

__all__ = ["HST", "random_hst", "random_hst_metric", "frt_embedding", "distortion", "Distortion"]


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


class HST:
    r"""A rooted tree with weighted edges whose leaves are the points of a metric.

    Parameters
    ----------
    parent : array-like of int, shape (n_nodes,)
        ``parent[v]`` is the parent of node ``v``; exactly one entry (the root) is ``-1``.
        Every node must reach the root (no cycles).
    length : array-like of float, shape (n_nodes,)
        Length of the edge from ``v`` to its parent; must be positive and finite for every
        non-root node (the root's entry is ignored and stored as 0).
    leaves : array-like of int, optional
        The order of the points: ``leaves[i]`` is the node of point ``i``. Must be a
        permutation of the childless nodes. Default: childless nodes by increasing id.
    level : array-like of int, optional
        Integer level of each node (e.g. the FRT level). Default: the height
        ``max(depth) - depth``.

    Notes
    -----
    Construction is O(n_nodes); :meth:`metric` is O(n_leaves^2 + n_nodes). The class is
    immutable after construction (arrays are read-only) and picklable.
    """

    def __init__(self, parent: Any, length: Any, leaves: Any = None, level: Any = None):
        par = np.asarray(parent)
        if par.ndim != 1 or par.size == 0 or par.dtype.kind not in "iu":
            raise InvalidInputError(f"The 'parent' argument of HST must be a non-empty 1-d integer array. "
                                    f"Got shape {par.shape} and dtype {par.dtype}.")
        par = par.astype(np.int64)
        m = par.size
        ln = np.asarray(length, dtype=np.float64)
        if ln.shape != (m,):
            raise InvalidInputError(f"The 'length' argument of HST must have shape ({m},) like 'parent'. "
                                    f"Got shape {ln.shape}.")
        roots = np.flatnonzero(par == -1)
        if roots.size != 1:
            raise InvalidInputError(f"The 'parent' argument of HST must have exactly one root (entry -1). "
                                    f"Got {roots.size} roots; connect the trees under one root.")
        bad = (par < -1) | (par >= m)
        if bad.any():
            v = int(np.argmax(bad))
            raise InvalidInputError(f"The 'parent' argument of HST must hold node ids in [0, {m - 1}] (or -1 at "
                                    f"the root). Got parent[{v}] = {int(par[v])}.")
        if (par == np.arange(m)).any():
            v = int(np.argmax(par == np.arange(m)))
            raise InvalidInputError(f"The 'parent' argument of HST has a self-loop at node {v}; a node cannot be "
                                    f"its own parent.")
        root = int(roots[0])
        nonroot = par != -1
        badlen = nonroot & ~(np.isfinite(ln) & (ln > 0))
        if badlen.any():
            v = int(np.argmax(badlen))
            raise InvalidInputError(f"The 'length' argument of HST must be positive and finite on every non-root "
                                    f"edge. Got length[{v}] = {ln[v]}; merge zero-length edges.")
        ln = np.where(nonroot, ln, 0.0)
        # children in CSR form (children sorted by id)
        counts = np.bincount(par[nonroot], minlength=m)
        ptr = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        kids = np.argsort(np.where(nonroot, par, m), kind="stable")[: m - 1].astype(np.int64)
        # topological order by BFS from the root; detects unreachable nodes (cycles)
        order = np.empty(m, dtype=np.int64)
        order[0] = root
        head, tail = 0, 1
        while head < tail:
            v = order[head]
            head += 1
            ch = kids[ptr[v]:ptr[v + 1]]
            order[tail:tail + ch.size] = ch
            tail += ch.size
            if tail > m:  # pragma: no cover - impossible with a valid parent array
                break
        if tail != m:
            seen = np.zeros(m, dtype=bool)
            seen[order[:min(tail, m)]] = True
            v = int(np.argmin(seen))
            raise InvalidInputError(f"The 'parent' argument of HST does not describe a tree: node {v} does not reach "
                                    f"the root {root} (a cycle). Fix the parent array.")
        depth = np.zeros(m, dtype=np.int64)
        rootdist = np.zeros(m)
        for v in order[1:]:
            depth[v] = depth[par[v]] + 1
            rootdist[v] = rootdist[par[v]] + ln[v]
        childless = np.flatnonzero(counts == 0).astype(np.int64)
        if leaves is None:
            lv = childless
        else:
            lv = np.asarray(leaves)
            if lv.ndim != 1 or lv.dtype.kind not in "iu" or lv.size != childless.size or \
                    not np.array_equal(np.sort(lv), childless):
                raise InvalidInputError(f"The 'leaves' argument of HST must be a permutation of the {childless.size} "
                                        f"childless nodes. Got {np.asarray(leaves)!r:.80}.")
            lv = lv.astype(np.int64)
        pon = np.full(m, -1, dtype=np.int64)
        pon[lv] = np.arange(lv.size)
        nlb = np.zeros(m, dtype=np.int64)
        nlb[lv] = 1
        for v in order[::-1]:
            if par[v] >= 0:
                nlb[par[v]] += nlb[v]
        if level is None:
            lev = depth.max() - depth
        else:
            lev = np.asarray(level)
            if lev.shape != (m,) or lev.dtype.kind not in "iu":
                raise InvalidInputError(f"The 'level' argument of HST must be an integer array of shape ({m},). "
                                        f"Got shape {lev.shape}, dtype {lev.dtype}.")
            lev = lev.astype(np.int64)
        self.parent = _ro(par)
        self.length = _ro(ln)
        self.level = _ro(lev)
        self.depth = _ro(depth)
        self.order = _ro(order)
        self.leaves = _ro(lv)
        self.point_of_node = _ro(pon)
        self.n_leaves_below = _ro(nlb)
        self.child_ptr = _ro(ptr)
        self.child_idx = _ro(kids)
        self.rootdist = _ro(rootdist)
        self.root = root
        self._metric: FiniteMetric | None = None

    # ------------------------------------------------------------------ basics
    @property
    def n_nodes(self) -> int:
        return int(self.parent.size)

    @property
    def n_leaves(self) -> int:
        return int(self.leaves.size)

    @property
    def height(self) -> int:
        """Largest number of edges from the root to a leaf."""
        return int(self.depth.max())

    def children(self, v: int) -> np.ndarray:
        """The children of node ``v`` (an array, empty at a leaf)."""
        return self.child_idx[self.child_ptr[v]:self.child_ptr[v + 1]]

    def is_leaf(self, v: int) -> bool:
        return self.child_ptr[v + 1] == self.child_ptr[v]

    def __repr__(self) -> str:
        return f"HST(n_leaves={self.n_leaves}, n_nodes={self.n_nodes}, height={self.height})"

    def __eq__(self, other) -> bool:
        return (isinstance(other, HST) and np.array_equal(self.parent, other.parent)
                and np.array_equal(self.length, other.length) and np.array_equal(self.leaves, other.leaves))

    def __hash__(self):
        return hash((self.parent.tobytes(), self.length.tobytes(), self.leaves.tobytes()))

    def __getstate__(self):
        return {"parent": np.array(self.parent), "length": np.array(self.length),
                "leaves": np.array(self.leaves), "level": np.array(self.level)}

    def __setstate__(self, state):
        self.__init__(state["parent"], state["length"], state["leaves"], state["level"])

    def __deepcopy__(self, memo):
        return self  # immutable

    # --------------------------------------------------------------- distances
    def lca(self, a: int, b: int) -> int:
        """Lowest common ancestor of nodes ``a`` and ``b`` (O(height))."""
        da, db = int(self.depth[a]), int(self.depth[b])
        while da > db:
            a, da = int(self.parent[a]), da - 1
        while db > da:
            b, db = int(self.parent[b]), db - 1
        while a != b:
            a, b = int(self.parent[a]), int(self.parent[b])
        return a

    def tree_distance(self, i: int, j: int) -> float:
        """Distance between points ``i`` and ``j`` (leaf indices) along the tree."""
        a, b = int(self.leaves[i]), int(self.leaves[j])
        c = self.lca(a, b)
        return float(self.rootdist[a] + self.rootdist[b] - 2.0 * self.rootdist[c])

    def distance_matrix(self) -> np.ndarray:
        """The (n_leaves, n_leaves) tree distances between points, O(n_leaves^2 + n_nodes)."""
        n = self.n_leaves
        # leaves of each subtree, contiguous in a DFS leaf order
        lca_depth = np.zeros((n, n))
        members: dict[int, np.ndarray] = {}
        for v in self.order[::-1]:
            v = int(v)
            ch = self.children(v)
            if ch.size == 0:
                members[v] = np.array([self.point_of_node[v]], dtype=np.int64)
                continue
            groups = [members.pop(int(c)) for c in ch]
            rd = self.rootdist[v]
            for a in range(len(groups)):
                for b in range(a + 1, len(groups)):
                    lca_depth[np.ix_(groups[a], groups[b])] = rd
                    lca_depth[np.ix_(groups[b], groups[a])] = rd
            members[v] = np.concatenate(groups)
        r = self.rootdist[self.leaves]
        d = r[:, None] + r[None, :] - 2.0 * lca_depth
        np.fill_diagonal(d, 0.0)
        return np.maximum(d, 0.0)

    def metric(self) -> FiniteMetric:
        """The leaf metric: a :class:`FiniteMetric` with ``kind="hst"`` and ``info={"hst": self}``
        (point ``i`` is node ``leaves[i]``). Cached."""
        if self._metric is None:
            self._metric = FiniteMetric(self.distance_matrix(), validate=False, kind="hst", info={"hst": self})
        return self._metric

    # ------------------------------------------------------- mass on subtrees
    def subtree_masses(self, x: Any) -> np.ndarray:
        """Node masses ``X_u = sum of x over the leaves below u`` of a leaf vector ``x`` (n_leaves,)."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (self.n_leaves,):
            raise InvalidInputError(f"The 'x' argument of HST.subtree_masses must have shape ({self.n_leaves},). "
                                    f"Got shape {x.shape}.")
        X = np.zeros(self.n_nodes)
        X[self.leaves] = x
        for v in self.order[:0:-1]:
            X[self.parent[v]] += X[v]
        return X

    def emd(self, x: Any, y: Any) -> float:
        """Earth-mover distance between two leaf distributions of equal total mass, in the tree
        metric: ``sum_u length[u] * |X_u - Y_u|`` over subtree masses (exact on a tree)."""
        X = self.subtree_masses(x)
        Y = self.subtree_masses(y)
        return float(np.dot(self.length, np.abs(X - Y)))

    # ------------------------------------------------------------ constructors
    @classmethod
    def balanced(cls, depth: int, branching: int, ratio: float = 2.0, top_length: float | None = None) -> "HST":
        """A complete ``branching``-ary tree with ``branching**depth`` leaves, all at depth ``depth``.

        The edges from the root's children to the root have length ``top_length`` (default
        ``ratio**(depth-1)``, so the leaf edges have length 1); each level down divides the
        length by ``ratio``. Levels: leaves 0, root ``depth``. Node ids are in BFS order.
        """
        depth = check_int("depth", depth, low=1, owner="HST.balanced")
        branching = check_int("branching", branching, low=1, owner="HST.balanced")
        ratio = check_float("ratio", ratio, low=1.0, owner="HST.balanced")
        if top_length is None:
            top_length = float(ratio) ** (depth - 1)
        top_length = check_float("top_length", top_length, low=0.0, low_open=True, owner="HST.balanced")
        if branching ** depth > 2_000_000:
            raise InvalidInputError(f"HST.balanced would have branching**depth = {branching ** depth} leaves; "
                                    f"keep it <= 2,000,000.")
        parent = [-1]
        length = [0.0]
        level = [depth]
        frontier = [0]
        for k in range(1, depth + 1):
            nxt = []
            for p in frontier:
                for _ in range(branching):
                    parent.append(p)
                    length.append(top_length / ratio ** (k - 1))
                    level.append(depth - k)
                    nxt.append(len(parent) - 1)
            frontier = nxt
        return cls(np.array(parent), np.array(length), level=np.array(level))


def random_hst(n_leaves: int, seed: int | None = None, *, ratio: float = 2.0, max_branching: int = 4,
               top_length: float = 1.0) -> HST:
    """A random ``ratio``-HST with ``n_leaves`` leaves.

    Top-down: a node holding ``m > 1`` leaves gets ``b`` children, ``b`` uniform in
    ``[2, min(m, max_branching)]``, and its leaves are split into ``b`` non-empty parts by a
    uniformly random composition; a node holding one leaf is a leaf. The edges from depth
    ``k`` to depth ``k - 1`` have length ``top_length / ratio**(k-1)``. Leaves may sit at
    different depths. Node ids are in BFS order.
    """
    n_leaves = check_int("n_leaves", n_leaves, low=1, owner="random_hst")
    seed = check_seed(seed, owner="random_hst")
    ratio = check_float("ratio", ratio, low=1.0, owner="random_hst")
    max_branching = check_int("max_branching", max_branching, low=2, owner="random_hst")
    top_length = check_float("top_length", top_length, low=0.0, low_open=True, owner="random_hst")
    rng = np.random.default_rng(seed)
    parent = [-1]
    length = [0.0]
    size = [n_leaves]
    dep = [0]
    head = 0
    while head < len(parent):
        v = head
        head += 1
        m = size[v]
        if m <= 1:
            continue
        b = int(rng.integers(2, min(m, max_branching) + 1))
        cuts = np.sort(rng.choice(np.arange(1, m), size=b - 1, replace=False))
        parts = np.diff(np.concatenate(([0], cuts, [m])))
        for s in parts:
            parent.append(v)
            length.append(top_length / ratio ** dep[v])
            size.append(int(s))
            dep.append(dep[v] + 1)
    if n_leaves == 1:
        # a single point: a root with one leaf child
        return HST(np.array([-1, 0]), np.array([0.0, top_length]))
    return HST(np.array(parent), np.array(length))


def random_hst_metric(n: int, seed: int | None = None) -> FiniteMetric:
    """The leaf metric of :func:`random_hst` ``(n, seed)`` (ratio 2, up to 4 children per node):
    a :class:`FiniteMetric` with ``kind="hst"`` and ``info["hst"]``."""
    return random_hst(n, seed).metric()


# ------------------------------------------------------------------------ FRT
def frt_embedding(metric: Any, seed: int | None = None) -> tuple[HST, np.ndarray]:
    r"""Embed a finite metric into a random 2-HST (Fakcharoenphol, Rao, Talwar 2003).

    Algorithm: scale distances by ``s = 1 / min_{i != j} d(i, j)`` (min distance 1);
    ``delta = ceil(log2(diam)) + 1``; draw a uniformly random permutation ``pi`` of the points
    and ``beta = 2**U`` with ``U ~ Unif[0, 1)``. The root is the level-``delta`` cluster (all
    points). For ``i = delta-1, ..., 0``, every level-``(i+1)`` cluster is split: each of its
    points joins the first centre in ``pi`` order (taken over *all* points, not only the
    cluster's) within distance ``beta * 2**(i-1)``; the non-empty groups are the level-``i``
    children. The edge from a level-``i`` cluster to its parent has length ``2**(i+1)``. At
    level 0 the radius is below 1, so every leaf is one point. Lengths are divided by ``s``.

    Guarantees: ``d_T(i, j) >= d(i, j)`` for every pair and every draw (Theorem
    ``mts.frt.dominating``), and ``E[d_T(i, j)] <= O(log n) d(i, j)`` (FRT 2003; worst pair
    below ``(16 / ln 2) H_n`` in expectation, Theorem ``mts.frt.stretch``).

    Complexity: O(n^2 * delta) time, O(n * delta) tree nodes (chains of single children are
    kept, so the levels stay meaningful).

    Parameters
    ----------
    metric : FiniteMetric or array-like (n, n)
    seed : int or None

    Returns
    -------
    hst : HST
        Leaves in point order; ``hst.level`` holds the FRT levels (leaves 0, root ``delta``).
    leaf_of_point : ndarray of int64, shape (n,)
        ``leaf_of_point[i]`` is the HST point (index into ``hst.leaves``) of metric point ``i``
        (here the identity, kept in the API so callers never assume it).
    """
    metric = as_metric(metric, owner="frt_embedding")
    seed = check_seed(seed, owner="frt_embedding")
    n = metric.n
    if n == 1:
        return HST(np.array([-1, 0]), np.array([0.0, 1.0]), level=np.array([1, 0])), np.zeros(1, dtype=np.int64)
    dmin = metric.min_distance
    if not dmin > 0:
        raise InvalidInputError("The 'metric' of frt_embedding has two distinct points at distance 0; FRT needs a "
                                "metric (merge duplicate points).")
    rng = np.random.default_rng(seed)
    d = metric.d / dmin
    diam = float(d.max())
    delta = int(np.ceil(np.log2(diam))) + 1 if diam > 1 else 1
    pi = rng.permutation(n)
    beta = 2.0 ** rng.uniform(0.0, 1.0)
    # dpi[:, r] = distances to the r-th centre in pi order
    dpi = d[:, pi]
    parent = [-1]
    length = [0.0]
    level = [delta]
    clusters = [(0, np.arange(n))]  # (node id, points)
    for i in range(delta - 1, -1, -1):
        radius = beta * 2.0 ** (i - 1)
        within = dpi <= radius                      # (n, n): point p within radius of centre pi[r]
        first = np.argmax(within, axis=1)           # every point is within radius of itself
        nxt = []
        for node, pts in clusters:
            labels = first[pts]
            for lab in np.unique(labels):           # children in pi order of their centre
                parent.append(node)
                length.append(2.0 ** (i + 1))
                level.append(i)
                nxt.append((len(parent) - 1, pts[labels == lab]))
        clusters = nxt
    leaves = np.empty(n, dtype=np.int64)
    for node, pts in clusters:
        if pts.size != 1:  # pragma: no cover - impossible: level-0 radius < 1 <= min distance
            raise AssertionError("FRT level 0 did not separate the points")
        leaves[pts[0]] = node
    hst = HST(np.array(parent), np.array(length) * dmin, leaves=leaves, level=np.array(level))
    return hst, np.arange(n, dtype=np.int64)


class Distortion(NamedTuple):
    """Stretch ``d_T(i, j) / d(i, j)`` over the pairs ``i < j``: largest, mean, smallest."""

    max: float
    mean: float
    min: float


def distortion(metric: Any, hst: HST, leaf_of_point: Any) -> Distortion:
    """Stretch of an embedding of ``metric`` into ``hst``: max, mean and min over pairs ``i < j``
    of ``d_T(leaf_of_point[i], leaf_of_point[j]) / d(i, j)`` (min >= 1 for a dominating
    embedding). O(n^2 + n_nodes)."""
    metric = as_metric(metric, owner="distortion")
    if not isinstance(hst, HST):
        raise InvalidInputError(f"The 'hst' argument of distortion must be an HST. Got {type(hst).__name__}.")
    lp = np.asarray(leaf_of_point)
    if lp.shape != (metric.n,) or lp.dtype.kind not in "iu" or (lp.size and (lp.min() < 0 or lp.max() >= hst.n_leaves)):
        raise InvalidInputError(f"The 'leaf_of_point' argument of distortion must be an integer array of shape "
                                f"({metric.n},) with entries in [0, {hst.n_leaves - 1}].")
    n = metric.n
    if n < 2:
        return Distortion(1.0, 1.0, 1.0)
    dt = hst.distance_matrix()[np.ix_(lp, lp)]
    iu = np.triu_indices(n, 1)
    s = dt[iu] / metric.d[iu]
    return Distortion(float(s.max()), float(s.mean()), float(s.min()))
