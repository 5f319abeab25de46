"""The crawl families of dc_hk_family: (2, 4), DC / OPT_h = (12L + 4)/(5L + 2) -> c = 12/5, and (2, 5),
DC / OPT_h >= (450t + 250)/(180t + 108) -> c = 5/2 with t = L - 2 (docs/theory/kserver.md §6.3):
hand-computed starts, replay on DoubleCoverage per segment, exact OPT_h, the potential accounting
(two, resp. five, non-tight steps per phase), convergence and bad input."""

from fractions import Fraction

import numpy as np
import pytest

from online_algs import run
from online_algs.exceptions import InvalidInputError
from online_algs.kserver import (DoubleCoverage, dc_hk_crawl_ratio, dc_hk_family, dc_hk_potential, dc_hk_ratio,
                                 offline_optimum, schedule_cost)

C = dc_hk_ratio(2, 4)


def _segments(L):
    """Request counts of one phase: crawl, leftward sweep, walk (D = 4L + 2)."""
    D = 4 * L + 2
    return 3 * D - 2, 6 * L + 2, 2 * (D - 1)


def _serve_costs(inst):
    dc = DoubleCoverage(inst.metric, inst.dc_initial)
    dc.reset()
    costs, states = [], [tuple(dc.state)]
    for r in inst.requests:
        _, mv = dc.serve(int(r))
        costs.append(mv)
        states.append(tuple(dc.state))
    return np.array(costs), states


def test_small_instance_by_hand():
    # L = 2, D = 10: DC on 0, 1, 10, 12, the adversary on 10, 12. First half-block: request 11 (the
    # adversary moves 10 -> 11; DC's 10 and 12 meet on 11: 2), 12 (covered; DC 11 -> 12: 1), 10 (the
    # adversary moves 12 -> 10; DC's 1 and 11 both move 1: 2): DC 5, adversary 3, free server 1 -> 2.
    inst = dc_hk_family(2, 4, 1, L=2)
    assert inst.construction == "crawl" and not inst.exact and inst.L == 2
    assert inst.dc_initial == [0, 1, 10, 12] and inst.opt_initial == [10, 12]
    assert inst.requests[:3].tolist() == [11, 12, 10]
    assert inst.schedule[:3] == [(11, 12), (11, 12), (10, 11)]
    costs, states = _serve_costs(inst)
    assert costs[:3].tolist() == [2.0, 1.0, 2.0] and states[3] == (0.0, 2.0, 10.0, 12.0)
    # the whole phase: DC 48 L + 16 = 112, adversary 20 L + 8 = 48, everything shifted by 3L + 1 = 7
    assert costs.sum() == 112.0 and inst.schedule_cost == 48.0
    assert states[-1] == (7.0, 8.0, 17.0, 19.0) and inst.opt_final == (17, 19)
    assert offline_optimum(inst.metric, inst.requests, inst.opt_initial, method="dp").value == 48.0


@pytest.mark.parametrize("L", [2, 3, 5])
def test_replay_matches_the_per_segment_formulas(L):
    D, phases = 4 * L + 2, 3
    inst = dc_hk_family(2, 4, phases, L=L)
    costs, states = _serve_costs(inst)
    nc, nl, nw = _segments(L)
    per = nc + nl + nw
    assert len(inst.requests) == phases * per == phases * (26 * L + 8)
    pos = inst.metric.info["positions"]
    prev = inst.opt_initial
    adv = []
    for conf in inst.schedule:
        adv.append(float(np.abs(np.sort(pos[list(prev)]) - np.sort(pos[list(conf)])).sum()))
        prev = conf
    adv = np.array(adv)
    for p in range(phases):
        o = p * per
        assert costs[o:o + nc].sum() == 5 * D - 3 and adv[o:o + nc].sum() == 2 * D - 1          # crawl
        assert costs[o + nc:o + nc + nl].sum() == 3 * D - 1 and adv[o + nc:o + nc + nl].sum() == D + 1
        assert costs[o + nc + nl:o + per].sum() == 4 * (D - 1) and adv[o + nc + nl:o + per].sum() == 2 * (D - 1)
        shift = p * (3 * L + 1)
        assert states[o] == tuple(float(x + shift) for x in (0, 1, D, D + 2))                     # A(a)
    total = run(DoubleCoverage(inst.metric, inst.dc_initial), inst.requests).total_cost
    assert total == phases * (48 * L + 16) == pytest.approx(inst.ratio * inst.schedule_cost, rel=1e-15)
    assert schedule_cost(inst.metric, inst.requests, inst.opt_initial, inst.schedule) == inst.schedule_cost


