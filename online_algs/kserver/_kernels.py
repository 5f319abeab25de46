"""Numba kernels of the k-server package (private: arrays and scalars in, no validation).

Slow twins:

* ``dc_line_batch``: the ``DoubleCoverage.serve`` loop on a line (``run(..., fast=False)``).
* ``wf_init`` (matching distances D(X0, X)): ``tests/naive_kserver.py::matching_distances``
  (scipy's ``linear_sum_assignment``).
* ``wf_step`` / ``wfa_batch``: ``WorkFunctionKServer.serve`` (vectorised numpy) and
  ``tests/naive_kserver.py::work_function_dict`` (a dict over frozensets).
* ``config_table``: ``itertools.combinations`` with the colex rank (``tests``).
"""

from __future__ import annotations

import numpy as np

from .._config import njit

__all__ = ["dc_line_batch", "binom_table", "config_table", "wf_init", "wf_step", "wfa_batch", "wf_dp"]


# --------------------------------------------------------------------------- Double Coverage, line
@njit
def dc_line_batch(servers, xs, movement_out, store_series):
    """Double Coverage on the real line.

    ``servers``: sorted float64 array of the k server positions (updated in place).
    ``xs``: float64 array of requested positions. Returns the total movement; fills
    ``movement_out[t]`` when ``store_series``.
    """
    k = servers.shape[0]
    total = 0.0
    for t in range(xs.shape[0]):
        x = xs[t]
        cost = 0.0
        if x <= servers[0]:
            cost = servers[0] - x
            servers[0] = x
        elif x >= servers[k - 1]:
            cost = x - servers[k - 1]
            servers[k - 1] = x
        else:
            # largest i with servers[i] <= x (binary search); then servers[i+1] > x
            lo = 0
            hi = k - 1
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if servers[mid] <= x:
                    lo = mid
                else:
                    hi = mid
            i = lo
            if servers[i] != x:
                d1 = x - servers[i]
                d2 = servers[i + 1] - x
                if d1 <= d2:
                    servers[i] = x
                    servers[i + 1] = servers[i + 1] - d1
                    cost = 2.0 * d1
                else:
                    servers[i + 1] = x
                    servers[i] = servers[i] + d2
                    cost = 2.0 * d2
        total += cost
        if store_series:
            movement_out[t] = cost
    return total


# --------------------------------------------------------------------------- configurations
def binom_table(n, k):
    """``B[a, b] = C(a, b)`` for ``0 <= a <= n``, ``0 <= b <= k`` (int64)."""
    B = np.zeros((n + 1, k + 2), dtype=np.int64)
    for a in range(n + 1):
        B[a, 0] = 1
        for b in range(1, min(a, k + 1) + 1):
            B[a, b] = B[a - 1, b - 1] + (B[a - 1, b] if b <= a - 1 else 0)
    return B


@njit
def config_table(n, k, B):
    """All k-subsets of ``0..n-1`` as rows (ascending), row ``i`` having colex rank ``i``:
    ``rank(c_0 < ... < c_{k-1}) = sum_i C(c_i, i + 1)``."""
    C = B[n, k]
    cfg = np.empty((C, k), dtype=np.int64)
    for rank in range(C):
        rem = rank
        top = n - 1
        for i in range(k, 0, -1):
            c = top
            while B[c, i] > rem:
                c -= 1
            cfg[rank, i - 1] = c
            rem -= B[c, i]
            top = c - 1
    return cfg


@njit
def _hungarian(a):
    """Minimum-cost perfect matching of a square cost matrix (O(m^3), potentials)."""
    m = a.shape[0]
    INF = np.inf
    u = np.zeros(m + 1)
    v = np.zeros(m + 1)
    p = np.zeros(m + 1, dtype=np.int64)
    way = np.zeros(m + 1, dtype=np.int64)
    for i in range(1, m + 1):
        p[0] = i
        j0 = 0
        minv = np.full(m + 1, INF)
        used = np.zeros(m + 1, dtype=np.bool_)
        while True:
            used[j0] = True
            i0 = p[j0]
            delta = INF
            j1 = 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = a[i0 - 1, j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j] = cur
                        way[j] = j0
                    if minv[j] < delta:
                        delta = minv[j]
                        j1 = j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    # p[j] = row matched to column j; sum the costs row by row (canonical order)
    col_of = np.empty(m, dtype=np.int64)
    for j in range(1, m + 1):
        col_of[p[j] - 1] = j - 1
    s = 0.0
    for i in range(m):
        s += a[i, col_of[i]]
    return s


