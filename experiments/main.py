"""The main job (``make main``): the theorem report and the headline experiments.

``python -m experiments.main --quick`` (the default) runs proofs_check in quick mode and the
quick grid of every experiment of ``experiments/`` (each within its quick-mode wall-clock
budget, see ``experiments/report.py``) on a local dask cluster, then writes
``results/report.md`` and ``results/report.html`` and prints their paths. ``--full`` runs the
thorough checks and the full grids (no budgets). Other options are passed to
``python -m experiments.report`` (``--out``, ``--only``, ``--serial``, ``--workers``,
``--scheduler``, ``--skip-checks``, ...).

Exit status: 0 if every theorem check passes (or reports) and every experiment ran without a
failed cell; 1 otherwise; 130 when interrupted (finished cells are kept: rerun to resume).
"""

from __future__ import annotations

import sys


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    full = "--full" in argv
    rest = [a for a in argv if a not in ("--full", "--quick")]
    from .report import main as report_main, setup_env

    setup_env()
    return report_main((["--full"] if full else ["--quick"]) + rest, prog="python -m experiments.main")


if __name__ == "__main__":
    sys.exit(main())