@pytest.mark.parametrize("L, phases", [(2, 2), (3, 2), (4, 1)])
def test_opt_equals_the_schedule_cost(L, phases):
    inst = dc_hk_family(2, 4, phases, L=L)
    opt = offline_optimum(inst.metric, inst.requests, inst.opt_initial).value
    assert opt == inst.schedule_cost
    dc = run(DoubleCoverage(inst.metric, inst.dc_initial), inst.requests).total_cost
    assert dc / opt == pytest.approx(dc_hk_crawl_ratio(2, 4, L), rel=1e-15)


def test_potential_accounting_two_slack_steps_per_phase():
    # every step tight (Delta Phi = c adv - DC) except two per phase; total slack 16/5 per phase
    L, phases = 3, 2
    inst = dc_hk_family(2, 4, phases, L=L)
    pos = inst.metric.info["positions"]
    dc = DoubleCoverage(inst.metric, inst.dc_initial)
    dc.reset()
    phi = dc_hk_potential(np.array(dc.state), pos[inst.opt_initial])
    prev, slacks = inst.opt_initial, []
    for r, conf in zip(inst.requests, inst.schedule):
        _, mv = dc.serve(int(r))
        om = float(np.abs(np.sort(pos[list(prev)]) - np.sort(pos[list(conf)])).sum())
        phi2 = dc_hk_potential(np.array(dc.state), pos[list(conf)])
        slacks.append(C * om - mv - (phi2 - phi))
        phi, prev = phi2, conf
    slacks = np.array(slacks)
    assert slacks.min() >= -1e-9
    big = np.flatnonzero(slacks > 1e-9)
    assert len(big) == 2 * phases and np.allclose(slacks[big], 1.6)
    assert slacks.sum() == pytest.approx(phases * 16 / 5)


def test_closed_form_increases_to_c():
    vals = [dc_hk_crawl_ratio(2, 4, L) for L in range(2, 60)]
    assert all(b > a for a, b in zip(vals, vals[1:]))
    for L, v in zip(range(2, 60), vals):
        assert Fraction(12 * L + 4, 5 * L + 2) == Fraction(12, 5) - Fraction(4, 5 * (5 * L + 2))
        assert v == pytest.approx(C - 4 / (5 * (5 * L + 2)), rel=1e-15) and v < C
    assert C - dc_hk_crawl_ratio(2, 4, 10_000) < 2e-5
    assert dc_hk_crawl_ratio(2, 4, 2) == pytest.approx(7 / 3) and dc_hk_crawl_ratio(2, 4, 3) == pytest.approx(40 / 17)


def test_default_size_and_determinism():
    a, b = dc_hk_family(2, 4, 2), dc_hk_family(2, 4, 2)
    assert a.L == 4 and a.ratio == pytest.approx(52 / 22)
    assert np.array_equal(a.requests, b.requests) and a.schedule == b.schedule and a.dc_initial == b.dc_initial
    longer = dc_hk_family(2, 4, 3)
    assert np.array_equal(longer.requests[:len(a.requests)], a.requests)


def test_other_cells_ignore_the_size():
    assert dc_hk_family(2, 3, 2, L=7).L is None
    assert np.array_equal(dc_hk_family(2, 6, 2, L=7).requests, dc_hk_family(2, 6, 2).requests)


