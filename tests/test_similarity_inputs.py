"""Bad input raises InvalidInputError with a fix-it message, one test per rejection; state survives."""

import numpy as np
import pytest

import online_algs
from online_algs.exceptions import InvalidInputError
from online_algs.similarity import (ACAI, BruteForceIndex, Datastore, Duel, FaissFlatIndex, QLRUDeltaC, RndLRU, SimLRU,
                                    best_static, dynamic_optimum, make_index, serving_cost)


@pytest.fixture
def ds():
    rng = np.random.default_rng(0)
    return Datastore(rng.normal(size=(10, 3)), k=2, fetch_cost=1.0)


def test_query_of_wrong_dimension(ds):
    with pytest.raises(InvalidInputError, match="must have 3 columns"):
        online_algs.run(SimLRU(ds, 3), np.zeros((5, 4)))


def test_single_query_of_wrong_dimension_in_serve(ds):
    alg = SimLRU(ds, 3)
    alg.reset()
    with pytest.raises(InvalidInputError, match="dimension 3"):
        alg.serve(np.zeros(2))


def test_query_with_nan(ds):
    q = np.zeros((4, 3))
    q[2, 1] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        online_algs.run(SimLRU(ds, 3), q)


def test_state_unchanged_after_rejected_serve(ds):
    alg = SimLRU(ds, 3)
    alg.reset()
    alg.serve(np.zeros(3))
    before = alg.state
    n_idx = len(alg._index)
    with pytest.raises(InvalidInputError):
        alg.serve(np.array([0.0, np.nan, 0.0]))
    assert alg.state == before and len(alg._index) == n_idx == len(before)


def test_k_larger_than_capacity(ds):
    with pytest.raises(InvalidInputError, match="must be >= k = 2"):
        online_algs.run(SimLRU(ds, 1), np.zeros((3, 3)))


def test_capacity_above_catalog_size(ds):
    with pytest.raises(InvalidInputError, match="<= the catalog size N = 10"):
        online_algs.run(ACAI(ds, 11), np.zeros((3, 3)))


@pytest.mark.parametrize("cls", [BruteForceIndex, FaissFlatIndex])
def test_unknown_ids_on_eviction_leave_index_unchanged(cls):
    idx = cls(2)
    idx.add([1, 2, 3], np.eye(3)[:, :2])
    with pytest.raises(InvalidInputError, match="not in the index: \\[9\\]"):
        idx.remove([2, 9])
    assert len(idx) == 3 and idx.contains([1, 2, 3]).all()
    assert idx.search([[0.0, 1.0]], 1)[1][0, 0] == 2


@pytest.mark.parametrize("cls", [BruteForceIndex, FaissFlatIndex])
def test_duplicate_id_on_insert_leaves_index_unchanged(cls):
    idx = cls(2)
    idx.add([1], [[0.0, 0.0]])
    with pytest.raises(InvalidInputError, match="already in the index"):
        idx.add([5, 1], [[1.0, 1.0], [2.0, 2.0]])
    assert len(idx) == 1 and not idx.contains([5])[0]


def test_index_insert_wrong_dimension():
    idx = BruteForceIndex(2)
    with pytest.raises(InvalidInputError, match="must have 2 columns"):
        idx.add([0], [[1.0, 2.0, 3.0]])
    assert len(idx) == 0


def test_index_insert_nan_vector():
    idx = FaissFlatIndex(2)
    with pytest.raises(InvalidInputError, match="NaN"):
        idx.add([0], [[1.0, np.nan]])
    assert len(idx) == 0


def test_catalog_with_nan():
    with pytest.raises(InvalidInputError, match="NaN"):
        Datastore(np.array([[0.0, np.nan], [1.0, 1.0]]))


def test_k_above_catalog_size_in_datastore():
    with pytest.raises(InvalidInputError, match="'k' parameter of Datastore"):
        Datastore(np.zeros((3, 2)) + np.arange(3)[:, None], k=4)


def test_negative_fetch_cost():
    with pytest.raises(InvalidInputError, match="fetch_cost"):
        Datastore(np.eye(3), fetch_cost=-1.0)


