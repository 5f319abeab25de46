"""The report: the theorem checks and every experiment, as Markdown and self-contained HTML.

Command line::

    python -m experiments.report [--quick | --full] [--out results/] [--only NAME ...] [--skip-checks]
                                 [--checks PATTERN] [--seed S] [--serial | --scheduler ADDR | --workers N]
                                 [--no-budget] [--no-progress]

Steps: (1) run proofs_check in this process through the registry (``proofs_check.load_all``,
``select``, ``run_one``; quick or thorough), in a background thread while the experiments run
on the cluster, and write ``<out>/proofs_check.json``; (2) run every discovered experiment
(``experiments/<name>.py`` with an ``EXPERIMENT``; ``--only`` selects some, ``module:ATTR``
allowed) through :func:`experiments.runner.run_experiment` (finished cells are skipped); in quick
mode each experiment has a wall-clock budget (``Experiment.time_budget`` or
``runner.DEFAULT_QUICK_BUDGET``, capped by what is left of ``QUICK_TOTAL_BUDGET`` for all
experiments): cells left when it is spent stay pending and the report says so; (3) call each
experiment's ``plot`` and ``summary`` on its ``rows.csv``; (4) write ``<out>/report.md``,
``<out>/report.html`` (figures inlined as base64) and ``<out>/report.json``.

An experiment that fails (import error, failed cells, ``plot``/``summary`` raising) is reported
in its section and makes the exit status 1, without losing the other experiments' results; so
does any theorem check with verdict ``fail`` or ``error``.
"""

from __future__ import annotations

import argparse
import base64
import datetime as _dt
import html
import json
import math
import os
import re
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field

from . import runner as _runner

__all__ = ["QUICK_TOTAL_BUDGET", "df_to_markdown", "md_to_html", "build_report", "ReportResult", "setup_env", "main"]

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Quick mode: the experiments together get at most this many seconds of wall time (each one
#: gets ``min(its own budget, what is left)``), so that ``make main`` stays under 10 minutes.
QUICK_TOTAL_BUDGET = 400.0


def setup_env() -> None:
    """Defaults for a headless run: numba's cache in the repository, matplotlib's Agg backend."""
    os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(_REPO, ".numba_cache"))
    os.environ.setdefault("MPLBACKEND", "Agg")


# ------------------------------------------------------------------------------ Markdown helpers
def _cell_text(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) or (hasattr(v, "dtype") and getattr(v.dtype, "kind", "") == "f"):
        x = float(v)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e6):
            return f"{x:.3e}"
        return f"{x:.4g}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def df_to_markdown(df, max_rows: int = 60) -> str:
    """A pandas DataFrame as a Markdown pipe table (floats to 4 significant digits)."""
    cols = [str(c) for c in df.columns]
    if not cols:
        return "_(no rows)_"
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.head(max_rows).itertuples(index=False):
        out.append("| " + " | ".join(_cell_text(v) for v in row) + " |")
    if len(df) > max_rows:
        out.append(f"\n_({len(df) - max_rows} more rows not shown)_")
    return "\n".join(out)


_INLINE = [
    (re.compile(r"`([^`]+)`"), lambda m: f"<code>{m.group(1)}</code>"),
    (re.compile(r"\*\*([^*]+)\*\*"), lambda m: f"<strong>{m.group(1)}</strong>"),
    (re.compile(r"(?<![\w*])_([^_]+)_(?!\w)"), lambda m: f"<em>{m.group(1)}</em>"),
    (re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)"), lambda m: f'<a href="{m.group(2)}">{m.group(1)}</a>'),
]


def _inline(text: str) -> str:
    t = html.escape(text, quote=False)
    # protect code spans from the other rules
    codes: list[str] = []

    def keep(m):
        codes.append(m.group(1))
        return f"\x00{len(codes) - 1}\x00"

    t = re.sub(r"`([^`]+)`", keep, t)
    for rx, fn in _INLINE[1:]:
        t = rx.sub(fn, t)
    return re.sub(r"\x00(\d+)\x00", lambda m: f"<code>{codes[int(m.group(1))]}</code>", t)


