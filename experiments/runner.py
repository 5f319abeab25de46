"""The experiment runner: declared grids, run as independent cells, into a resumable store.

Command line::

    python -m experiments.runner NAME [NAME ...] [--quick] [--serial | --scheduler tcp://host:port |
                                 --workers N] [--out results/] [--budget SECONDS] [--no-progress]
    python -m experiments.runner --list

``NAME`` is an experiment module of ``experiments/`` (``caching_paging``), the ``name`` of its
``EXPERIMENT``, or ``module:ATTRIBUTE`` (``experiments.demo:SLOW``).

Execution. The cells of an experiment (``Experiment.cells(quick)``) are independent tasks. They
run on a ``dask.distributed`` ``LocalCluster`` (processes, ``--workers`` workers x 1 thread,
bound to 127.0.0.1, logs silenced) by default, on an existing scheduler with ``--scheduler``
(the runner connects to that address and to no other), or one after the other in this process
with ``--serial``. A worker only computes a cell (the cell function gets its parameters and
nothing else, so results do not depend on where or when it runs); this process writes the
results.

Store (``<out>/<experiment>/``)::

    cells/<key>.json    one finished cell: params, tidy rows, seconds (written atomically)
    failed/<key>.json   the traceback of a failed cell (retried on the next run, removed on success)
    manifest.json       every cell of the last run: key, params, status, seconds; versions, git commit,
                        code fingerprint
    rows.csv            the tidy table of every finished cell of the last run (params + rows),
                        in grid order, regenerated from the cell files

``key`` = the first 20 hex digits of the SHA-256 of the canonical JSON of
``{"code": fingerprint, "experiment": name, "params": sorted params, "quick": flag}``, where the
code fingerprint (:func:`code_fingerprint`, computed once per run) is the SHA-256 of the source
of the experiment's module and of every ``.py`` file under ``online_algs/`` and ``proofs_check/``:
any change of that code gives new keys, so cells computed by older code are never reused (their
files stay in ``cells/`` but no longer belong to the grid). Every file is written to a
temporary file in the same directory and moved into place with ``os.replace``: a reader never
sees a partial file, and an interruption (Ctrl-C, SIGTERM, ``kill -9``) loses only the cells in
flight. A rerun skips the cells whose file exists (a damaged cell file is ignored and recomputed)
and retries failed ones.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as _dt
import hashlib
import importlib
import importlib.util
import json
import logging
import math
import numbers
import os
import pkgutil
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Iterator

from .api import Experiment

__all__ = ["STORE_VERSION", "DEFAULT_QUICK_BUDGET", "BUDGET_GRACE", "atomic_write_text", "atomic_write_bytes",
           "atomic_write_json", "read_json", "cell_key", "code_fingerprint", "library_files", "canonical_params", "execute_cell", "Store", "RunSummary",
           "run_experiment", "SerialExecutor", "DaskExecutor", "make_executor", "discover", "load_experiment",
           "versions", "git_commit", "main"]

STORE_VERSION = 1
#: Wall-clock budget (seconds) of an experiment's quick grid in the main job when the experiment
#: does not set ``Experiment.time_budget``.
DEFAULT_QUICK_BUDGET = 90.0
#: After the budget no new cell starts; the cells in flight get ``BUDGET_GRACE * budget`` more
#: seconds to finish before they are cancelled.
BUDGET_GRACE = 0.5
_NOT_EXPERIMENTS = {"__init__", "__main__", "api", "runner", "report", "main", "bench", "demo"}
_KEY_LEN = 20


# ------------------------------------------------------------------------------ atomic files
def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_current_umask()  # what open() would give; mkstemp alone gives 0o600


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically.

    The text goes to a temporary file ``.<name>.<random>.tmp`` in the same directory, is flushed
    and fsync'ed, then ``os.replace`` moves it over ``path`` (atomic on POSIX and Windows within
    one file system). A crash leaves either the old file or the new one, never a mix; the
    temporary file is removed if the write fails (a ``kill -9`` can leave a ``*.tmp`` file,
    which :meth:`Store.clean_tmp` removes and no reader ever opens).
    """
    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            os.fchmod(f.fileno(), _FILE_MODE)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """:func:`atomic_write_text` for bytes."""
    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), _FILE_MODE)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically (see :func:`atomic_write_text`)."""
    atomic_write_text(path, json.dumps(obj, indent=1, sort_keys=False) + "\n")


def read_json(path: str | os.PathLike) -> Any | None:
    """The parsed JSON of ``path``, or ``None`` if it is missing or not valid JSON."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


