"""The README's tour runs as written, and the numbers it quotes are the ones it produces."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tour_runs_and_numbers_match():
    text = README.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the README has no python example"
    ns: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), ns)
    assert ns["lru"].misses == 41425
    assert ns["opt"] == 31085
    assert ns["regret"] == pytest.approx(3451, abs=1)
    assert ns["wfa"].total_cost == pytest.approx(108.0, abs=0.05)
    assert ns["best"].value == pytest.approx(93.0, abs=0.05)
    assert ns["dc"].total_cost == 497


def test_readme_commands_match_ci():
    text = README.read_text()
    assert "make main" in text and "make test" in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert "make test" in ci
