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
def _apply_rows4(a, D, out, y0, y1, y2, y3):
    """out[s] = min(out[s], a[y] + D[y, s]) for four rows at once (one load/store of out).

    Element-wise over ``s``: it vectorises without fastmath.
    """
    n = out.shape[0]
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


@njit
def _apply_row(a, D, out, y):
    n = out.shape[0]
    ay = a[y]
    row = D[y]
    for s in range(n):
        x = ay + row[s]
        if x < out[s]:
            out[s] = x


_NBUCKETS = 64
_INF_BITS = 0x7FF0000000000000   # +inf as an int64 bit pattern


@njit
def _ibuf_size(n):
    """Length of the int64 work space of :func:`_step_general` for n states."""
    return 3 * n + _NBUCKETS + 6


@njit
def _imin(x):
    """Minimum of an int64 array (vectorises: integer selects need no fastmath)."""
    m = x[0]
    for i in range(1, x.shape[0]):
        v = x[i]
        m = v if v < m else m
    return m


@njit
def _imax(x):
    """Maximum of an int64 array (vectorises)."""
    m = x[0]
    for i in range(1, x.shape[0]):
        v = x[i]
        m = v if v > m else m
    return m


@njit
def _plain_min_plus(a, D, out):
    """out[s] = min_y a[y] + D[y, s], every row (no pruning)."""
    n = a.shape[0]
    for s in range(n):
        out[s] = a[s]
    y = 0
    while y + 4 <= n:
        _apply_rows4(a, D, out, y, y + 1, y + 2, y + 3)
        y += 4
    while y < n:
        _apply_row(a, D, out, y)
        y += 1


