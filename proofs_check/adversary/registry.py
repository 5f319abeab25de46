"""Named problem builders (so fixtures can be replayed from JSON)."""

from __future__ import annotations

import numpy as np

from .problems import KServerLineProblem, MTSProblem, PagingProblem


def paging_lru(k: int, n_pages: int | None = None):
    from online_algs.caching import LRU

    p = PagingProblem(lambda c: LRU(capacity=c), k, n_pages, name="paging_lru", algorithm="LRU")
    p.spec = {"name": "paging_lru", "params": {"k": k, "n_pages": p.n_pages}}
    return p


def paging_fifo(k: int, n_pages: int | None = None):
    from online_algs.caching import FIFO

    p = PagingProblem(lambda c: FIFO(capacity=c), k, n_pages, name="paging_fifo", algorithm="FIFO")
    p.spec = {"name": "paging_fifo", "params": {"k": k, "n_pages": p.n_pages}}
    return p


def mts_wfa_uniform(n: int, eps: float = 0.5):
    from online_algs.metrics import uniform
    from online_algs.mts import WorkFunctionAlgorithm

    p = MTSProblem(uniform(n), lambda m: WorkFunctionAlgorithm(m, start=0), eps=eps, name="mts_wfa_uniform",
                   algorithm="WorkFunctionAlgorithm")
    p.spec = {"name": "mts_wfa_uniform", "params": {"n": n, "eps": eps}}
    return p


def kserver_dc_line(k: int, spacing: str = "unit"):
    from online_algs.kserver import DoubleCoverage
    from online_algs.metrics import line

    pos = np.arange(k + 1, dtype=float) if spacing == "unit" else np.cumsum(np.r_[0.0, np.linspace(1, 2, k)])
    p = KServerLineProblem(line(pos), k, lambda m, init: DoubleCoverage(m, init), name="kserver_dc_line",
                           algorithm="DoubleCoverage")
    p.spec = {"name": "kserver_dc_line", "params": {"k": k, "spacing": spacing}}
    return p


PROBLEMS = {"paging_lru": paging_lru, "paging_fifo": paging_fifo, "mts_wfa_uniform": mts_wfa_uniform,
            "kserver_dc_line": kserver_dc_line}


def mts_lazywfa_uniform(n: int, eps: float = 0.5):
    from online_algs.metrics import uniform

    from .planted import LazyTieWFA

    p = MTSProblem(uniform(n), lambda m: LazyTieWFA(m, start=0), eps=eps, name="mts_lazywfa_uniform",
                   algorithm="LazyTieWFA (planted bug)")
    p.spec = {"name": "mts_lazywfa_uniform", "params": {"n": n, "eps": eps}}
    return p


def paging_marking(k: int, n_pages: int | None = None, seeds: int = 24):
    """Marking (randomized): the objective is the mean over a fixed set of seeds (common random
    numbers), so the search is deterministic; the fixture records the seeds."""
    from online_algs.caching import Marking

    class _Mean(PagingProblem):
        def evaluate(self, seq):
            import online_algs
            from online_algs.caching import belady_misses

            trace = np.asarray(seq, dtype=np.int64)
            m = [online_algs.run(Marking(capacity=self.k, seed=s), trace).misses for s in range(seeds)]
            self.last_samples = m
            return float(np.mean(m)), float(belady_misses(trace, self.k))

    H = float(np.sum(1.0 / np.arange(1, k + 1)))
    p = _Mean(lambda c: Marking(capacity=c, seed=0), k, n_pages, name="paging_marking", algorithm="Marking",
              bound=2 * H - 1)
    p.lower = H
    p.spec = {"name": "paging_marking", "params": {"k": k, "n_pages": p.n_pages, "seeds": seeds}}
    return p


PROBLEMS.update({"mts_lazywfa_uniform": mts_lazywfa_uniform, "paging_marking": paging_marking})