# --------------------------------------------------------------------------- bad input
def test_size_below_two_rejected():
    with pytest.raises(InvalidInputError, match="'L' parameter of dc_hk_family must be an int >= 2"):
        dc_hk_family(2, 4, 1, L=1)


def test_size_not_an_int_rejected():
    with pytest.raises(InvalidInputError, match="'L' parameter of dc_hk_family must be an int"):
        dc_hk_family(2, 4, 1, L=2.5)


def test_crawl_ratio_rejects_another_cell():
    with pytest.raises(InvalidInputError, match=r"\(h, k\) cell of dc_hk_crawl_ratio must be one with a crawl family"):
        dc_hk_crawl_ratio(2, 6, 4)


def test_crawl_ratio_rejects_a_small_size():
    with pytest.raises(InvalidInputError, match="'L' parameter of dc_hk_crawl_ratio"):
        dc_hk_crawl_ratio(2, 4, 1)


# --------------------------------------------------------------------------- (2, 5)
C25 = dc_hk_ratio(2, 5)


def _adv_costs(inst):
    pos = inst.metric.info["positions"]
    prev, out = inst.opt_initial, []
    for conf in inst.schedule:
        out.append(float(np.abs(np.sort(pos[list(prev)]) - np.sort(pos[list(conf)])).sum()))
        prev = conf
    return np.array(out)


def test_25_small_instance_by_hand():
    # L = 2 (t = 0): DC on 0, 1, 2, 19, 21, the adversary on 19, 21. First half-block of the crawl:
    # 20 (adversary 19 -> 20; DC's 19 and 21 meet on 20: 2), 21 (covered; 20 -> 21: 1), 19 (adversary
    # 21 -> 19; DC's 2 and 20 move 1: 2). One phase: DC 250, adversary 108, shift 10.
    inst = dc_hk_family(2, 5, 1, L=2)
    assert inst.construction == "crawl" and not inst.exact and inst.L == 2
    assert inst.dc_initial == [0, 1, 2, 19, 21] and inst.opt_initial == [19, 21]
    assert inst.requests[:3].tolist() == [20, 21, 19] and inst.schedule[:3] == [(20, 21), (20, 21), (19, 20)]
    costs, states = _serve_costs(inst)
    assert costs[:3].tolist() == [2.0, 1.0, 2.0] and states[3] == (0.0, 1.0, 3.0, 19.0, 21.0)
    assert costs.sum() == 250.0 and inst.schedule_cost == 108.0
    assert states[-1] == (10.0, 11.0, 12.0, 29.0, 31.0) and inst.opt_final == (29, 31)


@pytest.mark.parametrize("L", [2, 3])
def test_25_replay_matches_the_per_segment_formulas(L):
    t, phases = L - 2, 2
    inst = dc_hk_family(2, 5, phases, L=L)
    costs, states = _serve_costs(inst)
    adv = _adv_costs(inst)
    # (requests, adversary, DC) of crawl, sweep, jump, second sweep, walk pulling the fifth server, pair out, walk
    segs = [(90 * t + 52, 60 * t + 35, 150 * t + 87), (48 * t + 26, 32 * t + 19, 96 * t + 53), (1, 3, 0),
            (36 * t + 20, 24 * t + 15, 72 * t + 42), (4 * t + 2, 4 * t + 2, 12 * t + 6), (1, 4, 2),
            (60 * t + 30, 60 * t + 30, 120 * t + 60)]
    per = sum(n for n, _, _ in segs)
    assert per == 238 * t + 132 and len(inst.requests) == phases * per
    P0 = 32 * t + 19
    o = 0
    for p in range(phases):
        shift = p * (18 * t + 10)
        assert states[o] == tuple(float(x + shift) for x in (0, 1, 2 * t + 2, P0, P0 + 2))
        for n, a, d in segs:
            assert adv[o:o + n].sum() == a and costs[o:o + n].sum() == d
            o += n
    assert costs.sum() == phases * (450 * t + 250) and inst.schedule_cost == phases * (180 * t + 108)
    assert costs.sum() == pytest.approx(inst.ratio * inst.schedule_cost, rel=1e-15)


