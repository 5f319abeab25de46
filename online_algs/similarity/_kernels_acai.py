"""Numba kernels of AÇAI's per-request work (private: arrays and scalars in, no validation).

Lazy fractional state (``docs/theory/acai_gain.md``, section 8): the fractional cache is

    y_i = 1                    if satpos[i] >= 0   (saturated: v[i] = inf; satlist[:cnt[0]] lists them)
    y_i = min(1, s * v[i])     otherwise,

so ``y = min(1, s v)`` everywhere (``s > 0``; the rounding streams ``v`` alone),

with one global scale ``s = st[0]`` and ``st[1] = sum of v over the unsaturated items``. The
multiplicative step touches the candidates only; the KL projection ``min(1, c y~)`` onto the
capped simplex multiplies every other coordinate by the same ``c <= 1``, which is ``s <- c s``.
Rounding: :func:`depround_fen` (the default, sublinear: section 10 of the theory page, comment
above it) and :func:`depround_lazy` (the previous O(N) pass with one uniform per run of merges).

Slow twins (compared in ``tests/test_similarity_acai_kernels.py`` and
``tests/test_similarity_acai_rounding.py``): :func:`gain_supergradient` against
:func:`online_algs.similarity.costs.gain_and_supergradient`; :func:`omd_lazy_step` against ACAI's
numpy update (``ACAI._learn``, reduced or full projection); :func:`depround_lazy` and
:func:`depround_fen` against plain-python twins fed with the same uniforms (:func:`uniforms`)
and, in distribution, against an exact enumeration of pairwise DepRound in the same order; the
incremental rounding state (:func:`rstate_refresh`) against :func:`rstate_build`;
:func:`acai_request` through the policy against ACAI's numpy twin; the slot kernels against the
dict-based ``FaissSlotIndex``; :func:`euclidean_rows` against numpy.
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


# ----------------------------------------------------------------------------- sublinear DepRound
#
# DepRound in a pairing order chosen for speed (docs/theory/acai_gain.md section 10):
#
# * the "big" objects (B: y > 1/2, unsaturated) first, in id order, in the complement space
#   z = 1 - y (DepRound of z is DepRound of y: the pairwise step is symmetric);
# * then the "small" objects (S: y <= 1/2), in id order, in y-space;
# * then the two fractional leftovers paired with each other;
# * saturated objects (y = 1) are selected and take no part.
#
# Inside a phase a *run* of merges (carrier a, next b with a + b <= 1) leaves the whole mass on one
# object chosen with probability proportional to its mass, so a run is resolved by two prefix-sum
# searches: where the accumulated mass reaches 1 (the run's end) and which object carries it (one
# uniform). The end is either a merge to exactly 1 (that object is decided 1) or a crossing with
# the next object b (a + b > 1: the pairwise DepRound step with its own uniform; one of the two is
# decided 1, the other carries a + b - 1). Prefix sums of v over S and of (1, v) over B live in
# Fenwick trees (y = s v, z = 1 - s v with the global scale s), so a rounding costs
# O((1 + M_S + M_B) log N) with M_S = sum_S y and M_B = sum_B (1 - y), plus the changes since the
# previous rounding (the diff against the cache).
#
# Rounding state arrays (built by rstate_build, maintained by rstate_refresh after every OMD step):
#   cls[i]   0 = S, 1 = B, 2 = saturated;  tv[i] = v[i] as stored in the trees
#   VS, VB, CB  Fenwick trees (length N + 1) of v over S, v over B, 1 over B
#   hv, hid  a min-heap of (v, id) over B (lazy deletion): B objects whose y = s v drops to 1/2
#            move to S (the scale only shrinks off the candidates)
#   ri       [n_B, heap size, n_dirty, full_diff, n_exc, heap_overflow]
#   dirty/dmark  objects whose class changed since the last rounding
#   exc      the objects decided against their class default at the last rounding (S selected,
#            B dropped): with dirty, the only objects whose cache flag can change

RI_NB = 0
RI_HSIZE = 1
RI_NDIRTY = 2
RI_FULL = 3
RI_NEXC = 4
RI_OVERFLOW = 5


@njit
def _fen_add(tree, i, delta):
    n = tree.shape[0] - 1
    j = (i >> LEAF_SHIFT) + 1
    while j <= n:
        tree[j] += delta
        j += j & (-j)


@njit
def _fen_build(vals, tree):
    n = tree.shape[0] - 1
    for j in range(n + 1):
        tree[j] = 0.0
    for i in range(vals.shape[0]):
        tree[(i >> LEAF_SHIFT) + 1] += vals[i]
    for j in range(1, n + 1):
        p = j + (j & (-j))
        if p <= n:
            tree[p] += tree[j]


@njit
def _top_pow2(n):
    p = 1
    while p * 2 <= n:
        p *= 2
    return p


#: objects per leaf of the Fenwick trees: the trees sum leaves of LEAF consecutive ids (N / 16 nodes,
#: 50 KB at N = 10^5: they stay in cache) and a search ends with a scan of one leaf
LEAF_SHIFT = 4
LEAF = 1 << LEAF_SHIFT


@njit
def _fen_search(mode, s, v, cls, t1, t2, x, top):
    """Smallest object p with prefix(p) > x in the phase's order (ids of class ``mode``), and
    prefix(p - 1). Leaf mass: ``s t1`` (mode 0, S) or ``t2 - s t1`` (mode 1, B), then the objects of
    the leaf one by one (:func:`_mass`). p = N when the total is <= x."""
    nl = t1.shape[0] - 1
    pos = 0
    acc = 0.0
    step = top
    while step > 0:
        nxt = pos + step
        if nxt <= nl:
            m = s * t1[nxt] if mode == 0 else t2[nxt] - s * t1[nxt]
            if acc + m <= x:
                pos = nxt
                acc += m
        step >>= 1
    n = v.shape[0]
    i = pos << LEAF_SHIFT
    while i < n:  # the leaf (and, after round-off between the leaf sum and its objects, the next ones)
        if cls[i] == mode:
            m = _mass(mode, s, v, i)
            if acc + m > x:
                return i, acc
            acc += m
        i += 1
    return n, acc


@njit
def _mass(mode, s, v, i):
    y = s * v[i]
    if y > 1.0:
        y = 1.0
    if mode == 0:
        return y
    z = 1.0 - y
    return z if z > 0.0 else 0.0


@njit
def _pick(mode, s, v, cls, t1, t2, top, car, a, Pcur, x, cur, last):
    """The carrier of a run: ``car`` (mass ``a``) if ``x < a``, else the object of the run
    (cur, last] where the run's prefix mass first exceeds ``x - a``."""
    if x < a and car >= 0:
        return car
    q, _ = _fen_search(mode, s, v, cls, t1, t2, Pcur + (x - a), top)
    if q > cur and q <= last and cls[q] == mode:
        return q
    # round-off at the ends of the range: the carrier, else the last object of the run with mass
    if car >= 0:
        return car
    q = last
    while q > cur and (cls[q] != mode or _mass(mode, s, v, q) <= 0.0):
        q -= 1
    return q


