"""TransportRounding: the layout update against a brute-force twin, invariants, marginals, rejections."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import online_algs
from online_algs.caching import OGD, OMD, Rounded, TransportRounding, madow_sample, project_capped_simplex
from online_algs.caching.rounding import _EPS, _madow_layout
from online_algs.caching.traces import zipf_trace
from online_algs.exceptions import InvalidInputError


# ----------------------------------------------------------------------------- the slow twin

class NaiveTransport:
    """The same update rules on a plain list of ``[set, length]`` atoms, found by linear scans
    (no per-item index, no hole index). Same tie-breaks: atoms in creation order, stable sorts by
    length, increasing/decreasing items in id order, pieces cut from the end of an atom and
    appended at the end of the atom they join."""

    def __init__(self, y0, C, u):
        atoms, ukey, uoff = _madow_layout(np.asarray(y0, float), C, u)
        self.C = C
        self.atoms = [[set(k), v] for k, v in atoms.items()]
        self.u = [set(ukey), uoff]
        self.x = np.zeros(len(y0))
        for s, ln in self.atoms:
            self.x[list(s)] += ln

    def _find(self, s):
        for k, a in enumerate(self.atoms):
            if a[0] == s:
                return k
        return None

    def move(self, s, new, r):
        k = self._find(s)
        length = self.atoms[k][1]
        whole = r >= length - _EPS
        if whole:
            r = length
            del self.atoms[k]
        else:
            self.atoms[k][1] = length - r
        k2 = self._find(new)
        if k2 is None:
            self.atoms.append([set(new), 0.0])
            k2 = len(self.atoms) - 1
        base = self.atoms[k2][1]
        self.atoms[k2][1] = base + r
        if self.u[0] == s:
            cut = 0.0 if whole else length - r
            if whole or self.u[1] >= cut:
                self.u = [set(new), base + min(max(self.u[1] - cut, 0.0), r)]
        return r

    def length(self, s):
        return self.atoms[self._find(s)][1]

    def by_length(self, pred):
        return [set(a[0]) for a in sorted((a for a in self.atoms if pred(a[0])), key=lambda a: a[1])]

    def update(self, y):
        C, x = self.C, self.x
        before = set(self.u[0])
        delta = y - x
        inc = [int(j) for j in np.flatnonzero(delta > _EPS)]
        need = {j: float(delta[j]) for j in inc}
        added = 0.0
        for i in map(int, np.flatnonzero(delta < -_EPS)):
            r = float(-delta[i])
            # merging transfers: (a - {i}) | {e} already an atom, smallest such id e; over i's smallest
            # max(16, 65536 // #increasing items with need) atoms
            live = sum(need[e] > _EPS for e in inc)
            for a in self.by_length(lambda s: i in s)[:max(16, 65536 // max(1, live))]:
                if len(a) < C:
                    continue
                while r > _EPS and self._find(a) is not None:
                    es = [e for e in inc if need[e] > _EPS and e not in a and self._find((a - {i}) | {e}) is not None]
                    if not es:
                        break
                    e = min(es)
                    got = self.move(a, (a - {i}) | {e}, min(r, need[e]))
                    x[i] -= got
                    x[e] += got
                    need[e] -= got
                    added += got
                    r -= got
                if r <= _EPS:
                    break
            if r <= _EPS:
                continue
            for a in self.by_length(lambda s: i in s):
                js = [j for j in inc if need[j] > _EPS and j not in a]
                if not js:
                    continue
                got = self.move(a, (a - {i}) | {js[0]}, min(r, need[js[0]]))
                x[i] -= got
                x[js[0]] += got
                need[js[0]] -= got
                added += got
                r -= got
                if r <= _EPS:
                    break
            if r <= _EPS:
                continue
            for a in self.by_length(lambda s: i in s):
                got = self.move(a, a - {i}, r)
                x[i] -= got
                r -= got
                if r <= _EPS:
                    break
        holes = lambda: self.by_length(lambda s: len(s) < C)  # noqa: E731
        for j in inc:
            r = need[j]
            if r <= _EPS or not holes():
                continue
            for a in self.by_length(lambda s: len(s) < C and j not in s):
                got = self.move(a, a | {j}, r)
                x[j] += got
                added += got
                r -= got
                if r <= _EPS:
                    break
            while r > _EPS and holes():
                fs = [set(a[0]) for a in sorted((a for a in self.atoms if len(a[0]) == C and j not in a[0]),
                                                key=lambda a: -a[1])]
                p = 0
                for h in holes():
                    while r > _EPS and self._find(h) is not None:
                        while p < len(fs) and self._find(fs[p]) is None:
                            p += 1
                        if p == len(fs):
                            break
                        f = fs[p]
                        k = min(f - h)
                        step = min(r, self.length(h), self.length(f))
                        self.move(h, h | {k}, step)
                        self.move(f, (f - {k}) | {j}, step)
                        x[j] += step
                        added += 2 * step
                        r -= step
                        h = h | {k}
                        if len(h) == C:
                            break
                    if r <= _EPS or p == len(fs):
                        break
        order = np.argsort(-(y - x), kind="stable")
        for h in holes():
            length = self.length(h)
            new = set(h)
            for z in order:
                if len(new) == C:
                    break
                if int(z) not in new:
                    new.add(int(z))
                    x[int(z)] += length
                    added += length
            self.move(h, new, length)
        after = set(self.u[0])
        return sorted(after - before), sorted(before - after), added


# ----------------------------------------------------------------------------- helpers

def _y(rng, N, C):
    return project_capped_simplex(rng.normal(0, 1, N), C)


@st.composite
def y_sequences(draw):
    """A random start on the capped simplex and 1-12 moves: big random jumps, small dense
    OGD-like steps, exact repeats, and steps rounded to quarters (exact 0, 1 and ties)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    N = draw(st.integers(3, 14))
    C = int(rng.integers(1, N))
    ys = [_y(rng, N, C)]
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["jump", "small", "same", "onehot", "quarters"]))
        y = ys[-1]
        if kind == "jump":
            y = _y(rng, N, C)
        elif kind == "small":
            y = project_capped_simplex(y + rng.normal(0, 0.02, N), C)
        elif kind == "onehot":
            e = np.zeros(N)
            e[rng.integers(N)] = rng.uniform(0.01, 0.5)
            y = project_capped_simplex(y + e, C)
        elif kind == "quarters":
            y = project_capped_simplex(np.round(y * 4) / 4, C)
        ys.append(y.copy())
    return C, ys, float(rng.random())


