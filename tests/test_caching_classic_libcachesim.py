"""Differential tests: miss counts equal libCacheSim's exactly on the bundled real traces.

Traces are written in libCacheSim's oracleGeneral binary format (24-byte records: uint32
time, uint64 id, uint32 size = 1, int64 next-access position or -1), the only format where its
Belady reads the future; its synthetic reader has no next-access times and silently gives
LRU-like "Belady" numbers. Miss counts come from ``process_trace`` (miss ratio x T, exact).
"""

from __future__ import annotations

import numpy as np
import pytest

import online_algs
from online_algs.caching import ARC, CLOCK, FIFO, LFU, LRU, belady_misses, next_use
from online_algs.caching import traces as tr

lcs = pytest.importorskip("libcachesim")

ORACLE_DTYPE = np.dtype([("time", "<u4"), ("id", "<u8"), ("size", "<u4"), ("next", "<i8")])
assert ORACLE_DTYPE.itemsize == 24

TRACES = [("web07", None), ("web12", None), ("cloudphysics", None), ("orm-busy", 300_000)]
CAPACITIES = [10, 100, 1000]


def write_oracle_general(x: np.ndarray, path) -> None:
    rec = np.zeros(len(x), dtype=ORACLE_DTYPE)
    rec["time"] = np.arange(len(x))
    rec["id"] = x
    rec["size"] = 1
    nu = next_use(x)
    rec["next"] = np.where(nu == len(x), -1, nu)
    rec.tofile(str(path))


def lcs_misses(policy_cls, path, capacity, T) -> int:
    reader = lcs.TraceReader(str(path), lcs.TraceType.ORACLE_GENERAL_TRACE)
    miss_ratio, _ = policy_cls(capacity, hashpower=18).process_trace(reader)  # small hash table: fast setup
    return int(round(miss_ratio * T))


@pytest.fixture(scope="module", params=TRACES, ids=[t[0] for t in TRACES])
def trace_file(request, tmp_path_factory):
    name, prefix = request.param
    x = tr.load_real_trace(name)[:prefix]
    path = tmp_path_factory.mktemp("lcs") / f"{name}.oracleGeneral.bin"
    write_oracle_general(x, path)
    return x, path


@pytest.mark.parametrize("capacity", CAPACITIES)
def test_lru_fifo_belady_equal_libcachesim(trace_file, capacity):
    x, path = trace_file
    T = len(x)
    assert online_algs.run(LRU(capacity=capacity), x).misses == lcs_misses(lcs.LRU, path, capacity, T)
    assert online_algs.run(FIFO(capacity=capacity), x).misses == lcs_misses(lcs.FIFO, path, capacity, T)
    b = lcs_misses(lcs.Belady, path, capacity, T)
    assert belady_misses(x, capacity) == b
    assert b < online_algs.run(LRU(capacity=capacity), x).misses  # the oracle really was read


def test_clock_lfu_arc_equal_libcachesim(trace_file):
    x, path = trace_file
    T = len(x)
    for ours, theirs in ((CLOCK, lcs.Clock), (LFU, lcs.LFU), (ARC, lcs.ARC)):
        assert online_algs.run(ours(capacity=100), x).misses == lcs_misses(theirs, path, 100, T), ours.__name__


def test_synthetic_zipf_equal_libcachesim(tmp_path):
    x = tr.zipf_trace(2000, 50_000, alpha=0.9, seed=11)
    path = tmp_path / "zipf.oracleGeneral.bin"
    write_oracle_general(x, path)
    for capacity in (16, 256):
        assert online_algs.run(LRU(capacity=capacity), x).misses == lcs_misses(lcs.LRU, path, capacity, len(x))
        assert belady_misses(x, capacity) == lcs_misses(lcs.Belady, path, capacity, len(x))