def test_25_opt_at_most_the_schedule():
    inst = dc_hk_family(2, 5, 2, L=2)
    opt = offline_optimum(inst.metric, inst.requests, inst.opt_initial).value
    dc = run(DoubleCoverage(inst.metric, inst.dc_initial), inst.requests).total_cost
    assert opt <= inst.schedule_cost and dc / opt >= dc_hk_crawl_ratio(2, 5, 2)
    assert opt == 212.0        # measured: 2 below the schedule's cost per phase (the schedule is not optimal)


def test_25_potential_accounting_five_slack_steps_per_phase():
    L, phases = 3, 2
    inst = dc_hk_family(2, 5, phases, L=L)
    pos = inst.metric.info["positions"]
    dc = DoubleCoverage(inst.metric, inst.dc_initial)
    dc.reset()
    phi = dc_hk_potential(np.array(dc.state), pos[inst.opt_initial])
    prev, slacks = inst.opt_initial, []
    for r, conf in zip(inst.requests, inst.schedule):
        _, mv = dc.serve(int(r))
        om = float(np.abs(np.sort(pos[list(prev)]) - np.sort(pos[list(conf)])).sum())
        phi2 = dc_hk_potential(np.array(dc.state), pos[list(conf)])
        slacks.append(C25 * om - mv - (phi2 - phi))
        phi, prev = phi2, conf
    slacks = np.array(slacks)
    assert slacks.min() >= -1e-9
    big = np.flatnonzero(slacks > 1e-9)
    assert len(big) == 5 * phases
    assert np.allclose(np.sort(slacks[big[:5]]), [5 / 3, 5 / 3, 5 / 3, 20 / 3, 25 / 3])
    assert slacks.sum() == pytest.approx(phases * 20.0)


def test_25_closed_form_increases_to_c():
    vals = [dc_hk_crawl_ratio(2, 5, L) for L in range(2, 60)]
    assert all(b > a for a, b in zip(vals, vals[1:]))
    for L, v in zip(range(2, 60), vals):
        t = L - 2
        assert Fraction(450 * t + 250, 180 * t + 108) == Fraction(5, 2) - Fraction(5, 45 * t + 27)
        assert v == pytest.approx(C25 - 5 / (45 * t + 27), rel=1e-15) and v < C25
    assert vals[0] > 2.25                                  # above drift_parked's (h+1)^2/(h+2) already at L = 2


# --------------------------------------------------------------------------- (3, 5)
C35 = dc_hk_ratio(3, 5)


def _segments_35(u):
    """(requests, adversary, DC) of one (3, 5) phase: into the crawl shape, crawl, merge, sweep, join, walk,
    out of the walk (docs/theory/kserver.md §6.3)."""
    return [(4, 7, 12), (90 * u - 18, 60 * u - 12, 210 * u - 42), (7, 3, 16), (42 * u - 1, 30 * u - 1, 120 * u - 6),
            (10, 7, 17), (150 * u + 5, 90 * u + 3, 270 * u + 9), (2, 1, 4)]