def _layout_of(tr):
    return sorted((tuple(sorted(k)), v) for k, v in tr._atoms.items())


def _fresh(C, y0, u):
    """A TransportRounding whose U is exactly u (the seed's draw replaced)."""
    tr = TransportRounding(C, seed=0)
    tr.reset_with(y0)
    tr._atoms, tr._ukey, tr._uoff = _madow_layout(np.asarray(y0, float), C, u)
    tr._init_index()
    tr._x = tr.marginals()
    return tr


# ----------------------------------------------------------------------------- twin and invariants

@settings(max_examples=60)
@given(y_sequences())
def test_matches_naive_twin(inst):
    C, ys, u = inst
    tr = _fresh(C, ys[0], u)
    tw = NaiveTransport(ys[0], C, u)
    for y in ys[1:]:
        fetched, evicted = tr.update(y)
        f2, e2, added = tw.update(y)
        assert list(fetched) == f2 and list(evicted) == e2
        assert tr.movement_bound_ == pytest.approx(added, abs=1e-12)
        got = _layout_of(tr)
        want = sorted((tuple(sorted(s)), ln) for s, ln in tw.atoms)
        assert [k for k, _ in got] == [k for k, _ in want]
        np.testing.assert_allclose([v for _, v in got], [v for _, v in want], atol=1e-12)
        assert sorted(tr._ukey) == sorted(tw.u[0]) and tr._uoff == pytest.approx(tw.u[1], abs=1e-12)
        # creation order is the tie-break: it must agree too
        assert [sorted(k) for k in tr._atoms] == [sorted(s) for s, _ in tw.atoms]


