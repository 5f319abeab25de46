"""Numba kernels of the no-regret caching learners, projections and rounding.

Private: kernels take arrays and scalars, never validate. Every kernel has a slow twin:
the projections and DepRound in ``tests/naive_caching_learners.py``; the batch runs of the
learners in their ``update`` loops (``run(..., fast=False)``).

Step-size schedules (``mode``): 0 = constant ``eta0``; 1 = ``eta0 / sqrt(t)`` (t = 1, 2, ...);
2 = doubling (epoch m has length 2^m, ``min(1, eta0 / sqrt(2^m))``, state restarted at the epoch start).
"""

from __future__ import annotations

import math

import numpy as np

from .._config import njit

# ----------------------------------------------------------------------------- projections


@njit
def proj_capped_simplex(z, C, out):
    """Euclidean projection of ``z`` onto {y in [0,1]^N, sum y = C}; writes ``out``, returns tau.

    y = clip(z - tau, 0, 1) with tau the root of g(tau) = sum clip(z - tau, 0, 1) = C. g is
    piecewise linear, non-increasing, with breakpoints z_i (i starts rising) and z_i - 1 (i
    saturates). Sweep the breakpoints in decreasing order (the two lists share one sort order),
    stop at the first breakpoint where g >= C, and solve the linear piece exactly.
    """
    N = z.shape[0]
    a = -np.sort(-z)  # descending
    p = 0  # a[0:p] have entered (z_i > tau)
    q = 0  # a[0:q] are saturated (z_i - 1 > tau)
    s_mid = 0.0  # running sum of a[q:p]
    tau_prev = np.inf
    tau = 0.0
    found = False
    while p < N or q < N:
        if p < N and a[p] >= a[q] - 1.0:
            te = a[p]
            is_enter = True
        else:
            te = a[q] - 1.0
            is_enter = False
        g = q + s_mid - (p - q) * te
        if g >= C:
            found = True
            break
        tau_prev = te
        if is_enter:
            s_mid += a[p]
            p += 1
        else:
            s_mid -= a[q]
            q += 1
    if not found:  # pragma: no cover - C < N guarantees a root
        te = -np.inf
    n_mid = p - q
    if n_mid > 0:
        s = 0.0
        for j in range(q, p):
            s += a[j]
        tau = (q + s - C) / n_mid
        if tau < te:
            tau = te
        if tau > tau_prev:
            tau = tau_prev
    else:
        tau = te
    for i in range(N):
        v = z[i] - tau
        if v < 0.0:
            v = 0.0
        elif v > 1.0:
            v = 1.0
        out[i] = v
    return tau


@njit
def proj_capped_simplex_kl(y, C, out):
    """Negative-entropy Bregman projection of ``y >= 0`` onto the capped simplex.

    x = min(1, c y): sort y decreasingly, m = number of saturated items; for m = 0, 1, ...
    c_m = (C - m) / sum_{l > m} y_(l); the first m with c_m y_(m+1) <= 1 is the answer.
    Writes ``out`` and returns c. Needs #(y > 0) >= C.
    """
    N = y.shape[0]
    s = -np.sort(-y)
    suffix = np.empty(N + 1)
    suffix[N] = 0.0
    for j in range(N - 1, -1, -1):
        suffix[j] = suffix[j + 1] + s[j]
    mmax = int(math.ceil(C)) - 1
    c = 0.0
    m = 0
    while True:
        c = (C - m) / suffix[m]
        if c * s[m] <= 1.0 or m >= mmax:
            break
        m += 1
    thr = s[m - 1] if m > 0 else np.inf  # items >= thr (by value) are saturated
    for i in range(N):
        v = c * y[i]
        if v > 1.0 or (m > 0 and y[i] >= thr):
            v = 1.0
        out[i] = v
    return c


# ----------------------------------------------------------------------------- indexed min-heap

@njit
def _sift_down(heap, pos, key, k, size):
    item = heap[k]
    kv = key[item]
    while True:
        child = 2 * k + 1
        if child >= size:
            break
        ci = heap[child]
        if child + 1 < size and key[heap[child + 1]] < key[ci]:
            child += 1
            ci = heap[child]
        if key[ci] >= kv:
            break
        heap[k] = ci
        pos[ci] = k
        k = child
    heap[k] = item
    pos[item] = k


