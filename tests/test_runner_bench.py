"""The benchmarks aggregator (experiments/bench.py) on throw-away benchmark modules."""

from __future__ import annotations

import json
import textwrap

import pytest

from experiments import bench
from online_algs.exceptions import InvalidInputError

MODULES = {
    "zzb_args": """
        def main(argv=None):
            print("argv", argv)
            print("kernel/numpy ratio 3.5")
            return 0
    """,
    "zzb_sysargv": """
        import sys
        def main():
            print("sys.argv tail", sys.argv[1:])
    """,
    "zzb_argparse": """
        import argparse
        def main():
            p = argparse.ArgumentParser()
            p.add_argument("--size", type=int, default=3)
            a = p.parse_args()
            print("size", a.size)
    """,
    "zzb_fail": """
        def main(argv=None):
            print("partial output")
            raise RuntimeError("bench exploded")
    """,
    "zzb_slow": """
        import time
        def main(argv=None):
            time.sleep(30)
    """,
}


@pytest.fixture(scope="module")
def benchdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("benchmods")
    for name, src in MODULES.items():
        (d / f"{name}.py").write_text(textwrap.dedent(src))
    return d


def test_run_benches_collects_output_status_and_modes(benchdir, tmp_path):
    rc, path = bench.run_benches(["zzb_args", "zzb_sysargv", "zzb_argparse", "zzb_fail"], quick=True,
                                 out=str(tmp_path), extra_path=str(benchdir), echo=False)
    assert rc == 1 and path == str(tmp_path / "bench.md")
    md = open(path).read()
    assert "argv ['--quick']" in md and "kernel/numpy ratio 3.5" in md
    assert "sys.argv tail ['--quick']" in md
    assert "size 3" in md and "does not accept --quick" in md
    assert "partial output" in md and "RuntimeError: bench exploded" in md
    assert "| `zzb_args` | ok |" in md and "| `zzb_fail` | failed |" in md
    js = json.load(open(tmp_path / "bench.json"))
    assert [b["status"] for b in js["benchmarks"]] == ["ok", "ok", "ok", "failed"]
    assert js["quick"] is True and "numpy" in js["versions"]


def test_full_mode_passes_no_flag(benchdir, tmp_path):
    rc, path = bench.run_benches(["zzb_args"], quick=False, out=str(tmp_path), extra_path=str(benchdir), echo=False)
    assert rc == 0 and "argv []" in open(path).read()


def test_timeout_is_reported(benchdir, tmp_path):
    rc, path = bench.run_benches(["zzb_slow"], quick=True, out=str(tmp_path), extra_path=str(benchdir),
                                 timeout=2, echo=False)
    assert rc == 1 and "| `zzb_slow` | timeout |" in open(path).read()


def test_no_benchmarks_still_writes_report(tmp_path):
    rc, path = bench.run_benches([], out=str(tmp_path), echo=False)
    assert rc == 0 and "no experiments/bench_*.py module found" in open(path).read()


def test_only_rejects_unknown_benchmark(tmp_path):
    with pytest.raises(InvalidInputError, match="'only' parameter must name benchmarks"):
        bench.main(["--only", "zz_not_a_bench", "--out", str(tmp_path)])


def test_discover_lists_only_bench_modules():
    mods = bench.discover_benches()
    assert all(m.startswith("experiments.bench_") for m in mods)
    assert "experiments.bench" not in mods
