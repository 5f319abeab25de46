"""The generic contract suite (river / scikit-learn style).

Every concrete algorithm class of the library is discovered (``online_algs.import_all``)
and checked on the ``(params, sequence)`` cases it declares in ``_contract_cases``:
repr and clone, pickling, reset (a second run gives the same result), same seed same
result, costs non-negative and finite, states feasible, inputs not mutated, the batch
fast path equal to the step-by-step protocol loop, and ALG >= OPT where an offline
optimum exists. A class added later is covered without a new test file.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import online_algs
from online_algs.base import CommitThenLearn, RequestThenMove, algorithm_registry

online_algs.import_all()
CLASSES = sorted(algorithm_registry().items())


def _cases():
    out = []
    for name, cls in CLASSES:
        cases = list(cls._contract_cases())
        assert cases, f"{name} declares no contract cases"
        for i, (params, seq) in enumerate(cases):
            out.append(pytest.param(cls, params, seq, id=f"{cls.__name__}-{i}"))
    return out


CASES = _cases()


def _same(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _fingerprint(res):
    return (res.steps, res.service_cost, res.movement_cost, res.total_gain, res.total_loss, res.hits, res.misses)


def test_registry_not_empty():
    assert len(CLASSES) >= 1


def test_every_class_has_a_protocol_and_theorem_id():
    for name, cls in CLASSES:
        assert issubclass(cls, (RequestThenMove, CommitThenLearn)), name
        doc = cls.__doc__ or ""
        assert "Theorem" in doc or "theorem" in doc, f"{name}: docstring must cite its guarantee's theorem id"


@pytest.mark.parametrize("cls, params, seq", CASES)
def test_repr_clone_pickle(cls, params, seq):
    alg = cls(**params)
    assert cls.__name__ in repr(alg)
    c = alg.clone()
    assert c is not alg and type(c) is cls
    assert set(c.get_params()) == set(params) | set(c.get_params())
    r1 = online_algs.run(alg, seq)
    r2 = online_algs.run(pickle.loads(pickle.dumps(alg)), seq)
    if not cls.randomized or params.get("seed") is not None:
        assert _fingerprint(r1) == pytest.approx(_fingerprint(r2), nan_ok=True) or _fingerprint(r1) == _fingerprint(r2)


@pytest.mark.parametrize("cls, params, seq", CASES)
def test_reset_and_seed_determinism(cls, params, seq):
    if cls.randomized:
        assert "seed" in cls._param_names(), f"{cls.__name__} is randomized but takes no seed"
        params = {**params, "seed": params.get("seed", 7) if params.get("seed") is not None else 7}
    alg = cls(**params)
    r1 = online_algs.run(alg, seq)
    r2 = online_algs.run(alg, seq)          # same object again: reset() must rebuild state
    r3 = online_algs.run(alg.clone(), seq)  # a clone with the same seed
    assert _fingerprint(r1) == _fingerprint(r2) == _fingerprint(r3)
    assert _same(r1.states, r3.states)


@pytest.mark.parametrize("cls, params, seq", CASES)
def test_costs_finite_nonnegative_states_feasible(cls, params, seq):
    alg = cls(**params)
    res = online_algs.run(alg, seq, series=True, states=True)
    assert res.steps == len(alg._validate_sequence(seq))
    if issubclass(cls, RequestThenMove):
        assert np.isfinite(res.service_cost) and res.service_cost >= 0
        assert np.isfinite(res.movement_cost) and res.movement_cost >= 0
        assert np.all(res.service >= 0) and np.all(res.movement >= 0)
        assert np.sum(res.service) == pytest.approx(res.service_cost, rel=1e-9, abs=1e-9)
        assert np.sum(res.movement) == pytest.approx(res.movement_cost, rel=1e-9, abs=1e-9)
    else:
        total = res.total_gain if cls.objective == "gain" else res.total_loss
        assert np.isfinite(total)
        assert np.all(np.isfinite(res.gain))
        assert np.sum(res.gain) == pytest.approx(total, rel=1e-9, abs=1e-9)
    assert res.states is not None and len(res.states) == len(res.state_steps) >= 1
    for s in res.states:
        assert alg.check_state(s), f"infeasible state {s!r}"


@pytest.mark.parametrize("cls, params, seq", CASES)
def test_inputs_not_mutated(cls, params, seq):
    seq_copy = copy.deepcopy(seq)
    params_copy = copy.deepcopy(params)
    online_algs.run(cls(**params), seq)
    assert _same(seq, seq_copy) if not isinstance(seq, np.ndarray) else np.array_equal(seq, seq_copy)
    for k, v in params_copy.items():
        if isinstance(v, np.ndarray):
            assert np.array_equal(v, params[k])


@pytest.mark.parametrize("cls, params, seq", CASES)
def test_fast_path_equals_protocol_loop(cls, params, seq):
    if not hasattr(cls, "_run_batch"):
        pytest.skip("no batch fast path")
    if cls.randomized:
        params = {**params, "seed": 11}
    fast = online_algs.run(cls(**params), seq, series=True, states=True)
    slow = online_algs.run(cls(**params), seq, series=True, states=True, fast=False)
    assert fast.steps == slow.steps
    if issubclass(cls, RequestThenMove):
        np.testing.assert_allclose(fast.service, slow.service, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(fast.movement, slow.movement, rtol=1e-9, atol=1e-9)
    else:
        np.testing.assert_allclose(fast.gain, slow.gain, rtol=1e-7, atol=1e-9)
    assert fast.hits == slow.hits and fast.misses == slow.misses


@pytest.mark.parametrize("cls, params, seq", CASES)
def test_alg_at_least_opt(cls, params, seq):
    alg = cls(**params)
    alg.reset()
    opt = alg._contract_opt(alg._validate_sequence(seq))
    if opt is None:
        pytest.skip("no offline optimum for this family")
    res = online_algs.run(alg, seq)
    if issubclass(cls, RequestThenMove) or cls.objective == "loss":
        assert res.total_cost >= opt - 1e-7 * max(1.0, abs(opt))
    else:
        assert res.total_gain <= opt + 1e-7 * max(1.0, abs(opt))
