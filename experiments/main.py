"""The main job: the theorem report (and, as they land, the headline experiments)."""

from __future__ import annotations

import sys


def main(argv=None) -> int:
    from proofs_check.__main__ import main as pc_main

    argv = list(sys.argv[1:] if argv is None else argv)
    mode = "--thorough" if "--full" in argv else "--quick"
    return pc_main([mode, "--json", "results/proofs_check.json"])


if __name__ == "__main__":
    sys.exit(main())
