"""Adversary search: find sequences that maximise ALG / OPT.

* :func:`random_search` - uniform random sequences (the baseline every search must beat);
* :func:`local_search` - a (1+1) evolution strategy over sequences with restarts: mutate one
  or a few positions (or copy a block), keep the child when its ratio is at least the parent's;
* :func:`constructive_search` - greedy / beam search that builds the sequence one request or
  task at a time, choosing each next item from the menu so as to raise ALG - r * OPT of the
  prefix (ALG stepped through the algorithm's own ``serve``, OPT kept incrementally). It
  rediscovers adaptive constructions such as the cruel taskmaster.

Budgets are in evaluations and (optionally) seconds; every search returns a
:class:`SearchResult` with the best sequence, its ratio and the evaluations used. Deterministic
given ``seed`` when no ``seconds`` budget is set (a wall-clock budget makes the result depend on
the machine's speed; the proofs_check checks never set one).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .problems import Node, Problem, ratio_of

__all__ = ["SearchResult", "random_search", "local_search", "constructive_search"]


@dataclass
class SearchResult:
    method: str
    ratio: float
    seq: list
    alg: float
    opt: float
    evaluations: int
    seconds: float
    history: list = field(default_factory=list)  # (evaluations, best ratio) after each improvement


def _over(t0: float, seconds: float | None) -> bool:
    """True when a wall-clock budget is set and spent (then the result depends on machine speed)."""
    return seconds is not None and time.perf_counter() - t0 > seconds


def _progress(total, desc, enabled):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False)


def random_search(problem: Problem, length: int, *, evaluations: int = 200, seconds: float | None = None,
                  seed: int = 0, progress: bool = False) -> SearchResult:
    """Best of ``evaluations`` uniformly random sequences of ``length`` menu choices."""
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    best = SearchResult("random", -1.0, [], 0.0, 0.0, 0, 0.0)
    bar = _progress(evaluations, f"random {problem.name}", progress)
    for e in range(evaluations):
        if _over(t0, seconds):
            break
        seq = rng.integers(0, problem.menu_size, size=length).tolist()
        a, o = problem.evaluate(seq)
        r = ratio_of(a, o)
        best.evaluations = e + 1
        if r > best.ratio:
            best.ratio, best.seq, best.alg, best.opt = r, seq, a, o
            best.history.append((e + 1, r))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    best.seconds = time.perf_counter() - t0
    return best


def _mutate(seq: list, menu: int, rng: np.random.Generator) -> list:
    s = list(seq)
    kind = rng.integers(0, 3)
    if kind == 0 or len(s) < 4:
        for _ in range(int(rng.integers(1, 4))):
            s[int(rng.integers(0, len(s)))] = int(rng.integers(0, menu))
    elif kind == 1:  # copy a block elsewhere (repeats a pattern)
        L = int(rng.integers(2, max(3, len(s) // 4)))
        a = int(rng.integers(0, len(s) - L + 1))
        b = int(rng.integers(0, len(s) - L + 1))
        s[b:b + L] = s[a:a + L]
    else:  # relabel a block by a permutation of the menu
        L = int(rng.integers(2, max(3, len(s) // 2)))
        a = int(rng.integers(0, len(s) - L + 1))
        perm = rng.permutation(menu)
        s[a:a + L] = [int(perm[x]) for x in s[a:a + L]]
    return s


def local_search(problem: Problem, length: int, *, evaluations: int = 200, seconds: float | None = None,
                 restarts: int = 2, seed: int = 0, progress: bool = False, init: list | None = None) -> SearchResult:
    """(1+1) evolution strategy with restarts; accepts children with ratio >= parent's."""
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    best = SearchResult("local", -1.0, [], 0.0, 0.0, 0, 0.0)
    per = max(1, evaluations // max(1, restarts))
    used = 0
    bar = _progress(evaluations, f"local {problem.name}", progress)
    for rs in range(max(1, restarts)):
        cur = list(init) if (init is not None and rs == 0) else rng.integers(0, problem.menu_size, size=length).tolist()
        a, o = problem.evaluate(cur)
        cur_r = ratio_of(a, o)
        used += 1
        for _ in range(per - 1):
            if used >= evaluations or _over(t0, seconds):
                break
            child = _mutate(cur, problem.menu_size, rng)
            ca, co = problem.evaluate(child)
            used += 1
            cr = ratio_of(ca, co)
            if cr >= cur_r:
                cur, cur_r, a, o = child, cr, ca, co
            if cur_r > best.ratio:
                best.ratio, best.seq, best.alg, best.opt = cur_r, list(cur), a, o
                best.history.append((used, cur_r))
            if bar is not None:
                bar.update(1)
        if cur_r > best.ratio:
            best.ratio, best.seq, best.alg, best.opt = cur_r, list(cur), a, o
    if bar is not None:
        bar.close()
    best.evaluations = used
    best.seconds = time.perf_counter() - t0
    return best


def constructive_search(problem: Problem, length: int, *, r: float | None = None, beam: int = 1,
                        seconds: float | None = None, seed: int = 0, progress: bool = False) -> SearchResult:
    """Greedy (``beam=1``) or beam search building a sequence step by step.

    At each step every prefix in the beam is extended by every menu choice; the ``beam`` prefixes
    with the largest ALG - r * OPT survive (ties broken at random, seeded). The best prefix ratio
    seen at any step is returned. With ``r=None`` the search runs for r in {0, 1, (1 + bound) / 2,
    bound} (a large r makes the greedy avoid any step that costs OPT now, e.g. the cold start of a
    paging cycle, so small r often builds the stronger sequence) and returns the best.
    """
    if r is None:
        bound = problem.bound if np.isfinite(problem.bound) else 2.0
        out = None
        total = 0
        t_all = time.perf_counter()
        for i, rr in enumerate(sorted({0.0, 1.0, 0.5 * (1.0 + bound), float(bound)})):
            res = constructive_search(problem, length, r=rr, beam=beam, seconds=None if seconds is None else seconds / 4, seed=seed + i,
                                      progress=progress)
            total += res.evaluations
            if out is None or res.ratio > out.ratio:
                out = res
        out.evaluations = total
        out.seconds = time.perf_counter() - t_all
        return out
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    nodes = [problem.start()]
    best = SearchResult("constructive", -1.0, [], 0.0, 0.0, 0, 0.0)
    evals = 0
    bar = _progress(length, f"constructive {problem.name}", progress)
    for _step in range(length):
        if _over(t0, seconds):
            break
        children: list[Node] = []
        for nd in nodes:
            for c in range(problem.menu_size):
                children.append(problem.step(nd, c))
                evals += 1
        keys = np.array([ch.alg - r * ch.opt for ch in children])
        tie = rng.random(len(children)) * 1e-9
        order = np.lexsort((tie, -keys))
        nodes = [children[i] for i in order[:beam]]
        for nd in nodes:
            if nd.ratio > best.ratio:
                best.ratio, best.seq, best.alg, best.opt = nd.ratio, list(nd.seq), nd.alg, nd.opt
                best.history.append((evals, nd.ratio))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    best.evaluations = evals
    best.seconds = time.perf_counter() - t0
    return best