# ------------------------------------------------------------------------------ keys and values
def _plain(value: Any, what: str) -> Any:
    """``value`` as a plain JSON scalar (numpy scalars are unwrapped), else ``InvalidInputError``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    item = getattr(value, "item", None)  # numpy scalars (np.bool_, np.str_, ...)
    if callable(item) and getattr(value, "shape", None) == ():
        return _plain(item(), what)
    from online_algs.exceptions import InvalidInputError

    raise InvalidInputError(f"{what} must be a plain int, float, str, bool or None. Got {value!r} of type "
                            f"{type(value).__name__} instead. Convert it (e.g. float(x), str(x)) first.")


def canonical_params(params: dict) -> dict:
    """The cell's parameters as plain JSON scalars, in their declared order.

    Tuples and lists are kept as JSON lists (and written to ``rows.csv`` as their JSON text).
    """
    out = {}
    for k, v in params.items():
        if isinstance(v, (list, tuple)):
            out[str(k)] = [_plain(x, f"grid parameter {k!r}") for x in v]
        else:
            out[str(k)] = _plain(v, f"grid parameter {k!r}")
    return out


def cell_key(experiment: str, params: dict, quick: bool, code: str) -> str:
    """Key of a cell: hash of the experiment name, the sorted parameters, the quick flag and the
    code fingerprint ``code`` (:func:`code_fingerprint`; same code and parameters -> same key)."""
    payload = json.dumps({"code": str(code), "experiment": experiment, "params": canonical_params(params),
                          "quick": bool(quick)}, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:_KEY_LEN]


_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Packages whose every ``.py`` file enters the code fingerprint of every experiment.
FINGERPRINT_PACKAGES = ("online_algs", "proofs_check")


def library_files(root: str | None = None) -> list[str]:
    """The ``.py`` files under ``online_algs/`` and ``proofs_check/`` (sorted relative paths)."""
    root = root or _REPO_ROOT
    out = []
    for pkg in FINGERPRINT_PACKAGES:
        for d, dirs, files in os.walk(os.path.join(root, pkg)):
            dirs[:] = [x for x in dirs if not x.startswith(".") and x != "__pycache__"]
            out.extend(os.path.relpath(os.path.join(d, f), root) for f in files if f.endswith(".py"))
    return sorted(p.replace(os.sep, "/") for p in out)


def _module_source_file(exp: Experiment | Callable | None) -> str | None:
    """The source file of the module defining the experiment's cell function (None if unknown)."""
    fn = exp.cell if isinstance(exp, Experiment) else exp
    while hasattr(fn, "func"):  # functools.partial
        fn = fn.func
    mod = sys.modules.get(getattr(fn, "__module__", None) or "")
    path = getattr(mod, "__file__", None)
    return path if path and os.path.isfile(path) else None


def code_fingerprint(exp: Experiment | Callable | None = None, root: str | None = None) -> str:
    """SHA-256 (hex) of the code a cell depends on: the source of the module defining ``exp.cell``
    (or of the callable ``exp``; nothing if ``None``) and every ``.py`` file under ``online_algs/``
    and ``proofs_check/`` (sorted paths; each contributes its path and its bytes). Part of every
    cell key, so that a code change invalidates the cached cells."""
    root = root or _REPO_ROOT
    h = hashlib.sha256(b"online_algs code fingerprint v1\0")

    def add(label: str, path: str) -> None:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            data = b"<unreadable>"
        h.update(label.encode("utf-8") + b"\0" + str(len(data)).encode("ascii") + b"\0")
        h.update(data)

    mod_file = _module_source_file(exp) if exp is not None else None
    if mod_file is not None:
        add("experiment-module:" + os.path.basename(mod_file), mod_file)
    elif exp is not None:  # no file (interactive): the cell's qualified name at least
        fn = exp.cell if isinstance(exp, Experiment) else exp
        h.update(("experiment-cell:" + getattr(fn, "__qualname__", repr(fn)) + "\0").encode("utf-8"))
    for rel in library_files(root):
        add(rel, os.path.join(root, rel))
    return h.hexdigest()