@njit
def _phase(mode, s, v, cls, t1, t2, top, ustate, out, nout):
    """One phase of the sublinear DepRound (module comment). Objects decided 1 in the phase's space
    are appended to ``out`` (S: selected; B: dropped). Returns (leftover id or -1, its mass, nout)."""
    n = v.shape[0]
    _, total = _fen_search(mode, s, v, cls, t1, t2, np.inf, top)
    cur = -1
    Pcur = 0.0
    car = -1
    a = 0.0
    while True:
        p, pre = _fen_search(mode, s, v, cls, t1, t2, Pcur + (1.0 - _SNAP - a), top)
        if p >= n:
            break
        b = _mass(mode, s, v, p)
        Mb = a + (pre - Pcur)
        if Mb < 0.0:
            Mb = 0.0
        M = Mb + b
        u1 = _next_uniform(ustate)
        if M <= 1.0 + _SNAP:  # the run merges to exactly 1: its carrier is decided 1
            w = _pick(mode, s, v, cls, t1, t2, top, car, a, Pcur, u1 * M, cur, p)
            out[nout] = w
            nout += 1
            car = -1
            a = 0.0
        else:  # crossing of the run's carrier (mass Mb) with p (mass b): pairwise DepRound step
            w = _pick(mode, s, v, cls, t1, t2, top, car, a, Pcur, u1 * Mb, cur, p - 1)
            u2 = _next_uniform(ustate)
            alpha = 1.0 - Mb
            beta = 1.0 - b
            if u2 * (alpha + beta) < beta:
                out[nout] = w
                car = p
            else:
                out[nout] = p
                car = w
            nout += 1
            a = M - 1.0
            if a < _SNAP:
                car = -1
                a = 0.0
            elif a > 1.0 - _SNAP:
                out[nout] = car
                nout += 1
                car = -1
                a = 0.0
        cur = p
        Pcur = pre + b
    Mt = a + (total - Pcur)
    if Mt > _SNAP:
        u1 = _next_uniform(ustate)
        w = _pick(mode, s, v, cls, t1, t2, top, car, a, Pcur, u1 * Mt, cur, n - 1)
        return w, Mt, nout
    return -1, 0.0, nout


