"""Finite metric spaces.

A :class:`FiniteMetric` wraps an ``(n, n)`` distance matrix and validates it once:
square, finite, symmetric, zero diagonal, non-negative off-diagonal entries (zero allowed
only with ``allow_zero=True``: a pseudo-metric) and the triangle inequality within a
relative tolerance. Each failure names the offending indices.

Constructors: :func:`uniform`, :func:`weighted_star`, :func:`line`, :func:`tree`,
:func:`euclidean`. Each records its ``kind`` and the data it was built from in ``info``
(positions of a line, the networkx graph of a tree, ...) so that algorithms that need the
structure (Double Coverage on a line or tree, O(n) work-function steps on a star) can use
it; a plain matrix has ``kind == "general"``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import VECTOR_HINT, check_float, check_float_array, check_int
from ..exceptions import InvalidInputError

__all__ = ["FiniteMetric", "uniform", "weighted_star", "line", "tree", "euclidean", "as_metric", "random_metric",
           "METRIC_KINDS"]


class FiniteMetric:
    """A finite metric space on points ``0..n-1`` given by its distance matrix.

    Parameters
    ----------
    matrix : array-like of shape (n, n)
        Distances. Validated unless ``validate=False`` (trusted constructors).
    tol : float
        Relative tolerance of the symmetry and triangle checks (times the diameter).
    allow_zero : bool
        Accept zero distances between distinct points (a pseudo-metric).

    Attributes
    ----------
    d : ndarray of shape (n, n)
        The (read-only) distance matrix.
    n : int
    kind : str
        ``"general"``, ``"uniform"``, ``"star"``, ``"line"``, ``"tree"``, ``"euclidean"``, ``"hst"``.
    info : dict
        Structure the constructor knew (e.g. ``positions`` for a line).

    Complexity: validation is O(n^3) time (triangle inequality), O(n^2) memory.
    """

    def __init__(self, matrix: Any, *, tol: float = 1e-9, allow_zero: bool = False,
                 validate: bool = True, kind: str = "general", info: dict | None = None):
        d = check_float_array("matrix", matrix, ndim=2, owner="FiniteMetric", allow_inf=False,
                              hint="every pair of points needs a finite distance.")
        if validate:
            _validate_matrix(d, tol=tol, allow_zero=allow_zero)
            d = 0.5 * (d + d.T)
            np.fill_diagonal(d, 0.0)
        d = np.ascontiguousarray(d, dtype=np.float64)
        d.setflags(write=False)
        self.d = d
        self.tol = tol
        self.allow_zero = allow_zero
        self.kind = kind
        self.info = dict(info or {})

    @property
    def n(self) -> int:
        return self.d.shape[0]

    def __len__(self) -> int:
        return self.n

    @property
    def diameter(self) -> float:
        return float(self.d.max()) if self.n > 1 else 0.0

    @property
    def min_distance(self) -> float:
        """Smallest distance between two distinct points (inf for a single point)."""
        if self.n < 2:
            return float("inf")
        off = self.d[~np.eye(self.n, dtype=bool)]
        return float(off.min())

    def distance(self, i: int, j: int) -> float:
        return float(self.d[i, j])

    def __repr__(self) -> str:
        return f"FiniteMetric(n={self.n}, kind={self.kind!r}, diameter={self.diameter:.4g})"

    def __eq__(self, other) -> bool:
        return isinstance(other, FiniteMetric) and self.d.shape == other.d.shape and bool(np.array_equal(self.d, other.d))

    def __hash__(self):  # metrics are used as dict keys by caches of derived structures
        return hash((self.n, self.d.tobytes()))

    def __getstate__(self):
        return {"d": np.array(self.d), "tol": self.tol, "allow_zero": self.allow_zero,
                "kind": self.kind, "info": self.info}

    def __setstate__(self, state):
        d = np.ascontiguousarray(state["d"])
        d.setflags(write=False)
        self.d = d
        self.tol = state["tol"]
        self.allow_zero = state["allow_zero"]
        self.kind = state["kind"]
        self.info = state["info"]

    def __deepcopy__(self, memo):
        # immutable: sharing is safe and keeps clone() cheap for large metrics
        return self

    def check_point(self, name: str, value: Any, owner: str | None = None) -> int:
        """Validate a point index of this metric."""
        return check_int(name, value, low=0, high=self.n - 1, owner=owner)


def _validate_matrix(d: np.ndarray, *, tol: float, allow_zero: bool) -> None:
    n, m = d.shape
    if n != m:
        raise InvalidInputError(f"A metric matrix must be square. Got shape {d.shape}.")
    if n == 0:
        raise InvalidInputError("A metric needs at least one point. Got an empty matrix.")
    if (d < 0).any():
        i, j = map(int, np.argwhere(d < 0)[0])
        raise InvalidInputError(f"A metric matrix must be non-negative. Got d[{i},{j}] = {d[i, j]}; "
                                f"distances are non-negative: take absolute values or fix the entry.")
    diag = np.diag(d)
    if (diag != 0).any():
        i = int(np.argmax(diag != 0))
        raise InvalidInputError(f"A metric matrix must have a zero diagonal. Got d[{i},{i}] = {d[i, i]}; "
                                f"set the diagonal to 0 (np.fill_diagonal(d, 0)).")
    scale = max(float(d.max()), 1e-300)
    asym = np.abs(d - d.T)
    if (asym > tol * scale).any():
        i, j = map(int, np.argwhere(asym > tol * scale)[0])
        raise InvalidInputError(f"A metric matrix must be symmetric. Got d[{i},{j}] = {d[i, j]} but "
                                f"d[{j},{i}] = {d[j, i]}; symmetrise it, e.g. (d + d.T) / 2 or np.maximum(d, d.T).")
    if not allow_zero and n > 1:
        off = d + np.eye(n)
        if (off == 0).any():
            i, j = map(int, np.argwhere(off == 0)[0])
            raise InvalidInputError(f"Distinct points must have positive distance. Got d[{i},{j}] = 0; "
                                    f"merge duplicate points or pass allow_zero=True for a pseudo-metric.")
    # triangle inequality: d[i,j] <= d[i,k] + d[k,j] for every k
    for k in range(n):
        via = d[:, k:k + 1] + d[k:k + 1, :]
        bad = d > via + tol * scale
        if bad.any():
            i, j = map(int, np.argwhere(bad)[0])
            raise InvalidInputError(
                f"The matrix violates the triangle inequality at (i, j, k) = ({i}, {j}, {k}): "
                f"d[{i},{j}] = {d[i, j]:.6g} > d[{i},{k}] + d[{k},{j}] = {via[i, j]:.6g}. "
                f"Use its shortest-path closure (online_algs.metrics.FiniteMetric(scipy.sparse.csgraph."
                f"shortest_path(d))) if it is a graph's edge weights.")


def as_metric(metric: Any, owner: str | None = None) -> FiniteMetric:
    """Accept a :class:`FiniteMetric` or a distance matrix (validated)."""
    if isinstance(metric, FiniteMetric):
        return metric
    try:
        return FiniteMetric(metric)
    except InvalidInputError as exc:
        who = f" of {owner}" if owner else ""
        raise InvalidInputError(f"The 'metric' parameter{who} is not a valid metric: {exc}") from exc


def uniform(n: int, distance: float = 1.0) -> FiniteMetric:
    """The uniform metric on ``n`` points: every pair at ``distance``."""
    n = check_int("n", n, low=1, owner="uniform")
    distance = check_float("distance", distance, low=0, low_open=True, owner="uniform")
    d = np.full((n, n), distance)
    np.fill_diagonal(d, 0.0)
    return FiniteMetric(d, validate=False, kind="uniform", info={"distance": distance})


def weighted_star(weights: Any) -> FiniteMetric:
    """The leaves of a weighted star: ``d(i, j) = w_i + w_j`` for ``i != j``.

    The centre is not a point of the metric. This is the metric of weighted paging.
    """
    w = check_float_array("weights", weights, ndim=1, owner="weighted_star")
    if (w <= 0).any():
        i = int(np.argmax(w <= 0))
        raise InvalidInputError(f"The 'weights' of weighted_star must be positive. Got weights[{i}] = {w[i]}.")
    d = w[:, None] + w[None, :]
    np.fill_diagonal(d, 0.0)
    return FiniteMetric(d, validate=False, kind="star", info={"weights": w.copy()})


def line(positions: Any) -> FiniteMetric:
    """Points on the real line: point ``i`` at ``positions[i]`` (distinct positions)."""
    x = check_float_array("positions", positions, ndim=1, owner="line",
                          hint="give every point a real position on the line.")
    if len(np.unique(x)) != len(x):
        vals, counts = np.unique(x, return_counts=True)
        raise InvalidInputError(f"The 'positions' of line must be distinct. Got {vals[counts > 1][0]} "
                                f"{int(counts.max())} times; drop duplicates.")
    d = np.abs(x[:, None] - x[None, :])
    return FiniteMetric(d, validate=False, kind="line", info={"positions": x.copy()})


def tree(graph: Any, weight: str = "weight", nodes: list | None = None) -> FiniteMetric:
    """The shortest-path metric of a weighted tree (a networkx graph).

    Points are ``nodes`` (default: ``list(graph.nodes)``) in that order; ``info["graph"]``
    keeps the tree and ``info["nodes"]`` the node of each point. Edges without ``weight``
    have length 1.
    """
    import networkx as nx

    if not isinstance(graph, nx.Graph) or graph.is_directed():
        raise InvalidInputError(f"The 'graph' of tree must be an undirected networkx.Graph. Got {type(graph).__name__}.")
    if graph.number_of_nodes() == 0 or not nx.is_tree(graph):
        raise InvalidInputError("The 'graph' of tree must be a tree (connected, acyclic, non-empty). "
                                "Use nx.minimum_spanning_tree(graph) or FiniteMetric on its shortest paths.")
    for u, v, data in graph.edges(data=True):
        w = data.get(weight, 1.0)
        if not np.isfinite(w) or w <= 0:
            raise InvalidInputError(f"Tree edge ({u!r}, {v!r}) has {weight} = {w}; edge lengths must be positive and finite.")
    nodes = list(graph.nodes) if nodes is None else list(nodes)
    index = {v: i for i, v in enumerate(nodes)}
    if len(index) != len(nodes) or any(v not in graph for v in nodes):
        raise InvalidInputError("The 'nodes' of tree must be distinct nodes of the graph.")
    d = np.zeros((len(nodes), len(nodes)))
    lengths = dict(nx.all_pairs_dijkstra_path_length(graph, weight=lambda u, v, e: e.get(weight, 1.0)))
    for i, u in enumerate(nodes):
        for j, v in enumerate(nodes):
            d[i, j] = lengths[u][v]
    return FiniteMetric(d, validate=False, kind="tree",
                        info={"graph": graph.copy(), "nodes": nodes, "weight": weight})


def euclidean(points: Any) -> FiniteMetric:
    """Euclidean distances between the rows of ``points`` (shape (n, dim), distinct rows)."""
    p = check_float_array("points", points, ndim=2, owner="euclidean", hint=VECTOR_HINT)
    from scipy.spatial.distance import cdist

    d = cdist(p, p)  # direct differences: no Gram-matrix cancellation
    np.fill_diagonal(d, 0.0)
    if p.shape[0] > 1 and (d + np.eye(len(d)) <= 0).any():
        i, j = map(int, np.argwhere(d + np.eye(len(d)) <= 0)[0])
        raise InvalidInputError(f"The 'points' of euclidean must be distinct. Rows {i} and {j} coincide; deduplicate them "
                                f"(np.unique(points, axis=0)).")
    return FiniteMetric(d, validate=False, kind="euclidean", info={"points": p.copy()})


METRIC_KINDS = ("uniform", "line", "star", "tree", "euclidean", "general")


def random_metric(kind: str, n: int, seed: int | None = None) -> FiniteMetric:
    """A random metric of a family, shared by tests, proofs_check and experiments.

    ``uniform``: all distances 1. ``line``: n points uniform in [0, n]. ``star``: leaf weights
    uniform in [0.5, 2]. ``tree``: a random recursive tree with edge lengths in [0.5, 2].
    ``euclidean``: n points uniform in the unit square (times n**0.5). ``general``: the
    shortest-path closure of a random complete graph with weights in [1, 2] (metric by
    construction, not tree-like). Other families (``hst``) are added by their packages.
    """
    import networkx as nx

    n = check_int("n", n, low=1, owner="random_metric")
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return uniform(n)
    if kind == "line":
        while True:
            x = rng.uniform(0, n, size=n)
            if len(np.unique(x)) == n:
                return line(x)
    if kind == "star":
        return weighted_star(rng.uniform(0.5, 2.0, size=n))
    if kind == "tree":
        g = nx.Graph()
        g.add_node(0)
        for v in range(1, n):
            g.add_edge(int(rng.integers(0, v)), v, weight=float(rng.uniform(0.5, 2.0)))
        return tree(g, nodes=list(range(n)))
    if kind == "euclidean":
        return euclidean(rng.uniform(0, 1, size=(n, 2)) * np.sqrt(n))
    if kind == "general":
        from scipy.sparse.csgraph import shortest_path

        w = rng.uniform(1.0, 2.0, size=(n, n))
        w = np.triu(w, 1)
        w = w + w.T
        d = shortest_path(w, method="FW", directed=False)
        return FiniteMetric(d, kind="general")
    if kind == "hst":
        from ..mts import hst as _hst  # provided by the MTS package

        return _hst.random_hst_metric(n, seed=int(rng.integers(0, 2**31 - 1)))
    from .._validation import check_choice

    check_choice("kind", kind, METRIC_KINDS + ("hst",), owner="random_metric")
    raise AssertionError  # pragma: no cover
