"""Numba kernels of the entropic MTS algorithms (weighted star, HST: recursive and multiscale).

Kernels take arrays and scalars and never validate. Slow twins: the numpy step functions in
``online_algs.mts.entropic`` (used by ``serve``, i.e. ``run(..., fast=False)``) and the scipy
root-finding versions in ``tests/naive_mts_entropic.py``.
"""

from __future__ import annotations

import math

import numpy as np

from .._config import njit


@njit
def star_project(x, c, omega, dl, out):
    """Bregman projection onto the simplex of a cost step, for the shifted weighted entropy.

    ``Phi(x) = sum_i omega_i (x_i + dl_i) log(x_i + dl_i)``; the step minimises
    ``<c, y> + D_Phi(y, x)`` over the simplex: ``y_i = max(0, (x_i + dl_i) exp((L - c_i)/omega_i) - dl_i)``
    with the scalar ``L`` the root of ``sum_i y_i = 1`` (safeguarded Newton from the right end of a
    safe bracket, bisection as fallback; the result is renormalised to sum to 1 to rounding). ``c_i = inf`` forces ``y_i = 0``.
    Returns ``L`` (nan, and ``out = x``, when every cost is infinite).
    """
    n = x.size
    lo = np.inf
    hi = np.inf
    nfin = 0
    for i in range(n):
        if math.isfinite(c[i]):
            nfin += 1
            a = c[i] + omega[i] * math.log(dl[i] / (x[i] + dl[i]))
            b = c[i] + omega[i] * math.log((1.0 + dl[i]) / (x[i] + dl[i]))
            if a < lo:
                lo = a
            if b < hi:
                hi = b
    if nfin == 0:
        for i in range(n):
            out[i] = x[i]
        return np.nan
    # F(lo) = 0 < 1 (every term clipped), F(hi) >= 1 (one term equals 1). F is convex and
    # non-decreasing, so Newton started at hi stays >= the root and decreases monotonically;
    # a step that leaves the bracket or stalls falls back to bisection.
    lam = hi
    for _ in range(200):
        s = 0.0
        ds = 0.0
        for i in range(n):
            if math.isfinite(c[i]):
                e = (x[i] + dl[i]) * math.exp((lam - c[i]) / omega[i])
                if e > dl[i]:
                    s += e - dl[i]
                    ds += e / omega[i]
        if s > 1.0:
            hi = lam
        else:
            lo = lam
            if s == 1.0:
                break
        if hi - lo <= 4e-16 * max(abs(lo), abs(hi)):
            break
        nxt = lam - (s - 1.0) / ds if ds > 0.0 else 0.5 * (lo + hi)
        if not (lo < nxt < hi) or (s > 1.0 and nxt >= lam):
            nxt = 0.5 * (lo + hi)
        if nxt == lam or nxt <= lo or nxt >= hi:
            break
        lam = nxt
    s = 0.0
    for i in range(n):
        v = 0.0
        if math.isfinite(c[i]):
            v = (x[i] + dl[i]) * math.exp((lam - c[i]) / omega[i]) - dl[i]
            if v < 0.0:
                v = 0.0
        out[i] = v
        s += v
    if s > 0.0:
        for i in range(n):
            out[i] = out[i] / s
    return lam


@njit
def _service(c, x):
    s = 0.0
    for i in range(x.size):
        if x[i] > 0.0:
            s += c[i] * x[i]
    return s


@njit
def _converged(tot, prev_tot, tol):
    """Sub-step doubling stops when the task's total changed by at most ``tol`` relative (or 1e-15)."""
    diff = abs(tot - prev_tot)
    return diff <= tol * max(abs(tot), 1e-300) or diff <= 1e-15