def _normalize_rows(rows: Any) -> list[dict]:
    from online_algs.exceptions import InvalidInputError

    if isinstance(rows, dict):
        raise InvalidInputError("The value returned by the cell function must be a list of dicts (tidy rows). "
                                "Got a dict instead; return [row].")
    if rows is None or isinstance(rows, (str, bytes)) or not isinstance(rows, Iterable):
        raise InvalidInputError(f"The value returned by the cell function must be a list of dicts (tidy rows). "
                                f"Got {type(rows).__name__} instead.")
    out = []
    for i, r in enumerate(rows):
        if not isinstance(r, dict):
            raise InvalidInputError(f"Row {i} returned by the cell function must be a dict. Got "
                                    f"{type(r).__name__} instead; return a list of dicts.")
        out.append({str(k): _plain(v, f"column {k!r} of row {i}") for k, v in r.items()})
    return out


def execute_cell(cell: Callable[..., Any], params: dict) -> dict:
    """Run one cell (on a worker or in process) and return a result record.

    Never raises for an error of the cell itself: the record has ``ok=False`` and the
    traceback. The record holds ``rows`` (validated plain values), ``seconds`` and ``host``.
    """
    t0 = time.perf_counter()
    try:
        rows = _normalize_rows(cell(**params))
        for i, r in enumerate(rows):
            for k, v in params.items():
                if k in r and r[k] != canonical_params({k: v})[k]:
                    from online_algs.exceptions import InvalidInputError

                    raise InvalidInputError(f"Column {k!r} of row {i} must equal the grid parameter {k!r} = {v!r} "
                                            f"it shadows. Got {r[k]!r} instead; rename the column.")
        return {"ok": True, "rows": rows, "seconds": time.perf_counter() - t0, "host": socket.gethostname(),
                "pid": os.getpid()}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(),
                "seconds": time.perf_counter() - t0, "host": socket.gethostname(), "pid": os.getpid()}


# ------------------------------------------------------------------------------ provenance
_VERSION_DISTS = [("numpy", "numpy"), ("scipy", "scipy"), ("numba", "numba"), ("cvxpy", "cvxpy"),
                  ("networkx", "networkx"), ("faiss", "faiss-cpu"), ("dask", "dask"),
                  ("distributed", "distributed"), ("pandas", "pandas"), ("matplotlib", "matplotlib"),
                  ("tqdm", "tqdm"), ("online_algs", "online_algs")]