@njit
def _heap_push(hv, hid, ri, val, i):
    k = ri[RI_HSIZE]
    if k >= hv.shape[0]:
        ri[RI_OVERFLOW] = 1  # the caller rebuilds the rounding state
        return
    ri[RI_HSIZE] = k + 1
    while k > 0:
        par = (k - 1) >> 1
        if hv[par] <= val:
            break
        hv[k] = hv[par]
        hid[k] = hid[par]
        k = par
    hv[k] = val
    hid[k] = i


@njit
def _sift_down(hv, hid, k, m, val, i):
    """Place ``(val, i)`` at position ``k`` of the min-heap ``hv[:m]`` (ids ``hid``), moving it down."""
    while True:
        c = 2 * k + 1
        if c >= m:
            break
        if c + 1 < m and hv[c + 1] < hv[c]:
            c += 1
        if hv[c] >= val:
            break
        hv[k] = hv[c]
        hid[k] = hid[c]
        k = c
    hv[k] = val
    hid[k] = i


@njit
def _heap_pop(hv, hid, ri):
    n = ri[RI_HSIZE] - 1
    ri[RI_HSIZE] = n
    if n == 0:
        return
    _sift_down(hv, hid, 0, n, hv[n], hid[n])


@njit
def _mark_dirty(i, dirty, dmark, ri):
    if dmark[i] == 0:
        dmark[i] = 1
        dirty[ri[RI_NDIRTY]] = i
        ri[RI_NDIRTY] += 1


