"""The runner under interruption (SIGKILL, SIGTERM) and on dask clusters (local, external on 127.0.0.1).

Each sweep is compared byte for byte (rows.csv) with an uninterrupted serial run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from experiments import demo
from experiments.runner import DaskExecutor, Store, cell_key, read_json, run_experiment

pytestmark = pytest.mark.xdist_group("runner_dask")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DASK = os.path.join(os.path.dirname(sys.executable), "dask")


def _env():
    env = dict(os.environ)
    env.setdefault("NUMBA_CACHE_DIR", os.path.join(REPO, ".numba_cache"))
    env["MPLBACKEND"] = "Agg"
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _wait_for(cond, timeout, what):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _n_cells(d):
    return len([f for f in os.listdir(d) if f.endswith(".json")]) if os.path.isdir(d) else 0


def _kill_group(proc):
    with_suppress = (ProcessLookupError, PermissionError)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except with_suppress:
        pass
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted serial run of demo:SLOW and of the full demo grid."""
    out = tmp_path_factory.mktemp("ref")
    s = run_experiment(demo.SLOW, out=out, progress=False)
    assert s.complete
    s = run_experiment(demo.EXPERIMENT, out=out, progress=False)
    assert s.complete and s.n_rows == 60
    return out


def _rows(out, name):
    with open(Store(out, name).rows_path) as f:
        return f.read()


def test_sigkill_midway_then_resume_matches_uninterrupted(tmp_path, reference):
    out = tmp_path / "killed"
    cells = Store(out, "demo_slow").cells_dir
    proc = subprocess.Popen([sys.executable, "-m", "experiments.runner", "experiments.demo:SLOW", "--serial",
                             "--no-progress", "--out", str(out)], cwd=REPO, env=_env(), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: _n_cells(cells) >= 3, 60, "3 finished cells")
    finally:
        _kill_group(proc)
    assert proc.returncode == -signal.SIGKILL
    n_total = len(demo.SLOW.cells())
    n_before = _n_cells(cells)
    assert 3 <= n_before < n_total, "the kill must land midway"
    st = Store(out, "demo_slow")
    # no partial or corrupt cell file: every *.json parses and is the cell its name says
    for fn in os.listdir(cells):
        if fn.endswith(".json"):
            assert st.load_cell(fn[:-5]) is not None, fn
    s = run_experiment(demo.SLOW, out=out, progress=False)
    assert s.n_cached == n_before and s.n_run == n_total - n_before and s.complete
    assert _rows(out, "demo_slow") == _rows(reference, "demo_slow")
    assert not [f for f in os.listdir(cells) if f.endswith(".tmp")]
    assert read_json(st.manifest_path)["counts"] == {"done": n_total, "failed": 0, "pending": 0}


def test_sigterm_on_local_cluster_keeps_finished_cells_and_resumes(tmp_path, reference):
    out = tmp_path / "term"
    cells = Store(out, "demo_slow").cells_dir
    proc = subprocess.Popen([sys.executable, "-m", "experiments.runner", "experiments.demo:SLOW", "--workers", "1",
                             "--no-progress", "--out", str(out)], cwd=REPO, env=_env(), start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(lambda: _n_cells(cells) >= 2, 60, "2 finished cells")
        proc.send_signal(signal.SIGTERM)
        outtxt, _ = proc.communicate(timeout=40)
    finally:
        if proc.poll() is None:
            _kill_group(proc)
    assert proc.returncode == 130, outtxt
    assert "interrupted" in outtxt
    st = Store(out, "demo_slow")
    man = read_json(st.manifest_path)
    assert man["final"] and man["interrupted"]
    done = man["counts"]["done"]
    assert done == _n_cells(cells) and 2 <= done < len(demo.SLOW.cells())
    s = run_experiment(demo.SLOW, out=out, progress=False)
    assert s.n_cached == done and s.complete
    assert _rows(out, "demo_slow") == _rows(reference, "demo_slow")


def test_external_scheduler_and_local_cluster_match_serial(tmp_path, reference):
    sched_file = tmp_path / "scheduler.json"
    procs = []
    try:
        procs.append(subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(sched_file)],
            cwd=REPO, env=_env(), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _wait_for(lambda: read_json(sched_file) is not None, 30, "the scheduler file")
        address = read_json(sched_file)["address"]
        assert address.startswith("tcp://127.0.0.1:")
        procs.append(subprocess.Popen(
            [DASK, "worker", address, "--host", "127.0.0.1", "--nworkers", "1", "--nthreads", "1",
             "--no-dashboard", "--dashboard-address", "127.0.0.1:0", "--local-directory", str(tmp_path / "w")],
            cwd=REPO, env=_env(), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with DaskExecutor(address=address) as ex:
            ex.client.wait_for_workers(1, timeout=30)
            assert ex.kind == "external"
            s = run_experiment(demo.EXPERIMENT, out=tmp_path / "ext", executor=ex, progress=False)
            assert s.complete and s.n_run == 60 and s.executor == "external"
            # the work really ran on the external worker process, not here
            pids = {json.load(open(os.path.join(Store(tmp_path / "ext", "demo").cells_dir, f)))["pid"]
                    for f in os.listdir(Store(tmp_path / "ext", "demo").cells_dir)}
            assert os.getpid() not in pids
    finally:
        for p in reversed(procs):
            _kill_group(p)
    assert _rows(tmp_path / "ext", "demo") == _rows(reference, "demo")

    with DaskExecutor(workers=2) as ex:
        s = run_experiment(demo.EXPERIMENT, out=tmp_path / "local", executor=ex, progress=False)
        assert s.complete and s.executor == "local"
    assert _rows(tmp_path / "local", "demo") == _rows(reference, "demo")
    keys = sorted(cell_key("demo", p, False, s.code) + ".json" for p in demo.EXPERIMENT.cells())
    assert sorted(os.listdir(Store(tmp_path / "local", "demo").cells_dir)) == keys


def test_failed_cells_and_budget_on_a_local_cluster(tmp_path, reference):
    with DaskExecutor(workers=1) as ex:
        s = run_experiment(demo.FAILING, out=tmp_path, executor=ex, progress=False)
        assert s.n_failed == 2 and s.n_run == 2 and not s.ok
        assert all("demo cell asked to fail" in f["error"] for f in s.failures)
        # budget: no new cell after 0.6 s (at most 2 in flight on 1 thread), the rest stays pending
        s = run_experiment(demo.SLOW, out=tmp_path, executor=ex, progress=False, budget=0.6)
        assert s.budget_exceeded and s.ok and 0 < s.n_pending < len(demo.SLOW.cells())
        man = read_json(Store(tmp_path, "demo_slow").manifest_path)
        assert man["counts"]["pending"] == s.n_pending and man["budget_exceeded"]
        s = run_experiment(demo.SLOW, out=tmp_path, executor=ex, progress=False)
        assert s.complete and s.n_run == s.n_cells - s.n_cached
    assert _rows(tmp_path, "demo_slow") == _rows(reference, "demo_slow")
