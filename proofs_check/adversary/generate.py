"""Run the adversary searches and save the worst instances found as regression fixtures.

``python -m proofs_check.adversary.generate [--out DIR]`` writes one JSON per (algorithm, size)
into ``proofs_check/fixtures``; ``adversary.fixtures.replay`` replays them from then on.
"""

from __future__ import annotations

import argparse
import sys

from .fixtures import FIXTURE_DIR, save_fixture
from .registry import kserver_dc_line, mts_wfa_uniform, paging_lru
from .search import constructive_search

JOBS = ([(mts_wfa_uniform, {"n": n}, 40 * n) for n in (3, 4, 5, 6)]
        + [(paging_lru, {"k": k}, 15 * k * k) for k in range(2, 9)]
        + [(kserver_dc_line, {"k": k}, 30 * k) for k in (2, 3, 4, 5)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m proofs_check.adversary.generate")
    ap.add_argument("--out", default=str(FIXTURE_DIR))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    for build, params, length in JOBS:
        p = build(**params)
        res = constructive_search(p, length, seed=args.seed)
        rec = save_fixture(p.spec, p.algorithm, res, seed=args.seed, method="constructive", bound=p.bound,
                           directory=args.out)
        # the regression target: the replayed ratio must stay >= 90% of the lower bound
        import json

        d = json.loads(rec.read_text())
        d["target"] = 0.9 * p.lower
        rec.write_text(json.dumps(d, indent=1))
        print(f"{p.spec['name']:18s} {params}  ratio {res.ratio:.4f}  (bound {p.bound:g}, lower {p.lower:g})  -> {rec.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
