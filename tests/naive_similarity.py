"""Slow, obviously correct twins of the similarity package (tiny instances only)."""

from __future__ import annotations

import itertools
import math

import numpy as np


def dist_all(q, catalog):
    return np.sqrt(((np.asarray(catalog, float) - np.asarray(q, float)) ** 2).sum(axis=1))


def naive_serving_cost(q, cached, catalog, k, cf):
    """Minimum over every k-subset A of sum_{o in A} d(q, o) + cf [o not cached]."""
    d = dist_all(q, catalog)
    best = math.inf
    for A in itertools.combinations(range(len(d)), k):
        best = min(best, sum(d[o] + (0.0 if o in cached else cf) for o in A))
    return best


def naive_fractional_cost(d, x, k, cf):
    """Greedy fill of k units with local copies (capacity x_o, cost d_o) and remote copies
    (capacity 1 - x_o, cost d_o + cf), cheapest first."""
    copies = [(d[o], x[o]) for o in range(len(d))] + [(d[o] + cf, 1.0 - x[o]) for o in range(len(d))]
    copies.sort(key=lambda c: c[0])
    left = float(k)
    tot = 0.0
    for c, cap in copies:
        take = min(cap, left)
        tot += take * c
        left -= take
        if left <= 1e-15:
            break
    return tot


def naive_gain(d, x, k, cf):
    return naive_fractional_cost(d, np.zeros(len(d)), k, cf) - naive_fractional_cost(d, x, k, cf)


def naive_sim_lru(catalog, queries, k, cf, uc, h):
    """SIM-LRU with full distance computations and a Python list (LRU first)."""
    order = []
    total_s = total_m = 0.0
    states = []
    for q in queries:
        d = dist_all(q, catalog)
        e = [(d[o] + (0.0 if o in order else cf), o) for o in range(len(d))]
        e.sort()
        ans = e[:k]
        total_s += sum(c for c, _ in ans)
        local = [o for _, o in ans if o in order]
        remote = [o for _, o in ans if o not in order]
        for o in local:
            order.remove(o)
            order.append(o)
        for o in remote:
            if len(order) == h:
                order.pop(0)
            order.append(o)
            total_m += uc
        states.append(frozenset(order))
    return total_s, total_m, states


def naive_dynamic_optimum(ds, queries, h):
    """Minimum over every schedule of caches (<= h objects) of insert costs + serving costs."""
    states = [frozenset(c) for s in range(h + 1) for c in itertools.combinations(range(ds.n), s)]
    best = math.inf
    for sched in itertools.product(states, repeat=len(queries)):
        prev = frozenset()
        tot = 0.0
        for t, s in enumerate(sched):
            tot += ds.update_cost * len(s - prev) + naive_serving_cost(queries[t], s, ds.catalog, ds.k, ds.fetch_cost)
            prev = s
        best = min(best, tot)
    return best


def naive_greedy_static(ds, queries, h):
    """Greedy by full recomputation of the total serving cost for every candidate addition."""
    chosen = []
    for _ in range(h):
        best, arg = math.inf, None
        for o in range(ds.n):
            if o in chosen:
                continue
            c = sum(naive_serving_cost(q, set(chosen) | {o}, ds.catalog, ds.k, ds.fetch_cost) for q in queries)
            if c < best - 1e-12:
                best, arg = c, o
        chosen.append(arg)
    return chosen
