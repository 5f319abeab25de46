"""Core identities: metric constructors validate, perturbed matrices are rejected."""

from __future__ import annotations

import numpy as np

from online_algs.exceptions import InvalidInputError
from online_algs.metrics import METRIC_KINDS, FiniteMetric, random_metric

from ..registry import theorem


def _metric_error(d: np.ndarray) -> float:
    """Largest violation of the metric axioms (0 for a metric)."""
    n = len(d)
    err = float(np.abs(d - d.T).max()) + float(np.abs(np.diag(d)).max())
    err = max(err, float(np.maximum(-d, 0).max()))
    for k in range(n):
        err = max(err, float((d - (d[:, k:k + 1] + d[k:k + 1, :])).max()))
    return err


@theorem("core.metrics.constructors_valid",
         statement="Every metric constructor returns a matrix that is symmetric, zero on the diagonal, "
                   "non-negative and satisfies the triangle inequality (largest violation <= 1e-9 x diameter).",
         reference="Definition of a metric [std]", kind="identity",
         algorithms=["metrics.*"], families=list(METRIC_KINDS))
def _constructors_valid(ctx):
    sizes = ctx.pick([2, 5, 17], [2, 5, 17, 60, 150])
    for kind in METRIC_KINDS:
        worst = 0.0
        for i, n in enumerate(sizes):
            for rep in range(ctx.pick(3, 10)):
                seed = ctx.seed_for(i, rep, len(kind))
                m = random_metric(kind, n, seed=seed)
                worst = max(worst, _metric_error(m.d) / max(m.diameter, 1e-300))
                FiniteMetric(m.d)  # must pass full validation
        yield ctx.identity(worst, 1e-9, algorithm="metrics." + kind, family=kind,
                           instance=f"n in {sizes}", seed=ctx.seed)


@theorem("core.metrics.perturbed_rejected",
         statement="A metric matrix perturbed to break symmetry, the zero diagonal, non-negativity or one "
                   "triangle inequality is rejected with InvalidInputError naming the offending indices.",
         reference="Definition of a metric [std]", kind="identity",
         algorithms=["FiniteMetric"], families=list(METRIC_KINDS))
def _perturbed_rejected(ctx):
    reps = ctx.pick(20, 200)
    missed = 0
    total = 0
    for rep in range(reps):
        rng = ctx.rng(rep)
        kind = METRIC_KINDS[rep % len(METRIC_KINDS)]
        n = int(rng.integers(3, 9))
        d = np.array(random_metric(kind, n, seed=int(rng.integers(1 << 30))).d)
        i, j = rng.choice(n, size=2, replace=False)
        for how in ("asym", "diag", "neg", "triangle"):
            e = d.copy()
            if how == "asym":
                e[i, j] += 0.5 * d.max()
            elif how == "diag":
                e[i, i] = 0.1
            elif how == "neg":
                e[i, j] = e[j, i] = -0.1
            else:
                # push one pair beyond the path through any third point
                k = [x for x in range(n) if x not in (i, j)][0]
                e[i, j] = e[j, i] = d[i, k] + d[k, j] + 0.5
            total += 1
            try:
                FiniteMetric(e)
                missed += 1
            except InvalidInputError as exc:
                msg = str(exc)
                i, j = int(i), int(j)
                if how == "diag":
                    named = f"d[{i},{i}]" in msg
                elif how == "triangle":  # only d(i, j) grew: every violated triangle has it as its long side
                    named = f"d[{i},{j}]" in msg or f"d[{j},{i}]" in msg
                else:
                    named = str(i) in msg and str(j) in msg
                if not named:
                    missed += 1
    yield ctx.identity(missed, 0, algorithm="FiniteMetric", family="perturbed",
                       instance=f"{total} perturbed matrices", detail=f"{missed} not rejected with indices")
