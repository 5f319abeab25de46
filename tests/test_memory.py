import numpy as np
import pytest

import online_algs
from online_algs.exceptions import InvalidInputError
from online_algs.memory import (LambdaHedge, MemoryAugmentedClassifier, SmallModel, cnn, drop3, enn,
                                evaluate_static, knn_distribution, trim)
from online_algs.memory.synthetic import gaussian_stream


@pytest.fixture(scope="module")
def stream():
    return gaussian_stream(n_stream=120, seed=4)


def naive_knn(q, keys, labels, C, k, tau):
    d2 = [float(((q - x) ** 2).sum()) for x in keys]
    order = sorted(range(len(keys)), key=lambda i: (d2[i], i))[:k]
    p = np.zeros(C)
    for i in order:
        p[labels[i]] += np.exp(-d2[i] / tau)
    return p / p.sum()


def test_knn_distribution_matches_naive():
    rng = np.random.default_rng(0)
    for _ in range(20):
        keys = rng.normal(size=(15, 3))
        labels = rng.integers(0, 4, 15)
        q = rng.normal(size=3)
        p, nb = knn_distribution(q, keys, labels, 4, 5, 0.7)
        np.testing.assert_allclose(p, naive_knn(q, keys, labels, 4, 5, 0.7), rtol=1e-12, atol=1e-15)
        assert len(nb) == 5


def test_lambda_zero_is_model(stream):
    model, F, y = stream
    alg = MemoryAugmentedClassifier(model, 10, "fifo", k=3, tau=1.0, lam=0.0, seed=0)
    res = online_algs.run(alg, (F, y))
    assert res.total_gain == float((model.predict_proba_features(F).argmax(1) == y).sum())


def test_datastore_helps_under_shift(stream):
    model, F, y = stream
    base = online_algs.run(MemoryAugmentedClassifier(model, 10, "none", seed=0), (F, y)).total_gain
    full = online_algs.run(MemoryAugmentedClassifier(model, 10, "full", k=3, tau=1.0, seed=0), (F, y)).total_gain
    assert full > base


def test_lambda_hedge_moves_toward_better_component():
    h = LambdaHedge()
    for _ in range(50):
        h.update(p_model_y=0.1, p_knn_y=0.9)
    assert h.lam > 0.9


def test_capacity_respected_and_fetches_counted(stream):
    model, F, y = stream
    for pol in ("fifo", "lru", "reservoir", "error", "qlru", "omd"):
        alg = MemoryAugmentedClassifier(model, 7, pol, k=3, tau=1.0, seed=2)
        res = online_algs.run(alg, (F, y), states=True)
        assert all(len(s) <= 7 for s in res.states)
        assert res.info["fetches"] >= 1


def test_omd_regret_info(stream):
    model, F, y = stream
    res = online_algs.run(MemoryAugmentedClassifier(model, 5, "omd", k=3, tau=1.0, seed=2), (F, y))
    assert res.info["best_static_surrogate"] >= 0
    assert np.isfinite(res.info["surrogate_regret"])


def test_reduction_baselines(stream):
    model, F, y = stream
    keep = cnn(F, y, seed=0)
    # CNN's subset is consistent: 1-NN over it classifies every example right
    d = ((F[:, None, :] - F[None, keep, :]) ** 2).sum(-1)
    assert np.all(y[keep[d.argmin(1)]] == y)
    e = enn(F, y, k=3)
    dr = drop3(F, y, k=3)
    assert set(dr) <= set(e) and len(dr) <= len(e) <= len(y)
    assert len(trim(e, 5, seed=1)) == 5
    acc = evaluate_static(model, F, y, dr, k=3, tau=1.0)
    assert 0 <= acc["accuracy"] <= 1 and acc["size"] == len(dr)