def test_unknown_metric_name():
    with pytest.raises(InvalidInputError, match="'metric' parameter"):
        Datastore(np.eye(3), metric="hamming")


@pytest.mark.parametrize("f, match", [
    (lambda q, V: 1.0, r"shape \(3,\).*Got shape \(\)"),
    (lambda q, V: np.ones((len(V), 1)), r"shape \(3,\).*Got shape \(3, 1\)"),
    (lambda q, V: -np.ones(len(V)), "finite non-negative"),
    (lambda q, V: np.full(len(V), np.nan), "finite non-negative"),
    (lambda q, V: "far", "real dissimilarities"),
])
def test_metric_callable_with_wrong_output_is_rejected(f, match):
    # UAT 8: a scalar-returning metric used to be broadcast silently
    cat = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(InvalidInputError, match="'metric' callable.*" + match):
        Datastore(cat, k=3, fetch_cost=0.1, metric=f)
    with pytest.raises(InvalidInputError, match="'metric' callable"):
        serving_cost(cat[0], {1, 2}, cat, 2, 0.5, metric=f)


def test_metric_callable_checked_on_every_call():
    cat = np.random.default_rng(0).normal(size=(10, 3))
    calls = []

    def late(q, V):  # right on the constructor's probe, wrong afterwards
        calls.append(1)
        return np.abs(V - q).sum(axis=1) if len(calls) == 1 else np.abs(V - q).sum()

    ds = Datastore(cat, k=2, fetch_cost=0.1, metric=late)
    with pytest.raises(InvalidInputError, match=r"'metric' callable \(late\) must return shape"):
        online_algs.run(SimLRU(ds, 3), cat[:4] + 0.01)


def test_faiss_remote_with_non_euclidean_metric():
    with pytest.raises(InvalidInputError, match="Euclidean distances only"):
        Datastore(np.eye(3), metric="cosine", remote_index="faiss-flat")


def test_unknown_index_kind():
    with pytest.raises(InvalidInputError, match="index kind"):
        make_index("hnsw", 3)


def test_policy_needs_a_datastore():
    with pytest.raises(InvalidInputError, match="must be an online_algs.similarity.Datastore"):
        online_algs.run(SimLRU(np.eye(3), 2), np.zeros((2, 3)))


def test_bad_cache_index_choice(ds):
    with pytest.raises(InvalidInputError, match="cache_index"):
        online_algs.run(SimLRU(ds, 3, cache_index="ivf"), np.zeros((2, 3)))


def test_qlru_q_out_of_range(ds):
    with pytest.raises(InvalidInputError, match="'q' parameter"):
        online_algs.run(QLRUDeltaC(ds, 3, q=0.0), np.zeros((2, 3)))


def test_rndlru_beta_scale_nonpositive(ds):
    with pytest.raises(InvalidInputError, match="beta_scale"):
        online_algs.run(RndLRU(ds, 3, beta_scale=0.0), np.zeros((2, 3)))


def test_duel_length_zero(ds):
    with pytest.raises(InvalidInputError, match="duel_length"):
        online_algs.run(Duel(ds, 3, duel_length=0), np.zeros((2, 3)))


def test_acai_bad_rounding(ds):
    with pytest.raises(InvalidInputError, match="rounding"):
        online_algs.run(ACAI(ds, 3, rounding="madow"), np.zeros((2, 3)))


def test_acai_negative_eta(ds):
    with pytest.raises(InvalidInputError, match="'eta' parameter"):
        online_algs.run(ACAI(ds, 3, eta=-0.1), np.zeros((2, 3)))


def test_acai_n_candidates_below_k(ds):
    with pytest.raises(InvalidInputError, match="n_candidates"):
        online_algs.run(ACAI(ds, 3, n_candidates=1), np.zeros((2, 3)))


def test_serving_cost_cached_id_out_of_range():
    with pytest.raises(InvalidInputError, match="cached_ids"):
        serving_cost([0.0, 0.0], {5}, np.eye(2), 1, 1.0)


