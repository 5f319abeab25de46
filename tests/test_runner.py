"""The experiment runner: atomic files, cell keys, the store, resuming, failures, budgets, rejections."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from experiments import demo, runner
from experiments.api import Experiment
from experiments.runner import (SerialExecutor, Store, atomic_write_json, atomic_write_text, canonical_params,
                                cell_key, code_fingerprint, execute_cell, load_experiment, make_executor, read_json,
                                run_experiment)
from online_algs.exceptions import InvalidInputError


def _tmp_files(d):
    return [f for _, _, fs in os.walk(d) for f in fs if f.endswith(".tmp")]


# ------------------------------------------------------------------ atomic write helpers
def test_atomic_write_text_creates_and_replaces(tmp_path):
    p = tmp_path / "a" / "b.txt"
    atomic_write_text(p, "first")
    assert p.read_text() == "first"
    atomic_write_text(p, "second\nline")
    assert p.read_text() == "second\nline"
    assert _tmp_files(tmp_path) == []


def test_atomic_write_gives_the_usual_file_mode(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    atomic_write_text(tmp_path / "m.txt", "x")
    open(tmp_path / "ref.txt", "w").close()
    assert os.stat(tmp_path / "m.txt").st_mode & 0o777 == os.stat(tmp_path / "ref.txt").st_mode & 0o777


def test_atomic_write_bytes(tmp_path):
    runner.atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01" and _tmp_files(tmp_path) == []


def test_atomic_write_failure_keeps_old_content_and_no_temp(tmp_path):
    p = tmp_path / "c.json"
    atomic_write_json(p, {"x": 1})
    with pytest.raises(TypeError):
        atomic_write_text(p, b"bytes are not text")  # fails inside the write
    assert read_json(p) == {"x": 1}
    assert _tmp_files(tmp_path) == []


def test_atomic_write_json_roundtrip_nan_and_floats(tmp_path):
    p = tmp_path / "d.json"
    obj = {"a": 0.1, "b": 1 / 3, "c": float("nan"), "d": [1, "x", None, True]}
    atomic_write_json(p, obj)
    back = read_json(p)
    assert back["a"] == 0.1 and back["b"] == 1 / 3 and np.isnan(back["c"]) and back["d"] == [1, "x", None, True]


def test_read_json_missing_or_corrupt_is_none(tmp_path):
    assert read_json(tmp_path / "nope.json") is None
    (tmp_path / "bad.json").write_text('{"truncated": [1, 2')
    assert read_json(tmp_path / "bad.json") is None


def test_clean_tmp_removes_leftovers_only(tmp_path):
    s = Store(tmp_path, "e")
    os.makedirs(s.cells_dir)
    (tmp_path / "e" / "cells" / ".abc.json.x1.tmp").write_text("partial")
    (tmp_path / "e" / "cells" / "keep.json").write_text("{}")
    assert s.clean_tmp() == 1
    assert sorted(os.listdir(s.cells_dir)) == ["keep.json"]


# ------------------------------------------------------------------ keys and values
def test_cell_key_stable_and_discriminating():
    code = "c0de"
    k = cell_key("exp", {"a": 1, "b": "x"}, False, code)
    assert k == cell_key("exp", {"b": "x", "a": 1}, False, code)            # order of parameters
    assert k == cell_key("exp", {"a": np.int64(1), "b": np.str_("x")}, False, code)  # numpy scalars
    assert len(k) == 20 and all(c in "0123456789abcdef" for c in k)
    assert k != cell_key("exp", {"a": 1, "b": "x"}, True, code)             # quick flag
    assert k != cell_key("exp2", {"a": 1, "b": "x"}, False, code)           # experiment name
    assert k != cell_key("exp", {"a": 2, "b": "x"}, False, code)            # a value
    assert k != cell_key("exp", {"a": 1, "b": "x"}, False, "c0df")          # the code fingerprint
    assert cell_key("e", {"a": 1}, False, code) != cell_key("e", {"a": 1.5}, False, code)
    assert cell_key("demo", {"kind": "line", "n": 8, "seed": 0}, True, code) == cell_key(
        "demo", {"seed": 0, "n": 8, "kind": "line"}, True, code)


def _write_module(tmp_path, name, body):
    import importlib
    import sys

    (tmp_path / f"{name}.py").write_text(body)
    sys.path.insert(0, str(tmp_path))
    try:
        sys.modules.pop(name, None)
        importlib.invalidate_caches()
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path))


def test_code_fingerprint_same_code_same_key_changed_source_new_key(tmp_path):
    import sys

    mod = _write_module(tmp_path, "zz_fp_exp", "def cell(x):\n    return [{'y': x}]\n")
    try:
        exp = Experiment(name="fp", description="", grid={"x": [1, 2]}, cell=mod.cell)
        fp = code_fingerprint(exp)
        assert len(fp) == 64 and fp == code_fingerprint(exp)           # deterministic
        assert fp != code_fingerprint(demo.EXPERIMENT)                  # the experiment's module counts
        assert code_fingerprint(demo.EXPERIMENT) == code_fingerprint(demo.SLOW)  # same module, same code
        s = run_experiment(exp, out=tmp_path / "res", progress=False)
        assert s.n_run == 2 and s.code == fp
        man = read_json(Store(tmp_path / "res", "fp").manifest_path)
        assert man["code_fingerprint"] == fp
        assert sorted(os.listdir(Store(tmp_path / "res", "fp").cells_dir)) == sorted(
            cell_key("fp", p, False, fp) + ".json" for p in exp.cells())
        s = run_experiment(exp, out=tmp_path / "res", progress=False)   # unchanged code: all cached
        assert s.n_cached == 2 and s.n_run == 0
        # the experiment's source changes (a comment is enough): new keys, every cell recomputed
        (tmp_path / "zz_fp_exp.py").write_text("def cell(x):\n    return [{'y': x}]  # changed\n")
        fp2 = code_fingerprint(exp)
        assert fp2 != fp
        s = run_experiment(exp, out=tmp_path / "res", progress=False)
        assert s.n_cached == 0 and s.n_run == 2 and s.code == fp2
    finally:
        sys.modules.pop("zz_fp_exp", None)


def test_code_fingerprint_covers_the_library(tmp_path):
    root = tmp_path / "repo"
    for pkg in ("online_algs", "proofs_check"):
        (root / pkg / "sub").mkdir(parents=True)
        (root / pkg / "__init__.py").write_text("")
        (root / pkg / "sub" / "m.py").write_text("X = 1\n")
    (root / "online_algs" / "data.txt").write_text("not code")
    fp = code_fingerprint(None, root=str(root))
    assert runner.library_files(str(root)) == ["online_algs/__init__.py", "online_algs/sub/m.py",
                                               "proofs_check/__init__.py", "proofs_check/sub/m.py"]
    (root / "online_algs" / "data.txt").write_text("other")             # not a .py file: same fingerprint
    assert code_fingerprint(None, root=str(root)) == fp
    (root / "proofs_check" / "sub" / "m.py").write_text("X = 2\n")
    fp2 = code_fingerprint(None, root=str(root))
    assert fp2 != fp
    (root / "online_algs" / "sub" / "new.py").write_text("")          # a new file
    assert code_fingerprint(None, root=str(root)) != fp2


def test_interrupted_sweep_with_unchanged_code_resumes(tmp_path):
    s = run_experiment(demo.SLOW, out=tmp_path, quick=True, progress=False, budget=0.4)
    assert s.budget_exceeded and 0 < s.n_pending < s.n_cells
    done = s.n_cells - s.n_pending
    s2 = run_experiment(demo.SLOW, out=tmp_path, quick=True, progress=False)
    assert s2.complete and s2.n_cached == done and s2.n_run == s.n_pending


def test_canonical_params_rejects_objects():
    with pytest.raises(InvalidInputError, match="grid parameter 'm' must be a plain int, float, str, bool or None"):
        canonical_params({"m": object()})


def test_canonical_params_lists_and_numpy():
    assert canonical_params({"a": (1, 2), "b": np.float64(0.5), "c": np.bool_(True)}) == {
        "a": [1, 2], "b": 0.5, "c": True}


def test_execute_cell_records_errors_instead_of_raising():
    rec = execute_cell(demo.demo_cell, {"kind": "line", "n": 4, "seed": 0, "fail": True})
    assert rec["ok"] is False and "demo cell asked to fail" in rec["error"] and "Traceback" in rec["traceback"]
    ok = execute_cell(demo.demo_cell, {"kind": "line", "n": 4, "seed": 0})
    assert ok["ok"] and len(ok["rows"]) == 1 and ok["rows"][0]["nn_over_mst"] >= 1.0


def test_execute_cell_rejects_a_dict_return():
    rec = execute_cell(lambda **p: {"x": 1}, {"a": 1})
    assert not rec["ok"] and "InvalidInputError" in rec["error"] and "list of dicts" in rec["error"]


def test_execute_cell_rejects_non_dict_rows():
    rec = execute_cell(lambda **p: [1, 2], {"a": 1})
    assert not rec["ok"] and "Row 0 returned by the cell function must be a dict" in rec["error"]


def test_execute_cell_rejects_non_plain_values():
    rec = execute_cell(lambda **p: [{"x": np.arange(3)}], {"a": 1})
    assert not rec["ok"] and "column 'x' of row 0 must be a plain" in rec["error"]


def test_execute_cell_rejects_a_column_contradicting_a_parameter():
    rec = execute_cell(lambda **p: [{"a": 2}], {"a": 1})
    assert not rec["ok"] and "Column 'a' of row 0 must equal the grid parameter" in rec["error"]


def test_execute_cell_returning_none_is_an_error():
    rec = execute_cell(lambda **p: None, {"a": 1})
    assert not rec["ok"] and "must be a list of dicts" in rec["error"]


# ------------------------------------------------------------------ rejections
def test_make_executor_rejects_zero_workers():
    with pytest.raises(InvalidInputError, match="'workers' parameter must be an int >= 1. Got 0"):
        make_executor(workers=0)


def test_make_executor_rejects_an_address_without_scheme():
    with pytest.raises(InvalidInputError, match="'scheduler' parameter must be a dask address"):
        make_executor(scheduler="127.0.0.1:8786")


def test_load_experiment_unknown_name():
    with pytest.raises(InvalidInputError, match="got 'no_such_experiment'"):
        load_experiment("no_such_experiment")


def test_load_experiment_attr_not_an_experiment():
    with pytest.raises(InvalidInputError, match="is not an Experiment"):
        load_experiment("experiments.demo:plot")


def test_load_experiment_forms():
    assert load_experiment("demo") is demo.EXPERIMENT
    assert load_experiment("experiments.demo") is demo.EXPERIMENT
    assert load_experiment("demo:SLOW") is demo.SLOW
    assert load_experiment("experiments.demo:FAILING") is demo.FAILING


def test_cli_requires_a_name(capsys):
    with pytest.raises(SystemExit) as e:
        runner.main([])
    assert e.value.code == 2


@pytest.mark.parametrize("name", ["nosuch", "nosuch:X", "nosuch.x", "demo:NOPE"])
def test_cli_unknown_name_is_a_message_not_a_traceback(name, tmp_path, capsys):
    assert runner.main([name, "--serial", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m experiments.runner: error: ") and "Traceback" not in err
    assert name in err and os.listdir(tmp_path) == []


# ------------------------------------------------------------------ the store and resuming (serial)
def test_run_serial_writes_store_and_rows(tmp_path):
    s = run_experiment(demo.EXPERIMENT, out=tmp_path, quick=True, progress=False)
    assert s.complete and s.n_cells == 8 and s.n_run == 8 and s.n_rows == 8
    st = Store(tmp_path, "demo")
    files = sorted(os.listdir(st.cells_dir))
    keys = [cell_key("demo", p, True, code_fingerprint(demo.EXPERIMENT)) for p in demo.EXPERIMENT.cells(True)]
    assert files == sorted(k + ".json" for k in keys)
    df = pd.read_csv(st.rows_path)
    assert list(df.columns[:3]) == ["kind", "n", "seed"]
    # grid order, rows equal to a direct computation
    for i, p in enumerate(demo.EXPERIMENT.cells(True)):
        assert (df.loc[i, "kind"], df.loc[i, "n"], df.loc[i, "seed"]) == (p["kind"], p["n"], p["seed"])
        assert df.loc[i, "nn_tour"] == demo.demo_cell(**p)[0]["nn_tour"]
    man = read_json(st.manifest_path)
    assert man["final"] and man["counts"] == {"done": 8, "failed": 0, "pending": 0} and man["quick"] is True
    assert [c["key"] for c in man["cells"]] == keys and {"numpy", "dask", "python"} <= set(man["versions"])


def test_rerun_skips_finished_cells(tmp_path):
    run_experiment(demo.EXPERIMENT, out=tmp_path, quick=True, progress=False)
    before = (Store(tmp_path, "demo").rows_path, open(Store(tmp_path, "demo").rows_path).read())
    s = run_experiment(demo.EXPERIMENT, out=tmp_path, quick=True, progress=False)
    assert s.n_cached == 8 and s.n_run == 0 and s.complete
    assert open(before[0]).read() == before[1]


def test_quick_and_full_cells_do_not_mix(tmp_path):
    run_experiment(demo.EXPERIMENT, out=tmp_path, quick=True, progress=False)
    exp = Experiment(name="demo", description="", grid={"kind": ["line"], "n": [8], "seed": [0]},
                     cell=demo.demo_cell)
    s = run_experiment(exp, out=tmp_path, quick=False, progress=False)
    assert s.n_cached == 0 and s.n_run == 1   # same params as a quick cell, other key


def test_corrupt_cell_file_is_recomputed(tmp_path):
    run_experiment(demo.EXPERIMENT, out=tmp_path, quick=True, progress=False)
    st = Store(tmp_path, "demo")
    ref = open(st.rows_path).read()
    key = cell_key("demo", demo.EXPERIMENT.cells(True)[3], True, code_fingerprint(demo.EXPERIMENT))
    with open(st.cell_path(key), "w") as f:
        f.write('{"key": "')  # truncated
    s = run_experiment(demo.EXPERIMENT, out=tmp_path, quick=True, progress=False)
    assert s.n_cached == 7 and s.n_run == 1
    assert open(st.rows_path).read() == ref


def test_failed_cells_are_recorded_and_retried(tmp_path):
    flag = tmp_path / "fail_now"
    flag.write_text("1")

    def cell(x):
        if x == 2 and flag.exists():
            raise ValueError("transient failure")
        return [{"y": x * x}]

    exp = Experiment(name="flaky", description="", grid={"x": [1, 2, 3]}, cell=cell)
    s = run_experiment(exp, out=tmp_path, progress=False)
    assert s.n_failed == 1 and s.n_run == 2 and not s.ok
    st = Store(tmp_path, "flaky")
    k2 = cell_key("flaky", {"x": 2}, False, s.code)
    frec = st.load_failure(k2)
    assert "ValueError: transient failure" in frec["error"] and "Traceback" in frec["traceback"]
    man = read_json(st.manifest_path)
    assert [c["status"] for c in man["cells"]] == ["done", "failed", "done"]
    assert "transient failure" in man["cells"][1]["traceback"]
    assert list(pd.read_csv(st.rows_path)["x"]) == [1, 3]
    flag.unlink()
    s2 = run_experiment(exp, out=tmp_path, progress=False)
    assert s2.ok and s2.complete and s2.n_cached == 2 and s2.n_run == 1
    assert not os.path.exists(st.failed_path(k2))
    assert list(pd.read_csv(st.rows_path)["y"]) == [1, 4, 9]


def test_budget_leaves_cells_pending_and_resume_completes(tmp_path):
    ref = run_experiment(demo.EXPERIMENT, out=tmp_path / "ref", quick=True, progress=False)
    assert ref.complete
    exp = Experiment(name="demo", description="", grid=demo.EXPERIMENT.grid, quick_grid=demo.EXPERIMENT.quick_grid,
                     cell=lambda **p: (__import__("time").sleep(0.15), demo.demo_cell(**p))[1])
    s = run_experiment(exp, out=tmp_path / "b", quick=True, progress=False, budget=0.4)
    assert s.budget_exceeded and s.n_pending > 0 and s.ok and not s.complete
    man = read_json(Store(tmp_path / "b", "demo").manifest_path)
    assert man["budget_exceeded"] and man["counts"]["pending"] == s.n_pending
    s2 = run_experiment(exp, out=tmp_path / "b", quick=True, progress=False)
    assert s2.complete and s2.n_cached == 8 - s.n_pending
    rows_b = open(Store(tmp_path / "b", "demo").rows_path).read()
    assert rows_b == open(Store(tmp_path / "ref", "demo").rows_path).read()


def test_rows_with_varying_columns_and_empty_cells(tmp_path):
    def cell(x):
        return [] if x == 0 else [{"a": x}] if x == 1 else [{"b": "s", "a": 2.5}, {"b": "t"}]

    exp = Experiment(name="vary", description="", grid={"x": [0, 1, 2]}, cell=cell)
    s = run_experiment(exp, out=tmp_path, progress=False)
    assert s.complete and s.n_rows == 3
    df = pd.read_csv(Store(tmp_path, "vary").rows_path)
    assert list(df.columns) == ["x", "a", "b"]
    assert df["x"].tolist() == [1, 2, 2] and df["b"].isna().tolist() == [True, False, False]


def test_serial_executor_stops_at_deadline():
    import time

    out = list(SerialExecutor().submit_all(demo.demo_cell, [("k", {"kind": "line", "n": 4, "seed": 0})],
                                           deadline=time.monotonic() - 1))
    assert out == [(None, None)]


def test_cli_serial_and_exit_codes(tmp_path, capsys):
    assert runner.main(["demo", "--quick", "--serial", "--out", str(tmp_path), "--no-progress"]) == 0
    assert "demo: complete: 8 cells" in capsys.readouterr().out
    assert runner.main(["demo:FAILING", "--serial", "--out", str(tmp_path), "--no-progress"]) == 1
    assert "FAILED cell" in capsys.readouterr().out


def test_list_shows_demo(capsys):
    runner.main(["--list"])
    assert "demo" in capsys.readouterr().out


def test_cell_files_are_self_describing(tmp_path):
    run_experiment(demo.FAILING, out=tmp_path, progress=False)
    st = Store(tmp_path, "demo_failing")
    for fn in os.listdir(st.cells_dir):
        rec = json.load(open(os.path.join(st.cells_dir, fn)))
        assert rec["key"] + ".json" == fn and rec["experiment"] == "demo_failing"
        assert rec["key"] == cell_key("demo_failing", rec["params"], False, code_fingerprint(demo.FAILING))
        assert rec["code"] == code_fingerprint(demo.FAILING)
        assert rec["params"]["fail"] is False and len(rec["rows"]) == 1


def test_run_experiment_rejects_unsafe_name(tmp_path):
    exp = Experiment(name="../escape", description="", grid={"x": [1]}, cell=lambda x: [{"y": x}])
    with pytest.raises(InvalidInputError, match="'name' of an Experiment must be a non-empty directory name"):
        run_experiment(exp, out=tmp_path, progress=False)


@pytest.mark.parametrize("budget", [-1.0, float("inf"), float("nan"), "10", True])
def test_run_experiment_rejects_bad_budget(tmp_path, budget):
    with pytest.raises(InvalidInputError, match="'budget' parameter of run_experiment must be a finite number"):
        run_experiment(demo.EXPERIMENT, out=tmp_path, quick=True, progress=False, budget=budget)


def test_a_second_runner_waits_for_the_store_lock(tmp_path):
    import fcntl
    import threading
    import time

    st = Store(tmp_path, "demo")
    os.makedirs(st.root)
    holder = open(os.path.join(st.root, ".lock"), "a")
    fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("s", run_experiment(demo.EXPERIMENT, out=tmp_path, quick=True,
                                                                             progress=False)))
    t.start()
    time.sleep(0.5)
    assert t.is_alive() and not os.path.exists(st.rows_path)   # blocked on the lock
    fcntl.flock(holder.fileno(), fcntl.LOCK_UN)
    holder.close()
    t.join(timeout=30)
    assert not t.is_alive() and box["s"].complete
