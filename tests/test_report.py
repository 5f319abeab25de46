"""The report (Markdown + self-contained HTML) and the main job, on the demo experiment."""

from __future__ import annotations

import base64
import json
import os

import pandas as pd
import pytest

from experiments import main as main_mod
from experiments import report
from experiments.report import build_report, df_to_markdown, md_to_html
from proofs_check.registry import THEOREMS, Theorem

HEADER = "| theorem | algorithm | family | instance | measured | bound | verdict |"


@pytest.fixture(scope="module")
def rep(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep")
    res = build_report(out=str(out), quick=True, only=["demo"], checks=["core.metrics"], serial=True,
                       progress=False)
    return out, res


def test_report_files_exist_with_checks_table_and_figure(rep):
    out, res = rep
    assert res.exit_code == 0
    md = open(res.md_path).read()
    assert HEADER in md and "core.metrics.constructors_valid" in md
    n_core = sum(1 for r in json.load(open(os.path.join(out, "proofs_check.json"))))
    assert n_core >= 1 and md.count("| core.metrics.") == n_core
    assert f"pass {res.counts['pass']}, fail 0, report {res.counts['report']}, error 0" in md
    assert "### demo" in md and "![" in md and "(demo/figures/nn_over_mst.png)" in md
    assert os.path.getsize(os.path.join(out, "demo", "figures", "nn_over_mst.png")) > 1000
    for word in ("## Versions", "| numpy |", "| dask |", "| faiss |", "| numba |", "| cvxpy |", "| networkx |",
                 "| scipy |", "## Seeds", "proofs_check base seed: 0", "`seed` = [0, 1]", "## Timing",
                 "git commit `"):
        assert word in md, word
    html = open(res.html_path).read()
    assert html.startswith("<!DOCTYPE html>") and "<th>theorem</th>" in html and "<th>verdict</th>" in html
    assert "core.metrics.constructors_valid" in html
    # the figure is inlined and is the PNG written by the experiment
    start = html.index("data:image/png;base64,") + len("data:image/png;base64,")
    data = base64.b64decode(html[start:html.index('"', start)])
    assert data == open(os.path.join(out, "demo", "figures", "nn_over_mst.png"), "rb").read()
    assert "<script" not in html
    js = json.load(open(res.json_path))
    assert js["experiments"][0]["status"] == "ok" and js["proofs_check"]["counts"]["fail"] == 0


def test_report_summary_matches_rows(rep):
    out, _ = rep
    df = pd.read_csv(os.path.join(out, "demo", "rows.csv"))
    md = open(os.path.join(out, "report.md")).read()
    mean_line = df[df.kind == "line"]["nn_over_mst"].mean()
    assert f"| line | 4 | 16 | {mean_line:.4g} |" in md


def test_report_rerun_uses_cached_cells(rep, tmp_path):
    out, _ = rep
    res = build_report(out=str(out), quick=True, only=["demo"], skip_checks=True, serial=True, progress=False)
    assert res.exit_code == 0
    sec = res.sections[0]
    assert sec.run.n_cached == 8 and sec.run.n_run == 0
    md = open(res.md_path).read()
    assert "Skipped (`--skip-checks`)." in md and "| proofs_check | skipped |" in md


def test_failing_experiment_is_reported_and_others_kept(tmp_path):
    res = build_report(out=str(tmp_path), quick=True, only=["demo", "demo:FAILING"],
                       skip_checks=True, serial=True, progress=False)
    assert res.exit_code == 1
    st = {s.name: s.status for s in res.sections}
    assert st == {"demo": "ok", "demo_failing": "FAILED"}
    md = open(res.md_path).read()
    assert "demo cell asked to fail" in md
    assert len(pd.read_csv(tmp_path / "demo" / "rows.csv")) == 8          # the good experiment is intact
    assert len(pd.read_csv(tmp_path / "demo_failing" / "rows.csv")) == 2  # and the good cells of the bad one


def test_failing_check_sets_exit_code(tmp_path, monkeypatch):
    def bad(ctx):
        yield ctx.upper(2.0, 1.0, algorithm="X", family="f")

    def crash(ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(THEOREMS, "zztest.bad", Theorem(id="zztest.bad", statement="2 <= 1", reference="-",
                                                        kind="upper", algorithms=(), families=(), func=bad))
    monkeypatch.setitem(THEOREMS, "zztest.crash", Theorem(id="zztest.crash", statement="-", reference="-",
                                                          kind="upper", algorithms=(), families=(), func=crash))
    res = build_report(out=str(tmp_path), quick=True, only=[], checks=["zztest"], serial=True, progress=False)
    assert res.exit_code == 1 and res.counts["fail"] == 1 and res.counts["error"] == 1
    md = open(res.md_path).read()
    assert "| zztest.bad | X | f | - | 2 | 1 | fail |" in md and "RuntimeError: boom" in md
    assert '<tr class="bad">' in open(res.html_path).read()


def test_budget_marks_experiment_incomplete(tmp_path, monkeypatch):
    from experiments import demo

    monkeypatch.setattr(demo.SLOW, "time_budget", 0.3)
    res = build_report(out=str(tmp_path), quick=True, only=["demo:SLOW"], skip_checks=True, serial=True,
                       progress=False)
    sec = res.sections[0]
    assert sec.status == "incomplete" and sec.run.n_pending > 0 and res.exit_code == 0
    assert "**Incomplete:** the 0.3 s budget was spent" in open(res.md_path).read()


def test_main_quick_prints_report_path(tmp_path, capsys):
    rc = main_mod.main(["--quick", "--skip-checks", "--only", "demo", "--serial", "--no-progress",
                        "--out", str(tmp_path)])
    assert rc == 0
    outp = capsys.readouterr().out
    assert f"report: {tmp_path / 'report.md'}" in outp and f"report: {tmp_path / 'report.html'}" in outp


@pytest.mark.parametrize("only", ["nosuch", "demo,nosuch", "nosuch:X", "demo:NOPE"])
def test_unknown_only_name_is_rejected_before_anything_is_written(only, tmp_path, capsys):
    from online_algs.exceptions import InvalidInputError

    (tmp_path / "report.md").write_text("old report")
    (tmp_path / "report.html").write_text("old html")
    rc = report.main(["--only", only, "--skip-checks", "--serial", "--no-progress", "--out", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m experiments.report: error: ") and "Traceback" not in err
    assert "Known experiments: " in err and "caching_paging" in err and "Nothing was run or written" in err
    assert sorted(os.listdir(tmp_path)) == ["report.html", "report.md"]
    assert (tmp_path / "report.md").read_text() == "old report" and (tmp_path / "report.html").read_text() == "old html"
    with pytest.raises(InvalidInputError, match="Unknown: 'nosuch'"):
        build_report(out=str(tmp_path / "api"), quick=True, only=["demo", "nosuch"], skip_checks=True, serial=True,
                     progress=False)
    assert not (tmp_path / "api").exists()


def test_main_usage_names_the_main_job(capsys):
    with pytest.raises(SystemExit) as e:
        main_mod.main(["--bogus"])
    assert e.value.code == 2
    assert "usage: python -m experiments.main" in capsys.readouterr().err


def test_report_header_has_finish_time_and_code_fingerprint(rep):
    import re

    from experiments import runner

    out, res = rep
    md = open(res.md_path).read()
    js = json.load(open(res.json_path))
    m = re.search(r"Generated (\S+ \S+) UTC \(started (\S+) UTC, ([0-9.]+) s\)", md)
    assert m and js["finished_at"].replace("T", " ").startswith(m.group(1)) and js["finished_at"] >= js["started_at"]
    fp = runner.code_fingerprint()
    assert f"code fingerprint `{fp[:16]}`" in md and js["code_fingerprint"] == fp
    assert f"code fingerprint `{res.sections[0].run.code[:16]}`" in md


def test_report_cli_rejects_quick_and_full():
    with pytest.raises(SystemExit):
        report.main(["--quick", "--full"])


# ------------------------------------------------------------------ helpers
def test_df_to_markdown_formats_and_truncates():
    df = pd.DataFrame({"a": [1, 2, 3], "b": [0.123456, float("nan"), 1e-7], "c": ["x|y", "z", None]})
    md = df_to_markdown(df, max_rows=2)
    lines = md.splitlines()
    assert lines[0] == "| a | b | c |" and lines[2] == "| 1 | 0.1235 | x\\|y |" and lines[3] == "| 2 | nan | z |"
    assert "1 more rows not shown" in md
    assert df_to_markdown(pd.DataFrame()) == "_(no rows)_"


def test_md_to_html_subset_and_escaping(tmp_path):
    png = tmp_path / "f.png"
    png.write_bytes(b"\x89PNG fake")
    md = ("# Title\n\nSome `code <x>` and **bold** <script>alert(1)</script>.\n\n| a | b |\n|---|---|\n"
          "| 1 | fail |\n| 2 | pass |\n\n- item one\n- item two\n\n```\n<raw> & code\n```\n\n![cap](f.png)\n\n"
          "![gone](missing.png)\n")
    h = md_to_html(md, base_dir=str(tmp_path))
    assert '<h1 id="title">Title</h1>' in h and "<code>code &lt;x&gt;</code>" in h and "<strong>bold</strong>" in h
    assert "<script>" not in h and "&lt;script&gt;" in h
    assert '<tr class="bad"><td>1</td><td>fail</td></tr>' in h and "<tr><td>2</td><td>pass</td></tr>" in h
    assert "<ul><li>item one</li><li>item two</li></ul>" in h
    assert "<pre><code>&lt;raw&gt; &amp; code</code></pre>" in h
    assert "data:image/png;base64," + base64.b64encode(b"\x89PNG fake").decode() in h
    assert "figure not found: missing.png" in h


def test_duplicate_experiment_names_are_an_error(tmp_path):
    res = build_report(out=str(tmp_path), quick=True, only=["demo", "experiments.demo"], skip_checks=True,
                       serial=True, progress=False)
    assert res.exit_code == 1
    assert [s.status for s in res.sections] == ["ok", "FAILED"]
    assert "experiment names must be unique" in res.sections[1].error


def test_cli_prints_failures(tmp_path, capsys, monkeypatch):
    def bad(ctx):
        yield ctx.upper(3.0, 1.0, algorithm="Y", family="g")

    monkeypatch.setitem(THEOREMS, "zztest.cli", Theorem(id="zztest.cli", statement="3 <= 1", reference="-",
                                                        kind="upper", algorithms=(), families=(), func=bad))
    rc = report.main(["--checks", "zztest.cli", "--only", "demo:FAILING", "--serial", "--no-progress",
                      "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "FAIL zztest.cli [Y / g] measured=3.0 bound=1.0" in out
    assert "experiment demo_failing: FAILED" in out and "demo cell asked to fail" in out


def test_report_falls_back_to_serial_when_no_local_cluster(tmp_path, monkeypatch):
    from experiments import runner

    def no_cluster(*a, **k):
        raise OSError("no sockets here")

    monkeypatch.setattr(runner, "DaskExecutor", no_cluster)
    res = build_report(out=str(tmp_path), quick=True, only=["demo"], skip_checks=True, progress=False)
    assert res.exit_code == 0 and res.sections[0].run.executor == "serial" and res.sections[0].run.complete
    assert "could not start (OSError: no sockets here)" in open(res.md_path).read()


def test_report_rejects_zero_workers(tmp_path):
    from online_algs.exceptions import InvalidInputError

    with pytest.raises(InvalidInputError, match="'workers' parameter of build_report must be an int >= 1. Got 0"):
        build_report(out=str(tmp_path), quick=True, only=["demo"], skip_checks=True, workers=0, progress=False)