@settings(max_examples=80)
@given(y_sequences())
def test_exact_c_marginals_and_movement_accounting(inst):
    C, ys, _ = inst
    tr = TransportRounding(C, seed=3)
    cache = tr.reset_with(ys[0])
    assert len(cache) == C and tr.check_state(ys[0])
    for y in ys[1:]:
        prev = tr.cache
        fetched, evicted = tr.update(y)
        sets, lengths = tr.layout()
        assert sets.shape[1] == C and np.all(np.diff(sets, axis=1) > 0)  # exactly C distinct ids per atom
        assert abs(lengths.sum() - 1.0) <= 1e-9
        np.testing.assert_allclose(tr.marginals(), y, atol=1e-9)
        assert tr.check_state(y)
        # the expected-fetch bound of the layout update is at most ||dy||_1 (and no compaction here)
        assert tr.compaction_movement_ == 0.0
        assert tr.movement_bound_ <= tr.dy_l1_ + 1e-9
        assert tr.swap_measure_ <= tr.movement_bound_ / 2 + 1e-12
        # fetched / evicted are what changed in the realised cache
        now = tr.cache
        np.testing.assert_array_equal(np.setdiff1d(now, prev), fetched)
        np.testing.assert_array_equal(np.setdiff1d(prev, now), evicted)
        assert len(now) == C and len(fetched) == len(evicted)
        assert np.all(y[now] > 0)  # never caches an item of zero mass


@settings(max_examples=40)
@given(y_sequences())
def test_madow_layout_is_madow_sampling(inst):
    C, ys, _ = inst
    y = ys[-1]
    gaps = []
    atoms, _, _ = _madow_layout(y, C, 0.5, gaps)
    assert abs(sum(atoms.values()) - 1.0) <= 1e-12
    for v in np.random.default_rng(C).random(25):
        arc = next(g for g in gaps if g[0] <= v < g[1])
        if min(v - arc[0], arc[1] - v) > 1e-9:  # away from a boundary, where float order may differ
            np.testing.assert_array_equal(sorted(arc[2]), madow_sample(y, v))


def test_first_cache_is_madow_sample_of_the_seeds_u(rng):
    y = _y(rng, 25, 6)
    for seed in range(20):
        u = float(np.random.default_rng(seed).random())
        np.testing.assert_array_equal(TransportRounding(6, seed=seed).reset_with(y), madow_sample(y, u))


def test_same_seed_same_caches(rng):
    ys = [_y(rng, 30, 5)]
    for _ in range(40):
        ys.append(project_capped_simplex(ys[-1] + rng.normal(0, 0.05, 30), 5))
    runs = []
    for _ in range(2):
        tr = TransportRounding(5, seed=11)
        tr.reset_with(ys[0])
        runs.append([tuple(tr.update(y)[0]) for y in ys[1:]] + [tuple(tr.cache)])
    assert runs[0] == runs[1]


def test_marginals_over_u_on_an_ogd_trajectory():
    """Over independent U (seeds), each round's cache frequency matches y_t (Hoeffding bound)."""
    N, C, T, M = 16, 4, 20, 300
    tr_ = zipf_trace(N, T, 0.8, seed=2)
    res = online_algs.run(OGD(N, C, eta=0.3), tr_, states=True)
    ys = res.states
    freq = np.zeros((len(ys), N))
    for s in range(M):
        r = TransportRounding(C, seed=s)
        freq[0, r.reset_with(ys[0])] += 1
        for t, y in enumerate(ys[1:], 1):
            r.update(y)
            freq[t, r.cache] += 1
    bound = math.sqrt(math.log(2 * N * len(ys) / 1e-6) / 2) / math.sqrt(M)  # fails w.p. <= 1e-6
    assert float(np.abs(freq / M - np.asarray(ys)).max()) <= bound


