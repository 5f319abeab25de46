import json
import subprocess
import sys

import pytest

import proofs_check
from proofs_check.registry import Context, Theorem, run_one, select

REQUIRED = {"id", "kind", "algorithm", "family", "measured", "bound", "verdict"}


def _th(func, kind="upper"):
    return Theorem(id="test.dummy", statement="s", reference="r", kind=kind, algorithms=(), families=(), func=func)


def test_violated_bound_is_a_fail_not_an_exception():
    res = run_one(_th(lambda ctx: ctx.upper(3.0, 2.0)))
    assert [r.verdict for r in res] == ["fail"]
    res = run_one(_th(lambda ctx: ctx.upper(1.0, 2.0)))
    assert [r.verdict for r in res] == ["pass"] and res[0].slack == 1.0
    res = run_one(_th(lambda ctx: ctx.lower(1.0, 2.0), kind="lower"))
    assert res[0].verdict == "fail"
    res = run_one(_th(lambda ctx: ctx.identity(1e-3, 1e-9), kind="identity"))
    assert res[0].verdict == "fail"
    res = run_one(_th(lambda ctx: ctx.report(5.0), kind="empirical"))
    assert res[0].verdict == "report"


def test_nan_measurement_fails():
    assert run_one(_th(lambda ctx: ctx.upper(float("nan"), 2.0)))[0].verdict == "fail"


def test_crashing_check_is_an_error_result():
    def boom(ctx):
        raise RuntimeError("kaput")
    res = run_one(_th(boom))
    assert res[0].verdict == "error" and "kaput" in res[0].detail


def test_ci_based_upper():
    th = _th(lambda ctx: ctx.upper(2.1, 2.0, use_ci=True, ci=(1.9, 2.3)))
    assert run_one(th)[0].verdict == "pass"
    th = _th(lambda ctx: ctx.upper(2.5, 2.0, use_ci=True, ci=(2.2, 2.8)))
    assert run_one(th)[0].verdict == "fail"


def test_context_rng_deterministic():
    th = _th(lambda ctx: None)
    a = Context(th, seed=1).rng(3).random(4)
    b = Context(th, seed=1).rng(3).random(4)
    c = Context(th, seed=2).rng(3).random(4)
    assert (a == b).all() and not (a == c).all()


def test_select_patterns():
    proofs_check.load_all()
    ids = [t.id for t in select(["core"])]
    assert "core.metrics.constructors_valid" in ids
    assert all(i.startswith("core.") for i in ids)
    assert [t.id for t in select(["*perturbed*"])] == ["core.metrics.perturbed_rejected"]


def test_no_import_errors_in_check_modules():
    proofs_check.load_all()
    assert proofs_check.IMPORT_ERRORS == {}


def test_cli_json(tmp_path):
    out = tmp_path / "out.json"
    p = subprocess.run([sys.executable, "-m", "proofs_check", "--quick", "--only", "core", "--json", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    data = json.loads(out.read_text())
    assert isinstance(data, list) and data
    for d in data:
        assert REQUIRED <= set(d)
        assert d["verdict"] == "pass"
    assert "theorem" in p.stdout and "verdict" in p.stdout


def test_theorem_page_is_generated_and_current():
    """docs/theorems.md is generated from the registry (`make docs`), never typed by hand."""
    from pathlib import Path

    from proofs_check.report import theorem_page

    proofs_check.load_all()
    page = Path(__file__).resolve().parents[1] / "docs" / "theorems.md"
    assert page.read_text() == theorem_page(), "docs/theorems.md is stale: run `make docs`"


def test_every_theorem_has_statement_and_reference():
    proofs_check.load_all()
    for t in proofs_check.THEOREMS.values():
        assert t.statement and t.reference, t.id
        assert t.kind in ("upper", "lower", "identity", "empirical")
