"""Command line: ``python -m proofs_check [--quick|--thorough] [--only PATTERN] [--json PATH]``.

Prints a table (theorem, algorithm, family, measured, bound, verdict) and exits 1 if any
check fails or errors. ``--list`` prints the registered theorems without running them;
``--docs PATH`` writes the Markdown theorem page generated from the registry.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

from . import IMPORT_ERRORS, load_all, run_one, select
from .registry import CheckResult
from .report import format_table, theorem_page


def _atomic_write(path: str, text: str) -> None:
    d = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=os.path.basename(path))
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m proofs_check", description=__doc__.splitlines()[0])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="small instances (default)")
    g.add_argument("--thorough", action="store_true", help="larger instances, more seeds")
    p.add_argument("--only", action="append", default=None, metavar="PATTERN",
                   help="theorem ids: a dotted prefix (mts), an id, or a glob (*regret*); comma-separated or repeated")
    p.add_argument("--json", metavar="PATH", help="write the results as a JSON list")
    p.add_argument("--seed", type=int, default=0, help="base seed of every check (default 0)")
    p.add_argument("--list", action="store_true", help="list the selected theorems, do not run them")
    p.add_argument("--docs", metavar="PATH", help="write the theorem page (Markdown) and exit")
    p.add_argument("--quiet", action="store_true", help="print only the summary and failures")
    args = p.parse_args(argv)
    mode = "thorough" if args.thorough else "quick"

    load_all()
    if args.docs:
        _atomic_write(args.docs, theorem_page())
        print(f"wrote {args.docs}")
        return 0
    ths = select(args.only)
    if args.list:
        for t in ths:
            print(f"{t.id:45s} {t.kind:10s} {t.statement}")
        return 0
    if not ths and not IMPORT_ERRORS:
        print(f"no theorem matches {args.only}", file=sys.stderr)
        return 2

    results: list[CheckResult] = []
    for mod, err in IMPORT_ERRORS.items():
        results.append(CheckResult(id=f"{mod}.import", kind="identity", algorithm="", family="", measured=float("nan"),
                                   bound=None, slack=None, verdict="error", detail=err))
    t0 = time.perf_counter()
    for th in ths:
        if th.thorough_only and mode != "thorough":
            continue
        rs = run_one(th, mode=mode, seed=args.seed)
        results.extend(rs)
        if not args.quiet:
            worst = "fail" if any(r.verdict in ("fail", "error") for r in rs) else rs[0].verdict
            print(f"  [{worst:6s}] {th.id} ({len(rs)} result{'s' if len(rs) != 1 else ''}, "
                  f"{sum(r.seconds for r in rs):.1f}s)", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - t0
    if not args.quiet:
        print(format_table(results))
    counts = {v: sum(r.verdict == v for r in results) for v in ("pass", "fail", "report", "error")}
    print(f"\n{len(results)} results from {len(ths)} theorems in {elapsed:.1f}s ({mode}): "
          + ", ".join(f"{v} {c}" for v, c in counts.items()))
    for r in results:
        if r.verdict in ("fail", "error"):
            print(f"\n{r.verdict.upper()}: {r.id} [{r.algorithm} / {r.family}] {r.instance}\n{r.detail}")
    if args.json:
        _atomic_write(args.json, json.dumps([r.to_dict() for r in results], indent=1))
        print(f"wrote {args.json}")
    return 1 if counts["fail"] or counts["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