def _split_row(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    cells = re.split(r"(?<!\\)\|", s)
    return [c.strip().replace("\\|", "|") for c in cells]


def _image_html(src: str, alt: str, base_dir: str | None) -> str:
    path = src if os.path.isabs(src) or base_dir is None else os.path.join(base_dir, src)
    try:
        with open(path, "rb") as f:
            data = base64.b64encode(f.read()).decode("ascii")
        ext = os.path.splitext(path)[1].lower().lstrip(".") or "png"
        mime = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "svg": "image/svg+xml",
                "gif": "image/gif"}.get(ext, "application/octet-stream")
        img = f'<img alt="{html.escape(alt)}" src="data:{mime};base64,{data}">'
    except OSError:
        img = f'<p class="missing">figure not found: {html.escape(src)}</p>'
    return f"<figure>{img}<figcaption>{_inline(alt)}</figcaption></figure>"


def md_to_html(md: str, base_dir: str | None = None, title: str = "Report") -> str:
    """A self-contained HTML page from the Markdown subset the report writes.

    Supported: ``#`` headings, paragraphs, ``-`` lists, pipe tables, fenced code, images on their
    own line (``![caption](path)``, inlined as base64 data URIs, ``path`` relative to
    ``base_dir``), inline code, bold, italics and links. Everything else is escaped text.
    """
    lines = md.splitlines()
    out: list[str] = []
    i = 0
    para: list[str] = []

    def flush_para():
        if para:
            out.append("<p>" + " ".join(_inline(p) for p in para) + "</p>")
            para.clear()

    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if s.startswith("```"):
            flush_para()
            j = i + 1
            buf = []
            while j < len(lines) and not lines[j].strip().startswith("```"):
                buf.append(lines[j])
                j += 1
            out.append("<pre><code>" + html.escape("\n".join(buf)) + "</code></pre>")
            i = j + 1
            continue
        if not s:
            flush_para()
            i += 1
            continue
        m = re.match(r"^(#{1,6})\s+(.*)$", s)
        if m:
            flush_para()
            lvl = len(m.group(1))
            text = m.group(2)
            anchor = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
            out.append(f'<h{lvl} id="{anchor}">{_inline(text)}</h{lvl}>')
            i += 1
            continue
        m = re.match(r"^!\[([^\]]*)\]\(([^)]+)\)$", s)
        if m:
            flush_para()
            out.append(_image_html(m.group(2), m.group(1), base_dir))
            i += 1
            continue
        if s.startswith("|"):
            flush_para()
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(lines[i])
                i += 1
            head = _split_row(rows[0])
            body = rows[1:]
            if body and re.match(r"^\|?\s*:?-{3,}", body[0].strip()):
                body = body[1:]
            t = ["<table>", "<thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr></thead>",
                 "<tbody>"]
            for r in body:
                cells = _split_row(r)
                cls = ""
                low = [c.lower() for c in cells]
                if "fail" in low or "error" in low or "failed" in low:
                    cls = ' class="bad"'
                t.append(f"<tr{cls}>" + "".join(f"<td>{_inline(c)}</td>" for c in cells) + "</tr>")
            t.append("</tbody></table>")
            out.append("\n".join(t))
            continue
        if re.match(r"^[-*]\s+", s):
            flush_para()
            items = []
            while i < len(lines) and re.match(r"^\s*[-*]\s+", lines[i]):
                items.append(re.sub(r"^\s*[-*]\s+", "", lines[i]))
                i += 1
            out.append("<ul>" + "".join(f"<li>{_inline(it)}</li>" for it in items) + "</ul>")
            continue
        para.append(s)
        i += 1
    flush_para()
    css = ("body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;"
           "padding:0 1em;color:#222;line-height:1.45}table{border-collapse:collapse;margin:0.8em 0;"
           "font-size:0.88em}th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}"
           "th{background:#f3f3f3}tr.bad td{background:#fde2e2}code{background:#f5f5f5;padding:0 3px}"
           "pre{background:#f7f7f7;padding:0.7em;overflow-x:auto;font-size:0.85em}"
           "figure{margin:1em 0}img{max-width:100%}figcaption{font-size:0.9em;color:#555}"
           ".missing{color:#b00}")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{css}</style></head><body>\n"
            + "\n".join(out) + "\n</body></html>\n")