@njit
def star_run(costs, w, omega, dl, eta, x0, tol, max_sub, keep_every, keep_all):
    """Run the entropic star algorithm on a (T, n) cost array.

    Per task: N = 1, 2, 4, ... sub-steps of cost ``eta * c / N`` until the task's total
    (service ``<c, x_N>`` + movement ``sum_i w_i |x_N - x_prev|``) changes by <= ``tol``
    relative (or N reaches ``max_sub``). Returns service (T,), movement (T,), substeps (T,),
    kept states (rows) and their step indices.
    """
    T, n = costs.shape
    x = x0.copy()
    svc = np.empty(T)
    mov = np.empty(T)
    subs = np.empty(T, dtype=np.int64)
    nkeep = 1
    for t in range(T):
        if keep_all or (t + 1) % keep_every == 0 or t == T - 1:
            nkeep += 1
    states = np.empty((nkeep, n))
    steps = np.empty(nkeep, dtype=np.int64)
    states[0] = x
    steps[0] = 0
    k = 1
    ct = np.empty(n)
    cur = np.empty(n)
    tmp = np.empty(n)
    for t in range(T):
        c = costs[t]
        prev_tot = np.nan
        N = 1
        while True:
            for i in range(n):
                ct[i] = eta * c[i] / N
                cur[i] = x[i]
            for _ in range(N):
                star_project(cur, ct, omega, dl, tmp)
                for i in range(n):
                    cur[i] = tmp[i]
            sv = _service(c, cur)
            mv = 0.0
            for i in range(n):
                mv += w[i] * abs(cur[i] - x[i])
            tot = sv + mv
            if _converged(tot, prev_tot, tol) or N >= max_sub:
                break
            prev_tot = tot
            N *= 2
        svc[t] = sv
        mov[t] = mv
        subs[t] = N
        for i in range(n):
            x[i] = cur[i]
        if keep_all or (t + 1) % keep_every == 0 or t == T - 1:
            states[k] = x
            steps[k] = t + 1
            k += 1
    return svc, mov, subs, states, steps


@njit
def _tree_substep(Q, cleaf, order, point_of_node, child_ptr, child_idx, omega, dl, chat, qb, cb, ob, db, outb,
                  multiscale):
    """The body of :func:`hst_substep` (``multiscale=False``) and :func:`multiscale_substep`
    (``multiscale=True``): the same bottom-up sweep of star steps; they differ only in the effective
    cost a node passes up (the bare multiplier, or the multiplier plus the regulariser term)."""
    m = order.size
    for k in range(m - 1, -1, -1):
        v = order[k]
        a = child_ptr[v]
        b = child_ptr[v + 1]
        if a == b:
            chat[v] = cleaf[point_of_node[v]]
            continue
        nc = b - a
        if nc == 1:
            ch = child_idx[a]
            Q[ch] = 1.0
            chat[v] = chat[ch]
            continue
        for j in range(nc):
            ch = child_idx[a + j]
            qb[j] = Q[ch]
            cb[j] = chat[ch]
            ob[j] = omega[ch]
            db[j] = dl[ch]
        lam = star_project(qb[:nc], cb[:nc], ob[:nc], db[:nc], outb[:nc])
        if math.isnan(lam):
            chat[v] = np.inf
            continue
        acc = 0.0
        for j in range(nc):
            if multiscale:
                acc += ob[j] * (db[j] * math.log((outb[j] + db[j]) / (qb[j] + db[j])) - (outb[j] - qb[j]))
            Q[child_idx[a + j]] = outb[j]
        chat[v] = lam + acc


@njit
def hst_substep(Q, cleaf, order, point_of_node, child_ptr, child_idx, omega, dl, chat, qb, cb, ob, db, outb):
    """One recursive entropic step on an HST, in place on the conditionals ``Q``.

    ``Q[v]`` is the conditional probability of child ``v`` given its parent (siblings sum to 1).
    Bottom-up, each internal node ``u`` applies :func:`star_project` to its children's
    conditionals with the children's effective costs ``chat`` (a leaf's cost is its entry of
    ``cleaf``), weights ``omega`` and shifts ``dl``; then ``chat[u] = Lambda_u``, the multiplier
    of that step (the marginal price of mass entering ``u``; inf when every child has infinite
    cost, in which case the conditionals of ``u`` are left unchanged).
    """
    _tree_substep(Q, cleaf, order, point_of_node, child_ptr, child_idx, omega, dl, chat, qb, cb, ob, db, outb,
                  False)


@njit
def multiscale_substep(Q, cleaf, order, point_of_node, child_ptr, child_idx, omega, dl, chat, qb, cb, ob, db, outb):
    """The exact Bregman projection of one cost step onto the tree polytope, in place on ``Q``.

    Regulariser (conditional form of the multiscale entropy):
    ``Phi(X) = sum_{v != root} omega_v X_p(v) (q_v + dl_v) log(q_v + dl_v)``, ``q_v = X_v / X_p(v)``.
    The KKT conditions of ``min_{Y in tree polytope} <c, Y> + D_Phi(Y, X)`` decompose bottom-up
    (``docs/theory/entropic_mts.md``): at each internal node ``u`` the children's conditionals take
    the star step :func:`star_project` with the children's effective costs ``chat`` (a leaf's is its
    entry of ``cleaf``), weights ``omega`` and shifts ``dl``; its multiplier ``beta_u`` gives

        chat[u] = beta_u + sum_c omega_c (dl_c log((q'_c + dl_c)/(q_c + dl_c)) - (q'_c - q_c)),

    the derivative of the subtree's optimal value with respect to the mass entering ``u``. A node
    whose children all have infinite cost gets ``chat = inf`` and keeps its conditionals. One
    child: ``q = 1`` and the child's cost passes up (its own term is constant).
    O(n_nodes * b * Newton rounds).
    """
    _tree_substep(Q, cleaf, order, point_of_node, child_ptr, child_idx, omega, dl, chat, qb, cb, ob, db, outb,
                  True)


