"""Numba kernels of the fractional k-server / weighted paging family (private).

Kernels take arrays and scalars, never validate, and never allocate per request beyond
small work buffers. Their slow, obviously correct twins are the ``serve`` loops of the
classes in :mod:`online_algs.kserver.fractional` (``run(..., fast=False)``) and the plain
numpy functions of ``tests/naive_kserver_fractional.py``.

Shared notation: ``x[q]`` is the *anti-server* (missing) mass of point ``q`` (1 - server
mass), ``sum(x) == n - k``; ``c`` holds the per-point rates of the projection for the current
request; ``delta`` is the entropy shift (1/k by default).
"""

from __future__ import annotations

import math

import numpy as np

from .._config import njit

_BISECT_ITERS = 200


@njit
def _grow(xq, cq, delta, y):
    """x_q(y) = min(1, (x_q + delta) e^{y / c_q} - delta) for y >= 0."""
    v = (xq + delta) * math.exp(y / cq) - delta
    if v > 1.0:
        return 1.0
    if v < xq:  # y >= 0 never shrinks; guards the last ulp
        return xq
    return v


@njit
def bbn_project(x, r, c, delta, target, xold):
    """One request of the primal-dual / Bregman-projection step, in place.

    Sets ``x[r] = 0`` and raises the dual ``y`` until ``sum_{q != r} x_q(y) == target`` with
    ``x_q(y) = min(1, (x_q + delta) exp(y / c_q) - delta)`` (Illinois root-find on ``y`` with a
    bisection safeguard, until the bracket is a few ulps wide: about 12 evaluations of the sum;
    then the float excess is taken off the entry that grew most). ``xold`` receives the
    old ``x``. Returns the old ``x[r]`` (the fetched mass).
    """
    n = x.shape[0]
    for q in range(n):
        xold[q] = x[q]
    a = x[r]
    x[r] = 0.0
    s0 = 0.0
    for q in range(n):
        if q != r:
            s0 += x[q]
    if s0 >= target:
        return a
    # upper bracket: every entry at 1
    hi = 0.0
    for q in range(n):
        if q != r and x[q] < 1.0:
            yq = c[q] * math.log((1.0 + delta) / (x[q] + delta))
            if yq > hi:
                hi = yq
    hi = hi * (1.0 + 1e-12) + 1e-300
    lo = 0.0
    # Illinois (modified regula falsi) on g(y) = f(y) - target, bracket [lo, hi] with
    # g(lo) < 0 <= g(hi); a bisection step whenever the bracket fails to halve in 3 steps.
    glo = s0 - target
    ghi = 0.0
    for q in range(n):
        if q != r:
            ghi += _grow(xold[q], c[q], delta, hi)
    ghi -= target
    side = 0
    width = hi - lo
    it = 0
    for _ in range(_BISECT_ITERS):
        it += 1
        if it % 3 == 0:
            if hi - lo > 0.5 * width:
                cand = 0.5 * (lo + hi)
            else:
                cand = lo - glo * (hi - lo) / (ghi - glo)
            width = hi - lo
        else:
            cand = lo - glo * (hi - lo) / (ghi - glo)
        if not (lo < cand < hi):
            cand = 0.5 * (lo + hi)
            if cand <= lo or cand >= hi:
                break
        g = 0.0
        for q in range(n):
            if q != r:
                g += _grow(xold[q], c[q], delta, cand)
        g -= target
        if g < 0.0:
            lo = cand
            glo = g
            if side == -1:
                ghi *= 0.5
            side = -1
        else:
            hi = cand
            ghi = g
            if side == 1:
                glo *= 0.5
            side = 1
        if hi - lo <= 4e-16 * hi or ghi == 0.0:
            break
    s = 0.0
    for q in range(n):
        if q != r:
            x[q] = _grow(xold[q], c[q], delta, hi)
            s += x[q]
    excess = s - target
    if excess > 0.0:
        # take the float excess off the entries that grew most (one entry in practice)
        while excess > 0.0:
            best = -1
            bg = 0.0
            for q in range(n):
                if q != r:
                    g = x[q] - xold[q]
                    if g > bg:
                        bg = g
                        best = q
            if best < 0:
                break
            take = excess if excess < bg else bg
            x[best] -= take
            excess -= take
    return a


