"""The two protocols of online algorithms and the base class they share.

*request-then-move* (:class:`RequestThenMove`): metrical task systems, k-server, paging.
A request arrives; the algorithm moves to a new state and pays a movement cost plus the
service cost of the request in its new state. ``serve(request) -> (service, movement)``.

*commit-then-learn* (:class:`CommitThenLearn`): no-regret learners. The algorithm commits
to a decision (``predict()``), then the request is revealed and the decision earns its
gain (or pays its loss); the learner updates. ``update(request) -> gain_or_loss``.

Conventions shared by every algorithm (river / scikit-learn style):

* ``__init__`` only stores parameters, under their own names; ``get_params`` reads them back
  from the signature, so ``clone()`` and ``repr`` work without extra code.
* ``reset()`` validates the parameters and builds fresh state; :func:`online_algs.run`
  calls it before feeding a sequence, so the same object can be run many times.
* Randomized algorithms take ``seed`` (``None`` or a non-negative int); the same seed gives
  the same result, numba kernels included (see :func:`kernel_seed`).
* Every concrete class declares its contract test cases in ``_contract_cases()``; the
  generic suite in ``tests/test_contracts.py`` discovers every subclass and checks it.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, ClassVar, Iterable

import numpy as np

__all__ = ["OnlineAlgorithm", "RequestThenMove", "CommitThenLearn", "kernel_seed", "algorithm_registry"]

_REGISTRY: dict[str, type] = {}


def algorithm_registry() -> dict[str, type]:
    """Every concrete algorithm class imported so far, by qualified name."""
    return dict(_REGISTRY)


def kernel_seed(rng: np.random.Generator) -> int:
    """Draw a seed for numba's internal generator from a numpy Generator.

    Kernels call ``np.random.seed(s)`` first thing, which seeds numba's own per-thread
    generator, so a jitted loop is reproducible from the algorithm's ``seed``.
    """
    return int(rng.integers(0, 2**31 - 1))


class OnlineAlgorithm:
    """Base of every online algorithm. Not instantiated directly."""

    #: "request" (request-then-move) or "learn" (commit-then-learn)
    protocol: ClassVar[str] = ""
    #: True when the algorithm draws random numbers (then it takes a ``seed`` parameter)
    randomized: ClassVar[bool] = False
    #: what :func:`run` records when the caller does not say
    _record_defaults: ClassVar[dict] = {"series": True, "states": True}
    #: subclasses that are not algorithms set this in their own body
    _abstract: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("_abstract", False):
            _REGISTRY[f"{cls.__module__}.{cls.__qualname__}"] = cls

    # ----------------------------------------------------------------- params
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters, read back from attributes of the same name."""
        return {name: getattr(self, name) for name in self._param_names()}

    def clone(self, **overrides) -> "OnlineAlgorithm":
        """A fresh, un-run copy with the same parameters (deep-copied), optionally overridden."""
        params = copy.deepcopy(self.get_params())
        params.update(overrides)
        return type(self)(**params)

    def __repr__(self) -> str:
        parts = []
        for k, v in self.get_params().items():
            r = repr(v)
            if len(r) > 40:
                r = f"<{type(v).__name__}>"
            parts.append(f"{k}={r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    @property
    def name(self) -> str:
        return type(self).__name__

    # ------------------------------------------------------------- lifecycle
    def reset(self) -> None:  # pragma: no cover - abstract
        """Validate parameters and (re)build the state. Called by :func:`online_algs.run`."""
        raise NotImplementedError

    def _validate_sequence(self, sequence) -> Any:  # pragma: no cover - abstract
        """Check a whole input sequence once, before a run, and return it in canonical form."""
        raise NotImplementedError

    @property
    def state(self) -> Any:  # pragma: no cover - abstract
        """The current state (an immutable value or a fresh copy)."""
        raise NotImplementedError

    def check_state(self, state) -> bool:  # pragma: no cover - abstract
        """True when ``state`` is a feasible state of this instance (used by the contract tests)."""
        raise NotImplementedError

    def _finalize(self, result) -> None:
        """Hook called by :func:`run` at the end of a run to add family-specific fields."""

    # ------------------------------------------------------- contract tests
    @classmethod
    def _contract_cases(cls) -> Iterable[tuple[dict, Any]]:  # pragma: no cover - abstract
        """Small ``(params, sequence)`` pairs the generic contract suite runs this class on."""
        raise NotImplementedError

    def _contract_opt(self, sequence) -> float | None:
        """An offline optimum for ``sequence`` (cost for request algorithms, best gain for
        learners when it bounds every online decision), or None when none applies."""
        return None


class RequestThenMove(OnlineAlgorithm):
    """Request-then-move protocol: ``serve(request) -> (service_cost, movement_cost)``.

    A subclass may add a fast path ``_run_batch(sequence, series, states, thin)`` returning a
    :class:`~online_algs.run.RunResult`; :func:`run` uses it, and the contract suite checks
    that it agrees with the step-by-step ``serve`` loop (its slow, obviously correct twin).
    """

    protocol = "request"
    _abstract = True

    def serve(self, request) -> tuple[float, float]:  # pragma: no cover - abstract
        raise NotImplementedError


class CommitThenLearn(OnlineAlgorithm):
    """Commit-then-learn protocol: ``predict()`` commits, ``update(request)`` reveals.

    ``update`` returns the gain (``objective == "gain"``) or loss (``"loss"``) of the decision
    committed by the last ``predict()`` on ``request``, then learns from it.
    """

    protocol = "learn"
    objective: ClassVar[str] = "gain"
    _record_defaults = {"series": True, "states": False}
    _abstract = True

    def predict(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def update(self, request) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def state(self):
        return self.predict()