@njit
def _step_general(a, D, out, slack, dmax, nbr_d, nbr_i, ecc, ibuf):
    """out[s] = min_y a[y] + D[y, s] (O(n^2) worst case, a few percent of it on random tasks).

    Exact: the result equals the plain min-plus product bit for bit (tests compare it with
    ``np.min(a[:, None] + D, axis=0)``). Prunings skip rows ``y`` that cannot attain any
    minimum:

    * *Upper bound* ``U``: with each row's states sorted by distance (``nbr_d[y]`` ascending,
      ``nbr_i[y]`` their ids, ``ecc[y] = max_s D[y, s]``, built once per metric by
      :func:`neighbour_lists`; empty arrays switch the radius pruning off),
      ``U = min(max a, min_z a[z] + ecc[z])`` bounds every ``out[s]`` from above (rounding is
      monotone), and so does the running ``max_s out[s]`` (re-read after 4, 12, 32 and 96
      applied rows). A row with ``a[y] > U`` lowers nothing (``a[y] + D[y, s] >= a[y] > U``).
    * *Order*: rows are visited in increasing ``a`` by a 64-bucket counting sort over
      ``[min a, U + margin]`` (O(n)); rows above ``U + margin`` go to an overflow bucket that is
      never visited, and the visit stops at the end of the bucket holding the current
      ``U + margin`` (bucketing is monotone, so every row after it has ``a > U``).
    * *Dominated rows*: when row ``y`` comes up, every earlier row that was not itself skipped
      has been applied (or is among at most three pending ones, which only makes the test
      weaker), and if ``out[y] + margin < a[y]``, an applied row ``z`` has
      ``a[z] + D[z, y] < a[y] - margin``, so by the triangle inequality
      ``a[y] + D[y, s] > a[z] + D[z, s]`` for every ``s``: row ``y`` never attains a minimum.
    * *Radius*: row ``y`` can only lower the states with ``D[y, s] < U - a[y] + margin``: a
      prefix of its sorted list. When that prefix is shorter than n/16 (the lists hold the
      nearest n/16 + 1 states only) the row is applied to it alone (gather/scatter, nearest
      first); otherwise the whole row is applied, four rows at a time (:func:`_apply_rows4`,
      which vectorises).

    ``margin = slack + 64 eps (max |a| + dmax)`` covers the metric's triangle tolerance
    (``slack``, from its validation) and the rounding of the sums, so a skip never changes the
    floating-point result. ``slack < 0`` disables the pruning.

    The reductions (min/max of ``a``, ``a + ecc`` and ``out``) read the doubles as int64: for
    non-negative doubles (and +inf) the bit patterns are ordered like the values, and integer
    min/max vectorises where the float one does not (fastmath stays off). Work functions and
    task costs are non-negative; if some ``a[y]`` is negative (or -0.0) the kernel falls back to
    the plain product. ``ibuf``: int64 work space of length :func:`_ibuf_size` ``(n)``.
    """
    n = a.shape[0]
    if n == 0:
        return
    ai = a.view(np.int64)
    oi = out.view(np.int64)
    # one pass: out = a (the y = s term: a[s] + D[s, s] == a[s]), and the bit patterns of
    # max a, min a and the largest finite a
    imax = ai[0]
    imin = ai[0]
    ifmax = 0
    for s in range(n):
        v = ai[s]
        imax = v if v > imax else imax
        imin = v if v < imin else imin
        f = v if v < _INF_BITS else 0
        ifmax = f if f > ifmax else ifmax
        oi[s] = v
    prune = slack >= 0.0
    if imin < 0 or not prune:
        # a negative a (or -0.0): the int64 order does not hold; or no pruning asked
        _plain_min_plus(a, D, out)
        return
    key = ibuf[:n]
    order = ibuf[n:2 * n]
    counts = ibuf[2 * n:2 * n + _NBUCKETS + 2]
    fbuf = ibuf[2 * n + _NBUCKETS + 2:3 * n + _NBUCKETS + 2]
    sc = ibuf[3 * n + _NBUCKETS + 2:3 * n + _NBUCKETS + 6]
    scf = sc.view(np.float64)       # scalar bit casts
    sc[0] = imax
    sc[1] = imin
    sc[2] = ifmax
    amax = scf[0]
    fmin = scf[1]
    fmax = scf[2]
    short = nbr_d.shape[1] - 1
    radius = nbr_d.shape[0] == n and short > 0
    U = amax
    if radius:
        fb = fbuf.view(np.float64)
        for s in range(n):
            fb[s] = a[s] + ecc[s]
        sc[3] = _imin(fbuf)
        u = scf[3]
        U = u if u < U else U
    scale_abs = fmax if fmax > 0.0 else 0.0
    margin = slack + 64.0 * 2.220446049250313e-16 * (scale_abs + dmax)
    # counting sort of the rows by a over [min a, min(U, max finite a) + margin]; bucket
    # _NBUCKETS: the rows above it (they have a > U + margin, or a = inf)
    top = (U if U < fmax else fmax) + margin
    for b in range(_NBUCKETS + 2):
        counts[b] = 0
    span = top - fmin
    scale = (_NBUCKETS - 1) / span if span > 0 else 0.0
    nbf = float(_NBUCKETS)
    for y in range(n):
        f = (a[y] - fmin) * scale
        f = f if f < nbf else nbf      # also catches a = inf (and nan from inf - inf)
        b = int(f)
        key[y] = b
        counts[b + 1] += 1
    for b in range(_NBUCKETS + 1):
        counts[b + 1] += counts[b]
    for y in range(n):
        b = key[y]
        order[counts[b]] = y
        counts[b] += 1
    # counts[b] is now the end of bucket b in order
    kend = counts[_NBUCKETS - 1]
    p0 = p1 = p2 = 0
    npend = 0
    applied = 0
    k = 0
    while k < kend:
        y = order[k]
        k += 1
        ay = a[y]
        if out[y] + margin < ay:
            continue
        applied += 1
        if radius and (applied == 4 or applied == 12 or applied == 32 or applied == 96):
            # out only decreases, so its current maximum also bounds every final out[s]
            sc[3] = _imax(oi)
            mo = scf[3]
            if mo < U:
                U = mo
                f = (U + margin - fmin) * scale
                f = f if f < nbf - 1.0 else nbf - 1.0
                kend = counts[int(f)]
        if radius:
            lim = U - ay + margin
            rd = nbr_d[y]
            if rd[short] >= lim:
                # short prefix: only the states nearer than the radius can be lowered
                ri = nbr_i[y]
                j = 0
                while rd[j] < lim:
                    t = ri[j]
                    x = ay + rd[j]
                    v = out[t]
                    out[t] = x if x < v else v
                    j += 1
                continue
        if npend == 0:
            p0 = y
        elif npend == 1:
            p1 = y
        elif npend == 2:
            p2 = y
        else:
            _apply_rows4(a, D, out, p0, p1, p2, y)
            npend = 0
            continue
        npend += 1
    if npend > 0:
        _apply_row(a, D, out, p0)
    if npend > 1:
        _apply_row(a, D, out, p1)
    if npend > 2:
        _apply_row(a, D, out, p2)


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
def _step(a, D, kind, dist, wstar, out, slack, dmax, nbr_d, nbr_i, ecc, ibuf):
    if kind == KIND_UNIFORM:
        _step_uniform(a, dist, out)
    elif kind == KIND_STAR:
        _step_star(a, wstar, out)
    else:
        _step_general(a, D, out, slack, dmax, nbr_d, nbr_i, ecc, ibuf)


