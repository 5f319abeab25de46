"""The (h, k) = (2, 4) crawl family of dc_hk_family: DC / OPT_h = (12L + 4)/(5L + 2) -> c = 12/5
(docs/theory/kserver.md §6.3): hand-computed start, replay on DoubleCoverage per segment, exact
OPT_h, the potential accounting (two non-tight steps per phase), convergence and bad input."""

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
    assert np.array_equal(dc_hk_family(2, 5, 2, L=7).requests, dc_hk_family(2, 5, 2).requests)


# --------------------------------------------------------------------------- bad input
def test_size_below_two_rejected():
    with pytest.raises(InvalidInputError, match="'L' parameter of dc_hk_family must be an int >= 2"):
        dc_hk_family(2, 4, 1, L=1)


def test_size_not_an_int_rejected():
    with pytest.raises(InvalidInputError, match="'L' parameter of dc_hk_family must be an int"):
        dc_hk_family(2, 4, 1, L=2.5)


def test_crawl_ratio_rejects_another_cell():
    with pytest.raises(InvalidInputError, match="crawl family exists for"):
        dc_hk_crawl_ratio(2, 5, 4)


def test_crawl_ratio_rejects_a_small_size():
    with pytest.raises(InvalidInputError, match="'L' parameter of dc_hk_crawl_ratio"):
        dc_hk_crawl_ratio(2, 4, 1)
