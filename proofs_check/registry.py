"""The theorem registry.

A theorem is declared once, with the :func:`theorem` decorator on its check function::

    @theorem("mts.wfa.competitive",
             statement="WFA <= (2n-1) OPT + C on every metric",
             reference="Borodin, Linial, Saks, J.ACM 1992, Thm 1.1",
             kind="upper", algorithms=["WorkFunctionAlgorithm"], families=["random", "cruel"])
    def _(ctx):
        ...
        yield ctx.upper(measured, bound, algorithm="WFA", family="cruel", instance="n=4, T=200",
                        seed=seed)

A check receives a :class:`Context` (mode, seeds) and returns or yields
:class:`CheckResult` objects built with ``ctx.upper`` / ``ctx.lower`` / ``ctx.identity`` /
``ctx.report``. A violated bound is a ``fail`` verdict, never an exception; an exception
inside a check becomes an ``error`` verdict (also a failure of the run).

Kinds: ``upper`` (measured <= bound), ``lower`` (measured >= bound), ``identity``
(measured error <= tolerance), ``empirical`` (reports a number, cannot pass or fail: used
where no constant is known).
"""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Callable, Iterable

import numpy as np

__all__ = ["Theorem", "CheckResult", "Context", "theorem", "THEOREMS", "select", "run_checks", "KINDS"]

KINDS = ("upper", "lower", "identity", "empirical")
VERDICTS = ("pass", "fail", "report", "error")


@dataclass(frozen=True)
class Theorem:
    id: str
    statement: str
    reference: str
    kind: str
    algorithms: tuple[str, ...]
    families: tuple[str, ...]
    func: Callable = field(repr=False, compare=False)
    thorough_only: bool = False

    @property
    def module(self) -> str:
        return self.func.__module__


@dataclass
class CheckResult:
    """One measured instance of a theorem."""

    id: str
    kind: str
    algorithm: str
    family: str
    measured: float
    bound: float | None
    slack: float | None
    verdict: str
    seed: int | None = None
    instance: str = ""
    ci: tuple[float, float] | None = None
    detail: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("measured", "bound", "slack"):
            v = d[k]
            if v is not None:
                v = float(v)
                d[k] = v if math.isfinite(v) else str(v)
        if d["ci"] is not None:
            d["ci"] = [float(x) for x in d["ci"]]
        return d


THEOREMS: dict[str, Theorem] = {}