@njit
def hst_masses(Q, order, parent, X):
    """Node masses from conditionals: ``X[root] = 1``, ``X[v] = X[parent[v]] * Q[v]``."""
    X[order[0]] = 1.0
    for k in range(1, order.size):
        v = order[k]
        X[v] = X[parent[v]] * Q[v]


@njit
def hst_run(costs, Q0, order, parent, point_of_node, child_ptr, child_idx, length, omega, dl, leaf_node,
            eta, tol, max_sub, keep_every, keep_all, multiscale):
    """Run an entropic HST algorithm on a (T, n_points) cost array.

    ``multiscale`` selects the sub-step: :func:`multiscale_substep` (the exact Bregman projection,
    ``MultiscaleHSTMTS``) or :func:`hst_substep` (the recursive simplified variant, ``EntropicHSTMTS``).

    ``leaf_node[p]`` is the tree node of point ``p``; costs are per point. Per task: N = 1, 2,
    4, ... sub-steps of cost ``eta * c / N`` until the task's total (service ``<c, x_N>`` +
    tree movement ``sum_v length[v] |X_N[v] - X_prev[v]|``) changes by <= ``tol`` relative (or N
    reaches ``max_sub``). Returns service, tree movement, substeps, kept point distributions,
    their steps and the final conditionals.
    """
    T, n = costs.shape
    m = order.size
    Q = Q0.copy()
    X = np.empty(m)
    hst_masses(Q, order, parent, X)
    svc = np.empty(T)
    mov = np.empty(T)
    subs = np.empty(T, dtype=np.int64)
    nkeep = 1
    for t in range(T):
        if keep_all or (t + 1) % keep_every == 0 or t == T - 1:
            nkeep += 1
    states = np.empty((nkeep, n))
    steps = np.empty(nkeep, dtype=np.int64)
    for p in range(n):
        states[0, p] = X[leaf_node[p]]
    steps[0] = 0
    kk = 1
    # per-leaf costs indexed by HST point: cleaf[point_of_node[leaf_node[p]]] = c[p]
    nl = 0
    for v in range(m):
        if point_of_node[v] >= 0:
            nl += 1
    cleaf = np.zeros(nl)
    chat = np.empty(m)
    maxc = 1
    for v in range(m):
        if child_ptr[v + 1] - child_ptr[v] > maxc:
            maxc = child_ptr[v + 1] - child_ptr[v]
    qb = np.empty(maxc)
    cb = np.empty(maxc)
    ob = np.empty(maxc)
    db = np.empty(maxc)
    outb = np.empty(maxc)
    Qc = np.empty(m)
    Xn = np.empty(m)
    xp = np.empty(n)
    for t in range(T):
        c = costs[t]
        prev_tot = np.nan
        N = 1
        while True:
            for p in range(n):
                cleaf[point_of_node[leaf_node[p]]] = eta * c[p] / N
            for v in range(m):
                Qc[v] = Q[v]
            for _ in range(N):
                _tree_substep(Qc, cleaf, order, point_of_node, child_ptr, child_idx, omega, dl, chat,
                              qb, cb, ob, db, outb, multiscale)
            hst_masses(Qc, order, parent, Xn)
            for p in range(n):
                xp[p] = Xn[leaf_node[p]]
            sv = _service(c, xp)
            mv = 0.0
            for v in range(m):
                mv += length[v] * abs(Xn[v] - X[v])
            tot = sv + mv
            if _converged(tot, prev_tot, tol) or N >= max_sub:
                break
            prev_tot = tot
            N *= 2
        svc[t] = sv
        mov[t] = mv
        subs[t] = N
        for v in range(m):
            Q[v] = Qc[v]
            X[v] = Xn[v]
        if keep_all or (t + 1) % keep_every == 0 or t == T - 1:
            for p in range(n):
                states[kk, p] = xp[p]
            steps[kk] = t + 1
            kk += 1
    return svc, mov, subs, states, steps, Q