@njit
def wf_init(cfg, init, d):
    """``w_0(X) = D(init, X)``, the min-cost matching distance, for every configuration."""
    C, k = cfg.shape
    w = np.empty(C)
    a = np.empty((k, k))
    for X in range(C):
        for i in range(k):
            for j in range(k):
                a[i, j] = d[init[i], cfg[X, j]]
        w[X] = _hungarian(a)
    return w


@njit
def _rank_swap(row, j, r, B):
    """Colex rank of ``row`` (ascending) with ``row[j]`` removed and ``r`` inserted."""
    k = row.shape[0]
    rank = 0
    pos = 0
    inserted = False
    for i in range(k):
        if i == j:
            continue
        c = row[i]
        if not inserted and r < c:
            pos += 1
            rank += B[r, pos]
            inserted = True
        pos += 1
        rank += B[c, pos]
    if not inserted:
        pos += 1
        rank += B[r, pos]
    return rank


@njit
def wf_step(w_prev, w_new, cfg, B, r, d, parent_row, store_parent):
    """One lazy work-function update:
    ``w_t(X) = w_{t-1}(X)`` if ``r in X`` else ``min_{x in X} w_{t-1}(X - x + r) + d(r, x)``.

    ``parent_row[X]`` receives the position in ``cfg[X]`` of the minimising ``x`` (first
    minimiser), or -1 when ``r in X``.
    """
    C, k = cfg.shape
    for X in range(C):
        has = False
        for j in range(k):
            if cfg[X, j] == r:
                has = True
                break
        if has:
            w_new[X] = w_prev[X]
            if store_parent:
                parent_row[X] = -1
            continue
        best = np.inf
        bj = 0
        for j in range(k):
            Y = _rank_swap(cfg[X], j, r, B)
            v = w_prev[Y] + d[r, cfg[X, j]]
            if v < best:
                best = v
                bj = j
        w_new[X] = best
        if store_parent:
            parent_row[X] = bj


@njit
def wfa_batch(w, cfg, B, d, conf, reqs, movement_out, store_series, states_out, thin, store_states):
    """The Work Function Algorithm for k-server over a request sequence.

    ``w``: work function w_0 (updated in place to w_T); ``conf``: sorted current configuration
    (updated in place). At each step: update w, then if ``r`` is not covered move the server x
    minimising ``w_t(conf - x + r) + d(x, r)`` (first minimiser in ascending point order).
    ``states_out[j]`` receives the configuration after step ``(j+1)*thin`` (and the last).
    """
    C, k = cfg.shape
    T = reqs.shape[0]
    w2 = np.empty_like(w)
    dummy = np.empty(1, dtype=np.int8)
    total = 0.0
    si = 0
    for t in range(T):
        r = reqs[t]
        wf_step(w, w2, cfg, B, r, d, dummy, False)
        for X in range(C):
            w[X] = w2[X]
        has = False
        for j in range(k):
            if conf[j] == r:
                has = True
                break
        cost = 0.0
        if not has:
            best = np.inf
            bj = 0
            for j in range(k):
                Y = _rank_swap(conf, j, r, B)
                v = w[Y] + d[conf[j], r]
                if v < best:
                    best = v
                    bj = j
            cost = d[conf[bj], r]
            # replace conf[bj] by r and keep conf sorted
            conf[bj] = r
            i = bj
            while i > 0 and conf[i - 1] > conf[i]:
                tmp = conf[i - 1]
                conf[i - 1] = conf[i]
                conf[i] = tmp
                i -= 1
            while i < k - 1 and conf[i + 1] < conf[i]:
                tmp = conf[i + 1]
                conf[i + 1] = conf[i]
                conf[i] = tmp
                i += 1
        total += cost
        if store_series:
            movement_out[t] = cost
        if store_states and ((t + 1) % thin == 0 or t == T - 1):
            for j in range(k):
                states_out[si, j] = conf[j]
            si += 1
    return total


@njit
def wf_dp(w, cfg, B, d, reqs, parents):
    """Configuration DP: runs ``wf_step`` over ``reqs`` storing the argmin positions in
    ``parents[t]`` (int8/int16 rows); ``w`` is updated in place to ``w_T``."""
    C = cfg.shape[0]
    w2 = np.empty_like(w)
    for t in range(reqs.shape[0]):
        wf_step(w, w2, cfg, B, reqs[t], d, parents[t], True)
        for X in range(C):
            w[X] = w2[X]