@njit
def neighbour_lists(D):
    """Each row's nearest ``n // 16 + 1`` states sorted by distance (distances and ids), and
    the row maxima: what the radius pruning of :func:`_step_general` reads.

    O(n^2 log n) time, 12 n (n // 16 + 1) bytes; built once per metric
    (``workfunction._neighbour_args``).
    """
    n = D.shape[0]
    width = min(n // 16 + 1, n)
    nbr_d = np.empty((n, width))
    nbr_i = np.empty((n, width), dtype=np.int32)
    ecc = np.empty(n)
    for y in range(n):
        idx = np.argsort(D[y], kind="mergesort")
        for j in range(width):
            nbr_i[y, j] = idx[j]
            nbr_d[y, j] = D[y, idx[j]]
        ecc[y] = D[y, idx[n - 1]]
    return nbr_d, nbr_i, ecc


@njit
def work_function_kernel(D, C, start, kind, dist, wstar, slack, nbr_d, nbr_i, ecc):
    """All work functions: W[0] = D[start], W[t] = step(W[t-1] + C[t-1]); shape (T+1, n)."""
    T, n = C.shape
    dmax = D.max()
    ibuf = np.empty(_ibuf_size(n), dtype=np.int64)
    W = np.empty((T + 1, n))
    for s in range(n):
        W[0, s] = D[start, s]
    a = np.empty(n)
    for t in range(T):
        for s in range(n):
            a[s] = W[t, s] + C[t, s]
        _step(a, D, kind, dist, wstar, W[t + 1], slack, dmax, nbr_d, nbr_i, ecc, ibuf)
    return W


@njit
def _argmin_first(vals, vi):
    """Lowest index of the minimum of ``vals`` (``vi`` its int64 view; no nan, no -0.0).

    Non-negative doubles order like their bit patterns, so the minimum is found by a
    vectorised integer reduction and then located; a negative value falls back to the float
    scan.
    """
    n = vals.shape[0]
    ib = _imin(vi)
    if ib < 0:
        best = np.inf
        arg = 0
        for s in range(n):
            if vals[s] < best:
                best = vals[s]
                arg = s
        return arg
    arg = 0
    while vi[arg] != ib:
        arg += 1
    return arg


@njit
def wfa_kernel(D, C, start, kind, dist, wstar, slack, nbr_d, nbr_i, ecc):
    """Run the Work Function Algorithm; return (states (T,), service (T,), movement (T,), w_T).

    s_t = argmin over fundamental s (w_t(s) == w_{t-1}(s) + c_t(s)) of w_t(s) + D[s_{t-1}, s];
    stay when s_{t-1} is such a minimiser, else the lowest index.
    """
    T, n = C.shape
    dmax = D.max()
    ibuf = np.empty(_ibuf_size(n), dtype=np.int64)
    w = np.empty(n)
    for s in range(n):
        w[s] = D[start, s]
    a = np.empty(n)
    wn = np.empty(n)
    vals = np.empty(n)
    vi = vals.view(np.int64)
    states = np.empty(T, dtype=np.int64)
    svc = np.empty(T)
    mov = np.empty(T)
    prev = start
    for t in range(T):
        ct = C[t]
        for s in range(n):
            a[s] = w[s] + ct[s]
        _step(a, D, kind, dist, wstar, wn, slack, dmax, nbr_d, nbr_i, ecc, ibuf)
        dp = D[prev]
        # vals[s] = w_t(s) + d(prev, s) on fundamental states, inf elsewhere; + 0.0 turns a
        # -0.0 into +0.0, so equal values have equal bits
        for s in range(n):
            vals[s] = (wn[s] + dp[s]) + 0.0 if wn[s] == a[s] else np.inf
        arg = _argmin_first(vals, vi)
        best = vals[arg]
        if wn[prev] == a[prev] and wn[prev] + dp[prev] <= best:
            arg = prev
        states[t] = arg
        svc[t] = ct[arg]
        mov[t] = dp[arg]
        prev = arg
        w, wn = wn, w
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