def test_mean_fetches_below_dy_on_ogd_and_omd():
    """Averaged over U, the realised fetches stay below sum ||dy||_1 (the theorem, small instance,
    budget large enough that no compaction happens)."""
    N, C, T = 30, 5, 80
    tr_ = zipf_trace(N, T, 0.9, seed=5)
    for learner in (OGD(N, C, horizon=T), OMD(N, C, horizon=T)):
        fetch, dy, bound = [], [], []
        for s in range(12):
            res = online_algs.run(Rounded(learner, "transport", seed=s, max_atoms=10**6), tr_)
            fetch.append(res.info["total_fetches"])
            dy.append(res.info["dy_l1"].sum())
            bound.append(res.info["movement_bound"].sum() + res.info["compaction_movement"].sum())
            assert res.movement_cost == res.info["total_fetches"]
            assert np.all(res.info["movement_bound"] <= res.info["dy_l1"] + 1e-9)
        assert res.info["n_compactions"] == 0
        assert np.mean(fetch) <= np.mean(dy)
        assert np.mean(bound) <= np.mean(dy)


@pytest.mark.parametrize("rule", ["merge", "madow"])
def test_compaction_keeps_marginals_and_counts_its_movement(rule):
    N, C, T = 30, 4, 150
    lrn = OMD(N, C, horizon=T)
    lrn.reset()
    tr = TransportRounding(C, seed=2, max_atoms=2 * (N + C), compaction=rule)
    tr.reset_with(lrn.predict())
    trace = zipf_trace(N, T, 0.9, seed=1)
    n_before = 0
    for t in range(T):
        lrn.update(int(trace[t]))
        y = lrn.predict()
        tr.update(y)
        assert tr.check_state(y)
        assert tr.n_atoms <= tr.max_atoms_
        if tr.n_compactions_ > n_before:
            assert 0.0 <= tr.compaction_movement_ <= C + 1e-9
            n_before = tr.n_compactions_
        else:
            assert tr.compaction_movement_ == 0.0
    assert tr.n_compactions_ >= 1


@pytest.mark.parametrize("rule", ["merge", "madow", "merge_then_madow"])
def test_compaction_movement_is_the_expected_change(rule):
    """The reported compaction movement equals a Monte Carlo estimate over U (same layout); also
    through the fallback of the merge rule (merge passes, then Madow on the result: cost against
    the labels before the merge passes)."""
    N, C = 12, 3
    rng = np.random.default_rng(4)
    y = _y(rng, N, C)
    ys = [y]
    for _ in range(6):
        ys.append(project_capped_simplex(ys[-1] + rng.normal(0, 0.1, N), C))
    M = 1200
    counts, expected = [], None
    for s in range(M):
        tr = TransportRounding(C, seed=s, max_atoms=2 * (N + C), compaction=rule.split("_")[0])
        tr.reset_with(ys[0])
        for yy in ys[1:]:
            tr.update(yy)
        before = tr.cache
        exp = tr._compact_merge(4, limit=1) if rule == "merge_then_madow" else tr._compact(4)
        counts.append(len(np.setdiff1d(tr.cache, before)))
        expected = exp if expected is None else expected
        assert exp == pytest.approx(expected, abs=1e-12)  # the layout does not depend on U
        assert tr.check_state(ys[-1])
    se = np.std(counts) / math.sqrt(M)
    assert abs(np.mean(counts) - expected) <= 5 * se + 1e-9


# ----------------------------------------------------------------------------- Rounded

