"""Instance spaces for the adversary search.

A *problem* fixes an algorithm, an instance space and the comparison: a sequence is a list of
menu choices (ints in ``range(problem.menu_size)``); ``evaluate(seq)`` returns
``(ALG, OPT)``; ``start()`` / ``step(node, choice)`` build sequences one choice at a time with
ALG and OPT of the prefix kept incrementally (the algorithm is stepped through its own
``serve``; OPT by a work function where one exists, else recomputed on the prefix).
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = ["Node", "Problem", "PagingProblem", "MTSProblem", "KServerLineProblem", "ratio_of"]


def ratio_of(alg: float, opt: float) -> float:
    """ALG / OPT, with 0 when OPT = 0 (such instances say nothing about the ratio)."""
    return float(alg / opt) if opt > 1e-12 else 0.0


@dataclass
class Node:
    """A prefix under construction."""

    seq: list
    alg: float
    opt: float
    algo: Any = None          # the algorithm object after serving the prefix
    aux: Any = None           # OPT state (a work function) where incremental
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return ratio_of(self.alg, self.opt)


class Problem:
    name = "problem"
    menu_size = 0
    bound = float("inf")        # the theorem's upper bound on the ratio
    lower = 0.0                 # the best known lower bound
    algorithm = ""

    def params(self) -> dict:
        raise NotImplementedError

    def evaluate(self, seq) -> tuple[float, float]:
        raise NotImplementedError

    def start(self) -> Node:
        raise NotImplementedError

    def step(self, node: Node, choice: int) -> Node:
        raise NotImplementedError

    def ratio(self, seq) -> float:
        a, o = self.evaluate(seq)
        return ratio_of(a, o)


class PagingProblem(Problem):
    """A paging policy with capacity ``k`` on ``n_pages`` pages (default k + 1) against Belady.

    Theorem bound: k for deterministic policies (LRU, FIFO); lower bound k (Sleator & Tarjan 1985).
    """

    def __init__(self, policy_factory: Callable[[int], Any], k: int, n_pages: int | None = None, *,
                 name: str = "paging", algorithm: str = "LRU", bound: float | None = None):
        self.factory = policy_factory
        self.k = k
        self.n_pages = n_pages or k + 1
        self.menu_size = self.n_pages
        self.name = name
        self.algorithm = algorithm
        self.bound = float(k) if bound is None else bound
        self.lower = float(k)

    def params(self):
        return {"k": self.k, "n_pages": self.n_pages}

    def evaluate(self, seq):
        import online_algs
        from online_algs.caching import belady_misses

        trace = np.asarray(seq, dtype=np.int64)
        res = online_algs.run(self.factory(self.k), trace)
        return float(res.misses), float(belady_misses(trace, self.k))

    def start(self):
        alg = self.factory(self.k)
        alg.reset()
        alg._validate_sequence(np.arange(self.n_pages, dtype=np.int64))
        return Node([], 0.0, 0.0, algo=alg)

    def step(self, node, choice):
        from online_algs.caching import belady_misses

        alg = copy.deepcopy(node.algo)
        _, m = alg.serve(int(choice))
        seq = node.seq + [int(choice)]
        return Node(seq, node.alg + m, float(belady_misses(np.asarray(seq, dtype=np.int64), self.k)), algo=alg)


def _minplus_step(w: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Work-function step w'(s) = min_x w(x) + c(x) + d(x, s)."""
    return np.min((w + c)[:, None] + d, axis=0)