def theorem(id: str, *, statement: str, reference: str, kind: str, algorithms: Iterable[str] = (),
            families: Iterable[str] = (), thorough_only: bool = False):
    """Register a check function under theorem ``id`` (ids are unique)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")

    def deco(func):
        if id in THEOREMS and THEOREMS[id].func.__qualname__ != func.__qualname__:
            raise ValueError(f"theorem id {id!r} registered twice ({THEOREMS[id].module} and {func.__module__})")
        THEOREMS[id] = Theorem(id=id, statement=statement, reference=reference, kind=kind,
                               algorithms=tuple(algorithms), families=tuple(families), func=func,
                               thorough_only=thorough_only)
        return func

    return deco


class Context:
    """What a check gets: the mode, deterministic seeds, and result builders bound to its theorem."""

    def __init__(self, theorem: Theorem, mode: str = "quick", seed: int = 0):
        self.theorem = theorem
        self.mode = mode
        self.seed = seed

    @property
    def quick(self) -> bool:
        return self.mode == "quick"

    @property
    def thorough(self) -> bool:
        return self.mode == "thorough"

    def pick(self, quick, thorough):
        """``quick`` in quick mode, ``thorough`` in thorough mode."""
        return quick if self.quick else thorough

    def rng(self, *keys: int) -> np.random.Generator:
        """A generator determined by the run seed, the theorem id and ``keys``."""
        ident = [int(b) for b in self.theorem.id.encode()]
        return np.random.default_rng([self.seed, *ident, *[int(k) for k in keys]])

    def seed_for(self, *keys: int) -> int:
        return int(self.rng(*keys).integers(0, 2**31 - 1))

    # ---------------------------------------------------------------- builders
    def _make(self, measured, bound, slack, verdict, *, algorithm="", family="", seed=None, instance="",
              ci=None, detail="", kind=None) -> CheckResult:
        return CheckResult(id=self.theorem.id, kind=kind or self.theorem.kind, algorithm=algorithm,
                           family=family, measured=float(measured),
                           bound=None if bound is None else float(bound),
                           slack=None if slack is None else float(slack), verdict=verdict, seed=seed,
                           instance=instance, ci=None if ci is None else (float(ci[0]), float(ci[1])),
                           detail=detail)

    def upper(self, measured, bound, *, tol: float = 1e-9, use_ci: bool = False, **kw) -> CheckResult:
        """Pass iff ``measured <= bound`` (up to ``tol`` relative). With ``use_ci=True`` and a
        ``ci``, pass iff the bound is not confidently exceeded: ``ci[0] <= bound``."""
        m = float(measured)
        b = float(bound)
        thr = b + tol * max(1.0, abs(b))
        if use_ci and kw.get("ci") is not None:
            ok = float(kw["ci"][0]) <= thr
        else:
            ok = (not math.isnan(m)) and m <= thr
        return self._make(m, b, b - m, "pass" if ok else "fail", kind="upper", **kw)

    def lower(self, measured, bound, *, tol: float = 1e-9, use_ci: bool = False, **kw) -> CheckResult:
        """Pass iff ``measured >= bound`` (with ``use_ci``: iff ``ci[1] >= bound``)."""
        m = float(measured)
        b = float(bound)
        thr = b - tol * max(1.0, abs(b))
        if use_ci and kw.get("ci") is not None:
            ok = float(kw["ci"][1]) >= thr
        else:
            ok = (not math.isnan(m)) and m >= thr
        return self._make(m, b, m - b, "pass" if ok else "fail", kind="lower", **kw)

    def identity(self, error, tol, **kw) -> CheckResult:
        """Pass iff ``error <= tol`` (an identity holds to a tolerance)."""
        e = float(error)
        ok = (not math.isnan(e)) and e <= tol
        return self._make(e, tol, tol - e, "pass" if ok else "fail", kind="identity", **kw)

    def check(self, ok: bool, measured=float("nan"), bound=None, **kw) -> CheckResult:
        """A boolean property: pass iff ``ok``."""
        return self._make(measured, bound, None, "pass" if ok else "fail", **kw)

    def report(self, measured, bound=None, **kw) -> CheckResult:
        """An empirical measurement: verdict ``report``, never pass or fail."""
        slack = None if bound is None else float(bound) - float(measured)
        return self._make(measured, bound, slack, "report", kind="empirical", **kw)


def mean_ci(samples, z: float = 1.96) -> tuple[float, tuple[float, float]]:
    """Mean and normal-approximation confidence interval of i.i.d. samples."""
    x = np.asarray(samples, dtype=float)
    m = float(x.mean())
    if len(x) < 2:
        return m, (m, m)
    h = z * float(x.std(ddof=1)) / math.sqrt(len(x))
    return m, (m - h, m + h)


def select(patterns: Iterable[str] | None) -> list[Theorem]:
    """Theorems whose id matches any pattern: equal, a dotted prefix (``mts`` matches
    ``mts.wfa.competitive``) or a shell glob (``*regret*``)."""
    ths = sorted(THEOREMS.values(), key=lambda t: t.id)
    pats = [p.strip() for ps in (patterns or []) for p in ps.split(",") if p.strip()]
    if not pats:
        return ths
    out = []
    for t in ths:
        for p in pats:
            if t.id == p or t.id.startswith(p + ".") or fnmatchcase(t.id, p):
                out.append(t)
                break
    return out


def run_one(th: Theorem, mode: str = "quick", seed: int = 0) -> list[CheckResult]:
    ctx = Context(th, mode=mode, seed=seed)
    t0 = time.perf_counter()
    try:
        out = th.func(ctx)
        if isinstance(out, CheckResult):
            results = [out]
        elif out is None:
            results = []
        else:
            results = list(out)
        if not results:
            results = [ctx._make(float("nan"), None, None, "error", detail="the check produced no result")]
    except Exception as exc:  # a crashing check is an error, reported, not raised
        tb = traceback.format_exc(limit=6)
        results = [ctx._make(float("nan"), None, None, "error",
                             detail=f"{type(exc).__name__}: {exc}\n{tb}")]
    dt = time.perf_counter() - t0
    for r in results:
        r.seconds = dt / len(results)
    return results


def run_checks(theorems: Iterable[Theorem], mode: str = "quick", seed: int = 0,
               progress: Callable[[Theorem, list[CheckResult]], Any] | None = None) -> list[CheckResult]:
    results: list[CheckResult] = []
    for th in theorems:
        if th.thorough_only and mode != "thorough":
            continue
        rs = run_one(th, mode=mode, seed=seed)
        results.extend(rs)
        if progress is not None:
            progress(th, rs)
    return results
