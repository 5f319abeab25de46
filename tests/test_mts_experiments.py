"""MTS experiment and benchmark helpers: the ratio cell and the numpy references."""

from __future__ import annotations

import numpy as np
import pytest

import online_algs
from online_algs.metrics import random_metric
from online_algs.mts import WorkFunctionAlgorithm, offline_optimum, uniform_random_tasks


def test_numpy_references_equal_kernels():
    from experiments.bench_mts import numpy_dp, numpy_wfa

    m = random_metric("general", 12, seed=0)
    c = uniform_random_tasks(12, 60, seed=1, high=m.diameter)
    res = online_algs.run(WorkFunctionAlgorithm(m, start=3), c)
    states, total = numpy_wfa(np.asarray(m.d), c, 3)
    np.testing.assert_array_equal(res.states[1:], states)
    assert total == pytest.approx(res.total_cost, rel=1e-12)
    assert numpy_dp(np.asarray(m.d), c, 3) == pytest.approx(offline_optimum(m, c, start=3).value, rel=1e-12)


@pytest.mark.parametrize("family", ["random", "elementary", "cruel"])
def test_ratio_cell_rows(family):
    from experiments.mts_ratio import ALGORITHMS, cell

    rows = cell("uniform", 3, family, 60, 0, quick=True)
    names = {r["algorithm"] for r in rows}
    assert {"WFA", "Greedy", "RandomizedUniform"} <= names <= set(ALGORITHMS)
    for r in rows:
        assert r["opt"] > 0 and r["ratio"] >= 1 - 1e-9
        if r["algorithm"] == "WFA":
            C = 2 * (3 * 1.0 - 2 * 1.0)  # uniform(3), start 0: 2 * sum_s (max_x d(x, s) - d(0, s))
            assert r["alg_cost"] <= 5 * r["opt"] + C + 1e-9
    if family == "cruel":
        fams = {r["algorithm"]: r["task_family"] for r in rows}
        assert fams["WFA"] == "cruel" and fams["RandomizedUniform"] == "cruel(WFA)"


def test_ratio_cell_skips_uniform_only_algorithms_elsewhere():
    from experiments.mts_ratio import cell

    rows = cell("line", 4, "random", 40, 1, quick=True)
    names = {r["algorithm"] for r in rows}
    assert "RandomizedUniform" not in names and "WFA" in names
