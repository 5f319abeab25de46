"""Numba kernels of the MTS core (work function, WFA, exact DP optimum, randomized uniform, greedy).

Private: the kernels take arrays and scalars and never validate. Each one has a slow,
obviously correct twin: the ``serve`` loops of the algorithm classes (``run(..., fast=False)``)
and the plain numpy functions of ``tests/naive_mts.py``; the tests compare them.

Metric kinds (``kind`` argument): ``KIND_GENERAL`` uses the full matrix ``D`` (O(n^2) per
work-function step), ``KIND_UNIFORM`` uses the single distance ``dist`` (O(n)),
``KIND_STAR`` uses the leaf weights ``wstar`` with ``d(i, j) = wstar[i] + wstar[j]`` (O(n)).

Work-function step (one task): with ``a = w_{t-1} + c_t``,
``w_t(s) = min_y a(y) + d(y, s)``. The ``y = s`` term is ``a(s)`` itself, so a state is
*fundamental* (``w_t(s) = w_{t-1}(s) + c_t(s)``) exactly when ``w_t(s) == a(s)`` in floating
point: the kernels and their twins compute the same sums and take exact minima.
"""

from __future__ import annotations

import numpy as np

from .._config import njit

KIND_GENERAL = 0
KIND_UNIFORM = 1
KIND_STAR = 2


@njit
def _step_general(a, D, out):
    """out[s] = min_y a[y] + D[y, s] (O(n^2)).

    The inner loop over ``s`` is element-wise (it vectorises without fastmath); rows ``y`` are
    taken four at a time so that ``out`` is loaded and stored once per four rows. Rows that
    cannot improve any state (``a[y] = inf`` or ``a[y] >= max_s a[s]``) are skipped.
    """
    n = a.shape[0]
    amax = -np.inf
    for s in range(n):
        out[s] = a[s]            # the y = s term: a[s] + D[s, s] == a[s]
        if a[s] > amax:
            amax = a[s]
    ys = np.empty(n, dtype=np.int64)
    m = 0
    for y in range(n):
        # a[y] + D[y, s] >= a[y] >= amax >= a[s] >= out[s]: y cannot improve any state
        if a[y] < amax:
            ys[m] = y
            m += 1
    k = 0
    while k + 4 <= m:
        y0 = ys[k]
        y1 = ys[k + 1]
        y2 = ys[k + 2]
        y3 = ys[k + 3]
        a0 = a[y0]
        a1 = a[y1]
        a2 = a[y2]
        a3 = a[y3]
        r0 = D[y0]
        r1 = D[y1]
        r2 = D[y2]
        r3 = D[y3]
        for s in range(n):
            v = out[s]
            x = a0 + r0[s]
            if x < v:
                v = x
            x = a1 + r1[s]
            if x < v:
                v = x
            x = a2 + r2[s]
            if x < v:
                v = x
            x = a3 + r3[s]
            if x < v:
                v = x
            out[s] = v
        k += 4
    while k < m:
        ay = a[ys[k]]
        row = D[ys[k]]
        for s in range(n):
            x = ay + row[s]
            if x < out[s]:
                out[s] = x
        k += 1


@njit
def _step_general_arg(a, D, out, arg):
    """As :func:`_step_general`, also recording the minimising ``y`` (ties: ``y = s``, then lowest)."""
    n = a.shape[0]
    amax = -np.inf
    for s in range(n):
        out[s] = a[s]
        arg[s] = s
        if a[s] > amax:
            amax = a[s]
    for y in range(n):
        ay = a[y]
        if ay == np.inf or ay >= amax:
            continue
        row = D[y]
        for s in range(n):
            v = ay + row[s]
            if v < out[s]:
                out[s] = v
                arg[s] = y


@njit
def _step_uniform(a, dist, out):
    """Uniform metric: w(s) = min(a[s], min_y a[y] + dist) (O(n))."""
    n = a.shape[0]
    m = np.inf
    for y in range(n):
        if a[y] < m:
            m = a[y]
    mm = m + dist
    for s in range(n):
        out[s] = a[s] if a[s] <= mm else mm


@njit
def _step_uniform_arg(a, dist, out, arg):
    n = a.shape[0]
    m = np.inf
    am = 0
    for y in range(n):
        if a[y] < m:
            m = a[y]
            am = y
    mm = m + dist
    for s in range(n):
        if a[s] <= mm:
            out[s] = a[s]
            arg[s] = s
        else:
            out[s] = mm
            arg[s] = am


@njit
def _step_star(a, wstar, out):
    """Weighted star: w(s) = min(a[s], min_y (a[y] + wstar[y]) + wstar[s]) (O(n)).

    The ``y = s`` term of the inner minimum is ``a[s] + 2 wstar[s] > a[s]``: harmless.
    """
    n = a.shape[0]
    m = np.inf
    for y in range(n):
        v = a[y] + wstar[y]
        if v < m:
            m = v
    for s in range(n):
        v = m + wstar[s]
        out[s] = a[s] if a[s] <= v else v


@njit
def _step_star_arg(a, wstar, out, arg):
    n = a.shape[0]
    m = np.inf
    am = 0
    for y in range(n):
        v = a[y] + wstar[y]
        if v < m:
            m = v
            am = y
    for s in range(n):
        v = m + wstar[s]
        if a[s] <= v:
            out[s] = a[s]
            arg[s] = s
        else:
            out[s] = v
            arg[s] = am


@njit
def _step(a, D, kind, dist, wstar, out):
    if kind == KIND_UNIFORM:
        _step_uniform(a, dist, out)
    elif kind == KIND_STAR:
        _step_star(a, wstar, out)
    else:
        _step_general(a, D, out)


