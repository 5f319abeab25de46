#!/usr/bin/env bash
# Run experiments against an external dask cluster started here, on 127.0.0.1 only.
#
# Usage (from anywhere):
#   experiments/scripts/external_scheduler.sh NAME [NAME ...] [runner options]
#   WORKERS=2 experiments/scripts/external_scheduler.sh demo --quick --out results/
#
# What it does:
#   1. starts `dask scheduler` on 127.0.0.1, on a free port chosen by the OS (--port 0), with its
#      HTTP endpoint on 127.0.0.1 too, and reads the address from a scheduler file;
#   2. starts `dask worker` (WORKERS processes, 1 thread each, default 2) on 127.0.0.1, in the
#      repository so that the workers import the same `experiments` and `online_algs` code;
#   3. runs `python -m experiments.runner NAME ... --scheduler tcp://127.0.0.1:PORT [options]`;
#   4. stops the worker and the scheduler on exit (also on Ctrl-C or an error).
# The exit status is the runner's. Results go to the runner's store (results/ by default) and are
# identical to a --serial or local-cluster run; an interrupted sweep resumes with the same command.
#
# Environment: PYTHON (default: .venv/bin/python of the repository), WORKERS (default 2),
# NUMBA_CACHE_DIR (default: .numba_cache of the repository).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
DASK="$(dirname "$PYTHON")/dask"
WORKERS="${WORKERS:-2}"
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$REPO/.numba_cache}"
export MPLBACKEND="${MPLBACKEND:-Agg}"
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"

if [ "$#" -lt 1 ]; then
  sed -n '2,20p' "$0"
  exit 2
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/oa-dask.XXXXXX")"
SCHED_PID=""
WORKER_PID=""
cleanup() {
  [ -n "$WORKER_PID" ] && kill "$WORKER_PID" 2>/dev/null || true
  [ -n "$SCHED_PID" ] && kill "$SCHED_PID" 2>/dev/null || true
  [ -n "$WORKER_PID" ] && wait "$WORKER_PID" 2>/dev/null || true
  [ -n "$SCHED_PID" ] && wait "$SCHED_PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

cd "$REPO"
"$DASK" scheduler --host 127.0.0.1 --port 0 --no-dashboard --dashboard-address 127.0.0.1:0 \
  --scheduler-file "$TMP/scheduler.json" >"$TMP/scheduler.log" 2>&1 &
SCHED_PID=$!

for _ in $(seq 1 300); do   # up to 30 s
  [ -s "$TMP/scheduler.json" ] && break
  kill -0 "$SCHED_PID" 2>/dev/null || { cat "$TMP/scheduler.log" >&2; echo "dask scheduler died" >&2; exit 1; }
  sleep 0.1
done
ADDRESS="$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["address"])' "$TMP/scheduler.json")"
case "$ADDRESS" in
  tcp://127.0.0.1:*) ;;
  *) echo "unexpected scheduler address $ADDRESS (expected tcp://127.0.0.1:PORT)" >&2; exit 1 ;;
esac
echo "dask scheduler at $ADDRESS (logs in $TMP)" >&2

"$DASK" worker "$ADDRESS" --host 127.0.0.1 --nworkers "$WORKERS" --nthreads 1 --no-dashboard \
  --dashboard-address 127.0.0.1:0 --local-directory "$TMP/worker" >"$TMP/worker.log" 2>&1 &
WORKER_PID=$!

"$PYTHON" - "$ADDRESS" "$WORKERS" <<'PY'
import sys
from dask.distributed import Client
with Client(sys.argv[1], timeout="30s") as c:
    c.wait_for_workers(int(sys.argv[2]), timeout=60)
PY

set +e
"$PYTHON" -m experiments.runner "$@" --scheduler "$ADDRESS"
RC=$?
set -e
exit $RC