@njit
def node_deltas(dleaf, leaves, parent, order, buf):
    """Subtree sums of a per-point vector: ``buf[v] = sum of dleaf over points below v``."""
    for v in range(buf.shape[0]):
        buf[v] = 0.0
    for i in range(dleaf.shape[0]):
        buf[leaves[i]] = dleaf[i]
    for j in range(order.shape[0] - 1, 0, -1):
        v = order[j]
        buf[parent[v]] += buf[v]


@njit
def tree_cost(dleaf, leaves, parent, order, length, buf):
    """Earth-mover cost on the tree of a per-point mass change: sum_v length[v] |dZ_v|."""
    node_deltas(dleaf, leaves, parent, order, buf)
    tot = 0.0
    for v in range(buf.shape[0]):
        tot += length[v] * abs(buf[v])
    return tot


@njit
def systematic_select(x, perm, U, r, sel):
    """Systematic (Madow) sampling of the server masses ``1 - x`` in the order ``perm``.

    ``sel[q] = 1`` iff some integer ``m`` has ``U + m`` in ``[C_{j-1}, C_j)`` where ``C`` are the
    cumulative masses along ``perm`` and ``q = perm[j]``. Every contiguous block of ``perm``
    receives floor or ceil of its mass; each point is selected with probability ``1 - x[q]``
    when ``U ~ Unif[0, 1)``. A float repair (never expected) forces ``r`` in and the size to
    ``k = round(n - sum(x))``; returns 1 if a repair was needed, else 0.
    """
    n = x.shape[0]
    cum = 0.0
    prev = math.ceil(0.0 - U)
    cnt = 0
    for j in range(n):
        q = perm[j]
        cum += 1.0 - x[q]
        cur = math.ceil(cum - U)
        m = cur - prev
        prev = cur
        if m >= 1:
            sel[q] = 1
            cnt += 1
        else:
            sel[q] = 0
    tot = 0.0
    for q in range(n):
        tot += x[q]
    k = int(round(n - tot))
    repaired = 0
    if r >= 0 and sel[r] == 0:
        sel[r] = 1
        cnt += 1
        repaired = 1
    while cnt > k:
        best = -1
        bz = 2.0
        for q in range(n):
            if sel[q] == 1 and q != r and (1.0 - x[q]) < bz:
                bz = 1.0 - x[q]
                best = q
        sel[best] = 0
        cnt -= 1
        repaired = 1
    while cnt < k:
        best = -1
        bz = -1.0
        for q in range(n):
            if sel[q] == 0 and (1.0 - x[q]) > bz:
                bz = 1.0 - x[q]
                best = q
        sel[best] = 1
        cnt += 1
        repaired = 1
    return repaired