def versions() -> dict[str, str]:
    """Versions of Python and of the main packages (from the installed distributions' metadata)."""
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for name, dist in _VERSION_DISTS:
        try:
            out[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit(cwd: str | None = None) -> str:
    """``git rev-parse HEAD`` of the repository (``+dirty`` if the tree has changes), or ``unknown``."""
    cwd = cwd or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# ------------------------------------------------------------------------------ the store
class Store:
    """The results of one experiment: ``<out>/<experiment>/{cells,failed}/``, manifest, rows.csv."""

    def __init__(self, out: str | os.PathLike, experiment: str):
        self.experiment = experiment
        self.root = os.path.join(os.fspath(out), experiment)
        self.cells_dir = os.path.join(self.root, "cells")
        self.failed_dir = os.path.join(self.root, "failed")
        self.manifest_path = os.path.join(self.root, "manifest.json")
        self.rows_path = os.path.join(self.root, "rows.csv")
        self.figures_dir = os.path.join(self.root, "figures")

    @contextlib.contextmanager
    def lock(self, wait_message: bool = True):
        """Hold an exclusive advisory lock (``fcntl.flock`` on ``<store>/.lock``) while a sweep writes
        the store: a second runner on the same store waits, then finds the finished cells. The
        operating system releases the lock when the process dies (even on ``kill -9``). No-op
        where ``fcntl`` is unavailable."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        os.makedirs(self.root, exist_ok=True)
        with open(os.path.join(self.root, ".lock"), "a") as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                if wait_message:
                    print(f"{self.experiment}: another runner is writing {self.root}; waiting for it",
                          file=sys.stderr, flush=True)
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def cell_path(self, key: str) -> str:
        return os.path.join(self.cells_dir, key + ".json")

    def failed_path(self, key: str) -> str:
        return os.path.join(self.failed_dir, key + ".json")

    def load_cell(self, key: str) -> dict | None:
        """The finished cell ``key``, or ``None`` (missing, unreadable or not this cell)."""
        rec = read_json(self.cell_path(key))
        if (not isinstance(rec, dict) or rec.get("key") != key or rec.get("experiment") != self.experiment
                or not isinstance(rec.get("rows"), list) or rec.get("store_version") != STORE_VERSION):
            return None
        return rec

    def write_cell(self, rec: dict) -> None:
        atomic_write_json(self.cell_path(rec["key"]), rec)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.failed_path(rec["key"]))

    def write_failure(self, rec: dict) -> None:
        atomic_write_json(self.failed_path(rec["key"]), rec)

    def load_failure(self, key: str) -> dict | None:
        rec = read_json(self.failed_path(key))
        return rec if isinstance(rec, dict) else None

    def clean_tmp(self) -> int:
        """Remove temporary files left by an interrupted write; return how many."""
        n = 0
        for d in (self.root, self.cells_dir, self.failed_dir):
            if not os.path.isdir(d):
                continue
            for fn in os.listdir(d):
                if fn.startswith(".") and fn.endswith(".tmp"):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(d, fn))
                        n += 1
        return n

    def write_rows(self, cells: list[tuple[dict, dict | None]]) -> int:
        """Regenerate ``rows.csv`` from finished cells ``(params, record)`` in grid order; return #rows."""
        import pandas as pd

        param_cols: list[str] = []
        other_cols: list[str] = []
        records = []
        for params, rec in cells:
            for k in params:
                if k not in param_cols:
                    param_cols.append(k)
            if rec is None:
                continue
            cp = {k: (json.dumps(v) if isinstance(v, list) else v) for k, v in rec["params"].items()}
            for r in rec["rows"]:
                for k in r:
                    if k not in cp and k not in other_cols:
                        other_cols.append(k)
                records.append({**cp, **{k: v for k, v in r.items() if k not in cp}})
        cols = param_cols + [c for c in other_cols if c not in param_cols]
        df = pd.DataFrame.from_records(records, columns=cols) if records else pd.DataFrame(columns=cols)
        atomic_write_text(self.rows_path, df.to_csv(index=False, lineterminator="\n"))
        return len(records)

    def read_rows(self):
        """``rows.csv`` as a pandas DataFrame (empty if there is none)."""
        import pandas as pd

        try:
            return pd.read_csv(self.rows_path)
        except (FileNotFoundError, pd.errors.EmptyDataError):
            return pd.DataFrame()


# ------------------------------------------------------------------------------ executors
class SerialExecutor:
    """Runs cells one after the other in this process."""

    kind = "serial"
    address = None

    def submit_all(self, cell, tasks: list[tuple[str, dict]], deadline: float | None = None, grace: float = 0.0
                   ) -> Iterator[tuple[str | None, dict | None]]:
        """Yield ``(key, record)`` per finished cell; no cell starts after ``deadline``
        (``time.monotonic()`` value): then ``(None, None)`` is yielded and the run stops."""
        for key, params in tasks:
            if deadline is not None and time.monotonic() > deadline:
                yield None, None
                return
            yield key, execute_cell(cell, params)

    def cancel(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DaskExecutor:
    """Runs cells on a dask.distributed cluster: a new ``LocalCluster`` (``address=None``) or the
    scheduler at ``address`` (only that address is contacted)."""

    def __init__(self, address: str | None = None, workers: int = 2, quiet: bool = True):
        from dask.distributed import Client, LocalCluster

        if quiet:
            for name in ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker",
                         "distributed.core", "distributed.http", "bokeh", "tornado"):
                logging.getLogger(name).setLevel(logging.ERROR)
        self.address = address
        self.cluster = None
        self._futures: list = []
        if address is None:
            self.kind = "local"
            self.cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                                        host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                        silence_logs=logging.ERROR if quiet else logging.WARNING)
            try:
                self.client = Client(self.cluster)
            except BaseException:
                self.cluster.close()
                raise
        else:
            self.kind = "external"
            self.client = Client(address, timeout="20s")

    def submit_all(self, cell, tasks: list[tuple[str, dict]], deadline: float | None = None, grace: float = 0.0
                   ) -> Iterator[tuple[str | None, dict | None]]:
        """Run the cells (submitted in grid order, at most twice as many in flight as the cluster
        has threads); yield ``(key, record)`` as they finish. After ``deadline``
        (``time.monotonic()`` value) no new cell starts; the cells in flight get ``grace`` more
        seconds, then are cancelled. ``(None, None)`` is yielded last if cells were left."""
        from dask.distributed import wait

        try:
            nthreads = sum(self.client.nthreads().values())
        except Exception:
            nthreads = 1
        window = max(2, 2 * nthreads)
        fut_key: dict = {}
        order: dict = {}
        running: set = set()
        qi = 0

        def submit_more():
            nonlocal qi
            while (qi < len(tasks) and len(running) < window
                   and (deadline is None or time.monotonic() <= deadline)):
                key, params = tasks[qi]
                f = self.client.submit(execute_cell, cell, params, pure=False)
                fut_key[f] = key
                order[f.key] = qi
                running.add(f)
                qi += 1
            self._futures = list(running)

        submit_more()
        hard = None if deadline is None else deadline + grace
        while running:
            timeout = 1.0 if hard is None else max(0.05, min(1.0, hard - time.monotonic()))
            try:
                finished, not_done = wait(list(running), timeout=timeout, return_when="FIRST_COMPLETED")
            except (TimeoutError, asyncio.TimeoutError):
                finished, not_done = set(), set(running)
            running = set(not_done)
            self._futures = list(running)
            for f in sorted(finished, key=lambda f: order[f.key]):
                key = fut_key[f]
                try:
                    rec = f.result()
                except Exception as exc:  # the worker died (KilledWorker), the task was cancelled, ...
                    rec = {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                           "traceback": "".join(traceback.format_exception(exc)), "seconds": float("nan"),
                           "host": "", "pid": None}
                yield key, rec
            if running and hard is not None and time.monotonic() > hard:
                yield None, None
                return
            submit_more()
        if qi < len(tasks):
            yield None, None

    def cancel(self) -> None:
        if self._futures:
            with contextlib.suppress(Exception):
                self.client.cancel(self._futures)
            self._futures = []

    def close(self) -> None:
        self.cancel()
        with contextlib.suppress(Exception):
            self.client.close(timeout=10)
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def make_executor(serial: bool = False, scheduler: str | None = None, workers: int = 2):
    """A :class:`SerialExecutor` or a :class:`DaskExecutor` (local cluster or ``scheduler``)."""
    if serial:
        return SerialExecutor()
    if scheduler is not None:
        from online_algs.exceptions import InvalidInputError

        if "://" not in scheduler:
            raise InvalidInputError(f"The 'scheduler' parameter must be a dask address like "
                                    f"'tcp://127.0.0.1:8786'. Got {scheduler!r} instead.")
        return DaskExecutor(address=scheduler)
    if int(workers) < 1:
        from online_algs.exceptions import InvalidInputError

        raise InvalidInputError(f"The 'workers' parameter must be an int >= 1. Got {workers!r} instead.")
    return DaskExecutor(address=None, workers=int(workers))