def test_35_small_instance_by_hand():
    # L = 2 (u = 1, W = 34): DC on 0, 2, 34, 35, 37, the adversary on 34, 35, 37. Into the crawl shape:
    # 36 (adversary 37 -> 36; DC's 35 and 37 meet on 36: 2), 33 (adversary 36 -> 33, 3; DC's 2 and 34 move 1: 2),
    # 31 (adversary 34 -> 31, 3; DC's 3 and 33 move 2: 4), 33 (covered; DC's 31 and 36 move 2: 4): adversary 7,
    # DC 12, DC on 0, 5, 33, 34, 36 and the adversary on 31, 33, 35 (the crawl shape, P = 31). First crawl
    # block request 31: DC's 5 and 33 both move 2 (4). One phase: DC 610, adversary 188, shift 24.
    inst = dc_hk_family(3, 5, 1, L=2)
    assert inst.construction == "crawl" and not inst.exact and inst.L == 2
    assert inst.dc_initial == [0, 2, 34, 35, 37] and inst.opt_initial == [34, 35, 37]
    assert inst.requests[:5].tolist() == [36, 33, 31, 33, 31]
    assert inst.schedule[:4] == [(34, 35, 36), (33, 34, 35), (31, 33, 35), (31, 33, 35)]
    costs, states = _serve_costs(inst)
    assert costs[:5].tolist() == [2.0, 2.0, 4.0, 4.0, 4.0]
    assert states[4] == (0.0, 5.0, 33.0, 34.0, 36.0) and states[5] == (0.0, 7.0, 31.0, 34.0, 36.0)
    assert costs.sum() == 610.0 and inst.schedule_cost == 188.0 and len(inst.requests) == 291
    assert states[-1] == (24.0, 26.0, 58.0, 59.0, 61.0) and inst.opt_final == (58, 59, 61)


@pytest.mark.parametrize("L", [2, 3])
def test_35_replay_matches_the_per_segment_formulas(L):
    u, phases = L - 1, 2
    inst = dc_hk_family(3, 5, phases, L=L)
    costs, states = _serve_costs(inst)
    adv = _adv_costs(inst)
    segs = _segments_35(u)
    per = sum(n for n, _, _ in segs)
    assert per == 282 * u + 9 and len(inst.requests) == phases * per
    W = 30 * u + 4
    o = 0
    for p in range(phases):
        shift = p * 24 * u
        assert states[o] == tuple(float(x + shift) for x in (0, 2, W, W + 1, W + 3))
        assert inst.schedule[o - 1] == (W + shift, W + 1 + shift, W + 3 + shift) if p else True
        for n, a, d in segs:
            assert adv[o:o + n].sum() == a and costs[o:o + n].sum() == d
            o += n
    assert states[-1] == tuple(float(x + phases * 24 * u) for x in (0, 2, W, W + 1, W + 3))
    assert costs.sum() == phases * (600 * u + 10) and inst.schedule_cost == phases * (180 * u + 8)
    assert costs.sum() == pytest.approx(inst.ratio * inst.schedule_cost, rel=1e-15)
    assert schedule_cost(inst.metric, inst.requests, inst.opt_initial, inst.schedule) == inst.schedule_cost


@pytest.mark.parametrize("L, phases", [(2, 1), (2, 2)])
def test_35_opt_equals_the_schedule_on_small_sizes(L, phases):
    inst = dc_hk_family(3, 5, phases, L=L)
    opt = offline_optimum(inst.metric, inst.requests, inst.opt_initial).value
    dc = run(DoubleCoverage(inst.metric, inst.dc_initial), inst.requests).total_cost
    assert opt == inst.schedule_cost == phases * 188.0     # measured: the schedule is optimal here
    assert dc / opt == pytest.approx(dc_hk_crawl_ratio(3, 5, L), rel=1e-15) and dc / opt > 3.2


def test_35_potential_accounting_five_slack_steps_per_phase():
    L, phases = 2, 2
    inst = dc_hk_family(3, 5, phases, L=L)
    pos = inst.metric.info["positions"]
    dc = DoubleCoverage(inst.metric, inst.dc_initial)
    dc.reset()
    phi = phi0 = dc_hk_potential(np.array(dc.state), pos[inst.opt_initial])
    prev, slacks = inst.opt_initial, []
    for r, conf in zip(inst.requests, inst.schedule):
        _, mv = dc.serve(int(r))
        om = float(np.abs(np.sort(pos[list(prev)]) - np.sort(pos[list(conf)])).sum())
        phi2 = dc_hk_potential(np.array(dc.state), pos[list(conf)])
        slacks.append(C35 * om - mv - (phi2 - phi))
        phi, prev = phi2, conf
    slacks = np.array(slacks)
    assert slacks.min() >= -1e-9
    big = np.flatnonzero(slacks > 1e-9)
    assert len(big) == 5 * phases
    assert np.allclose(np.sort(slacks[big[:5]]), [5 / 3, 5 / 3, 10 / 3, 10 / 3, 20 / 3])
    assert slacks.sum() == pytest.approx(phases * 50 / 3)
    assert phi == pytest.approx(phi0)                      # the configurations repeat up to a shift