@njit
def run_fractional(x0, reqs, C, per_request, delta, target, tree, leaves, parent, order, length,
                   thin, rec_states):
    """Batch fractional run. ``C`` rows are the projection rates (row ``r`` per request when
    ``per_request``, else row 0). Cost per step: with ``tree`` the earth-mover cost of the
    server-mass change on the tree; else the eviction cost ``sum_q c_q (x_q' - x_q)^+``.
    Returns (cost, fetch, star, states, x). ``star[t] = sum_q c_q |dx_q| / 2``.
    """
    n = x0.shape[0]
    T = reqs.shape[0]
    x = x0.copy()
    xold = np.empty(n)
    dl = np.empty(n)
    buf = np.empty(parent.shape[0])
    cost = np.empty(T)
    fetch = np.empty(T)
    star = np.empty(T)
    n_st = 0
    if rec_states:
        n_st = 1 + (T // thin) + (1 if (T % thin) != 0 else 0)
    width = parent.shape[0] if tree else n
    states = np.empty((n_st, width))
    si = 0
    if rec_states:
        if tree:
            for q in range(n):
                dl[q] = 1.0 - x[q]
            node_deltas(dl, leaves, parent, order, buf)
            states[0, :] = buf
        else:
            states[0, :] = x
        si = 1
    for t in range(T):
        r = reqs[t]
        row = r if per_request else 0
        c = C[row]
        a = bbn_project(x, r, c, delta, target, xold)
        ev = 0.0
        st = 0.0
        for q in range(n):
            d = x[q] - xold[q]
            dl[q] = -d
            if q != r and d > 0.0:
                ev += c[q] * d
            st += c[q] * abs(d)
        if tree:
            cost[t] = tree_cost(dl, leaves, parent, order, length, buf)
        else:
            cost[t] = ev
        fetch[t] = c[r] * a
        star[t] = 0.5 * st
        if rec_states and ((t + 1) % thin == 0 or t == T - 1):
            if tree:
                for q in range(n):
                    dl[q] = 1.0 - x[q]
                node_deltas(dl, leaves, parent, order, buf)
                states[si, :] = buf
            else:
                states[si, :] = x
            si += 1
    return cost, fetch, star, states, x


@njit
def run_rounded(x0, reqs, C, per_request, delta, target, tree, leaves, parent, order, length,
                perm, U, costs):
    """Batch rounded run: the fractional step, then systematic sampling with the fixed offset
    ``U`` along ``perm``. Cost per step: tree earth-mover cost of the configuration change
    (``tree``) or the eviction cost ``sum of costs[q]`` over evicted pages. Returns
    (cost, fetch, frac_cost, configs (T+1, n) uint8, hits, repairs)."""
    n = x0.shape[0]
    T = reqs.shape[0]
    x = x0.copy()
    xold = np.empty(n)
    dl = np.empty(n)
    buf = np.empty(parent.shape[0])
    cost = np.empty(T)
    fetch = np.empty(T)
    fcost = np.empty(T)
    cfg = np.zeros((T + 1, n), dtype=np.uint8)
    sel = np.zeros(n, dtype=np.uint8)
    repairs = systematic_select(x, perm, U, -1, sel)
    cfg[0, :] = sel
    hits = 0
    for t in range(T):
        r = reqs[t]
        if cfg[t, r] == 1:
            hits += 1
        row = r if per_request else 0
        c = C[row]
        bbn_project(x, r, c, delta, target, xold)
        if tree:
            for q in range(n):
                dl[q] = xold[q] - x[q]
            fcost[t] = tree_cost(dl, leaves, parent, order, length, buf)
        else:
            ev = 0.0
            for q in range(n):
                d = x[q] - xold[q]
                if q != r and d > 0.0:
                    ev += costs[q] * d
            fcost[t] = ev
        repairs += systematic_select(x, perm, U, r, sel)
        ev = 0.0
        fe = 0.0
        for q in range(n):
            dl[q] = float(sel[q]) - float(cfg[t, q])
            if dl[q] < 0.0:
                ev += costs[q]
            elif dl[q] > 0.0:
                fe += costs[q]
        if tree:
            cost[t] = tree_cost(dl, leaves, parent, order, length, buf)
        else:
            cost[t] = ev
        fetch[t] = fe
        cfg[t + 1, :] = sel
    return cost, fetch, fcost, cfg, hits, repairs


# ---------------------------------------------------------------------------------------------
# multiscale entropic projection on a tree (MultiscaleKServerHST)
# ---------------------------------------------------------------------------------------------
# Node arrays: parent (-1 at the root), order (BFS, root first), pon (point of node, -1 at internal
# nodes), c (entropy weight of each non-root node), s (its shift). y0 / y: anti-server mass below
# every node before / after the step; R: the dual potential of every internal node (R[root] is the
# multiplier of sum y = m). The solution of the projection is, for every non-root node v with
# parent p and g_v = R[p] - R[v] (R = 0 at leaves):
#     y_v = (y0_v + s_v) exp(g_v / c_v) - s_v        (leaves clipped to [0, 1]; the request at 0)
# with R such that y_u = sum over the children of u at every internal node and y_root = m
# (docs/theory/fractional_kserver.md, section 5). The clipping makes the dual only C^1, so the
# solver is a primal-dual active-set method: fix which points sit at 0 or 1, solve the smooth
# dual of that problem by Newton, update the sets from the KKT signs, repeat.

_MS_MAX_NEWTON = 200     # Newton steps per projection, over all active-set rounds
_MS_MAX_ROUNDS = 60      # active-set rounds
_MS_MAX_HALVINGS = 80
_MS_MAX_EXPONENT_STEP = 2.0
_MS_FREE = 0
_MS_AT0 = 1
_MS_AT1 = 2


@njit
def ms_eval(R, act, m, y0, parent, order, pon, c, s, y, a, G):
    """Primal point ``y``, derivatives ``a = dy_v/dg_v`` and dual residuals ``G`` at the potentials
    ``R`` for the point states ``act`` (free: the exponential formula, unclipped; at 0 / at 1: fixed,
    ``a = 0``); returns the dual value ``q(R) = sum_v [D_v(y_v, y0_v) - g_v y_v] + R[root] m``
    (``D_v`` the Bregman divergence of node v), or -inf when an exponential overflowed."""
    nn = parent.shape[0]
    for v in range(nn):
        G[v] = 0.0
    q = 0.0
    for j in range(1, nn):
        v = order[j]
        p = parent[v]
        if pon[v] >= 0:
            g = R[p]
            if act[v] == _MS_AT0:
                yv = 0.0
                av = 0.0
            elif act[v] == _MS_AT1:
                yv = 1.0
                av = 0.0
            else:
                yv = (y0[v] + s[v]) * math.exp(g / c[v]) - s[v]
                av = (yv + s[v]) / c[v]
        else:
            g = R[p] - R[v]
            yv = (y0[v] + s[v]) * math.exp(g / c[v]) - s[v]
            av = (yv + s[v]) / c[v]
            G[v] += yv
        if not (yv < 1e300):
            return -math.inf
        y[v] = yv
        a[v] = av
        q += c[v] * ((yv + s[v]) * math.log((yv + s[v]) / (y0[v] + s[v])) - (yv - y0[v])) - g * yv
        G[p] -= yv
    root = order[0]
    G[root] += m
    q += R[root] * m
    return q


@njit
def ms_newton_direction(G, a, parent, order, pon, E, b, d):
    """Solve ``M d = G`` for the tree matrix ``M = sum_v a_v (e_p - e_v)(e_p - e_v)^T`` (``e_v = 0`` at
    leaves), minus the Hessian of the dual, by elimination from the leaves up: O(n_nodes).
    Returns the root's pivot (0 when every point below the root is fixed)."""
    nn = parent.shape[0]
    for v in range(nn):
        E[v] = 0.0
        b[v] = G[v]
        d[v] = 0.0
    for j in range(nn - 1, 0, -1):
        v = order[j]
        p = parent[v]
        if pon[v] >= 0:
            E[p] += a[v]
        else:
            Dv = a[v] + E[v]
            E[p] += a[v] * E[v] / Dv
            b[p] += a[v] * b[v] / Dv
    root = order[0]
    if E[root] > 0.0:
        d[root] = b[root] / E[root]
    for j in range(1, nn):
        v = order[j]
        if pon[v] < 0:
            d[v] = (b[v] + a[v] * d[parent[v]]) / (a[v] + E[v])
    return E[root]


@njit
def ms_converged(G, a, R, parent, order, pon, tol, fl):
    """True when every internal node's residual is below ``tol`` plus its float floor: a residual
    term ``y_v = (y0 + s) e^{(R_p - R_v) / c_v}`` is known only to about ``a_v ulp(|R_p| + |R_v|)``
    (large when edge lengths are tiny), so ``fl[u]`` sums ``8 eps a_v (|R_p| + |R_v|)`` over the
    terms of node ``u``'s equation."""
    nn = parent.shape[0]
    for v in range(nn):
        fl[v] = 0.0
    for j in range(1, nn):
        v = order[j]
        p = parent[v]
        rv = R[v] if pon[v] < 0 else 0.0
        e = 8.0 * 2.220446049250313e-16 * a[v] * (abs(R[p]) + abs(rv))
        fl[p] += e
        if pon[v] < 0:
            fl[v] += e
    for v in range(nn):
        if pon[v] < 0 and abs(G[v]) > tol + fl[v]:
            return False
    return True


@njit
def _ms_smooth_solve(R, act, m, y0, parent, order, pon, c, s, work, tol, budget):
    """Newton ascent on the smooth dual of a fixed active set, from ``R`` (updated in place), with a
    trust region on the exponents (no ``y_v + s_v`` changes by more than ``e^2`` per step) and a
    backtracking line search (Armijo ascent of the dual, or, where the dual is flat to rounding, a
    sufficient decrease of the squared residual). Returns (steps, status): 0 converged, 1 the
    active set is inconsistent (every point fixed, total off), 2 out of budget or no progress."""
    nn = parent.shape[0]
    y = work[1]
    a = work[2]
    G = work[3]
    E = work[5]
    b = work[6]
    d = work[7]
    Rt = work[8]
    root = order[0]
    q = ms_eval(R, act, m, y0, parent, order, pon, c, s, y, a, G)
    it = 0
    while True:
        if ms_converged(G, a, R, parent, order, pon, tol, E):
            return it, 0
        if it >= budget:
            return it, 2
        it += 1
        piv = ms_newton_direction(G, a, parent, order, pon, E, b, d)
        if not (piv > 0.0) and abs(G[root]) > tol:
            return it, 1
        dmax = 0.0
        rmax = 0.0
        for v in range(nn):
            dmax = max(dmax, abs(d[v]))
            rmax = max(rmax, abs(R[v]))
        if dmax <= 4e-16 * rmax:
            return it, 0  # the correction is below the float resolution of the potentials
        tau = 0.0
        for j in range(1, nn):
            v = order[j]
            if pon[v] >= 0:
                if a[v] > 0.0:
                    tau = max(tau, abs(d[parent[v]]) / c[v])
            else:
                tau = max(tau, abs(d[parent[v]] - d[v]) / c[v])
        t = 1.0
        if tau > _MS_MAX_EXPONENT_STEP:
            t = _MS_MAX_EXPONENT_STEP / tau
        slope = 0.0
        gn = 0.0
        for v in range(nn):
            slope += G[v] * d[v]
            gn += G[v] * G[v]
        ok = False
        qt = q
        for _ in range(_MS_MAX_HALVINGS):
            for v in range(nn):
                Rt[v] = R[v] + t * d[v]
            qt = ms_eval(Rt, act, m, y0, parent, order, pon, c, s, y, a, G)
            if qt > -math.inf and qt >= q + 1e-4 * t * slope:
                ok = True
                break
            gt = 0.0
            for v in range(nn):
                gt += G[v] * G[v]
            if qt > -math.inf and slope <= 1e-11 * (abs(q) + 1.0) and gt <= (1.0 - 1e-4 * t) * gn:
                ok = True
                break
            t *= 0.5
        if not ok:
            ms_eval(R, act, m, y0, parent, order, pon, c, s, y, a, G)
            return it, 2
        for v in range(nn):
            R[v] = Rt[v]
        q = qt


@njit
def ms_project(x, r, m, leaves, parent, order, pon, c, s, work, act):
    """The multiscale Bregman projection of the anti-server vector ``x`` onto
    ``{x_r = 0, sum x = m, 0 <= x <= 1}`` (in place), by a primal-dual active-set method.

    Points start fixed at 1 when full (``x = 1``), the request fixed at 0, the others free. Each
    round solves the smooth dual of the current sets by Newton (``_ms_smooth_solve``) until every
    internal node's residual is below ``1e-13 max(1, m)`` plus its float floor, then moves free
    points that left ``[0, 1]`` to the bound they crossed and frees fixed points whose
    unconstrained value lies strictly inside (the KKT sign conditions); no change ends it: the
    KKT conditions of the projection hold. The float excess of ``sum x`` is finally taken off (or
    put on) the free points with the most room. ``work``: a (9, n_nodes) buffer; ``act``: an int8
    (n_nodes,) buffer. Returns the number of Newton steps, or ``_MS_MAX_NEWTON + 1`` when the
    rounds did not settle (the state is still feasible)."""
    nn = parent.shape[0]
    y0 = work[0]
    y = work[1]
    R = work[4]
    n = x.shape[0]
    rnode = leaves[r]
    node_deltas(x, leaves, parent, order, y0)   # anti-server mass below every node
    for v in range(nn):
        R[v] = 0.0
        act[v] = _MS_FREE
    for i in range(n):
        if x[i] >= 1.0:
            act[leaves[i]] = _MS_AT1
    act[rnode] = _MS_AT0
    tol = 1e-13 * max(1.0, m)
    total = 0
    conv = False
    for _ in range(_MS_MAX_ROUNDS):
        steps, status = _ms_smooth_solve(R, act, m, y0, parent, order, pon, c, s, work, tol, _MS_MAX_NEWTON - total)
        total += steps
        changed = False
        if status == 1:
            # every point fixed but the total is off: free the points that can move the right way
            want_more = work[3][order[0]] > 0.0  # G_root = m - sum: anti-server mass is missing
            for i in range(n):
                v = leaves[i]
                if v != rnode and ((want_more and act[v] == _MS_AT0) or (not want_more and act[v] == _MS_AT1)):
                    act[v] = _MS_FREE
                    changed = True
        elif status == 0:
            for i in range(n):
                v = leaves[i]
                if v == rnode:
                    continue
                if act[v] == _MS_FREE:
                    if y[v] < -1e-13:
                        act[v] = _MS_AT0
                        changed = True
                    elif y[v] > 1.0 + 1e-13:
                        act[v] = _MS_AT1
                        changed = True
                else:
                    e = (y0[v] + s[v]) * math.exp(R[parent[v]] / c[v]) - s[v]
                    if act[v] == _MS_AT1 and e < 1.0 - 1e-13:
                        act[v] = _MS_FREE
                        changed = True
                    elif act[v] == _MS_AT0 and e > 1e-13:
                        act[v] = _MS_FREE
                        changed = True
            if not changed:
                conv = True
        if not changed or total >= _MS_MAX_NEWTON:
            break
    tot = 0.0
    for i in range(n):
        v = leaves[i]
        xi = y[v]
        x[i] = 0.0 if xi < 0.0 else (1.0 if xi > 1.0 else xi)
        tot += x[i]
    x[r] = 0.0
    excess = tot - m
    # float excess (a few ulps): off the points with the most room
    for _ in range(n):
        if excess == 0.0:
            break
        best = -1
        room = 0.0
        for i in range(n):
            if i == r:
                continue
            rm = x[i] if excess > 0.0 else 1.0 - x[i]
            if rm > room:
                room = rm
                best = i
        if best < 0:
            break
        take = excess if abs(excess) < room else (room if excess > 0.0 else -room)
        x[best] -= take
        excess -= take
    return total if conv else _MS_MAX_NEWTON + 1


@njit
def run_multiscale(x0, reqs, m, leaves, parent, order, pon, c, s, length, thin, rec_states):
    """Batch run of the multiscale projection. Cost per step: the tree earth-mover cost of the
    server-mass change. Returns (cost, states (node server masses), x, max Newton steps)."""
    n = x0.shape[0]
    T = reqs.shape[0]
    nn = parent.shape[0]
    x = x0.copy()
    xold = np.empty(n)
    dl = np.empty(n)
    buf = np.empty(nn)
    work = np.empty((9, nn))
    act = np.empty(nn, dtype=np.int8)
    cost = np.empty(T)
    n_st = 0
    if rec_states:
        n_st = 1 + (T // thin) + (1 if (T % thin) != 0 else 0)
    states = np.empty((n_st, nn))
    si = 0
    if rec_states:
        for q in range(n):
            dl[q] = 1.0 - x[q]
        node_deltas(dl, leaves, parent, order, buf)
        states[0, :] = buf
        si = 1
    itmax = 0
    for t in range(T):
        r = reqs[t]
        for q in range(n):
            xold[q] = x[q]
        if x[r] > 0.0:
            it = ms_project(x, r, m, leaves, parent, order, pon, c, s, work, act)
            if it > itmax:
                itmax = it
        for q in range(n):
            dl[q] = xold[q] - x[q]
        cost[t] = tree_cost(dl, leaves, parent, order, length, buf)
        if rec_states and ((t + 1) % thin == 0 or t == T - 1):
            for q in range(n):
                dl[q] = 1.0 - x[q]
            node_deltas(dl, leaves, parent, order, buf)
            states[si, :] = buf
            si += 1
    return cost, states, x, itmax


@njit
def run_multiscale_rounded(x0, reqs, m, leaves, parent, order, pon, c, s, length, perm, U):
    """Batch rounded run: the multiscale projection, then systematic sampling with the fixed offset
    ``U`` along ``perm``. Returns (cost, frac_cost, configs (T+1, n) uint8, hits, repairs, max Newton steps)."""
    n = x0.shape[0]
    T = reqs.shape[0]
    nn = parent.shape[0]
    x = x0.copy()
    xold = np.empty(n)
    dl = np.empty(n)
    buf = np.empty(nn)
    work = np.empty((9, nn))
    act = np.empty(nn, dtype=np.int8)
    cost = np.empty(T)
    fcost = np.empty(T)
    cfg = np.zeros((T + 1, n), dtype=np.uint8)
    sel = np.zeros(n, dtype=np.uint8)
    repairs = systematic_select(x, perm, U, -1, sel)
    cfg[0, :] = sel
    hits = 0
    itmax = 0
    for t in range(T):
        r = reqs[t]
        if cfg[t, r] == 1:
            hits += 1
        for q in range(n):
            xold[q] = x[q]
        if x[r] > 0.0:
            it = ms_project(x, r, m, leaves, parent, order, pon, c, s, work, act)
            if it > itmax:
                itmax = it
        for q in range(n):
            dl[q] = xold[q] - x[q]
        fcost[t] = tree_cost(dl, leaves, parent, order, length, buf)
        repairs += systematic_select(x, perm, U, r, sel)
        for q in range(n):
            dl[q] = float(sel[q]) - float(cfg[t, q])
        cost[t] = tree_cost(dl, leaves, parent, order, length, buf)
        cfg[t + 1, :] = sel
    return cost, fcost, cfg, hits, repairs, itmax
