"""Slow, obviously correct twins of the MTS core kernels (plain Python loops over the definitions)."""

from __future__ import annotations

import itertools

import numpy as np


def naive_work_function(D, C, start):
    """w_0(s) = d(start, s); w_t(s) = min_x w_{t-1}(x) + c_t(x) + d(x, s), by three nested loops."""
    D = np.asarray(D, float)
    T, n = C.shape
    W = np.empty((T + 1, n))
    W[0] = [D[start, s] for s in range(n)]
    for t in range(T):
        for s in range(n):
            W[t + 1, s] = min(W[t, x] + C[t, x] + D[x, s] for x in range(n))
    return W


def naive_wfa(D, C, start):
    """WFA in its second form: s_t = argmin_s w_{t-1}(s) + c_t(s) + d(s_{t-1}, s); stay if s_{t-1} is a
    minimiser, else the lowest index. Returns (states, total cost)."""
    D = np.asarray(D, float)
    T, n = C.shape
    W = naive_work_function(D, C, start)
    prev = start
    states = []
    total = 0.0
    for t in range(T):
        vals = [W[t, s] + C[t, s] + D[prev, s] for s in range(n)]
        best = min(vals)
        s = prev if vals[prev] <= best else vals.index(best)
        total += C[t, s] + D[prev, s]
        states.append(s)
        prev = s
    return np.array(states), total


def naive_greedy(D, C, start):
    D = np.asarray(D, float)
    T, n = C.shape
    prev = start
    states = []
    total = 0.0
    for t in range(T):
        vals = [C[t, s] + D[prev, s] for s in range(n)]
        best = min(vals)
        s = prev if vals[prev] <= best else vals.index(best)
        total += vals[s]
        states.append(s)
        prev = s
    return np.array(states), total


def naive_opt(D, C, start):
    """Brute force over all n**T schedules (tiny instances)."""
    D = np.asarray(D, float)
    T, n = C.shape
    best = np.inf
    for sched in itertools.product(range(n), repeat=T):
        prev = start
        cost = 0.0
        for t, s in enumerate(sched):
            cost += D[prev, s] + C[t, s]
            prev = s
        best = min(best, cost)
    return best


def naive_randomized_uniform(C, start, dist, seed):
    """The phase algorithm with a RandomState(seed) (the same draws as the numba kernel)."""
    rs = np.random.RandomState(seed)
    T, n = C.shape
    p = [0.0] * n
    cur = start
    states = []
    total = 0.0
    for t in range(T):
        p = [min(p[s] + C[t, s], dist) for s in range(n)]
        nxt = cur
        if p[cur] >= dist:
            cand = [s for s in range(n) if p[s] < dist]
            if not cand:
                p = [0.0] * n
                cand = [s for s in range(n) if C[t, s] < np.inf]
            k = min(int(rs.random_sample() * len(cand)), len(cand) - 1)
            nxt = cand[k]
        total += C[t, nxt] + (0.0 if nxt == cur else dist)
        states.append(nxt)
        cur = nxt
    return np.array(states), total
