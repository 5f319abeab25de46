"""Numba kernels of AÇAI's per-request work (private: arrays and scalars in, no validation).

Lazy fractional state (``docs/theory/acai_gain.md``, section 8): the fractional cache is

    y_i = 1                    if satpos[i] >= 0   (saturated: v[i] = inf; satlist[:cnt[0]] lists them)
    y_i = min(1, s * v[i])     otherwise,

so ``y = min(1, s v)`` everywhere (``s > 0``; the rounding streams ``v`` alone),

with one global scale ``s = st[0]`` and ``st[1] = sum of v over the unsaturated items``. The
multiplicative step touches the candidates only; the KL projection ``min(1, c y~)`` onto the
capped simplex multiplies every other coordinate by the same ``c <= 1``, which is ``s <- c s``.
Rounding (:func:`depround_lazy`) is DepRound with one uniform per run of merges.

Slow twins (compared in ``tests/test_similarity_acai_kernels.py``): :func:`gain_supergradient`
against :func:`online_algs.similarity.costs.gain_and_supergradient`; :func:`omd_lazy_step` against
ACAI's numpy update (``ACAI._learn``, reduced or full projection); :func:`depround_lazy` against a
plain-python twin fed with the same uniforms (:func:`uniforms`) and, in distribution, against
the one-draw-per-pairing DepRound of :func:`online_algs.caching.rounding.depround`.
"""

from __future__ import annotations

import math

import numpy as np

from .._config import njit

#: renormalise v (v <- s v, s <- 1) when the scale leaves [SCALE_MIN, SCALE_MAX]
SCALE_MIN = 1e-100
SCALE_MAX = 1e100
_SNAP = 1e-12


@njit
def gain_supergradient(dist, x, k, cf, tol, g):
    """Gain ``G(r, x)`` and a supergradient written into ``g`` (the sweep of ``costs._sweep``).

    Copy values ``dist`` (local, capacity x) and ``dist + cf`` (remote, capacity 1 - x) sorted
    with ties by position (local before remote); ``g_o = W[remote o] - W[local o]`` with ``W`` the
    prefix sums of the interval widths where ``U_t(x) < k - tol``. O(n log n), n = len(dist).
    """
    n = dist.shape[0]
    vals = np.empty(2 * n)
    inc = np.empty(2 * n)
    inc0 = np.empty(2 * n)
    for i in range(n):
        vals[i] = dist[i]
        vals[n + i] = dist[i] + cf
        inc[i] = x[i]
        inc[n + i] = 1.0 - x[i]
        inc0[i] = 0.0
        inc0[n + i] = 1.0
    order = np.argsort(vals, kind="mergesort")  # stable: ties by position, as lexsort((arange, vals))
    pos = np.empty(2 * n, dtype=np.int64)
    W = np.empty(2 * n)
    W[0] = 0.0
    G = 0.0
    U = 0.0
    U0 = 0.0
    for j in range(2 * n):
        pos[order[j]] = j
    for j in range(2 * n - 1):
        U += inc[order[j]]
        U0 += inc0[order[j]]
        w = vals[order[j + 1]] - vals[order[j]]
        G += w * (min(k, U) - min(k, U0))
        W[j + 1] = W[j] + (w if U < k - tol else 0.0)
    for i in range(n):
        gi = W[pos[n + i]] - W[pos[i]]
        g[i] = gi if gi > 0.0 else 0.0
    return G


@njit
def lazy_values(ids, v, s, out):
    """``out[j] = y[ids[j]]`` of the lazy state."""
    for j in range(ids.shape[0]):
        val = s * v[ids[j]]
        out[j] = 1.0 if val > 1.0 else val


@njit
def materialize(v, s, out):
    """The whole fractional cache ``y`` (O(N))."""
    for i in range(v.shape[0]):
        val = s * v[i]
        out[i] = 1.0 if val > 1.0 else val


@njit
def lazy_init(y, v, satpos, satlist, st, cnt):
    """Load a fractional cache ``y`` into the lazy state (s = 1)."""
    cnt[0] = 0
    tot = 0.0
    for i in range(y.shape[0]):
        if y[i] >= 1.0:
            satpos[i] = cnt[0]
            satlist[cnt[0]] = i
            cnt[0] += 1
            v[i] = np.inf
        else:
            satpos[i] = -1
            v[i] = y[i]
            tot += y[i]
    st[0] = 1.0
    st[1] = tot


@njit
def renormalize(v, satpos, st):
    """``v <- s v`` on the unsaturated items, ``s <- 1``, and the exact sum of v (O(N))."""
    s = st[0]
    tot = 0.0
    for i in range(v.shape[0]):
        if satpos[i] < 0:
            v[i] *= s
            tot += v[i]
    st[0] = 1.0
    st[1] = tot


@njit
def _sat_remove(i, satpos, satlist, cnt):
    p = satpos[i]
    last = satlist[cnt[0] - 1]
    satlist[p] = last
    satpos[last] = p
    satpos[i] = -1
    cnt[0] -= 1