@njit
def rstate_build(v, satpos, s, cls, tv, VS, VB, CB, hv, hid, ri, dmark):
    """(Re)build the rounding state from the lazy state (O(N)); the next rounding diffs all objects."""
    n = v.shape[0]
    vs = np.zeros(n)
    vb = np.zeros(n)
    cb = np.zeros(n)
    nb = 0
    ri[RI_HSIZE] = 0
    for i in range(n):
        dmark[i] = 0
        if satpos[i] >= 0:
            cls[i] = 2
            tv[i] = 0.0
        else:
            tv[i] = v[i]
            if s * v[i] > 0.5:
                cls[i] = 1
                vb[i] = v[i]
                cb[i] = 1.0
                nb += 1
                if ri[RI_HSIZE] >= hv.shape[0]:
                    raise ValueError("rstate_build: the heap must hold every big object (capacity >= N)")
                hv[ri[RI_HSIZE]] = v[i]
                hid[ri[RI_HSIZE]] = i
                ri[RI_HSIZE] += 1
            else:
                cls[i] = 0
                vs[i] = v[i]
    _fen_build(vs, VS)
    _fen_build(vb, VB)
    _fen_build(cb, CB)
    # heapify
    m = ri[RI_HSIZE]
    for k0 in range(m // 2 - 1, -1, -1):
        _sift_down(hv, hid, k0, m, hv[k0], hid[k0])
    ri[RI_NB] = nb
    ri[RI_NDIRTY] = 0
    ri[RI_FULL] = 1
    ri[RI_NEXC] = 0
    ri[RI_OVERFLOW] = 0


@njit
def _rs_refresh(i, v, satpos, s, cls, tv, VS, VB, CB, hv, hid, ri, dirty, dmark):
    """Put object ``i`` back in the class and trees its current y says."""
    if satpos[i] >= 0:
        new = 2
    elif s * v[i] > 0.5:
        new = 1
    else:
        new = 0
    old = cls[i]
    if old == new and (new == 2 or tv[i] == v[i]):
        return
    if old == new:  # same class, new value: one tree update
        dv = v[i] - tv[i]
        tv[i] = v[i]
        if new == 0:
            _fen_add(VS, i, dv)
        else:
            _fen_add(VB, i, dv)
            _heap_push(hv, hid, ri, v[i], i)
        return
    if old == 0:
        _fen_add(VS, i, -tv[i])
    elif old == 1:
        _fen_add(VB, i, -tv[i])
        _fen_add(CB, i, -1.0)
        ri[RI_NB] -= 1
    if new == 0:
        tv[i] = v[i]
        _fen_add(VS, i, v[i])
    elif new == 1:
        tv[i] = v[i]
        _fen_add(VB, i, v[i])
        _fen_add(CB, i, 1.0)
        ri[RI_NB] += 1
        _heap_push(hv, hid, ri, v[i], i)
    else:
        tv[i] = 0.0
    cls[i] = new
    if old != new:
        _mark_dirty(i, dirty, dmark, ri)


@njit
def rstate_refresh(ids, extra, n_extra, v, satpos, s, cls, tv, VS, VB, CB, hv, hid, ri, dirty, dmark):
    """After an OMD step: refresh the candidates ``ids`` and ``extra[:n_extra]`` (the objects that
    were saturated before the step), then move the B objects whose y fell to 1/2 to S."""
    for j in range(ids.shape[0]):
        _rs_refresh(ids[j], v, satpos, s, cls, tv, VS, VB, CB, hv, hid, ri, dirty, dmark)
    for j in range(n_extra):
        _rs_refresh(extra[j], v, satpos, s, cls, tv, VS, VB, CB, hv, hid, ri, dirty, dmark)
    while ri[RI_HSIZE] > 0:
        i = hid[0]
        val = hv[0]
        if cls[i] != 1 or tv[i] != val:  # stale entry
            _heap_pop(hv, hid, ri)
            continue
        if s * val > 0.5:
            break
        _heap_pop(hv, hid, ri)
        _fen_add(VB, i, -val)
        _fen_add(CB, i, -1.0)
        _fen_add(VS, i, val)
        ri[RI_NB] -= 1
        cls[i] = 0
        _mark_dirty(i, dirty, dmark, ri)


@njit
def depround_fen(v, s, n_sat, seed, cls, VS, VB, CB, ri, dirty, dmark, exc, mark, sel_s, drop_b, cached,
                 fetched, evicted):
    """Sublinear DepRound of the lazy state (module comment above), diffed against ``cached``
    (updated in place). Returns ``(number selected, n_fetched, n_evicted)``.

    Uniforms from :func:`uniforms` (``seed``) in order: the B phase, the S phase, then one for the
    pair of leftovers. O((1 + M_S + M_B) log N + changes since the previous rounding)."""
    n = v.shape[0]
    top = _top_pow2(VS.shape[0] - 1)
    ustate = np.empty(1, dtype=np.uint64)
    ustate[0] = np.uint64(seed)
    lb, ab, nd = _phase(1, s, v, cls, VB, CB, top, ustate, drop_b, 0)
    ls, as_, ns = _phase(0, s, v, cls, VS, VS, top, ustate, sel_s, 0)
    if lb >= 0 and ls >= 0:  # y-values 1 - ab and as_ (sum 1 up to round-off): a merge
        yb = 1.0 - ab
        if _next_uniform(ustate) * (yb + as_) >= yb:
            drop_b[nd] = lb
            nd += 1
            sel_s[ns] = ls
            ns += 1
    elif lb >= 0:  # a leftover alone: round-off only, rounded at 1/2
        if ab >= 0.5:
            drop_b[nd] = lb
            nd += 1
    elif ls >= 0:
        if as_ >= 0.5:
            sel_s[ns] = ls
            ns += 1
    n_sel = n_sat + ri[RI_NB] - nd + ns
    # the diff: only the objects decided against their class default now or at the last rounding,
    # and the objects whose class changed since, can change their cache flag
    for j in range(ns):
        mark[sel_s[j]] = 1
    for j in range(nd):
        mark[drop_b[j]] = 2
    nf = 0
    ne = 0
    if ri[RI_FULL] != 0:
        for i in range(n):
            c = cls[i]
            want = 1 if (c == 2 or (c == 1 and mark[i] != 2) or (c == 0 and mark[i] == 1)) else 0
            if want != cached[i]:
                if want == 1:
                    fetched[nf] = i
                    nf += 1
                else:
                    evicted[ne] = i
                    ne += 1
                cached[i] = want
    else:
        for part in range(4):
            if part == 0:
                m = ri[RI_NEXC]
            elif part == 1:
                m = ns
            elif part == 2:
                m = nd
            else:
                m = ri[RI_NDIRTY]
            for j in range(m):
                if part == 0:
                    i = exc[j]
                elif part == 1:
                    i = sel_s[j]
                elif part == 2:
                    i = drop_b[j]
                else:
                    i = dirty[j]
                if mark[i] >= 4:  # seen
                    continue
                c = cls[i]
                mk = mark[i]
                want = 1 if (c == 2 or (c == 1 and mk != 2) or (c == 0 and mk == 1)) else 0
                mark[i] = mk + 4
                if want != cached[i]:
                    if want == 1:
                        fetched[nf] = i
                        nf += 1
                    else:
                        evicted[ne] = i
                        ne += 1
                    cached[i] = want
        for j in range(ri[RI_NEXC]):
            mark[exc[j]] = 0
        for j in range(ri[RI_NDIRTY]):
            mark[dirty[j]] = 0
    for j in range(ri[RI_NDIRTY]):
        dmark[dirty[j]] = 0
    ri[RI_NDIRTY] = 0
    ri[RI_FULL] = 0
    for j in range(ns):
        mark[sel_s[j]] = 0
        exc[j] = sel_s[j]
    for j in range(nd):
        mark[drop_b[j]] = 0
        exc[ns + j] = drop_b[j]
    ri[RI_NEXC] = ns + nd
    return n_sel, nf, ne


def new_rstate(n):
    """Arrays of the rounding state for N objects (see the module comment); fill with rstate_build."""
    nl = ((n - 1) >> LEAF_SHIFT) + 1
    return {"cls": np.zeros(n, dtype=np.int8), "tv": np.zeros(n), "VS": np.zeros(nl + 1), "VB": np.zeros(nl + 1),
            "CB": np.zeros(nl + 1), "hv": np.empty(4 * n + 64), "hid": np.empty(4 * n + 64, dtype=np.int64),
            "ri": np.zeros(6, dtype=np.int64), "dirty": np.empty(n, dtype=np.int64),
            "dmark": np.zeros(n, dtype=np.uint8), "exc": np.empty(n, dtype=np.int64),
            "mark": np.zeros(n, dtype=np.uint8), "sel_s": np.empty(n + 1, dtype=np.int64),
            "drop_b": np.empty(n + 1, dtype=np.int64)}


@njit
def acai_learn_rs(ids, dist, k, cf, eta, C, v, satpos, satlist, st, cnt, presat, cls, tv, VS, VB, CB, hv, hid, ri,
                  dirty, dmark):
    """:func:`acai_learn` (with ``learn``) followed by :func:`rstate_refresh` of the candidates and of
    the objects saturated before the step (the only ones whose v changed). Returns the gain."""
    npre = cnt[0]
    for j in range(npre):
        presat[j] = satlist[j]
    G = acai_learn(ids, dist, k, cf, eta, C, True, v, satpos, satlist, st, cnt)
    rstate_refresh(ids, presat, npre, v, satpos, st[0], cls, tv, VS, VB, CB, hv, hid, ri, dirty, dmark)
    return G


def depround_full(y, seed):
    """Sublinear DepRound (:func:`depround_fen`) of a full fractional vector ``y`` (s = 1, nothing
    cached): the ids selected, sorted. The same seed gives the set the lazy path gives on the same y."""
    n = y.shape[0]
    v = np.empty(n)
    satpos = np.empty(n, dtype=np.int64)
    satlist = np.empty(n, dtype=np.int64)
    st = np.zeros(2)
    cnt = np.zeros(1, dtype=np.int64)
    lazy_init(np.asarray(y, dtype=np.float64), v, satpos, satlist, st, cnt)
    rs = new_rstate(n)
    rstate_build(v, satpos, 1.0, rs["cls"], rs["tv"], rs["VS"], rs["VB"], rs["CB"], rs["hv"], rs["hid"], rs["ri"],
                 rs["dmark"])
    cached = np.zeros(n, dtype=np.uint8)
    fetched = np.empty(n, dtype=np.int64)
    evicted = np.empty(n, dtype=np.int64)
    n_sel, nf, _ = depround_fen(v, 1.0, int(cnt[0]), seed, rs["cls"], rs["VS"], rs["VB"], rs["CB"], rs["ri"],
                                rs["dirty"], rs["dmark"], rs["exc"], rs["mark"], rs["sel_s"], rs["drop_b"], cached,
                                fetched, evicted)
    return int(n_sel), np.sort(fetched[:nf])


# ----------------------------------------------------------------------------- slot index bookkeeping
# Arrays of online_algs.similarity.index._FaissSlotArrayIndex: xb (capacity, d) float32 (Faiss's
# storage), slot_id[slot] = id or -1, slot_of[id] = slot or -1, free[:nfree[0]] a stack of free slots.

@njit
def slots_remove(ids, xb, sentinel, slot_id, slot_of, free, nfree):
    """Free the slots of ``ids`` (present), in order: the same slots and stack order as one
    ``free.append(slot)`` per id. O(len(ids) d)."""
    d = xb.shape[1]
    for j in range(ids.shape[0]):
        i = ids[j]
        sl = slot_of[i]
        slot_of[i] = -1
        slot_id[sl] = -1
        for c in range(d):
            xb[sl, c] = sentinel
        free[nfree[0]] = sl
        nfree[0] += 1


@njit
def slots_add_rows(ids, rows, vectors, xb, slot_id, slot_of, free, nfree):
    """Write ``vectors[rows[j]]`` for ``ids[j]`` (absent) into free slots, popped from the stack in
    order. O(len(ids) d)."""
    d = xb.shape[1]
    for j in range(ids.shape[0]):
        i = ids[j]
        nfree[0] -= 1
        sl = free[nfree[0]]
        slot_of[i] = sl
        slot_id[sl] = i
        r = rows[j]
        for c in range(d):
            xb[sl, c] = vectors[r, c]


# ----------------------------------------------------------------------------- one request, fused

@njit
def euclidean_rows(q, rows, catalog):
    """Euclidean distances from ``q`` to ``catalog[rows]`` (float64, each a sequential sum over the
    coordinates). Four rows at a time: their cache misses overlap (the rows are scattered in a
    large catalog; about 2x faster than one row at a time at d = 128 and 784, same values)."""
    n = rows.shape[0]
    dim = q.shape[0]
    out = np.empty(n)
    j = 0
    while j + 4 <= n:
        o0 = rows[j]
        o1 = rows[j + 1]
        o2 = rows[j + 2]
        o3 = rows[j + 3]
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        a3 = 0.0
        for c in range(dim):
            qc = q[c]
            t0 = catalog[o0, c] - qc
            t1 = catalog[o1, c] - qc
            t2 = catalog[o2, c] - qc
            t3 = catalog[o3, c] - qc
            a0 += t0 * t0
            a1 += t1 * t1
            a2 += t2 * t2
            a3 += t3 * t3
        out[j] = math.sqrt(a0)
        out[j + 1] = math.sqrt(a1)
        out[j + 2] = math.sqrt(a2)
        out[j + 3] = math.sqrt(a3)
        j += 4
    while j < n:
        o = rows[j]
        acc = 0.0
        for c in range(dim):
            t = catalog[o, c] - q[c]
            acc += t * t
        out[j] = math.sqrt(acc)
        j += 1
    return out


@njit
def acai_request(q, E0, L0, k, cf, catalog, cached, eta, C, learn, v, satpos, satlist, st, cnt, presat, cls, tv, VS,
                 VB, CB, hv, hid, ri, dirty, dmark):
    """Everything AÇAI does for one request between the local search and the rounding (Euclidean
    distances, ``n_candidates`` remote ids): the answer from the union of ``E[:k]`` (remote, nearest
    first; ``E0`` with -1 padding) and ``L`` (the local k+1 nearest, ``L0`` padded with -1 at the
    -1 entries dropped) with the cached flags, the candidates
    ``{o in E : d(o) < d_(k) + c_f}``, the gain, the supergradient and the OMD step
    (:func:`acai_learn_rs`, or :func:`acai_learn` without learning when ``learn`` is False).

    The same computation as ``ACAI._view_and_candidates``, ``_answer`` and ``_lazy_learn`` (numpy),
    one call instead of about twenty. Returns ``(service, hit, gain, n_candidates, truncated, |E|)``.
    O((|E| + k) d + K log K)."""
    nE0 = 0
    for j in range(E0.shape[0]):
        if E0[j] >= 0:
            nE0 += 1
    E = np.empty(nE0, dtype=np.int64)
    m = 0
    for j in range(E0.shape[0]):
        if E0[j] >= 0:
            E[m] = E0[j]
            m += 1
    nL = 0
    for j in range(L0.shape[0]):
        if L0[j] >= 0:
            nL += 1
    L = np.empty(nL, dtype=np.int64)
    m = 0
    for j in range(L0.shape[0]):
        if L0[j] >= 0:
            L[m] = L0[j]
            m += 1
    U, cand, pos_c, pos_e = view_ids(E, L, k)
    dU = euclidean_rows(q, U, catalog)
    # the answer: the k cheapest of the candidates' cheapest usable copies, ties by id (cand is sorted)
    nc = cand.shape[0]
    e = np.empty(nc)
    for j in range(nc):
        e[j] = dU[pos_c[j]] + (0.0 if cached[cand[j]] != 0 else cf)
    order = np.argsort(e, kind="mergesort")
    kk = k if k < nc else nc
    service = 0.0
    hit = True
    for j in range(kk):
        service += e[order[j]]
        if cached[cand[order[j]]] == 0:
            hit = False
    # the candidates of the gain: E objects with d < d_(k) + c_f (costs.candidate_mask)
    nE = E.shape[0]
    d = np.empty(nE)
    for j in range(nE):
        d[j] = dU[pos_e[j]]
    if nE <= k:
        nsel = nE
        keep = np.ones(nE, dtype=np.bool_)
    else:
        dk = np.partition(d, k - 1)[k - 1]
        keep = d < dk + cf
        nsel = 0
        for j in range(nE):
            if keep[j]:
                nsel += 1
    ids = np.empty(nsel, dtype=np.int64)
    dd = np.empty(nsel)
    m = 0
    for j in range(nE):
        if keep[j]:
            ids[m] = E[j]
            dd[m] = d[j]
            m += 1
    truncated = nsel == nE
    if learn:
        G = acai_learn_rs(ids, dd, k, cf, eta, C, v, satpos, satlist, st, cnt, presat, cls, tv, VS, VB, CB, hv, hid,
                          ri, dirty, dmark)
    else:
        G = acai_learn(ids, dd, k, cf, eta, C, False, v, satpos, satlist, st, cnt)
    return service, hit, G, nsel, truncated, nE


@njit
def next_seed(state):
    """The next rounding seed of a policy's seed stream (SplitMix64 state in a uint64 array):
    63 random bits as an int64, the same in the kernel path and the numpy twin."""
    state[0] = state[0] + np.uint64(0x9E3779B97F4A7C15)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return np.int64(z >> np.uint64(1))


@njit
def acai_round_slots(v, s, n_sat, seed_state, cls, VS, VB, CB, ri, dirty, dmark, exc, mark, sel_s, drop_b, cached,
                     fetched, evicted, catalog, xb, sentinel, slot_id, slot_of, free, nfree):
    """:func:`depround_fen` with the next seed of ``seed_state``, then the evictions and the inserts
    on the slot index's arrays (:func:`slots_remove`, :func:`slots_add_rows` with the catalog rows):
    one call per rounding. Returns ``(number selected, n_fetched, n_evicted)``."""
    seed = next_seed(seed_state)
    n_sel, nf, ne = depround_fen(v, s, n_sat, seed, cls, VS, VB, CB, ri, dirty, dmark, exc, mark, sel_s, drop_b,
                                 cached, fetched, evicted)
    slots_swap(evicted[:ne], fetched[:nf], catalog, xb, sentinel, slot_id, slot_of, free, nfree)
    return n_sel, nf, ne


@njit
def slots_swap(evicted, fetched, catalog, xb, sentinel, slot_id, slot_of, free, nfree):
    """:func:`slots_remove` of ``evicted`` then :func:`slots_add_rows` of ``fetched`` (catalog rows),
    with the same slots, without writing the sentinel into the slots that the inserts take at once
    (``fetched[j]`` gets the slot of ``evicted[ne - 1 - j]``, as the stack would give it)."""
    ne = evicted.shape[0]
    nf = fetched.shape[0]
    d = xb.shape[1]
    freed = np.empty(ne, dtype=np.int64)
    for j in range(ne):
        i = evicted[j]
        sl = slot_of[i]
        slot_of[i] = -1
        slot_id[sl] = -1
        freed[j] = sl
    reuse = nf if nf < ne else ne
    for j in range(ne - reuse):  # freed slots that stay free, pushed in order
        sl = freed[j]
        for c in range(d):
            xb[sl, c] = sentinel
        free[nfree[0]] = sl
        nfree[0] += 1
    slots = np.empty(nf, dtype=np.int64)
    for j in range(nf):
        i = fetched[j]
        if j < reuse:
            sl = freed[ne - 1 - j]
        else:
            nfree[0] -= 1
            sl = free[nfree[0]]
        slot_of[i] = sl
        slot_id[sl] = i
        slots[j] = sl
    j = 0
    while j + 4 <= nf:  # four rows at a time: their cache misses overlap (scattered catalog rows)
        i0 = fetched[j]
        i1 = fetched[j + 1]
        i2 = fetched[j + 2]
        i3 = fetched[j + 3]
        s0 = slots[j]
        s1 = slots[j + 1]
        s2 = slots[j + 2]
        s3 = slots[j + 3]
        for c in range(d):
            xb[s0, c] = catalog[i0, c]
            xb[s1, c] = catalog[i1, c]
            xb[s2, c] = catalog[i2, c]
            xb[s3, c] = catalog[i3, c]
        j += 4
    while j < nf:
        for c in range(d):
            xb[slots[j], c] = catalog[fetched[j], c]
        j += 1