# ------------------------------------------------------------------------------ running
@dataclass
class RunSummary:
    """What :func:`run_experiment` did."""

    experiment: str
    quick: bool
    n_cells: int
    n_cached: int = 0          # finished before this run
    n_run: int = 0             # finished in this run
    n_failed: int = 0
    n_pending: int = 0         # not run (budget exceeded or interrupted)
    n_rows: int = 0
    seconds: float = 0.0       # wall time of this run
    cell_seconds: float = 0.0  # sum of the cells' own time (finished cells, all runs)
    budget: float | None = None
    budget_exceeded: bool = False
    interrupted: bool = False
    executor: str = ""
    failures: list[dict] = field(default_factory=list)
    store: str = ""
    code: str = ""             # the code fingerprint in the cell keys (code_fingerprint)

    @property
    def complete(self) -> bool:
        return self.n_failed == 0 and self.n_pending == 0

    @property
    def ok(self) -> bool:
        return self.n_failed == 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["complete"] = self.complete
        return d


def run_experiment(exp: Experiment, out: str | os.PathLike = "results", quick: bool = False, executor=None,
                   progress: bool = True, budget: float | None = None,
                   manifest_every: float = 2.0) -> RunSummary:
    """Run every unfinished cell of ``exp`` and update its store; return a :class:`RunSummary`.

    ``executor``: a :class:`SerialExecutor` / :class:`DaskExecutor` (default: serial). ``budget``:
    wall-clock seconds after which no new cell starts; cells in flight get ``BUDGET_GRACE *
    budget`` more seconds (serially: the running cell finishes), then are cancelled; the cells
    left stay pending (a rerun resumes them). A ``KeyboardInterrupt`` (Ctrl-C, or SIGTERM through
    the CLI's handler) cancels the cells in flight, writes the manifest and rows of the finished
    cells and is re-raised. The store is locked while the sweep runs (:meth:`Store.lock`): a
    concurrent run of the same experiment into the same ``out`` waits for it.
    """
    from online_algs.exceptions import InvalidInputError

    if not isinstance(exp.name, str) or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", exp.name):
        raise InvalidInputError(f"The 'name' of an Experiment must be a non-empty directory name of letters, digits, "
                                f"'_', '-' and '.' (not starting with '.' or '-'). Got {exp.name!r} instead.")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, numbers.Real)
                               or not budget >= 0 or math.isinf(budget)):
        raise InvalidInputError(f"The 'budget' parameter of run_experiment must be a finite number of seconds >= 0 "
                                f"or None. Got {budget!r} instead.")
    store = Store(out, exp.name)
    os.makedirs(store.cells_dir, exist_ok=True)
    with store.lock(wait_message=progress):
        return _run_locked(exp, store, quick, executor or SerialExecutor(), progress, budget, manifest_every)