class MTSProblem(Problem):
    """An MTS algorithm on a metric, tasks from a menu of elementary tasks: cost ``eps`` on one
    state and 0 elsewhere (menu item i), plus the zero task (menu item n) if ``zero_task``.

    OPT is kept incrementally by the work function. Theorem bound: 2n - 1 (WFA, Borodin, Linial,
    Saks 1992); lower bound 2n - 1 for deterministic algorithms.
    """

    def __init__(self, metric, alg_factory: Callable[[Any], Any], eps: float = 0.5, *, zero_task: bool = False,
                 name: str = "mts", algorithm: str = "WorkFunctionAlgorithm", bound: float | None = None,
                 start: int = 0):
        self.metric = metric
        self.factory = alg_factory
        self.eps = eps
        self.n = metric.n
        self.zero_task = zero_task
        self.menu_size = self.n + (1 if zero_task else 0)
        self.name = name
        self.algorithm = algorithm
        self.bound = float(2 * self.n - 1) if bound is None else bound
        self.lower = float(2 * self.n - 1)
        self.start_state = start

    def params(self):
        return {"n": self.n, "eps": self.eps, "metric": self.metric.kind, "zero_task": self.zero_task}

    def task(self, choice: int) -> np.ndarray:
        c = np.zeros(self.n)
        if choice < self.n:
            c[choice] = self.eps
        return c

    def costs(self, seq) -> np.ndarray:
        return np.array([self.task(int(c)) for c in seq]).reshape(len(seq), self.n)

    def evaluate(self, seq):
        import online_algs

        costs = self.costs(seq)
        res = online_algs.run(self.factory(self.metric), costs, states=False, series=False)
        w = self.metric.d[self.start_state].copy()
        for c in costs:
            w = _minplus_step(w, c, self.metric.d)
        return float(res.total_cost), float(w.min())

    def start(self):
        alg = self.factory(self.metric)
        alg.reset()
        alg._validate_sequence(np.zeros((1, self.n)))
        return Node([], 0.0, 0.0, algo=alg, aux=self.metric.d[self.start_state].copy())

    def step(self, node, choice):
        alg = copy.deepcopy(node.algo)
        c = self.task(int(choice))
        s, m = alg.serve(c)
        w = _minplus_step(node.aux, c, self.metric.d)
        return Node(node.seq + [int(choice)], node.alg + s + m, float(w.min()), algo=alg, aux=w)


class KServerLineProblem(Problem):
    """A k-server algorithm on points of a metric (default: k + 1 points on a line), requests from
    the points. OPT is kept incrementally by the configuration work function
    w_t(X) = [r_t in X] min_Y (w_{t-1}(Y) + D(Y, X)), D the min-cost matching between
    configurations. Theorem bound: k (Double Coverage); lower bound k (deterministic)."""

    def __init__(self, metric, k: int, alg_factory: Callable[[Any, list], Any], initial=None, *,
                 name: str = "kserver", algorithm: str = "DoubleCoverage", bound: float | None = None):
        self.metric = metric
        self.k = k
        self.factory = alg_factory
        self.initial = list(range(k)) if initial is None else list(initial)
        self.menu_size = metric.n
        self.name = name
        self.algorithm = algorithm
        self.bound = float(k) if bound is None else bound
        self.lower = float(k)
        self.configs = list(itertools.combinations(range(metric.n), k))
        self.index = {c: i for i, c in enumerate(self.configs)}
        C = len(self.configs)
        D = np.zeros((C, C))
        d = metric.d
        perms = list(itertools.permutations(range(k)))
        for a, X in enumerate(self.configs):
            for b, Y in enumerate(self.configs):
                D[a, b] = min(sum(d[X[i], Y[p[i]]] for i in range(k)) for p in perms)
        self.D = D
        self.contains = np.array([[p in X for X in self.configs] for p in range(metric.n)])

    def params(self):
        return {"k": self.k, "n": self.metric.n, "metric": self.metric.kind, "initial": self.initial}

    def _w0(self):
        return self.D[self.index[tuple(sorted(self.initial))]].copy()

    def _wstep(self, w, r):
        nw = np.min(w[:, None] + self.D, axis=0)
        nw[~self.contains[r]] = np.inf
        return nw

    def evaluate(self, seq):
        import online_algs

        res = online_algs.run(self.factory(self.metric, self.initial), np.asarray(seq, dtype=np.int64),
                              states=False, series=False)
        w = self._w0()
        for r in seq:
            w = self._wstep(w, int(r))
        return float(res.total_cost), float(w.min())

    def start(self):
        alg = self.factory(self.metric, self.initial)
        alg.reset()
        alg._validate_sequence(np.zeros(1, dtype=np.int64))
        return Node([], 0.0, 0.0, algo=alg, aux=self._w0())

    def step(self, node, choice):
        alg = copy.deepcopy(node.algo)
        s, m = alg.serve(int(choice))
        w = self._wstep(node.aux, int(choice))
        return Node(node.seq + [int(choice)], node.alg + s + m, float(w.min()), algo=alg, aux=w)
