"""Request families and adversaries."""

import numpy as np
import pytest

from online_algs import run
from online_algs.kserver import (DoubleCoverage, GreedyKServer, WorkFunctionKServer, clustered_requests,
                                 cruel_requests, dc_hk_line_family, drifting_requests, metric_kinds,
                                 offline_optimum, random_requests)
from online_algs.metrics import random_metric


@pytest.mark.parametrize("gen", [random_requests, clustered_requests, drifting_requests])
@pytest.mark.parametrize("kind", ["line", "tree", "general", "uniform", "star", "euclidean"])
def test_generators_in_range_and_seeded(gen, kind):
    m = random_metric(kind, 9, seed=1)
    a = gen(m, 200, seed=4)
    b = gen(m, 200, seed=4)
    c = gen(m, 200, seed=5)
    assert a.dtype == np.int64 and a.shape == (200,)
    assert a.min() >= 0 and a.max() < 9
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_clustered_and_drifting_are_local():
    m = random_metric("line", 40, seed=2)
    r = random_requests(m, 2000, seed=1)
    c = clustered_requests(m, 2000, seed=1, n_clusters=2, p_switch=0.01)
    dr = drifting_requests(m, 2000, seed=1, window=3, p_move=0.1)
    step = lambda s: float(np.mean(m.d[s[:-1], s[1:]]))  # noqa: E731
    assert step(c) < 0.5 * step(r) and step(dr) < 0.5 * step(r)
    assert len(np.unique(c)) <= 2 * max(2, 40 // 4)


@pytest.mark.parametrize("cls", [DoubleCoverage, WorkFunctionKServer, GreedyKServer])
def test_cruel_always_requests_an_uncovered_point(cls):
    m = random_metric("line", 6, seed=3)
    init = [0, 2, 4]
    seq = cruel_requests(cls(m, init), m, 100)
    assert set(np.unique(seq)) <= {0, 1, 2, 4}
    alg = cls(m, init)
    alg.reset()
    for r in seq:
        assert int(r) not in alg.covered_points()
        _, mv = alg.serve(r)
        assert mv > 0


def test_cruel_ratio_close_to_k():
    m = random_metric("tree", 6, seed=7)
    init = [0, 1, 2]
    seq = cruel_requests(WorkFunctionKServer(m, init), m, 600)
    ratio = run(WorkFunctionKServer(m, init), seq).total_cost / offline_optimum(m, seq, init, method="dp").value
    assert 2.8 <= ratio <= 3.2


def test_hk_family_identity():
    m, req, dinit, oinit = dc_hk_line_family(8, 6)
    alg = run(DoubleCoverage(m, dinit), req).total_cost
    opt = offline_optimum(m, req, oinit).value
    assert alg == pytest.approx(4 / 3 * opt + 8 / 3, rel=1e-12)
    assert alg / opt > 4 / 3


def test_metric_kinds_lists_the_random_metric_families():
    kinds = metric_kinds()
    assert {"line", "tree", "general"} <= set(kinds)
    for k in kinds:
        random_metric(k, 5, seed=0)