def _run_locked(exp, store, quick, executor, progress, budget, manifest_every) -> RunSummary:
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    store.clean_tmp()
    cells = exp.cells(quick)
    code = code_fingerprint(exp)  # once per run: a sweep with unchanged code resumes
    keyed = []
    seen = set()
    for params in cells:
        k = cell_key(exp.name, params, quick, code)
        if k in seen:
            continue  # a grid with repeated values: one cell
        seen.add(k)
        keyed.append((k, params))
    done: dict[str, dict] = {}
    for k, _ in keyed:
        rec = store.load_cell(k)
        if rec is not None:
            done[k] = rec
    failed: dict[str, dict] = {}
    todo = [(k, p) for k, p in keyed if k not in done]
    summ = RunSummary(experiment=exp.name, quick=quick, n_cells=len(keyed), n_cached=len(done), budget=budget,
                      executor=getattr(executor, "kind", "serial"), store=store.root, code=code)
    started = _now()
    vers = versions()
    commit = git_commit()

    def write_manifest(final: bool) -> None:
        entries = []
        for k, p in keyed:
            e = {"key": k, "params": canonical_params(p)}
            if k in done:
                e.update(status="done", seconds=done[k].get("seconds"), finished_at=done[k].get("finished_at"))
            elif k in failed:
                e.update(status="failed", error=failed[k]["error"], traceback=failed[k]["traceback"])
            else:
                e.update(status="pending")
            entries.append(e)
        counts = {s: sum(e["status"] == s for e in entries) for s in ("done", "failed", "pending")}
        atomic_write_json(store.manifest_path, {
            "store_version": STORE_VERSION, "experiment": exp.name, "description": exp.description,
            "quick": bool(quick), "executor": summ.executor, "started_at": started, "updated_at": _now(),
            "final": final, "budget": budget, "budget_exceeded": summ.budget_exceeded,
            "interrupted": summ.interrupted, "counts": counts, "versions": vers, "git_commit": commit,
            "code_fingerprint": code, "cells": entries})

    write_manifest(False)
    bar = tqdm(total=len(keyed), initial=len(done), desc=exp.name, unit="cell", disable=not progress,
               file=sys.stderr, dynamic_ncols=True, smoothing=0.1)
    last = time.monotonic()
    try:
        if todo:
            deadline = None if budget is None else time.monotonic() + budget - (time.perf_counter() - t0)
            grace = 0.0 if budget is None else BUDGET_GRACE * budget
            it = executor.submit_all(exp.cell, todo, deadline=deadline, grace=grace)
            params_of = dict(todo)
            for k, res in it:
                if k is None:  # the budget is spent: the unfinished cells stay pending
                    summ.budget_exceeded = True
                    executor.cancel()
                    break
                if res.get("ok"):
                    rec = {"store_version": STORE_VERSION, "experiment": exp.name, "key": k, "quick": bool(quick),
                           "code": code, "params": canonical_params(params_of[k]), "rows": res["rows"],
                           "seconds": res["seconds"], "finished_at": _now(), "host": res.get("host"),
                           "pid": res.get("pid")}
                    store.write_cell(rec)
                    done[k] = rec
                    failed.pop(k, None)
                    summ.n_run += 1
                else:
                    rec = {"experiment": exp.name, "key": k, "quick": bool(quick), "code": code,
                           "params": canonical_params(params_of[k]), "error": res.get("error", ""),
                           "traceback": res.get("traceback", ""), "seconds": res.get("seconds"),
                           "failed_at": _now()}
                    store.write_failure(rec)
                    failed[k] = rec
                bar.update(1)
                if time.monotonic() - last > manifest_every:
                    write_manifest(False)
                    last = time.monotonic()
    except KeyboardInterrupt:
        summ.interrupted = True
        executor.cancel()
        raise
    finally:
        bar.close()
        summ.n_failed = len(failed)
        summ.n_pending = len(keyed) - len(done) - len(failed)
        summ.failures = [{"key": k, "params": f["params"], "error": f["error"], "traceback": f["traceback"]}
                         for k, f in failed.items()]
        summ.cell_seconds = float(sum(d.get("seconds") or 0.0 for d in done.values()))
        summ.n_rows = store.write_rows([(p, done.get(k)) for k, p in keyed])
        summ.seconds = time.perf_counter() - t0
        write_manifest(True)
    return summ


