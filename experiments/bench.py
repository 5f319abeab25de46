"""The benchmarks aggregator (``make bench``).

Command line::

    python -m experiments.bench [--quick] [--only NAME ...] [--out results/] [--timeout SECONDS]

Runs the ``main()`` of every ``experiments/bench_*.py`` module (``--only`` selects some, by module
name with or without the ``bench_`` prefix), each in its own Python process (a crash, a hang
past ``--timeout`` or a numba segfault in one benchmark does not stop the others), and collects
what each prints into ``<out>/bench.md`` (and ``<out>/bench.json``), with the status, the wall
time, the git commit, the package versions and the machine.

How ``main`` is called: ``main(argv)`` if it takes a parameter, else ``main()`` with
``sys.argv`` set; ``argv`` is ``["--quick"]`` with ``--quick`` and ``[]`` otherwise. A benchmark
whose argument parser rejects ``--quick`` is rerun without it (noted in the report). Benchmarks
print ratios against a baseline measured in the same run (see docs/developing.md); this
aggregator does not interpret the numbers. Exit status 1 if any benchmark fails.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import importlib
import inspect
import json
import os
import pkgutil
import platform
import signal
import subprocess
import sys
import time

from . import runner as _runner

__all__ = ["discover_benches", "run_bench", "run_benches", "main"]

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def discover_benches() -> list[str]:
    """Dotted names of the ``experiments/bench_*.py`` modules, sorted."""
    import experiments as pkg

    return [f"{pkg.__name__}.{m.name}" for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name)
            if m.name.startswith("bench_") and not m.ispkg]


def _call_main(module: str, quick: bool) -> int:
    """In the child process: import ``module`` and call its ``main`` (see the module docstring)."""
    mod = importlib.import_module(module)
    fn = getattr(mod, "main", None)
    if not callable(fn):
        print(f"{module} has no main() function", file=sys.stderr)
        return 2
    argv = ["--quick"] if quick else []
    try:
        takes_arg = bool(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        takes_arg = False
    try:
        if takes_arg:
            rc = fn(argv)
        else:
            sys.argv = [module, *argv]
            rc = fn()
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return rc if isinstance(rc, int) else 0


def _env(extra_path: str | None = None) -> dict:
    env = dict(os.environ)
    env.setdefault("NUMBA_CACHE_DIR", os.path.join(_REPO, ".numba_cache"))
    env.setdefault("MPLBACKEND", "Agg")
    paths = [p for p in (extra_path, _REPO, env.get("PYTHONPATH")) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def run_bench(module: str, quick: bool, timeout: float | None = None, extra_path: str | None = None) -> dict:
    """Run one benchmark in a subprocess; return ``{module, status, returncode, seconds, stdout, stderr, note}``."""

    def once(q: bool):
        cmd = [sys.executable, "-m", "experiments.bench", "--_one", module] + (["--quick"] if q else [])
        t0 = time.perf_counter()
        # its own process group: on a timeout the benchmark and any process it started are killed
        p = subprocess.Popen(cmd, cwd=_REPO, env=_env(extra_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout)
            return p.returncode, out, err, time.perf_counter() - t0, False
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            return None, out or "", err or "", time.perf_counter() - t0, True
        except BaseException:  # Ctrl-C: do not leave the benchmark running
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise

    note = ""
    rc, out, err, dt, timed_out = once(quick)
    if quick and rc == 2 and "unrecognized arguments: --quick" in err:
        note = "this benchmark does not accept --quick: ran its default (full) size"
        rc, out, err, dt2, timed_out = once(False)
        dt += dt2
    if timed_out:
        status = "timeout"
        note = (note + "; " if note else "") + f"killed after {timeout:g} s"
    else:
        status = "ok" if rc == 0 else "failed"
    return {"module": module, "status": status, "returncode": rc, "seconds": dt, "stdout": out, "stderr": err,
            "note": note, "quick": quick}


def _render(results: list[dict], quick: bool, started, total: float) -> str:
    vers = _runner.versions()
    L = [f"# Benchmarks ({'quick' if quick else 'full'})", "",
         f"Run {started.strftime('%Y-%m-%d %H:%M:%S UTC')} in {total:.1f} s; git commit `{_runner.git_commit()}`; "
         f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; "
         f"python {vers['python']}, numpy {vers['numpy']}, numba {vers['numba']}.", "",
         "Each benchmark prints its own measurements and ratios against a baseline timed in the same run "
         "(the numbers are comparable within a benchmark, not across machines). The output below is verbatim.",
         "", "| benchmark | status | seconds | note |", "|---|---|---|---|"]
    for r in results:
        L.append(f"| `{r['module']}` | {r['status']} | {r['seconds']:.1f} | {r['note'] or '-'} |")
    if not results:
        L += ["", "_(no experiments/bench_*.py module found)_"]
    L.append("")
    for r in results:
        L += [f"## {r['module']}", "",
              f"`python -m experiments.bench --only {r['module'].rsplit('.', 1)[-1]}"
              f"{' --quick' if r['quick'] else ''}`: {r['status']} in {r['seconds']:.1f} s"
              + (f" ({r['note']})" if r["note"] else "") + ".", "", "```", (r["stdout"] or "(no output)").rstrip(),
              "```", ""]
        if r["status"] != "ok":
            tail = "\n".join((r["stderr"] or "").rstrip().splitlines()[-40:])
            L += ["stderr (last 40 lines):", "", "```", tail or "(empty)", "```", ""]
    return "\n".join(L)


def run_benches(modules: list[str] | None = None, quick: bool = False, out: str = "results",
                timeout: float | None = None, extra_path: str | None = None, echo: bool = True) -> tuple[int, str]:
    """Run benchmarks (all discovered if ``modules`` is None); write ``bench.md``/``bench.json``; return
    ``(exit_code, path of bench.md)``."""
    started = _dt.datetime.now(_dt.timezone.utc)
    t0 = time.perf_counter()
    modules = discover_benches() if modules is None else list(modules)
    results = []
    for i, m in enumerate(modules, 1):
        if echo:
            print(f"[{i}/{len(modules)}] {m} ...", file=sys.stderr, flush=True)
        r = run_bench(m, quick=quick, timeout=timeout, extra_path=extra_path)
        results.append(r)
        if echo:
            print(f"== {m}: {r['status']} ({r['seconds']:.1f} s){' - ' + r['note'] if r['note'] else ''}")
            print(r["stdout"].rstrip())
            if r["status"] != "ok":
                print("\n".join(r["stderr"].rstrip().splitlines()[-15:]))
    total = time.perf_counter() - t0
    os.makedirs(out, exist_ok=True)
    md_path = os.path.join(out, "bench.md")
    _runner.atomic_write_text(md_path, _render(results, quick, started, total))
    _runner.atomic_write_json(os.path.join(out, "bench.json"), {
        "quick": quick, "started_at": started.isoformat(timespec="seconds"), "seconds": total,
        "git_commit": _runner.git_commit(), "versions": _runner.versions(), "benchmarks": results})
    return (1 if any(r["status"] != "ok" for r in results) else 0), md_path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.bench",
                                description="Run every experiments/bench_*.py main() and collect results/bench.md.")
    p.add_argument("--quick", action="store_true", help="pass --quick to every benchmark (small sizes)")
    p.add_argument("--only", action="append", default=None, metavar="NAME",
                   help="benchmarks to run (bench_caching or caching); comma-separated or repeated")
    p.add_argument("--out", default="results", help="output directory (default results/)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS", help="per-benchmark time limit")
    p.add_argument("--_one", metavar="MODULE", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._one:
        return _call_main(args._one, args.quick)
    modules = None
    if args.only:
        from online_algs.exceptions import InvalidInputError

        known = discover_benches()
        modules = []
        for n in (x.strip() for o in args.only for x in o.split(",") if x.strip()):
            short = n.rsplit(".", 1)[-1]
            short = short if short.startswith("bench_") else f"bench_{short}"
            dotted = f"experiments.{short}"
            if dotted not in known:
                raise InvalidInputError(f"The 'only' parameter must name benchmarks of experiments/ "
                                        f"({', '.join(k.rsplit('.', 1)[-1] for k in known) or 'none found'}). "
                                        f"Got {n!r} instead.")
            modules.append(dotted)
    rc, path = run_benches(modules, quick=args.quick, out=args.out, timeout=args.timeout)
    print(f"wrote {path}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