@njit
def _heap_build(heap, pos, key, size):
    for k in range(size):
        pos[heap[k]] = k
    for k in range(size // 2 - 1, -1, -1):
        _sift_down(heap, pos, key, k, size)


# ----------------------------------------------------------------------------- schedules

@njit
def _eta_at(mode, eta0, t):
    """Step size of round t (0-based) and whether round t starts a doubling epoch."""
    if mode == 0:
        return eta0, False
    if mode == 1:
        return eta0 / math.sqrt(t + 1.0), False
    # doubling: epoch m covers rounds [2^m - 1, 2^(m+1) - 1)
    m = 0
    while (1 << (m + 1)) - 1 <= t:
        m += 1
    start = (1 << m) - 1
    eta = eta0 / math.sqrt(float(1 << m))
    if eta > 1.0:  # keep eta <= 1 where the (1 + O(eta)) bound applies
        eta = 1.0
    return eta, t == start


# ----------------------------------------------------------------------------- OGD

# heap with keys stored in heap order (cache-friendly sifts): hi = items, hk = keys, pos = slot

@njit
def _hk_up(hi, hk, pos, k):
    item = hi[k]
    kv = hk[k]
    while k > 0:
        p = (k - 1) >> 1
        if hk[p] <= kv:
            break
        hi[k] = hi[p]
        hk[k] = hk[p]
        pos[hi[k]] = k
        k = p
    hi[k] = item
    hk[k] = kv
    pos[item] = k


@njit
def _hk_down(hi, hk, pos, k, size):
    item = hi[k]
    kv = hk[k]
    while True:
        c = 2 * k + 1
        if c >= size:
            break
        if c + 1 < size and hk[c + 1] < hk[c]:
            c += 1
        if hk[c] >= kv:
            break
        hi[k] = hi[c]
        hk[k] = hk[c]
        pos[hi[k]] = k
        k = c
    hi[k] = item
    hk[k] = kv
    pos[item] = k


@njit
def _hk_remove_at(hi, hk, pos, k, size):
    pos[hi[k]] = -1
    size -= 1
    if k < size:
        hi[k] = hi[size]
        hk[k] = hk[size]
        pos[hi[k]] = k
        moved = hi[k]
        _hk_down(hi, hk, pos, k, size)
        _hk_up(hi, hk, pos, pos[moved])
    return size


@njit
def _hk_push(hi, hk, pos, item, kv, size):
    hi[size] = item
    hk[size] = kv
    _hk_up(hi, hk, pos, size)
    return size + 1


@njit
def ogd_onehot_run(trace, w, y, C, eta0, mode, t0, gains):
    """OGD on one-hot requests with the lazy projection; updates ``y`` in place.

    Active items (y > 0) sit in a min-heap keyed by v_j = y_j + G, G a global offset. A request
    for i adds delta = eta w_i to y_i; the projection subtracts one tau from every other item
    (clipped at 0) and caps y_i at 1. tau solves h(tau) = sum_{j != i} min(y_j, tau)
    + max(e, tau) = delta with e = y_i + delta - 1: sweep the smallest active values (popping
    the items that reach 0) and solve the linear piece. Cost O((1 + #items reaching 0) log N).
    """
    N = y.shape[0]
    hk = np.empty(N)
    hi = np.empty(N, dtype=np.int32)
    pos = np.full(N, -1, dtype=np.int32)
    size = 0
    for j in range(N):
        if y[j] > 0.0:
            hk[size] = y[j]
            hi[size] = j
            pos[j] = size
            size += 1
    for k in range(size // 2 - 1, -1, -1):
        _hk_down(hi, hk, pos, k, size)
    G = 0.0
    T = trace.shape[0]
    for t in range(T):
        i = trace[t]
        wi = w[i]
        eta, _ = _eta_at(mode, eta0, t0 + t)
        yi = 0.0
        pi = pos[i]
        if pi >= 0:
            yi = hk[pi] - G
            if yi < 0.0:
                yi = 0.0
            size = _hk_remove_at(hi, hk, pos, pi, size)
        gains[t] = wi * yi
        delta = eta * wi
        if delta > 0.0:
            e = yi + delta - 1.0
            passed_e = e <= 0.0
            removed = 0.0
            # drop exact (or round-off negative) zeros first
            while size > 0 and hk[0] - G <= 0.0:
                size = _hk_remove_at(hi, hk, pos, 0, size)
            tau = 0.0
            while True:
                cnt = size
                bh = hk[0] - G if size > 0 else np.inf
                if not passed_e and e < bh:
                    b = e
                    from_heap = False
                else:
                    b = bh
                    from_heap = True
                if not (b < np.inf):
                    # nothing left: only possible once every other item is 0 and e was passed
                    tau = delta - removed if passed_e else e
                    break
                hb = removed + cnt * b + (b if passed_e else e)
                if hb >= delta:
                    if passed_e:
                        tau = (delta - removed) / (cnt + 1)
                    elif cnt > 0:
                        tau = (delta - removed - e) / cnt
                    else:
                        tau = b
                    if tau > b:
                        tau = b
                    break
                if from_heap:
                    removed += bh
                    size = _hk_remove_at(hi, hk, pos, 0, size)
                else:
                    passed_e = True
            if tau < 0.0:
                tau = 0.0
            yi_new = yi + delta - tau
            if yi_new > 1.0:
                yi_new = 1.0
            G += tau
            if yi_new > 0.0:
                size = _hk_push(hi, hk, pos, i, yi_new + G, size)
            if G > 1.0:  # rebase: keys shift uniformly, heap order unchanged
                for k in range(size):
                    hk[k] -= G
                G = 0.0
        elif yi > 0.0:
            size = _hk_push(hi, hk, pos, i, yi + G, size)
    for j in range(N):
        y[j] = 0.0
    for k in range(size):
        v = hk[k] - G
        if v > 1.0:
            v = 1.0
        y[hi[k]] = v if v > 0.0 else 0.0


@njit
def ogd_batch_run(X, w, y, C, eta0, mode, t0, gains):
    """OGD on batched requests (rows of counts) with the general projection; ``y`` in place."""
    T, N = X.shape
    z = np.empty(N)
    for t in range(T):
        eta, _ = _eta_at(mode, eta0, t0 + t)
        g = 0.0
        for n in range(N):
            g += w[n] * X[t, n] * y[n]
            z[n] = y[n] + eta * w[n] * X[t, n]
        gains[t] = g
        proj_capped_simplex(z, C, y)


# ----------------------------------------------------------------------------- OMD

@njit
def omd_onehot_run(trace, w, y, C, eta0, mode, t0, gains):
    """OMD with negative entropy on one-hot requests, O(1) amortised per request.

    State: a global multiplier m and u (y_j = m u_j) for unsaturated items, and at most one
    saturated item ``sat`` (y = 1). A request for an unsaturated i multiplies y_i by
    exp(eta w_i); the KL projection x = min(1, c y') has c < 1, so every previously saturated
    item drops to c (it joins the multiplier group) and i saturates iff c y_i' >= 1. A request
    for the saturated item changes nothing (c = 1). So at most one item is ever saturated.
    """
    N = y.shape[0]
    u = np.empty(N)
    sat = -1
    m = 1.0
    su = 0.0
    for j in range(N):
        if y[j] >= 1.0 and sat < 0:
            sat = j
            u[j] = 0.0
        else:
            u[j] = y[j]
            su += y[j]
    T = trace.shape[0]
    refresh = N if N > 4096 else 4096
    for t in range(T):
        eta, restart = _eta_at(mode, eta0, t0 + t)
        if restart and t0 + t > 0:
            sat = -1
            m = 1.0
            for j in range(N):
                u[j] = C / N
            su = float(C)
        i = trace[t]
        wi = w[i]
        if i == sat:
            gains[t] = wi
            continue
        yi = m * u[i]
        gains[t] = wi * yi
        a = yi * math.exp(eta * wi)
        if sat >= 0:
            u[sat] = 1.0 / m
            su += 1.0 / m
            sat = -1
        p_other = m * (su - u[i])
        if p_other < 0.0:
            p_other = 0.0
        c = C / (p_other + a)
        if c * a <= 1.0:
            su += (a - yi) / m
            u[i] = a / m
            m *= c
        else:
            c = (C - 1.0) / p_other
            su -= u[i]
            u[i] = 0.0
            sat = i
            m *= c
        if m < 1e-150 or m > 1e150 or (t + 1) % refresh == 0:
            su = 0.0
            for j in range(N):
                if j != sat:
                    u[j] *= m
                    su += u[j]
            m = 1.0
    for j in range(N):
        v = m * u[j]
        y[j] = 1.0 if v > 1.0 else v
    if sat >= 0:
        y[sat] = 1.0


@njit
def omd_batch_run(X, w, y, C, eta0, mode, t0, gains):
    """OMD-NE on batched requests with the general KL projection; ``y`` in place."""
    T, N = X.shape
    z = np.empty(N)
    for t in range(T):
        eta, restart = _eta_at(mode, eta0, t0 + t)
        if restart and t0 + t > 0:
            for n in range(N):
                y[n] = C / N
        g = 0.0
        for n in range(N):
            g += w[n] * X[t, n] * y[n]
            z[n] = y[n] * math.exp(eta * w[n] * X[t, n])
        gains[t] = g
        proj_capped_simplex_kl(z, C, y)


# ----------------------------------------------------------------------------- top-C tracking

@njit
def topc_run(trace, w, score, in_set, C, gains, best):
    """Incremental top-C of ``score`` under one-hot increments ``score[i] += w[i]``.

    ``in_set`` marks the current top-C (updated in place). ``gains[t] = w_i [i in set before]``
    (FTPL's gain with a fixed perturbation) and ``best[t] = sum of the C largest scores after
    round t`` (the best static gain so far when ``score`` starts at 0). O(log C) per request.
    """
    N = score.shape[0]
    heap = np.empty(C, dtype=np.int64)
    pos = np.full(N, -1, dtype=np.int64)
    size = 0
    tot = 0.0
    for j in range(N):
        if in_set[j]:
            heap[size] = j
            size += 1
            tot += score[j]
    _heap_build(heap, pos, score, size)
    T = trace.shape[0]
    for t in range(T):
        i = trace[t]
        wi = w[i]
        if pos[i] >= 0:
            gains[t] = wi
            score[i] += wi
            tot += wi
            _sift_down(heap, pos, score, pos[i], size)
        else:
            gains[t] = 0.0
            score[i] += wi
            top = heap[0]
            if score[i] > score[top]:
                tot += score[i] - score[top]
                in_set[top] = False
                pos[top] = -1
                heap[0] = i
                pos[i] = 0
                in_set[i] = True
                _sift_down(heap, pos, score, 0, size)
        best[t] = tot


# ----------------------------------------------------------------------------- rounding

@njit
def depround_kernel(y, u, out):
    """DepRound (Gandhi et al. 2006) with pre-drawn uniforms ``u`` (len >= N); ``out`` 0/1.

    Repeatedly pairs two fractional coordinates a, b: alpha = min(1-a, b), beta = min(a, 1-b);
    with probability beta/(alpha+beta) -> (a+alpha, b-alpha), else (a-beta, b+beta). Values
    within 1e-12 of 0 or 1 are snapped. Each step makes at least one coordinate integral.
    """
    N = y.shape[0]
    x = y.copy()
    for n in range(N):
        if x[n] < 1e-12:
            x[n] = 0.0
        elif x[n] > 1.0 - 1e-12:
            x[n] = 1.0
    k = 0
    a_idx = -1
    for n in range(N):
        if x[n] == 0.0 or x[n] == 1.0:
            continue
        if a_idx < 0:
            a_idx = n
            continue
        a = x[a_idx]
        b = x[n]
        alpha = min(1.0 - a, b)
        beta = min(a, 1.0 - b)
        if u[k] * (alpha + beta) < beta:
            a += alpha
            b -= alpha
        else:
            a -= beta
            b += beta
        k += 1
        if a < 1e-12:
            a = 0.0
        elif a > 1.0 - 1e-12:
            a = 1.0
        if b < 1e-12:
            b = 0.0
        elif b > 1.0 - 1e-12:
            b = 1.0
        x[a_idx] = a
        x[n] = b
        if a == 0.0 or a == 1.0:
            a_idx = n if (b != 0.0 and b != 1.0) else -1
    for n in range(N):
        out[n] = 1.0 if x[n] >= 0.5 else 0.0