# ------------------------------------------------------------------------------ discovery
def discover(include_demo: bool = False) -> tuple[dict[str, str], dict[str, str]]:
    """Experiment modules of ``experiments/``: ``({module_name: dotted_module}, {module: import error})``.

    Every module except the runner's own (api, runner, report, main, bench, bench_*, demo unless
    ``include_demo``) and private ones is a candidate; modules without ``EXPERIMENT`` are skipped.
    """
    import experiments as pkg

    found: dict[str, str] = {}
    errors: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        n = info.name
        if n.startswith("_") or n.startswith("bench_") or info.ispkg or (n in _NOT_EXPERIMENTS
                                                                            and not (include_demo and n == "demo")):
            continue
        dotted = f"{pkg.__name__}.{n}"
        try:
            mod = importlib.import_module(dotted)
        except Exception as exc:
            errors[n] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
            continue
        if isinstance(getattr(mod, "EXPERIMENT", None), Experiment):
            found[n] = dotted
        elif getattr(mod, "EXPERIMENT", None) is not None:
            errors[n] = f"TypeError: {dotted}.EXPERIMENT is a {type(mod.EXPERIMENT).__name__}, not an Experiment"
    return found, errors


def load_experiment(name: str) -> Experiment:
    """The experiment called ``name``: ``module:ATTR``, a module of ``experiments/`` or an ``EXPERIMENT.name``."""
    from online_algs.exceptions import InvalidInputError

    if ":" in name:
        mod_name, attr = name.split(":", 1)
        if "." not in mod_name:
            mod_name = f"experiments.{mod_name}"
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (mod_name == exc.name or mod_name.startswith(exc.name + ".")):
                raise  # the module exists but one of its imports is missing: a real error
            found, _ = discover(include_demo=True)
            raise InvalidInputError(f"The experiment {name!r} names no module: {mod_name} does not exist. Known: "
                                    f"{', '.join(sorted(found)) or '(none)'} (python -m experiments.runner "
                                    f"--list).") from None
        exp = getattr(mod, attr, None)
        if not isinstance(exp, Experiment):
            raise InvalidInputError(f"The experiment {name!r} is not an Experiment in {mod_name}; "
                                    f"got {type(exp).__name__}.")
        return exp
    dotted = name if name.startswith("experiments.") else f"experiments.{name}"
    try:
        spec = importlib.util.find_spec(dotted)
    except (ModuleNotFoundError, ValueError):  # a parent package does not exist ("nosuch.x")
        spec = None
    if spec is not None:
        exp = getattr(importlib.import_module(dotted), "EXPERIMENT", None)
        if isinstance(exp, Experiment):
            return exp
    found, _ = discover(include_demo=True)
    for dotted in found.values():
        exp = importlib.import_module(dotted).EXPERIMENT
        if exp.name == name:
            return exp
    raise InvalidInputError(f"The experiment name must be a module of experiments/ with an EXPERIMENT, an "
                            f"experiment's name or module:ATTR; got {name!r}. Known: "
                            f"{', '.join(sorted(found)) or '(none)'} (python -m experiments.runner --list).")