def test_35_closed_form_increases_to_c():
    vals = [dc_hk_crawl_ratio(3, 5, L) for L in range(2, 60)]
    assert all(b > a for a, b in zip(vals, vals[1:]))
    for L, v in zip(range(2, 60), vals):
        u = L - 1
        assert Fraction(600 * u + 10, 180 * u + 8) == Fraction(10, 3) - Fraction(25, 270 * u + 12)
        assert v == pytest.approx(C35 - 25 / (270 * u + 12), rel=1e-15) and v < C35
    assert vals[0] > 3.2                                   # above drift_parked's (h+1)^2/(h+2) already at L = 2
    assert dc_hk_family(3, 5, 1, L=30).ratio == pytest.approx(vals[28])


def test_35_deterministic_and_prefix_stable():
    a, b = dc_hk_family(3, 5, 2, L=3), dc_hk_family(3, 5, 2, L=3)
    assert np.array_equal(a.requests, b.requests) and a.schedule == b.schedule and a.dc_initial == b.dc_initial
    longer = dc_hk_family(3, 5, 3, L=3)
    assert np.array_equal(longer.requests[:len(a.requests)], a.requests)
    assert dc_hk_family(3, 5, 1).L == 4 and dc_hk_family(3, 5, 1).ratio == pytest.approx(1810 / 548)


def test_35_sweep_cycle_by_hand():
    # L = 2, P = 31: the sweep starts after 4 + 72 + 7 requests with DC on f = 2, B = 29, 33, 34, 34 and the
    # adversary on 29, 33, 34; one 14-request cycle (docs/theory/kserver.md §6.3 step 3): the group moves
    # 2 left, f 8 right (moves of 2, 3, 3), adversary 10, DC 40.
    inst = dc_hk_family(3, 5, 1, L=2)
    costs, states = _serve_costs(inst)
    adv = _adv_costs(inst)
    o = 4 + 72 + 7
    assert states[o] == (2.0, 29.0, 33.0, 34.0, 34.0) and inst.schedule[o - 1] == (29, 33, 34)
    assert inst.requests[o:o + 14].tolist() == [32, 33, 31, 29, 31, 32, 33, 31, 32, 28, 30, 31, 32, 27]
    assert costs[o:o + 14].tolist() == [2, 2, 2, 4, 2, 2, 2, 2, 2, 6, 4, 2, 2, 6]
    assert adv[o:o + 14].tolist() == [2, 0, 1, 0, 0, 1, 0, 2, 0, 1, 1, 1, 0, 1]
    assert [s[0] for s in states[o:o + 15]] == [2.0] * 4 + [4.0] * 6 + [7.0] * 4 + [10.0]
    assert states[o + 14] == (10.0, 27.0, 31.0, 32.0, 32.0) and inst.schedule[o + 13] == (27, 31, 32)
    # the sweep's end (42u - 1 = 41 requests) and the join: DC on e-1, e+2, e+3, e+4, e+4 with e = 24u = 24
    assert states[o + 41] == (23.0, 26.0, 27.0, 28.0, 28.0) and inst.schedule[o + 40] == (24, 27, 28)
    assert states[o + 51] == (24.0, 26.0, 27.0, 27.0, 29.0) and inst.schedule[o + 50] == (27, 28, 29)