def test_bad_input(stream):
    model, F, y = stream
    with pytest.raises(InvalidInputError, match="'capacity'"):
        online_algs.run(MemoryAugmentedClassifier(model, 0), (F, y))
    with pytest.raises(InvalidInputError, match="labels|<= 2"):
        online_algs.run(MemoryAugmentedClassifier(model, 3), (F, np.full(len(y), 7)))
    with pytest.raises(InvalidInputError, match="dimension"):
        online_algs.run(MemoryAugmentedClassifier(model, 3), (F[:, :2], y))
    with pytest.raises(InvalidInputError, match="policy"):
        online_algs.run(MemoryAugmentedClassifier(model, 3, "nope"), (F, y))
    with pytest.raises(InvalidInputError, match="labelled stream"):
        online_algs.run(MemoryAugmentedClassifier(model, 3), F)
    with pytest.raises(InvalidInputError, match="fitted"):
        online_algs.run(MemoryAugmentedClassifier(object(), 3), (F, y))
    with pytest.raises(InvalidInputError, match="lam"):
        online_algs.run(MemoryAugmentedClassifier(model, 3, lam=1.5), (F, y))
    with pytest.raises(InvalidInputError, match="features"):
        SmallModel(2).fit(np.zeros((10, 3)), np.zeros(10, dtype=int)).features(np.zeros((2, 5)))


def test_static_surrogate_best_is_the_omd_runs_comparator(stream):
    # both sum candidate_gains over the stream: the top-h of the run's cumulative gains is the static best
    from online_algs.memory.static import static_surrogate_best

    model, F, y = stream
    alg = MemoryAugmentedClassifier(model, 6, "omd", k=3, tau=1.0, seed=2)
    res = online_algs.run(alg, (F, y))
    idx = static_surrogate_best(model, F, y, 6, k=3, tau=1.0)
    assert len(idx) == 6
    assert alg._omd["G"][idx].sum() == pytest.approx(res.info["best_static_surrogate"], rel=1e-12)


def test_static_baselines_reject_bad_input(stream):
    # k = 0, an out-of-range index or a label beyond the model's classes crashed with IndexError; lam = 2 and
    # tau <= 0 were silently accepted
    from online_algs.memory.static import static_surrogate_best

    model, F, y = stream
    with pytest.raises(InvalidInputError, match="'k' parameter of evaluate_static must be an int >= 1"):
        evaluate_static(model, F, y, [0, 1], k=0)
    with pytest.raises(InvalidInputError, match="'tau' parameter of evaluate_static"):
        evaluate_static(model, F, y, [0, 1], tau=0.0)
    with pytest.raises(InvalidInputError, match="'lam' parameter of evaluate_static"):
        evaluate_static(model, F, y, [0, 1], lam=2.0)
    with pytest.raises(InvalidInputError, match="'store_idx' argument of evaluate_static must hold ids <= 119"):
        evaluate_static(model, F, y, [0, 999])
    with pytest.raises(InvalidInputError, match="labels < n_classes"):
        evaluate_static(model, F, np.full(len(y), 50), [0, 1])
    with pytest.raises(InvalidInputError, match="'capacity' parameter of static_surrogate_best"):
        static_surrogate_best(model, F, y, 0)
    with pytest.raises(InvalidInputError, match="'tau' parameter of static_surrogate_best"):
        static_surrogate_best(model, F, y, 3, tau=-1.0)


def test_lambda_hedge_and_cnn_reject_bad_input(stream):
    model, F, y = stream
    with pytest.raises(InvalidInputError, match="'grid' argument of LambdaHedge must hold lambdas in \\[0, 1\\]"):
        LambdaHedge(grid=[0.0, 2.0])
    with pytest.raises(InvalidInputError, match="'grid' argument of LambdaHedge must not be empty"):
        LambdaHedge(grid=[])
    with pytest.raises(InvalidInputError, match="'seed' parameter of cnn"):
        cnn(F, y, seed=-1)


def test_mnist_domains_unknown_shift_names_mnist_domains():
    # UAT 18: the message named the internal apply_shift
    from online_algs.memory.shifts import mnist_domains

    with pytest.raises(InvalidInputError, match=r"'shift' parameter of mnist_domains must be one of"):
        mnist_domains("foo")


def test_classifier_label_out_of_range_speaks_of_classes(stream):
    # UAT 18: the hint said "raise n_items (or the number of points)" for class labels
    model, F, y = stream
    bad = y.copy()
    bad[3] = model.n_classes_
    with pytest.raises(InvalidInputError, match=r"'y' argument of MemoryAugmentedClassifier.*class indices") as e:
        online_algs.run(MemoryAugmentedClassifier(model, 10, "fifo", seed=0), (F, bad))
    assert "n_items" not in str(e.value)
    Fn = F.copy()
    Fn[2, 0] = np.nan
    with pytest.raises(InvalidInputError, match="NaN") as e:
        online_algs.run(MemoryAugmentedClassifier(model, 10, "fifo", seed=0), (Fn, y))
    assert "costs" not in str(e.value)