def test_rounded_transport_reports_fetches_as_movement():
    tr_ = zipf_trace(30, 120, 1.0, seed=0)
    res = online_algs.run(Rounded(OGD(30, 4, horizon=120), method="transport", seed=1), tr_, series=True)
    assert res.movement_cost == res.info["total_fetches"] == res.movement.sum()
    for key in ("movement_bound", "compaction_movement", "n_atoms"):
        assert len(res.info[key]) == 120
    assert np.all(res.info["n_atoms"] >= 1)


# ----------------------------------------------------------------------------- rejections

def test_rejects_y_off_the_capped_simplex():
    tr = TransportRounding(2, seed=0)
    with pytest.raises(InvalidInputError, match="must sum to an integer capacity"):
        tr.reset_with([0.5, 0.6, 0.3])


def test_rejects_y0_with_another_capacity():
    with pytest.raises(InvalidInputError, match="must sum to capacity = 2"):
        TransportRounding(2, seed=0).reset_with([1.0, 0.0, 0.0])


def test_rejects_update_with_another_sum():
    tr = TransportRounding(2, seed=0)
    tr.reset_with([1.0, 0.5, 0.5])
    with pytest.raises(InvalidInputError, match="must sum to capacity = 2"):
        tr.update([1.0, 1.0, 1.0])


def test_rejects_entries_outside_unit_interval():
    with pytest.raises(InvalidInputError, match=r"must lie in \[0, 1\]"):
        TransportRounding(1, seed=0).reset_with([1.5, -0.5, 0.0])


def test_rejects_wrong_length():
    tr = TransportRounding(1, seed=0)
    tr.reset_with([0.5, 0.5, 0.0])
    with pytest.raises(InvalidInputError, match="must have length 3"):
        tr.update([0.5, 0.5])


def test_rejects_nan():
    tr = TransportRounding(1, seed=0)
    tr.reset_with([0.5, 0.5])
    with pytest.raises(InvalidInputError, match="NaN"):
        tr.update([np.nan, 0.5])


def test_rejects_update_before_reset_with():
    with pytest.raises(InvalidInputError, match="reset_with"):
        TransportRounding(1).update([0.5, 0.5])


def test_rejects_bad_capacity():
    with pytest.raises(InvalidInputError, match="'capacity' parameter of TransportRounding"):
        TransportRounding(0).reset_with([0.5, 0.5])


def test_rejects_small_max_atoms():
    with pytest.raises(InvalidInputError, match="'max_atoms' parameter"):
        TransportRounding(1, max_atoms=3).reset_with([0.5, 0.5])


def test_rejects_bad_seed():
    with pytest.raises(InvalidInputError, match="'seed' parameter"):
        TransportRounding(1, seed=-1).reset_with([0.5, 0.5])


def test_rejects_unknown_compaction_rule():
    with pytest.raises(InvalidInputError, match="'compaction' parameter of TransportRounding"):
        TransportRounding(1, compaction="gray").reset_with([0.5, 0.5])


def test_rejects_unknown_rounded_method():
    with pytest.raises(InvalidInputError, match="'method' parameter of Rounded"):
        online_algs.run(Rounded(OGD(4, 2, horizon=3), method="transportt"), [0, 1, 2])


# ----------------------------------------------------------------------------- fragmentation rules

def _set_layout(tr, atoms, ukey, uoff):
    tr._atoms = {frozenset(k): v for k, v in atoms.items()}
    tr._ukey, tr._uoff = frozenset(ukey), uoff
    tr._init_index()
    tr._x = tr.marginals()


