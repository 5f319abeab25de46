"""Slow, obviously correct references for the caching kernels (classic part).

* :func:`naive_next_use` -- quadratic scan for the next occurrence.
* :func:`naive_belady` -- Belady with a full scan of the cache per eviction.
* :func:`brute_force_opt` -- the exact paging optimum by dynamic programming over every
  reachable cache content (exponential; tiny traces only). It allows *any* eviction choice
  (lazy demand paging), so it checks Belady's optimality, not Belady's rule.
* :func:`naive_lru_misses` -- LRU by recency stamps (a different data structure than the
  OrderedDict twin), used for large-id and hypothesis tests.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np


def naive_next_use(trace):
    trace = [int(v) for v in trace]
    T = len(trace)
    out = []
    for t in range(T):
        nxt = T
        for s in range(t + 1, T):
            if trace[s] == trace[t]:
                nxt = s
                break
        out.append(nxt)
    return np.array(out, dtype=np.int64)


def naive_belady(trace, capacity):
    trace = [int(v) for v in trace]
    nu = naive_next_use(trace)
    cache = set()
    misses = 0
    for t, v in enumerate(trace):
        if v in cache:
            continue
        misses += 1
        if len(cache) == capacity:
            def next_req(u):
                for s in range(t + 1, len(trace)):
                    if trace[s] == u:
                        return s
                return len(trace)
            cache.remove(max(cache, key=next_req))
        cache.add(v)
    del nu
    return misses


def brute_force_opt(trace, capacity):
    """Minimum misses over every demand-paging schedule (evict any page when full): proofs_check's
    DP over cache contents (shared, not copied)."""
    from proofs_check.checks.caching_classic import _brute_force_opt

    return _brute_force_opt(trace, capacity)


def brute_force_opt_bypass_free(trace, capacity):
    """Minimum misses when the cache may hold ANY set of <= capacity pages between requests
    (pages may also be dropped at will); a request is a hit iff its page is cached. Equals the
    demand-paging optimum (lazy schedules are no worse), a second independent check."""
    trace = [int(v) for v in trace]
    pages = sorted(set(trace))
    all_sets = [frozenset(c) for r in range(min(capacity, len(pages)) + 1) for c in combinations(pages, r)]
    INF = 1 << 60
    cost = {s: (0 if not s else INF) for s in all_sets}
    # moving from set A to set B costs |B - A| fetches; a request for v must find v in the set
    for v in trace:
        new = {}
        for b in all_sets:
            if v not in b:
                continue
            best = INF
            for a, ca in cost.items():
                if ca < INF:
                    best = min(best, ca + len(b - a))
            new[b] = best
        cost = new
    return min(cost.values())


def naive_lru_misses(trace, capacity):
    last = {}
    misses = 0
    for t, v in enumerate(int(u) for u in trace):
        if v not in last:
            misses += 1
            if len(last) == capacity:
                del last[min(last, key=last.get)]
        last[v] = t
    return misses