@njit
def work_function_kernel(D, C, start, kind, dist, wstar):
    """All work functions: W[0] = D[start], W[t] = step(W[t-1] + C[t-1]); shape (T+1, n)."""
    T, n = C.shape
    W = np.empty((T + 1, n))
    for s in range(n):
        W[0, s] = D[start, s]
    a = np.empty(n)
    for t in range(T):
        for s in range(n):
            a[s] = W[t, s] + C[t, s]
        _step(a, D, kind, dist, wstar, W[t + 1])
    return W


@njit
def wfa_kernel(D, C, start, kind, dist, wstar):
    """Run the Work Function Algorithm; return (states (T,), service (T,), movement (T,), w_T).

    s_t = argmin over fundamental s (w_t(s) == w_{t-1}(s) + c_t(s)) of w_t(s) + D[s_{t-1}, s];
    stay when s_{t-1} is such a minimiser, else the lowest index.
    """
    T, n = C.shape
    w = np.empty(n)
    for s in range(n):
        w[s] = D[start, s]
    a = np.empty(n)
    wn = np.empty(n)
    states = np.empty(T, dtype=np.int64)
    svc = np.empty(T)
    mov = np.empty(T)
    prev = start
    for t in range(T):
        for s in range(n):
            a[s] = w[s] + C[t, s]
        _step(a, D, kind, dist, wstar, wn)
        best = np.inf
        arg = -1
        for s in range(n):
            if wn[s] == a[s]:
                v = wn[s] + D[prev, s]
                if v < best:
                    best = v
                    arg = s
        if wn[prev] == a[prev] and wn[prev] + D[prev, prev] <= best:
            arg = prev
        states[t] = arg
        svc[t] = C[t, arg]
        mov[t] = D[prev, arg]
        prev = arg
        for s in range(n):
            w[s] = wn[s]
    return states, svc, mov, w


@njit
def dp_optimum_kernel(D, C, start, kind, dist, wstar):
    """Exact offline optimum by the work-function DP with back-pointers.

    Returns (value, states) with states[t] the state that serves task t (0-based).
    O(T n^2) time (O(T n) on uniform/star), O(T n) memory for the back-pointers.
    """
    T, n = C.shape
    w = np.empty(n)
    for s in range(n):
        w[s] = D[start, s]
    a = np.empty(n)
    back = np.empty((max(T - 1, 1), n), dtype=np.int32)
    arg = np.empty(n, dtype=np.int64)
    for t in range(T):
        for s in range(n):
            a[s] = w[s] + C[t, s]
        if t == T - 1:
            break
        if kind == KIND_UNIFORM:
            _step_uniform_arg(a, dist, w, arg)
        elif kind == KIND_STAR:
            _step_star_arg(a, wstar, w, arg)
        else:
            _step_general_arg(a, D, w, arg)
        for s in range(n):
            back[t, s] = arg[s]
    # the last task is served at argmin a (min_s w_T(s) = min_s a(s))
    best = np.inf
    last = 0
    for s in range(n):
        if a[s] < best:
            best = a[s]
            last = s
    states = np.empty(T, dtype=np.int64)
    states[T - 1] = last
    for t in range(T - 2, -1, -1):
        states[t] = back[t, states[t + 1]]
    return best, states


@njit
def randomized_uniform_kernel(C, start, dist, seed):
    """The 2H_n phase algorithm on the uniform metric with distance ``dist``.

    p(s) = phase cost of s, capped at dist. On task c: p = min(p + c, dist); stay if p(cur) < dist;
    else jump to a uniformly random state with p < dist; if there is none, start a new phase
    (p = 0) and jump to a uniformly random state with finite c(s) (all states when c is finite).
    Random draws: one np.random.random() per jump (index = floor(u * count)).
    """
    np.random.seed(seed)
    T, n = C.shape
    p = np.zeros(n)
    states = np.empty(T, dtype=np.int64)
    svc = np.empty(T)
    mov = np.empty(T)
    phases = 1
    cur = start
    for t in range(T):
        for s in range(n):
            v = p[s] + C[t, s]
            p[s] = v if v < dist else dist
        nxt = cur
        if not (p[cur] < dist):
            count = 0
            for s in range(n):
                if p[s] < dist:
                    count += 1
            if count == 0:
                phases += 1
                for s in range(n):
                    p[s] = 0.0
                for s in range(n):
                    if C[t, s] < np.inf:
                        count += 1
                k = int(np.random.random() * count)
                if k >= count:
                    k = count - 1
                for s in range(n):
                    if C[t, s] < np.inf:
                        if k == 0:
                            nxt = s
                            break
                        k -= 1
            else:
                k = int(np.random.random() * count)
                if k >= count:
                    k = count - 1
                for s in range(n):
                    if p[s] < dist:
                        if k == 0:
                            nxt = s
                            break
                        k -= 1
        states[t] = nxt
        svc[t] = C[t, nxt]
        mov[t] = 0.0 if nxt == cur else dist
        cur = nxt
    return states, svc, mov, phases


@njit
def greedy_kernel(D, C, start):
    """Greedy: s_t = argmin_s c_t(s) + D[s_{t-1}, s]; stay on ties, else the lowest index."""
    T, n = C.shape
    states = np.empty(T, dtype=np.int64)
    svc = np.empty(T)
    mov = np.empty(T)
    prev = start
    for t in range(T):
        best = np.inf
        arg = 0
        for s in range(n):
            v = C[t, s] + D[prev, s]
            if v < best:
                best = v
                arg = s
        if C[t, prev] <= best:
            arg = prev
        states[t] = arg
        svc[t] = C[t, arg]
        mov[t] = D[prev, arg]
        prev = arg
    return states, svc, mov