def test_merging_transfer_joins_an_existing_label():
    """Item 1 decreases, item 2 increases: {0, 1} -> {0, 2} is already an atom, so the piece merges
    there (3 atoms stay 3) although {1, 3} is the smaller atom of item 1 (the old rule cut it into a
    new atom {2, 3})."""
    tr = TransportRounding(2, seed=0)
    tr.reset_with([0.75, 0.75, 0.25, 0.25])
    _set_layout(tr, {(0, 1): 0.5, (0, 2): 0.25, (1, 3): 0.25}, (1, 3), 0.1)
    y = np.array([0.75, 0.65, 0.35, 0.25])
    tr.update(y)
    assert tr.check_state(y)
    assert _layout_of(tr) == [((0, 1), pytest.approx(0.4)), ((0, 2), pytest.approx(0.35)),
                              ((1, 3), pytest.approx(0.25))]
    assert tr.movement_bound_ == pytest.approx(0.1)
    assert tr.cache.tolist() == [1, 3]


def test_merge_lookup_ignores_hash_collisions():
    """A forged hash entry pointing at a set that is not (a - {i}) | {e} is not used."""
    tr = TransportRounding(2, seed=0)
    tr.reset_with([0.75, 0.75, 0.25, 0.25])
    _set_layout(tr, {(0, 1): 0.5, (0, 3): 0.25, (1, 2): 0.25}, (0, 1), 0.1)
    a = frozenset({0, 1})
    h = (tr._hk[a] - tr._w[1] + tr._w[3]) & ((1 << 64) - 1)
    tr._hfull[h] = frozenset({1, 2})  # wrong set under the hash of {0, 3}... of (a - {1}) | {3}
    assert tr._merge_partner(a, 1, [3], {3: 0.1}) is None
    tr._hfull[h] = frozenset({0, 3})
    assert tr._merge_partner(a, 1, [3], {3: 0.1}) == (3, frozenset({0, 3}))


def test_compaction_candidates_are_permutations(rng):
    from online_algs.caching.rounding import _compaction_candidates

    N, C = 20, 4
    keys = [frozenset(rng.choice(N, C, replace=False).tolist()) for _ in range(15)]
    keys = list(dict.fromkeys(keys))
    lens = rng.random(len(keys))
    lens /= lens.sum()
    z = np.zeros(N)
    for k, ln in zip(keys, lens):
        z[list(k)] += ln
    cands = list(_compaction_candidates(keys, lens, z, N))
    assert len(cands) == 2
    for arr, perm in cands:
        assert sorted(arr.tolist()) == list(range(len(keys)))
        assert sorted(perm.tolist()) == list(range(N))
    # the label-preserving order starts with the items present in every collapsed atom
    full = np.flatnonzero(z >= 1.0)
    assert set(cands[1][1][:len(full)].tolist()) == set(full.tolist())


def test_compaction_picks_the_cheaper_candidate(monkeypatch):
    """_compact reports the minimum exact cost over the candidates (each computed by the overlay)."""
    import online_algs.caching.rounding as R

    N, C, T = 30, 4, 60
    lrn = OMD(N, C, horizon=T)
    lrn.reset()
    tr = TransportRounding(C, seed=2, max_atoms=10**6, compaction="madow")
    tr.reset_with(lrn.predict())
    trace = zipf_trace(N, T, 0.9, seed=1)
    for t in range(T):
        lrn.update(int(trace[t]))
        tr.update(lrn.predict())
    costs = []
    orig = R._overlay_cost

    def spy(*a):
        costs.append(orig(*a))
        return costs[-1]

    monkeypatch.setattr(R, "_overlay_cost", spy)
    y = tr.marginals()
    target = tr.n_atoms // 2
    m = float(np.sort(list(tr._atoms.values()))[: tr.n_atoms - target].sum())
    got = tr._compact(target)
    assert len(costs) == 2
    assert got == pytest.approx(min(costs) * m, abs=1e-12)
    assert tr.check_state(y)


# ----------------------------------------------------------------------------- merge compaction