@njit
def omd_lazy_step(ids, g, eta, C, v, satpos, satlist, st, cnt):
    """One AÇAI step on the lazy state: ``y~ = y exp(eta g)`` on ``ids`` (distinct), then the KL
    projection ``min(1, c y~)`` onto ``{y in [0, 1]^N, sum y = C}``. Returns ``c``.

    Only the candidates grew, so ``c <= 1``: every other item is unsaturated afterwards and is
    multiplied by ``c`` (``s <- c s``; items that were saturated become ``c``). ``c`` and the
    saturated candidates solve the projection of ``[y~_ids, P]`` with ``P`` the (uncapped)
    mass of the other items: sort ``y~_ids`` decreasingly, ``c_m = (C - m) / (P + sum_{l > m}
    y~_(l))``, the first m with ``c_m y~_(m+1) <= 1`` (at most ``ceil(C) - 1``). O(K log K) for
    K = len(ids), plus O(1) amortised per previously saturated item.
    """
    K = ids.shape[0]
    s = st[0]
    yt = np.empty(K)
    was_sat = np.zeros(K, dtype=np.bool_)
    vc = 0.0
    nsat_c = 0
    for j in range(K):
        i = ids[j]
        if satpos[i] >= 0:
            y = 1.0
            was_sat[j] = True
            nsat_c += 1
        else:
            y = s * v[i]
            if y > 1.0:
                y = 1.0
            vc += v[i]
        yt[j] = y * math.exp(eta * g[j])
    P = s * (st[1] - vc) + (cnt[0] - nsat_c)
    if P < 0.0:
        P = 0.0
    order = np.argsort(-yt, kind="mergesort")
    suf = np.empty(K + 1)
    suf[K] = P
    for j in range(K - 1, -1, -1):
        suf[j] = suf[j + 1] + yt[order[j]]
    mmax = int(math.ceil(C)) - 1
    m = 0
    c = 1.0
    while True:
        c = (C - m) / suf[m] if suf[m] > 0.0 else 1.0
        if m >= K or c * yt[order[m]] <= 1.0 or m >= mmax:
            break
        m += 1
    thr = yt[order[m - 1]] if m > 0 else np.inf
    # take the candidates out of the state
    for j in range(K):
        i = ids[j]
        if was_sat[j]:
            _sat_remove(i, satpos, satlist, cnt)
        else:
            st[1] -= v[i]
    if c < 1.0:  # every other saturated item drops to c: v = c / (c s) = 1 / s
        inv = 1.0 / s
        for p in range(cnt[0]):
            i = satlist[p]
            satpos[i] = -1
            v[i] = inv
            st[1] += inv
        cnt[0] = 0
    s_new = s * c
    st[0] = s_new
    for j in range(K):
        i = ids[j]
        val = c * yt[j]
        if val > 1.0 or (m > 0 and yt[j] >= thr):
            satpos[i] = cnt[0]
            satlist[cnt[0]] = i
            cnt[0] += 1
            v[i] = np.inf
        else:
            v[i] = val / s_new
            st[1] += v[i]
    return c


@njit
def _next_uniform(state):
    """SplitMix64 (Steele, Lea, Flood 2014): a uniform in [0, 1) with 53 random bits; ``state`` a
    one-element uint64 array (the RNG state lives in an array, so a kernel is reproducible from a
    seed and costs ~1 ns per draw against ~8 ns for numba's ``np.random.random``)."""
    state[0] = state[0] + np.uint64(0x9E3779B97F4A7C15)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit
def uniforms(seed, n):
    """``n`` uniforms of the stream that :func:`depround_lazy` draws from ``seed``."""
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed)
    out = np.empty(n)
    for i in range(n):
        out[i] = _next_uniform(state)
    return out


@njit
def _snap(a):
    if a < _SNAP:
        return 0.0
    if a > 1.0 - _SNAP:
        return 1.0
    return a


@njit
def _decide(n, sel, cached, fetched, evicted, cnt3):
    """Record the final value of item ``n``: cnt3 = [selected, fetched, evicted]."""
    if sel:
        cnt3[0] += 1
        if cached[n] == 0:
            fetched[cnt3[1]] = n
            cnt3[1] += 1
    elif cached[n] != 0:
        evicted[cnt3[2]] = n
        cnt3[2] += 1


