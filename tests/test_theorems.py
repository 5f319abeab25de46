"""Every registered theorem's quick check passes (verdict pass or report, never fail or error).

This puts the whole theorem harness under CI; heavier instances are in
``python -m proofs_check --thorough``.
"""

import pytest

import proofs_check
from proofs_check.registry import run_one

proofs_check.load_all()
THEOREMS = sorted(proofs_check.THEOREMS.values(), key=lambda t: t.id)


@pytest.mark.parametrize("th", [t for t in THEOREMS if not t.thorough_only], ids=lambda t: t.id)
def test_theorem_quick(th):
    results = run_one(th, mode="quick", seed=0)
    bad = [r for r in results if r.verdict in ("fail", "error")]
    assert not bad, "\n".join(f"{r.verdict}: {r.algorithm}/{r.family} {r.instance} measured={r.measured} "
                              f"bound={r.bound}\n{r.detail}" for r in bad)
    assert all(r.verdict in ("pass", "report") for r in results)


def test_check_modules_import():
    assert proofs_check.IMPORT_ERRORS == {}