def test_merge_compaction_small_example():
    """The smallest atom {0, 3} merges into {0, 1} (one shared item; {1, 2} shares none); item 1 is then
    one 0.05 too high and item 3 one 0.05 too low, and the fix hands 0.05 of 1's smaller atom {1, 2}
    to 3. Exact cost: 0.05 (1 added on the old {0, 3} points) + 0.05 (3 added on the cut of {1, 2});
    U inside {0, 3} is carried to the end of {0, 1}."""
    tr = TransportRounding(2, seed=0)
    tr.reset_with([0.55, 0.95, 0.45, 0.05])
    _set_layout(tr, {(0, 1): 0.5, (1, 2): 0.45, (0, 3): 0.05}, (0, 3), 0.02)
    y = tr.marginals()
    cost = tr._compact(2)
    assert cost == pytest.approx(0.1, abs=1e-15)
    assert _layout_of(tr) == [((0, 1), pytest.approx(0.55)), ((1, 2), pytest.approx(0.4)),
                              ((2, 3), pytest.approx(0.05))]
    assert tr.check_state(y)
    assert sorted(tr._ukey) == [0, 1] and tr._uoff == pytest.approx(0.52)


def test_merge_compaction_cost_counts_a_reverted_point_once():
    """A point relabelled twice inside one compaction is charged by its final label against its
    first one (exact), not by the sum of the two relabels: {0, 2} merges into {0, 1} (2 -> 1), and the
    fix moves the end of {0, 1}, where that piece now lies, to {0, 2} again (1 -> 2): cost 0."""
    tr = TransportRounding(2, seed=0)
    tr.reset_with([1.0, 0.9, 0.1])
    _set_layout(tr, {(0, 1): 0.9, (0, 2): 0.1}, (0, 2), 0.05)
    y = tr.marginals()
    cost = tr._compact(1)
    assert tr.check_state(y)
    assert _layout_of(tr) == [((0, 1), pytest.approx(0.9)), ((0, 2), pytest.approx(0.1))]
    assert cost == pytest.approx(0.0, abs=1e-15)
    assert sorted(tr._ukey) == [0, 2] and tr._uoff == pytest.approx(0.05)


def test_nearest_later_matches_brute_force(rng):
    from online_algs.caching.rounding import _nearest_later

    for N, C, K in ((12, 3, 40), (30, 6, 150), (8, 7, 8)):
        keys = list(dict.fromkeys(frozenset(rng.choice(N, C, replace=False).tolist()) for _ in range(K)))
        n = len(keys) - 1
        got = _nearest_later(keys, N, n)
        for t in range(n):
            shared = [len(keys[t] & keys[u]) for u in range(t + 1, len(keys))]
            best = max(shared)
            want = t + 1 + max(u for u, v in enumerate(shared) if v == best)  # ties to the latest
            assert got[t] == want


@settings(max_examples=40)
@given(y_sequences(), st.sampled_from(["merge", "madow"]))
def test_forced_compactions_keep_the_invariants(inst, rule):
    """After every update, compact to half the atoms: exactly C distinct items per atom, exact
    marginals, U inside its atom, cost in [0, C * collapsed length], fetched = what changed."""
    C, ys, _ = inst
    tr = TransportRounding(C, seed=5, compaction=rule)
    tr.reset_with(ys[0])
    for y in ys[1:]:
        tr.update(y)
        if tr.n_atoms < 2:
            continue
        lens = np.sort(list(tr._atoms.values()))
        target = tr.n_atoms // 2
        m = float(lens[: max(tr.n_atoms - target, 2 if rule == "madow" else 1)].sum())
        prev = tr.cache
        cost = tr._compact(target)
        assert tr.check_state(y)
        sets, _ = tr.layout()
        assert sets.shape[1] == C and np.all(np.diff(sets, axis=1) > 0)
        # Madow changes only the collapsed points (at most C items each); merging adds at most C per
        # merged unit and the fix at most ||Delta||_1 <= 2 C m more additions
        assert -1e-12 <= cost <= (1 if rule == "madow" else 3) * C * m + 1e-9
        assert len(np.setdiff1d(tr.cache, prev)) <= C
