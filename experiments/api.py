"""The declaration of an experiment (the runner in experiments/runner.py executes it).

An experiment module ``experiments/<name>.py`` defines ``EXPERIMENT = Experiment(...)``:

* ``grid``: dict of parameter name -> list of values; the cells are the cartesian product
  (``quick_grid`` is used with ``--quick``). Every cell is an independent task.
* ``cell(**params) -> list[dict]``: computes one cell and returns tidy rows (plain
  ``int``/``float``/``str``/``bool`` values; the cell's parameters are added by the runner).
  It must be deterministic given its parameters (seeds are grid parameters) and importable
  by a Dask worker (a module-level function).
* ``plot(df, outdir) -> list[tuple[str, str]]``: draws figures from the tidy pandas DataFrame
  of all rows, saves PNGs into ``outdir`` and returns ``(path, caption)`` pairs.
* ``summary(df) -> str`` (optional): a Markdown table or text for the report.
* ``time_budget`` (optional, seconds): the wall-clock budget of the quick grid in the main job
  (``python -m experiments.main --quick``). When it is spent no new cell starts (the cells in
  flight get ``experiments.runner.BUDGET_GRACE`` times the budget more), the finished cells are
  kept and the report marks the experiment *incomplete*; a rerun resumes. ``None``: the runner's
  default (``experiments.runner.DEFAULT_QUICK_BUDGET``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["Experiment"]


@dataclass
class Experiment:
    name: str
    description: str
    grid: dict[str, list]
    cell: Callable[..., list[dict]]
    plot: Callable[[Any, str], list[tuple[str, str]]] | None = None
    quick_grid: dict[str, list] | None = None
    summary: Callable[[Any], str] | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    time_budget: float | None = None

    def cells(self, quick: bool = False) -> list[dict]:
        g = self.quick_grid if (quick and self.quick_grid is not None) else self.grid
        keys = list(g)
        return [dict(zip(keys, vals)) for vals in itertools.product(*(g[k] for k in keys))]