# ------------------------------------------------------------------------------ the checks
def _run_checks(mode: str, patterns, seed: int, sink: dict) -> None:
    """Run proofs_check in process; fill ``sink`` with results, seconds, theorem count."""
    t0 = time.perf_counter()
    try:
        import proofs_check
        from proofs_check.registry import CheckResult, run_one, select

        proofs_check.load_all()
        results = []
        for mod, err in sorted(proofs_check.IMPORT_ERRORS.items()):
            results.append(CheckResult(id=f"{mod}.import", kind="identity", algorithm="", family="",
                                       measured=float("nan"), bound=None, slack=None, verdict="error", detail=err))
        ths = [t for t in select(patterns) if not (t.thorough_only and mode != "thorough")]
        sink["total"] = len(ths)
        for i, th in enumerate(ths):
            results.extend(run_one(th, mode=mode, seed=seed))
            sink["done"] = i + 1
        sink["results"] = results
        sink["theorems"] = len(ths)
    except Exception as exc:  # the harness itself broke: one error result
        from proofs_check.registry import CheckResult

        sink["results"] = [CheckResult(id="proofs_check", kind="identity", algorithm="", family="",
                                       measured=float("nan"), bound=None, slack=None, verdict="error",
                                       detail=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")]
        sink["theorems"] = 0
    sink["seconds"] = time.perf_counter() - t0


# ------------------------------------------------------------------------------ the report
@dataclass
class ExperimentSection:
    module: str
    name: str = ""
    description: str = ""
    run: _runner.RunSummary | None = None
    error: str = ""               # import / run / plot / summary errors
    figures: list = field(default_factory=list)
    summary_md: str = ""
    seeds: dict = field(default_factory=dict)
    plot_seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return bool(self.error) or (self.run is not None and not self.run.ok)

    @property
    def status(self) -> str:
        if self.failed:
            return "FAILED"
        if self.run is not None and not self.run.complete:
            return "incomplete"
        return "ok"


@dataclass
class ReportResult:
    exit_code: int
    md_path: str
    html_path: str
    json_path: str
    counts: dict
    sections: list
    check_results: list = field(default_factory=list)


def _seed_values(exp, quick: bool) -> dict:
    g = exp.quick_grid if (quick and exp.quick_grid is not None) else exp.grid
    return {k: list(v) for k, v in g.items() if "seed" in k.lower()}


def _resolve(only, include_demo=False):
    """[(module label, Experiment | None, error)] for the selection.

    An explicit selection naming no experiment (a typo) raises ``InvalidInputError`` listing the
    known experiments, before anything runs or is written; an experiment module that exists but
    fails to import is kept as a failed section."""
    items = []
    if only is not None:  # an explicit selection (possibly empty: no experiment)
        from online_algs.exceptions import InvalidInputError

        unknown = []
        for name in only:
            try:
                items.append((name, _runner.load_experiment(name), ""))
            except InvalidInputError as exc:
                msg = str(exc).split(" Known:")[0]
                unknown.append(repr(name) if msg.startswith("The experiment name must be") else f"{name!r} ({msg})")
            except Exception as exc:
                items.append((name, None, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"))
        if unknown:
            found, _ = _runner.discover(include_demo=True)
            raise InvalidInputError(
                f"The 'only' selection (--only) must name experiments (a module of experiments/, an experiment's "
                f"name or module:ATTR). Unknown: {', '.join(unknown)}. Known experiments: "
                f"{', '.join(sorted(found)) or '(none)'} (python -m experiments.runner --list). Nothing was run "
                f"or written.")
        return items
    found, errors = _runner.discover(include_demo=include_demo)
    import importlib

    for mod, dotted in found.items():
        items.append((mod, importlib.import_module(dotted).EXPERIMENT, ""))
    for mod, err in errors.items():
        items.append((mod, None, err))
    return sorted(items, key=lambda t: t[0])


def build_report(out: str = "results", quick: bool = True, only=None, skip_checks: bool = False, checks=None,
                 seed: int = 0, serial: bool = False, scheduler: str | None = None, workers: int = 2,
                 budgets: bool = True, progress: bool = True, concurrent_checks: bool = True) -> ReportResult:
    """Run the checks and the experiments and write the report; see the module docstring."""
    from online_algs._validation import check_int

    check_int("workers", workers, low=1, owner="build_report")
    setup_env()
    t_start = time.perf_counter()
    started = _dt.datetime.now(_dt.timezone.utc)
    items = _resolve(only)  # unknown names raise here, before anything is written
    out = os.path.abspath(out)
    os.makedirs(out, exist_ok=True)
    mode = "quick" if quick else "thorough"

    sink: dict = {}
    th = None
    if not skip_checks:
        import proofs_check

        proofs_check.load_all()  # import check modules in the main thread (numba, registries)
        if concurrent_checks:
            th = threading.Thread(target=_run_checks, args=(mode, checks, seed, sink), daemon=True,
                                  name="proofs_check")
            th.start()
        else:
            _run_checks(mode, checks, seed, sink)

    sections: list[ExperimentSection] = []
    runnable = []
    names_seen: dict[str, str] = {}
    for label, exp, err in items:
        sec = ExperimentSection(module=label, error=err)
        if exp is not None and exp.name in names_seen:  # two modules, one store: run the first only
            sec.name = label
            sec.error = (f"InvalidInputError: the experiment name {exp.name!r} of {label} is already used by "
                         f"{names_seen[exp.name]}; experiment names must be unique (they name the store).")
            sections.append(sec)
            continue
        if exp is not None:
            names_seen[exp.name] = label
            sec.name, sec.description = exp.name, exp.description
            try:
                sec.seeds = _seed_values(exp, quick)
            except Exception:
                sec.seeds = {}
            runnable.append((sec, exp))
        else:
            sec.name = label
        sections.append(sec)

    t_exp = time.perf_counter()
    executor_note = ""
    if runnable:
        try:
            try:
                ex0 = _runner.make_executor(serial=serial, scheduler=scheduler, workers=workers)
            except Exception as exc:
                from online_algs.exceptions import InvalidInputError

                if serial or scheduler is not None or isinstance(exc, InvalidInputError):
                    raise  # the user asked for this executor: report the failure
                # a local cluster could not start (no sockets, no processes): same results, serially
                executor_note = (f"The local dask cluster could not start ({type(exc).__name__}: {exc}); "
                                 "the cells ran serially in the report's process (same results, slower).")
                print(f"warning: {executor_note}", file=sys.stderr, flush=True)
                ex0 = _runner.SerialExecutor()
            with ex0 as ex:
                for sec, exp in runnable:
                    budget = None
                    if quick and budgets:
                        budget = exp.time_budget if exp.time_budget is not None else _runner.DEFAULT_QUICK_BUDGET
                        left = QUICK_TOTAL_BUDGET - (time.perf_counter() - t_exp)
                        budget = max(0.0, min(budget, left))
                    try:
                        sec.run = _runner.run_experiment(exp, out=out, quick=quick, executor=ex, progress=progress,
                                                         budget=budget)
                    except KeyboardInterrupt:
                        raise
                    except Exception as exc:
                        sec.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # the cluster could not start / connect
            for sec, _ in runnable:
                if sec.run is None and not sec.error:
                    sec.error = f"executor: {type(exc).__name__}: {exc}"
    exp_seconds = time.perf_counter() - t_exp

    # figures and summaries (main process)
    for sec, exp in runnable:
        if sec.run is None:
            continue
        store = _runner.Store(out, exp.name)
        t0 = time.perf_counter()
        df = store.read_rows()
        if len(df) == 0:
            sec.summary_md = "_(no finished cells)_"
            continue
        if exp.plot is not None:
            try:
                os.makedirs(store.figures_dir, exist_ok=True)
                figs = exp.plot(df, store.figures_dir) or []
                for item in figs:
                    path, caption = (item if isinstance(item, (tuple, list)) else (item, ""))
                    path = path if os.path.isabs(path) else os.path.abspath(path)
                    sec.figures.append((os.path.relpath(path, out), str(caption)))
            except Exception as exc:
                sec.error += f"plot: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
        try:
            if exp.summary is not None:
                s = exp.summary(df)
                sec.summary_md = s if isinstance(s, str) else df_to_markdown(s)
            else:
                sec.summary_md = (f"{len(df)} rows; columns: {', '.join(f'`{c}`' for c in df.columns)}.\n\n"
                                  + df_to_markdown(df, max_rows=12))
        except Exception as exc:
            sec.error += f"summary: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
        sec.plot_seconds = time.perf_counter() - t0

    check_results = []
    if th is not None:
        last = time.monotonic()
        while th.is_alive():
            th.join(timeout=0.5)
            if progress and th.is_alive() and time.monotonic() - last > 20:
                last = time.monotonic()
                print(f"waiting for proofs_check: {sink.get('done', 0)}/{sink.get('total', '?')} theorems done",
                      file=sys.stderr, flush=True)
    if not skip_checks:
        check_results = sink.get("results", [])
        _runner.atomic_write_json(os.path.join(out, "proofs_check.json"), [r.to_dict() for r in check_results])

    counts = {v: sum(r.verdict == v for r in check_results) for v in ("pass", "fail", "report", "error")}
    n_exp_failed = sum(s.failed for s in sections)
    exit_code = 1 if (counts["fail"] or counts["error"] or n_exp_failed) else 0
    total = time.perf_counter() - t_start
    finished = _dt.datetime.now(_dt.timezone.utc)

    md = _render_md(out=out, mode=mode, started=started, finished=finished, total=total, skip_checks=skip_checks, sink=sink,
                    executor_note=executor_note,
                    check_results=check_results, counts=counts, seed=seed, checks=checks, sections=sections,
                    exp_seconds=exp_seconds, exit_code=exit_code, budgets=budgets and quick)
    md_path = os.path.join(out, "report.md")
    html_path = os.path.join(out, "report.html")
    json_path = os.path.join(out, "report.json")
    _runner.atomic_write_text(md_path, md)
    _runner.atomic_write_text(html_path, md_to_html(md, base_dir=out, title=f"online_algs report ({mode})"))
    _runner.atomic_write_json(json_path, {
        "mode": mode, "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"), "seconds": total,
        "exit_code": exit_code, "git_commit": _runner.git_commit(), "code_fingerprint": _runner.code_fingerprint(),
        "versions": _runner.versions(),
        "proofs_check": None if skip_checks else {"counts": counts, "seed": seed, "seconds": sink.get("seconds"),
                                                  "theorems": sink.get("theorems")},
        "experiments": [{"module": s.module, "name": s.name, "status": s.status, "error": s.error,
                         "seeds": s.seeds, "figures": s.figures,
                         "code_fingerprint": None if s.run is None else s.run.code,
                         "run": None if s.run is None else s.run.to_dict()} for s in sections]})
    return ReportResult(exit_code=exit_code, md_path=md_path, html_path=html_path, json_path=json_path,
                        counts=counts, sections=sections, check_results=check_results)


def _render_md(*, out, mode, started, finished, total, skip_checks, sink, check_results, counts, seed, checks, sections,
               exp_seconds, exit_code, budgets, executor_note="") -> str:
    from proofs_check.report import markdown_table

    vers = _runner.versions()
    commit = _runner.git_commit()
    lib_fp = _runner.code_fingerprint()
    L = [f"# online_algs report ({mode})", "",
         f"Generated {finished.strftime('%Y-%m-%d %H:%M:%S UTC')} (started "
         f"{started.strftime('%H:%M:%S UTC')}, {total:.1f} s); git commit `{commit}`; code fingerprint "
         f"`{lib_fp[:16]}` (SHA-256 of every `.py` file of `online_algs/` and `proofs_check/`; each experiment's "
         f"cell keys also cover its own module, see its section, so no cell computed by other code is reused); "
         f"exit status {exit_code} ({'all checks and experiments ok' if exit_code == 0 else 'see failures below'}).",
         ""]
    # overview
    L += ["## Overview", "", "| part | status | detail |", "|---|---|---|"]
    if skip_checks:
        L.append("| proofs_check | skipped | `--skip-checks` |")
    else:
        st = "FAILED" if (counts["fail"] or counts["error"]) else "ok"
        L.append(f"| proofs_check | {st} | {len(check_results)} results from {sink.get('theorems', 0)} theorems: "
                 + ", ".join(f"{v} {c}" for v, c in counts.items()) + f"; {sink.get('seconds', 0.0):.1f} s |")
    for s in sections:
        if s.run is not None:
            r = s.run
            det = (f"{r.n_cells} cells: {r.n_cached} cached, {r.n_run} run, {r.n_failed} failed, "
                   f"{r.n_pending} pending; {r.n_rows} rows; {r.seconds:.1f} s")
        else:
            det = "not run"
        L.append(f"| experiment `{s.name}` | {s.status} | {det} |")
    L.append("")

    # proofs_check
    L += ["## Theorem checks (proofs_check)", ""]
    if skip_checks:
        L += ["Skipped (`--skip-checks`).", ""]
    else:
        sel = ", ".join(checks) if checks else "all registered theorems"
        L += [f"Mode `{mode}`, base seed {seed}, selection: {sel}. Verdicts: **pass** (bound holds), **fail** "
              "(bound violated), **report** (empirical, no known constant), **error** (the check crashed). "
              f"Counts: pass {counts['pass']}, fail {counts['fail']}, report {counts['report']}, "
              f"error {counts['error']}. JSON: `proofs_check.json`.", ""]
        if check_results:
            L += [markdown_table(check_results), ""]
        else:
            L += ["_(no theorem selected)_", ""]
        bad = [r for r in check_results if r.verdict in ("fail", "error")]
        if bad:
            L += ["### Failures and errors", ""]
            for r in bad:
                L += [f"- **{r.verdict}** `{r.id}` [{r.algorithm or '-'} / {r.family or '-'}] {r.instance}",
                      "", "```", (r.detail or "(no detail)").rstrip(), "```", ""]

    # experiments
    L += ["## Experiments", ""]
    if executor_note:
        L += [f"**Note:** {executor_note}", ""]
    if not sections:
        L += ["_(no experiment discovered)_", ""]
    for s in sections:
        L += [f"### {s.name}", ""]
        if s.description:
            L += [s.description, ""]
        if s.run is not None:
            r = s.run
            L += [f"Status **{s.status}**; module `{s.module}`; {r.n_cells} cells ({r.n_cached} from earlier runs, "
                  f"{r.n_run} run now, {r.n_failed} failed, {r.n_pending} pending), {r.n_rows} rows; wall "
                  f"{r.seconds:.1f} s, cell time {r.cell_seconds:.1f} s, executor {r.executor}, code fingerprint "
                  f"`{r.code[:16]}`"
                  + (f", budget {r.budget:g} s" if r.budget is not None else "") + ". Data: "
                  f"`{os.path.relpath(os.path.join(r.store, 'rows.csv'), out)}`.", ""]
            if r.budget_exceeded:
                L += [f"**Incomplete:** the {r.budget:g} s budget was spent with {r.n_pending} cells left; "
                      "the figures and summary below use the finished cells only. Rerun the same command to "
                      "resume (finished cells are kept).", ""]
            if r.failures:
                L += ["Failed cells:", ""]
                for f in r.failures:
                    L += [f"- `{f['key']}` {json.dumps(f['params'])}: {f['error']}"]
                L += ["", "```", r.failures[0]["traceback"].rstrip(), "```", ""]
        if s.error:
            L += ["**Error:**", "", "```", s.error.rstrip(), "```", ""]
        if s.summary_md:
            L += [s.summary_md.rstrip(), ""]
        for path, cap in s.figures:
            cap1 = " ".join(cap.split()).replace("]", ")").replace("[", "(") or os.path.basename(path)
            L += [f"![{cap1}]({path})", ""]

    # seeds, versions, timing
    L += ["## Seeds", ""]
    if not skip_checks:
        L += [f"- proofs_check base seed: {seed} (every check derives its instances' seeds from it and the "
              "theorem id)"]
    for s in sections:
        if s.seeds:
            L += [f"- `{s.name}`: " + "; ".join(f"`{k}` = {v}" for k, v in s.seeds.items())]
        elif s.run is not None:
            L += [f"- `{s.name}`: no seed parameter in the grid (deterministic cells)"]
    L += ["", "## Versions", "", "| package | version |", "|---|---|"]
    L += [f"| {k} | {v} |" for k, v in vers.items()]
    L += ["", "## Timing", "", "| part | seconds |", "|---|---|"]
    if not skip_checks:
        L.append(f"| proofs_check ({mode}, in a background thread) | {sink.get('seconds', 0.0):.1f} |")
    L.append(f"| experiments (wall, all) | {exp_seconds:.1f} |")
    for s in sections:
        if s.run is not None:
            L.append(f"| `{s.name}` run / cells / plot+summary | {s.run.seconds:.1f} / {s.run.cell_seconds:.1f} / "
                     f"{s.plot_seconds:.1f} |")
    L.append(f"| total | {total:.1f} |")
    if budgets:
        L += ["", f"Quick-mode budgets: each experiment's quick grid gets `Experiment.time_budget` seconds "
              f"(default {_runner.DEFAULT_QUICK_BUDGET:g} s) of wall time, capped by what is left of "
              f"{QUICK_TOTAL_BUDGET:g} s for all experiments; after it no new cell starts, cells in flight get "
              f"{_runner.BUDGET_GRACE:g} x the budget more, and the cells left stay pending (a rerun resumes)."]
    L.append("")
    return "\n".join(L)


# ------------------------------------------------------------------------------ CLI
def main(argv=None, prog: str = "python -m experiments.report") -> int:
    p = argparse.ArgumentParser(prog=prog,
                                description="Run proofs_check and the experiments; write results/report.{md,html}.")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="quick checks and quick grids (default)")
    g.add_argument("--full", action="store_true", help="thorough checks and full grids")
    p.add_argument("--out", default="results", help="results directory (default results/)")
    p.add_argument("--only", action="append", default=None, metavar="NAME",
                   help="experiments to include (module, experiment name or module:ATTR); comma-separated or repeated")
    p.add_argument("--skip-checks", action="store_true", help="do not run proofs_check")
    p.add_argument("--checks", action="append", default=None, metavar="PATTERN",
                   help="theorem ids to check (proofs_check --only syntax); default all")
    p.add_argument("--seed", type=int, default=0, help="proofs_check base seed (default 0)")
    p.add_argument("--no-budget", action="store_true", help="no wall-clock budget per experiment in quick mode")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    _runner.add_executor_args(p)
    args = p.parse_args(argv)
    only = None
    if args.only:
        only = [n.strip() for o in args.only for n in o.split(",") if n.strip()]
    from online_algs.exceptions import InvalidInputError

    try:  # a typo in --only: a message and exit 2, nothing run or written (the old report stays)
        _resolve(only)
    except InvalidInputError as exc:
        print(f"{p.prog}: error: {exc}", file=sys.stderr)
        return 2
    old = signal.signal(signal.SIGTERM, _runner._sigterm_to_interrupt)
    try:
        res = build_report(out=args.out, quick=not args.full, only=only, skip_checks=args.skip_checks,
                           checks=args.checks, seed=args.seed, serial=args.serial, scheduler=args.scheduler,
                           workers=args.workers, budgets=not args.no_budget, progress=not args.no_progress)
    except KeyboardInterrupt:
        print("interrupted: finished experiment cells are stored; rerun to resume", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, old)
    c = res.counts
    print(f"proofs_check: pass {c['pass']}, fail {c['fail']}, report {c['report']}, error {c['error']}")
    for r in res.check_results:
        if r.verdict in ("fail", "error"):
            print(f"  {r.verdict.upper()} {r.id} [{r.algorithm or '-'} / {r.family or '-'}] measured={r.measured} "
                  f"bound={r.bound} {(r.detail or '').strip().splitlines()[0] if r.detail else ''}")
    for s in res.sections:
        print(f"experiment {s.name}: {s.status}")
        if s.failed:
            first = (s.error.strip().splitlines() or [""])[0] if s.error else (
                s.run.failures[0]["error"] if s.run is not None and s.run.failures else "")
            print(f"  {first}")
    print(f"report: {res.md_path}")
    print(f"report: {res.html_path}")
    return res.exit_code


if __name__ == "__main__":
    sys.exit(main())