@njit
def depround_lazy(v, s, seed, cached, fetched, evicted):
    """DepRound of the lazy fractional cache, diffed against the integral cache ``cached`` (0/1).

    DepRound (Gandhi et al. 2006) in item order: the fractional *carrier* ``a`` is paired with the
    next fractional ``b``; ``alpha = min(1-a, b)``, ``beta = min(a, 1-b)``; ``(a+alpha, b-alpha)``
    with probability ``beta / (alpha + beta)``, else ``(a-beta, b+beta)``; values within 1e-12 of
    0 or 1 are snapped. While ``a + b <= 1`` a pairing is a *merge*: the mass ``a + b`` stays with
    the carrier with probability ``a / (a + b)``, else moves to ``b``. Those switch events are
    independent with ``P(no switch from mass M0 up to mass M) = M0 / M`` (telescoping), so one
    uniform ``u`` per run of merges gives them all: the carrier switches at the first item where the
    accumulated mass exceeds ``M0 / u`` (then a fresh ``u``). Same output distribution as the
    one-draw-per-pairing DepRound (``docs/theory/acai_gain.md``, section 9; tested against it),
    with one draw per switch or crossing instead of one per item.

    Uniforms from :func:`uniforms` (``seed``), in order. Writes the newly cached ids to ``fetched``
    and the dropped ones to ``evicted`` (each of length >= N); ``cached`` is not modified. Returns
    ``(number selected, n_fetched, n_evicted)``. O(N), about 2 float operations per tiny item.
    """
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed)
    cnt3 = np.zeros(3, dtype=np.int64)
    N = v.shape[0]
    a_idx = -1
    a = 0.0
    thresh = 0.0
    need_u = True
    lo = _SNAP
    hi = 1.0 - _SNAP
    n = -1
    while n + 1 < N:
        n += 1
        if a_idx >= 0 and not need_u:
            # fast path of a merge run: b fractional, no switch (M <= thresh), no saturation
            # (M <= 1 - snap): the carrier just absorbs b and b ends at 0 (same result as below)
            lim = thresh if thresh < hi else hi
            while n < N:
                b = s * v[n]
                if b < lo or b > hi:
                    break
                M = a + b
                if M > lim:
                    break
                if cached[n] != 0:
                    evicted[cnt3[2]] = n
                    cnt3[2] += 1
                a = M
                n += 1
            if n == N:
                break
        b = s * v[n]  # inf (saturated) -> 1
        if b > 1.0:
            b = 1.0
        b = _snap(b)
        if b == 0.0 or b == 1.0:
            _decide(n, b == 1.0, cached, fetched, evicted, cnt3)
            continue
        if a_idx < 0:
            a_idx = n
            a = b
            need_u = True
            continue
        M = a + b
        if M <= 1.0 + _SNAP:  # merge: the carrier keeps the mass unless the threshold is crossed (the
            # tolerance keeps round-off of a total mass of exactly 1 on this side: it snaps to 1 below)
            if need_u:
                thresh = a / (1.0 - _next_uniform(state))  # u in (0, 1]
                need_u = False
            if M > thresh:
                _decide(a_idx, False, cached, fetched, evicted, cnt3)
                a_idx = n
                need_u = True
            else:
                _decide(n, False, cached, fetched, evicted, cnt3)
            a = _snap(M)
            if a == 1.0:
                _decide(a_idx, True, cached, fetched, evicted, cnt3)
                a_idx = -1
            continue
        alpha = min(1.0 - a, b)
        beta = min(a, 1.0 - b)
        if _next_uniform(state) * (alpha + beta) < beta:
            a += alpha
            b -= alpha
        else:
            a -= beta
            b += beta
        a = _snap(a)
        b = _snap(b)
        need_u = True
        if a == 0.0 or a == 1.0:  # the carrier is decided; b carries on if fractional
            _decide(a_idx, a == 1.0, cached, fetched, evicted, cnt3)
            if b != 0.0 and b != 1.0:
                a_idx = n
                a = b
                continue
            a_idx = -1
        _decide(n, b >= 0.5, cached, fetched, evicted, cnt3)  # integral up to round-off
    if a_idx >= 0:  # a fractional leftover (round-off only): rounded at 1/2 as in depround_kernel
        _decide(a_idx, a >= 0.5, cached, fetched, evicted, cnt3)
    return cnt3[0], cnt3[1], cnt3[2]


@njit
def acai_learn(ids, dist, k, cf, eta, C, learn, v, satpos, satlist, st, cnt):
    """One AÇAI request on the lazy state: ``x = y[ids]``, the gain and supergradient at ``x``
    (:func:`gain_supergradient`), then (``learn``) :func:`omd_lazy_step`. Returns the gain."""
    K = ids.shape[0]
    x = np.empty(K)
    lazy_values(ids, v, st[0], x)
    g = np.empty(K)
    G = gain_supergradient(dist, x, k, cf, 1e-12, g)
    if learn:
        omd_lazy_step(ids, g, eta, C, v, satpos, satlist, st, cnt)
    return G


@njit
def view_ids(E, L, k):
    """Id bookkeeping of one request: ``E`` the remote candidates (valid ids, nearest first), ``L``
    the local k+1 nearest. Returns ``U`` = sorted union of ``E`` and ``L`` (the ids whose distances
    are computed), ``cand`` = sorted union of ``E[:k]`` and ``L`` (the answer's candidates), and the
    positions of ``cand`` and of ``E`` in ``U``."""
    nE = E.shape[0]
    kk = k if k < nE else nE
    both = np.empty(nE + L.shape[0], dtype=np.int64)
    both[:nE] = E
    both[nE:] = L
    U = np.unique(both)
    part = np.empty(kk + L.shape[0], dtype=np.int64)
    part[:kk] = E[:kk]
    part[kk:] = L
    cand = np.unique(part)
    return U, cand, np.searchsorted(U, cand), np.searchsorted(U, E)
