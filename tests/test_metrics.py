import networkx as nx
import numpy as np
import pytest
from hypothesis import given, strategies as st

from online_algs.exceptions import InvalidInputError
from online_algs.metrics import (METRIC_KINDS, FiniteMetric, euclidean, line, random_metric, tree, uniform,
                                 weighted_star)
from online_algs.testing.strategies import metrics


def _is_metric(d, tol=1e-9):
    n = len(d)
    scale = max(d.max(), 1.0)
    if not np.allclose(d, d.T) or np.any(np.diag(d) != 0) or np.any(d < 0):
        return False
    for k in range(n):
        if np.any(d > d[:, [k]] + d[[k], :] + tol * scale):
            return False
    return True


@given(metrics(max_n=10))
def test_random_metrics_are_metrics(m):
    assert _is_metric(m.d)
    assert m.n == len(m.d)
    assert m.min_distance > 0


def test_constructors():
    assert uniform(4).d[0, 3] == 1.0 and uniform(4).kind == "uniform"
    s = weighted_star([1.0, 2.0, 3.0])
    assert s.d[0, 2] == 4.0 and s.d[1, 1] == 0.0
    ln = line([0.0, 2.0, 5.0])
    assert ln.d[0, 2] == 5.0 and ln.info["positions"].tolist() == [0.0, 2.0, 5.0]
    g = nx.Graph()
    g.add_edge("a", "b", weight=2.0)
    g.add_edge("b", "c", weight=3.0)
    t = tree(g)
    assert t.d[0, 2] == 5.0 and t.kind == "tree"
    e = euclidean([[0, 0], [3, 4]])
    assert e.d[0, 1] == pytest.approx(5.0)


@pytest.mark.parametrize("matrix, words", [
    ([[0, 1], [2, 0]], ["symmetric", "d[0,1]"]),
    ([[1, 1], [1, 0]], ["diagonal", "d[0,0]"]),
    ([[0, -1], [-1, 0]], ["non-negative", "d[0,1]"]),
    ([[0, 1, 5], [1, 0, 1], [5, 1, 0]], ["triangle", "(i, j, k) = (0, 2, 1)"]),
    ([[0, 0], [0, 0]], ["positive distance", "allow_zero"]),
    ([[0, 1, 2], [1, 0, 1]], ["square"]),
    ([[0, np.nan], [np.nan, 0]], ["NaN"]),
    ([[0, np.inf], [np.inf, 0]], ["finite"]),
])
def test_bad_matrices_rejected_with_indices(matrix, words):
    with pytest.raises(InvalidInputError) as err:
        FiniteMetric(matrix)
    for w in words:
        assert w in str(err.value)


def test_allow_zero_pseudometric():
    m = FiniteMetric([[0, 0], [0, 0]], allow_zero=True)
    assert m.n == 2


def test_bad_constructor_args():
    with pytest.raises(InvalidInputError, match="'n' parameter of uniform must be an int"):
        uniform(0)
    with pytest.raises(InvalidInputError, match="distinct"):
        line([1.0, 1.0])
    with pytest.raises(InvalidInputError, match="positive"):
        weighted_star([1.0, 0.0])
    with pytest.raises(InvalidInputError, match="tree"):
        tree(nx.cycle_graph(4))
    with pytest.raises(InvalidInputError, match="distinct"):
        euclidean([[0, 0], [0, 0]])
    with pytest.raises(InvalidInputError, match="kind"):
        random_metric("nope", 3)


def test_metric_is_immutable_and_picklable():
    import pickle

    m = random_metric("general", 5, seed=1)
    with pytest.raises(ValueError):
        m.d[0, 1] = 3.0
    m2 = pickle.loads(pickle.dumps(m))
    assert m2 == m and m2.kind == m.kind


@pytest.mark.parametrize("kind", METRIC_KINDS)
def test_random_metric_seeded(kind):
    assert random_metric(kind, 6, seed=3) == random_metric(kind, 6, seed=3)
