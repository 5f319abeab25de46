"""Bad input raises InvalidInputError with a fix-it message: one test per rejection."""

import networkx as nx
import numpy as np
import pytest

from online_algs import run
from online_algs.exceptions import InvalidInputError
from online_algs.kserver import (DoubleCoverage, GreedyKServer, WorkFunctionKServer, cruel_requests,
                                 dc_hk_line_family, family_requests, offline_optimum, schedule_cost)
from online_algs.metrics import line, random_metric, uniform

M = line([0.0, 1.0, 3.0, 6.0, 7.0])


def test_initial_duplicates():
    with pytest.raises(InvalidInputError, match="distinct point indices"):
        run(DoubleCoverage(M, [1, 1]), [0])


def test_initial_out_of_range():
    with pytest.raises(InvalidInputError, match="'initial'.*<= 4"):
        run(WorkFunctionKServer(M, [0, 5]), [0])


def test_initial_negative():
    with pytest.raises(InvalidInputError, match="'initial'.*>= 0"):
        run(GreedyKServer(M, [-1, 2]), [0])


def test_initial_wrong_size_k_ge_n():
    with pytest.raises(InvalidInputError, match="k < n"):
        run(WorkFunctionKServer(M, [0, 1, 2, 3, 4]), [0])


def test_initial_empty():
    with pytest.raises(InvalidInputError, match="must not be empty"):
        run(DoubleCoverage(M, []), [0])


def test_initial_not_1d():
    with pytest.raises(InvalidInputError, match="1-d array"):
        offline_optimum(M, [0], [[0, 1]])


def test_requests_out_of_range():
    with pytest.raises(InvalidInputError, match="'requests'.*<= 4"):
        run(DoubleCoverage(M, [0, 1]), [0, 9])


def test_requests_not_integers():
    with pytest.raises(InvalidInputError, match="must hold integers"):
        run(WorkFunctionKServer(M, [0, 1]), [0.5, 1])


def test_offline_requests_out_of_range():
    with pytest.raises(InvalidInputError, match="'requests'"):
        offline_optimum(M, [7], [0, 1])


def test_offline_bad_method():
    with pytest.raises(InvalidInputError, match="'method'"):
        offline_optimum(M, [1], [0, 1], method="lp")


def test_dc_rejects_general_metric():
    with pytest.raises(InvalidInputError, match="line or a tree"):
        run(DoubleCoverage(uniform(5), [0, 1]), [2])


def test_dc_rejects_plain_matrix():
    with pytest.raises(InvalidInputError, match="line or a tree"):
        run(DoubleCoverage(np.array(M.d), [0, 1]), [2])


def test_metric_not_a_metric():
    with pytest.raises(InvalidInputError, match="not a valid metric"):
        run(GreedyKServer(np.array([[0.0, 1.0], [2.0, 0.0]]), [0]), [1])


def test_wfa_too_many_configurations():
    big = uniform(60)
    with pytest.raises(InvalidInputError, match="configurations"):
        run(WorkFunctionKServer(big, list(range(10))), [11])


def test_schedule_not_covering():
    with pytest.raises(InvalidInputError, match="does not cover"):
        schedule_cost(M, [2], [0, 1], [(0, 1)])


def test_schedule_wrong_length():
    with pytest.raises(InvalidInputError, match="one configuration per request"):
        schedule_cost(M, [2, 3], [0, 1], [(0, 2)])


def test_schedule_wrong_size():
    with pytest.raises(InvalidInputError, match="k = 2 distinct"):
        schedule_cost(M, [2], [0, 1], [(0, 1, 2)])


def test_cruel_bad_points():
    with pytest.raises(InvalidInputError, match="k \\+ 1"):
        cruel_requests(GreedyKServer(M, [0, 1]), M, 10, points=[0, 1])


def test_cruel_not_an_algorithm():
    with pytest.raises(InvalidInputError, match="request-then-move"):
        cruel_requests("dc", M, 10)


def test_family_unknown():
    with pytest.raises(InvalidInputError, match="'family'"):
        family_requests("zipf", M, 10)


def test_hk_family_odd_D():
    with pytest.raises(InvalidInputError, match="even"):
        dc_hk_line_family(7, 2)


def test_generator_bad_T():
    from online_algs.kserver import random_requests

    with pytest.raises(InvalidInputError, match="'T'"):
        random_requests(M, 0)


def test_harmonic_bad_seed():
    from online_algs.kserver import RandomKServer

    with pytest.raises(InvalidInputError, match="'seed'"):
        run(RandomKServer(M, [0, 1], seed=-3), [2])


def test_tree_metric_accepted_but_star_rejected():
    g = nx.path_graph(4)
    from online_algs.metrics import tree, weighted_star

    run(DoubleCoverage(tree(g), [0, 3]), [1, 2])
    with pytest.raises(InvalidInputError, match="kind 'star'"):
        run(DoubleCoverage(weighted_star([1.0, 2.0, 3.0]), [0, 1]), [2])


def test_random_metric_hst_or_line_ok():
    m = random_metric("line", 5, seed=0)
    assert run(GreedyKServer(m, [0, 1]), [2]).steps == 1
