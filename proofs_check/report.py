"""Formatting: the results table and the theorem page generated from the registry."""

from __future__ import annotations

import math

from .registry import THEOREMS, CheckResult


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e6):
            return f"{x:.3e}"
        return f"{x:.4g}"
    return str(x)


def rows(results: list[CheckResult]) -> list[list[str]]:
    out = []
    for r in results:
        meas = _fmt(r.measured)
        if r.ci is not None:
            meas += f" [{_fmt(r.ci[0])}, {_fmt(r.ci[1])}]"
        inst = r.instance or "-"
        if len(inst) > 60:
            inst = inst[:57] + "..."
        out.append([r.id, r.algorithm or "-", r.family or "-", inst, meas, _fmt(r.bound), r.verdict])
    return out


HEADER = ["theorem", "algorithm", "family", "instance", "measured", "bound", "verdict"]


def format_table(results: list[CheckResult]) -> str:
    body = rows(results)
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(HEADER)]
    widths = [min(w, 60) for w in widths]

    def line(cells):
        return "  ".join(c[:w].ljust(w) for c, w in zip(cells, widths))

    return "\n".join([line(HEADER), line(["-" * w for w in widths])] + [line(r) for r in body])


def markdown_table(results: list[CheckResult]) -> str:
    body = rows(results)
    out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r in body:
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    return "\n".join(out)


def theorem_page() -> str:
    """The Markdown page listing every registered theorem (docs/theorems.md)."""
    lines = ["# Theorems", "",
             "Generated from the proofs_check registry by `python -m proofs_check --docs docs/theorems.md`; "
             "do not edit by hand. Each theorem id below is cited in the docstring of the algorithms it "
             "applies to, and `python -m proofs_check --only ID` runs its check.", "",
             "Kinds: **upper** (measured <= bound), **lower** (measured >= bound), **identity** "
             "(error <= tolerance), **empirical** (reported, no known constant).", ""]
    by_family: dict[str, list] = {}
    for t in sorted(THEOREMS.values(), key=lambda t: t.id):
        by_family.setdefault(t.id.split(".")[0], []).append(t)
    for fam, ths in by_family.items():
        lines += [f"## {fam}", ""]
        for t in ths:
            lines += [f"### `{t.id}`", "", f"- **Statement.** {t.statement}", f"- **Kind.** {t.kind}"
                      + (" (thorough mode only)" if t.thorough_only else ""),
                      f"- **Reference.** {t.reference}"]
            if t.algorithms:
                lines.append(f"- **Algorithms.** {', '.join(t.algorithms)}")
            if t.families:
                lines.append(f"- **Instance families.** {', '.join(t.families)}")
            lines.append(f"- **Check.** `{t.module}`")
            lines.append("")
    return "\n".join(lines)