def test_serving_cost_query_dimension():
    with pytest.raises(InvalidInputError, match="catalog's dimension 2"):
        serving_cost([0.0, 0.0, 0.0], set(), np.eye(2), 1, 1.0)


def test_best_static_exact_too_large(ds):
    with pytest.raises(InvalidInputError, match="method='greedy'"):
        best_static(ds, np.zeros((2, 3)), 5, method="exact", max_subsets=10)


def test_dynamic_optimum_too_many_states():
    ds = Datastore(np.random.default_rng(0).normal(size=(40, 2)), k=1)
    with pytest.raises(InvalidInputError, match="MAX_STATES"):
        dynamic_optimum(ds, np.zeros((2, 2)), 6)


def test_slot_index_full():
    from online_algs.similarity import FaissSlotIndex

    idx = FaissSlotIndex(2, 1)
    idx.add([3], [[0.0, 0.0]])
    with pytest.raises(InvalidInputError, match="free slots"):
        idx.add([4], [[1.0, 1.0]])
    assert len(idx) == 1 and idx.contains([3])[0]


def test_warm_with_more_ids_than_capacity(ds):
    alg = SimLRU(ds, 3)
    alg.reset()
    with pytest.raises(InvalidInputError, match="at most capacity=3"):
        alg.warm([0, 1, 2, 3])
    assert alg.state == frozenset() and len(alg._index) == 0


def test_warm_with_unknown_catalog_id(ds):
    alg = SimLRU(ds, 3)
    alg.reset()
    with pytest.raises(InvalidInputError, match="ids"):
        alg.warm([0, 42])
    assert alg.state == frozenset()


@pytest.mark.parametrize("make", [lambda ds: SimLRU(ds, 3), lambda ds: ACAI(ds, 3, horizon=5, seed=0)])
def test_run_after_warm_warns_that_the_warm_start_is_discarded(ds, make):
    # UAT 17: warm() then run() used to throw the warm start away silently
    import warnings

    alg = make(ds)
    alg.reset()
    alg.warm([0, 1, 2])
    with pytest.warns(UserWarning, match=r"discards the warm start.*serve\(query\)") as rec:
        online_algs.run(alg, np.zeros((5, 3)))
    assert rec[0].filename == __file__  # points at the run() call
    # the documented way: reset, warm, serve yourself; no warning on a later reset
    alg.reset()
    alg.warm([0, 1, 2])
    assert alg.state == frozenset([0, 1, 2])
    costs = [alg.serve(q) for q in np.zeros((2, 3))]
    assert len(costs) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        alg.reset()


def test_gain_learner_policy_needs_a_learner(ds):
    from online_algs.similarity import GainLearnerPolicy

    with pytest.raises(InvalidInputError, match="caching learner"):
        online_algs.run(GainLearnerPolicy(ds, 3, learner="OMD"), np.zeros((2, 3)))


def test_gain_learner_policy_learner_of_wrong_size(ds):
    from online_algs.caching.learners import OMD
    from online_algs.similarity import GainLearnerPolicy

    with pytest.raises(InvalidInputError, match="fractional cache of 10 items"):
        online_algs.run(GainLearnerPolicy(ds, 3, OMD(n_items=12, capacity=3)), np.zeros((2, 3)))


def test_functions_name_themselves_and_vector_hints_do_not_speak_of_costs(ds):
    # UAT 18: serving_cost reported "'cached_ids' argument of answer"; NaN vectors got "replace missing costs"
    cat = ds.catalog
    with pytest.raises(InvalidInputError, match=r"'cached_ids' argument of serving_cost.*catalog row indices 0\.\.9"):
        serving_cost(cat[0], {1, 42}, cat, 2, 0.5)
    bad = np.array(cat)
    bad[1, 1] = np.nan
    for call in (lambda: Datastore(bad), lambda: online_algs.run(SimLRU(ds, 3), bad[:3]),
                 lambda: serving_cost(bad[1], {0}, cat, 2, 0.5)):
        with pytest.raises(InvalidInputError, match="NaN") as e:
            call()
        assert "costs" not in str(e.value) and "missing coordinates" in str(e.value)
