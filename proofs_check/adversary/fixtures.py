"""Worst instances found, saved as small JSON regression fixtures that proofs_check replays."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

__all__ = ["FIXTURE_DIR", "save_fixture", "load_fixtures", "replay"]

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures"


def save_fixture(problem_spec: dict, algorithm: str, result, *, seed: int, method: str, bound: float,
                 directory: Path | None = None) -> Path:
    """Write ``{problem, algorithm, seed, method, ratio, alg, opt, bound, sequence}`` atomically."""
    d = Path(directory or FIXTURE_DIR)
    d.mkdir(parents=True, exist_ok=True)
    key = "_".join([problem_spec["name"]] + [f"{k}{v}" for k, v in sorted(problem_spec["params"].items())
                                            if isinstance(v, (int, float, str))])
    path = d / f"{key}.json"
    rec = {"problem": problem_spec, "algorithm": algorithm, "seed": seed, "method": method,
           "ratio": result.ratio, "alg": result.alg, "opt": result.opt, "bound": bound,
           "length": len(result.seq), "sequence": [int(x) for x in result.seq]}
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        json.dump(rec, f, indent=1)
    os.replace(tmp, path)
    return path


def load_fixtures(directory: Path | None = None) -> list[dict]:
    d = Path(directory or FIXTURE_DIR)
    return [json.loads(p.read_text()) for p in sorted(d.glob("*.json"))]


def replay(fixture: dict) -> tuple[float, float, float]:
    """Re-evaluate a fixture's sequence: returns (ratio, ALG, OPT) as computed now."""
    from . import build_problem
    from .problems import ratio_of

    prob = build_problem(fixture["problem"])
    a, o = prob.evaluate(fixture["sequence"])
    return ratio_of(a, o), a, o