# ------------------------------------------------------------------------------ CLI
def _sigterm_to_interrupt(signum, frame):  # SIGTERM: stop like Ctrl-C (finished cells are kept)
    raise KeyboardInterrupt(f"signal {signum}")


def add_executor_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--serial", action="store_true", help="run the cells one by one in this process")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="an existing dask scheduler, e.g. tcp://127.0.0.1:8786 (only this address is contacted)")
    g.add_argument("--workers", type=int, default=2, metavar="N",
                   help="workers (processes, 1 thread each) of the local dask cluster (default 2)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.runner",
                                description="Run experiments (declared grids) into a resumable results store.")
    p.add_argument("names", nargs="*", metavar="NAME", help="experiment module, experiment name or module:ATTR")
    p.add_argument("--quick", action="store_true", help="use the quick grids")
    p.add_argument("--out", default="results", help="results directory (default results/)")
    p.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                   help="wall-clock budget per experiment: no cell starts after it, cells in flight get "
                        "BUDGET_GRACE*budget more; unfinished cells stay pending (rerun to resume)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--list", action="store_true", help="list the discovered experiments and exit")
    add_executor_args(p)
    args = p.parse_args(argv)
    if args.list:
        found, errors = discover(include_demo=True)
        for n, dotted in found.items():
            exp = importlib.import_module(dotted).EXPERIMENT
            print(f"{n:24s} {exp.name:24s} {len(exp.cells(False)):5d} cells ({len(exp.cells(True))} quick)  "
                  f"{exp.description.splitlines()[0] if exp.description else ''}")
        for n, e in errors.items():
            print(f"{n:24s} IMPORT ERROR: {e.splitlines()[0]}")
        return 1 if errors else 0
    if not args.names:
        p.error("give at least one experiment NAME (or --list)")
    from online_algs.exceptions import InvalidInputError

    try:
        exps = [load_experiment(n) for n in args.names]
    except InvalidInputError as exc:  # a typo: the message, not a traceback
        print(f"{p.prog}: error: {exc}", file=sys.stderr)
        return 2
    old = signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
    rc = 0
    try:
        with make_executor(serial=args.serial, scheduler=args.scheduler, workers=args.workers) as ex:
            for exp in exps:
                s = run_experiment(exp, out=args.out, quick=args.quick, executor=ex, progress=not args.no_progress,
                                   budget=args.budget)
                state = "complete" if s.complete else ("FAILED" if s.n_failed else "incomplete")
                print(f"{exp.name}: {state}: {s.n_cells} cells ({s.n_cached} already done, {s.n_run} run, "
                      f"{s.n_failed} failed, {s.n_pending} pending), {s.n_rows} rows in {s.seconds:.1f}s "
                      f"-> {os.path.join(s.store, 'rows.csv')}")
                for f in s.failures:
                    print(f"  FAILED cell {f['key']} {f['params']}: {f['error']}")
                if not s.ok:
                    rc = 1
                elif not s.complete and rc == 0:
                    rc = 3
    except KeyboardInterrupt:
        print("interrupted: finished cells are stored; rerun the same command to resume", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, old)
    return rc


if __name__ == "__main__":
    sys.exit(main())
