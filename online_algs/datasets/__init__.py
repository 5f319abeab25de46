"""Bundled real data sets, with checksums verified on load.

| name | what | license |
|---|---|---|
| ``web07``, ``web12``, ``orm-busy`` | cache2k request traces (keys) | CC BY 4.0, headissue GmbH, Jens Wilke |
| ``cloudphysics`` | CloudPhysics block I/O trace sample (libCacheSim) | CC BY 4.0 (cacheMon/cache_dataset); cite SHARDS (FAST '15) |
| ``mnist`` | MNIST test split, 10,000 x 784 uint8 + labels | CC BY-SA 3.0 (LeCun, Cortes) |
| ``movielens`` | MovieLens ml-latest-small ratings with timestamps | GroupLens research-only license |

Each folder under ``online_algs/datasets/data/`` keeps the source's README with origin,
license text and attribution; files are byte-identical to their sources. Loaders verify
the sha256 of each file the first time it is read in a process and raise
:class:`~online_algs.exceptions.DataError` saying what is wrong (missing, damaged) and how
to fix it.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import lzma
from pathlib import Path

import numpy as np

from ..exceptions import DataError
from .._validation import check_choice

__all__ = ["DATA_DIR", "TRACES", "FILES", "load_trace", "load_trace_raw", "load_cloudphysics", "load_mnist",
           "load_movielens", "verify", "data_path", "describe"]

DATA_DIR = Path(__file__).resolve().parent / "data"

#: relative path -> sha256 of every bundled data file
FILES = {
    "cache2k-traces/web07.trace.xz": "e50bb13aa66d1cc71877c8ea92c577be0d0ab5b2b4f7a16c87046af1097bd46a",
    "cache2k-traces/web12.trace.xz": "a76c78e129a982fe17055d0a291ebf385e7a0aa7964bd091d006bcde862bcdad",
    "cache2k-traces/orm-busy.trace.xz": "0b1d6593387d713c98cc20a5b8c4128eaa983f94dcd70069b032dc1af9c2ceb3",
    "cache2k-traces/LICENSE.txt": "5869f333210502270a435a9b46118276fcf90164fa959ca4a2eb88dbbaab7882",
    "cloudphysics-sample/cloudPhysicsIO.csv": "987ff2213050e47d24e8ba6e010d4b3127e51aafef6a76a8a6d43d13b9156fa1",
    "mnist-t10k/t10k-images-idx3-ubyte.gz": "9fe7630f90c0e670227960a294637bc2e78a29d724810e24204eb342c9f033a1",
    "mnist-t10k/t10k-labels-idx1-ubyte.gz": "2c54c993d38068b3c3adb720a5cdee07065a066a7b36e7d1df720548d6359eba",
    "movielens-latest-small/ratings.csv": "80da8b3393dae325bbba5a31f291a6ba55d8d4f4396de3c456f2c1635b1b70e8",
    "movielens-latest-small/movies.csv": "c47b783f23eb304413307e1bb05335e427737da20ec8d3c0e96335567dd5f3dc",
    "movielens-latest-small/tags.csv": "68eec00a0820c2faa8863a6df7032f13d5899a4462bce9a97213905297ff3d34",
}

#: trace name -> (file, expected number of requests)
TRACES = {
    "web07": ("cache2k-traces/web07.trace.xz", 76_118),
    "web12": ("cache2k-traces/web12.trace.xz", 95_607),
    "orm-busy": ("cache2k-traces/orm-busy.trace.xz", 5_000_000),
    "cloudphysics": ("cloudphysics-sample/cloudPhysicsIO.csv", 113_872),
}

_VERIFIED: set[str] = set()


def data_path(rel: str, data_dir: Path | None = None) -> Path:
    return Path(data_dir or DATA_DIR) / rel


def verify(rel: str, data_dir: Path | None = None) -> Path:
    """Check that bundled file ``rel`` exists and has its recorded sha256; return its path."""
    path = data_path(rel, data_dir)
    key = str(path)
    if key in _VERIFIED:
        return path
    if rel not in FILES:
        raise DataError(f"{rel!r} is not a bundled data file. Known files: {sorted(FILES)}.")
    if not path.is_file():
        raise DataError(f"Data file {path} is missing. It ships with the package: restore it with "
                        f"`git checkout -- {path.relative_to(path.parents[3]) if len(path.parents) > 3 else path}` "
                        f"or reinstall online_algs.")
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    got = h.hexdigest()
    if got != FILES[rel]:
        raise DataError(f"Data file {path} is damaged: sha256 {got} != expected {FILES[rel]} "
                        f"(size {path.stat().st_size} bytes). Restore it from the repository (git checkout) "
                        f"or reinstall online_algs; do not edit bundled data in place.")
    _VERIFIED.add(key)
    return path


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@functools.lru_cache(maxsize=8)
def load_trace_raw(name: str) -> np.ndarray:
    """The raw object keys of a bundled trace (uint32 for cache2k, block numbers for cloudphysics)."""
    check_choice("name", name, TRACES, owner="load_trace_raw")
    rel, expected = TRACES[name]
    path = verify(rel)
    if rel.endswith(".xz"):
        try:
            raw = lzma.open(path).read()
        except lzma.LZMAError as exc:  # pragma: no cover - checksum catches this first
            raise DataError(f"{path} is not a valid xz file ({exc}); restore it.") from exc
        if len(raw) % 4:
            raise DataError(f"{path} decompresses to {len(raw)} bytes, not a multiple of 4; restore it.")
        keys = np.frombuffer(raw, dtype=">u4").astype(np.int64)
    else:
        keys = load_cloudphysics()["lbn"].astype(np.int64)
    if len(keys) != expected:
        raise DataError(f"Trace {name!r} has {len(keys)} requests, expected {expected}; restore {path}.")
    return _readonly(keys)


@functools.lru_cache(maxsize=8)
def load_trace(name: str) -> np.ndarray:
    """A bundled request trace as int64 ids remapped to ``0..N-1`` in order of first appearance.

    Names: ``"web07"``, ``"web12"``, ``"orm-busy"``, ``"cloudphysics"``. The array is read-only.
    """
    check_choice("name", name, TRACES, owner="load_trace")
    keys = load_trace_raw(name)
    _, first_idx, inverse = np.unique(keys, return_index=True, return_inverse=True)
    # rank unique keys by first appearance
    order = np.argsort(first_idx, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return _readonly(rank[inverse].astype(np.int64))


@functools.lru_cache(maxsize=1)
def load_cloudphysics() -> dict:
    """The CloudPhysics sample as columns ``time``, ``op`` (0x28 read, 0x2a write), ``size``, ``lbn``."""
    path = verify("cloudphysics-sample/cloudPhysicsIO.csv")
    try:
        with open(path) as f:
            header = f.readline().strip()
            if header != "version,time,op,size,lbn":
                raise DataError(f"{path}: unexpected header {header!r}; restore the file.")
            rows = [line.rstrip("\n").split(",") for line in f if line.strip()]
        time = np.array([int(r[1]) for r in rows], dtype=np.int64)
        op = np.array([int(r[2], 16) for r in rows], dtype=np.int64)
        size = np.array([int(r[3]) for r in rows], dtype=np.int64)
        lbn = np.array([int(r[4]) for r in rows], dtype=np.int64)
    except (ValueError, IndexError) as exc:
        raise DataError(f"{path} is malformed ({exc}); restore it.") from exc
    return {k: _readonly(v) for k, v in dict(time=time, op=op, size=size, lbn=lbn).items()}


@functools.lru_cache(maxsize=1)
def load_mnist() -> tuple[np.ndarray, np.ndarray]:
    """MNIST test split: ``X`` uint8 of shape (10000, 784) and labels ``y`` int64 of shape (10000,)."""
    ip = verify("mnist-t10k/t10k-images-idx3-ubyte.gz")
    lp = verify("mnist-t10k/t10k-labels-idx1-ubyte.gz")
    img = gzip.open(ip).read()
    lab = gzip.open(lp).read()
    if int.from_bytes(img[:4], "big") != 2051 or int.from_bytes(lab[:4], "big") != 2049:
        raise DataError("MNIST files have wrong IDX magic numbers; restore them.")
    X = np.frombuffer(img, np.uint8, offset=16).reshape(-1, 784).copy()
    y = np.frombuffer(lab, np.uint8, offset=8).astype(np.int64)
    if X.shape[0] != 10000 or y.shape[0] != 10000:
        raise DataError(f"MNIST has {X.shape[0]} images and {y.shape[0]} labels, expected 10000; restore them.")
    return _readonly(X), _readonly(y)


@functools.lru_cache(maxsize=1)
def load_movielens() -> dict:
    """MovieLens ml-latest-small ratings sorted by time (stable), as arrays.

    Keys: ``user`` (0..609), ``item`` (0..N-1, remapped by first rating in time),
    ``movie_id`` (the original movieId), ``rating`` (float), ``timestamp`` (int seconds).
    """
    path = verify("movielens-latest-small/ratings.csv")
    try:
        a = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"{path} is malformed ({exc}); restore it.") from exc
    user, movie, rating, ts = a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), a[:, 2], a[:, 3].astype(np.int64)
    order = np.argsort(ts, kind="stable")
    user, movie, rating, ts = user[order], movie[order], rating[order], ts[order]
    _, first_idx, inv = np.unique(movie, return_index=True, return_inverse=True)
    o = np.argsort(first_idx, kind="stable")
    rank = np.empty_like(o)
    rank[o] = np.arange(len(o))
    _, uinv = np.unique(user, return_inverse=True)
    out = dict(user=uinv.astype(np.int64), item=rank[inv].astype(np.int64), movie_id=movie, rating=rating,
               timestamp=ts)
    return {k: _readonly(v) for k, v in out.items()}


def describe() -> str:
    """A Markdown table of the bundled data sets with counts and licenses."""
    rows = ["| data set | requests / rows | distinct | license |", "|---|---:|---:|---|"]
    lic = {"web07": "CC BY 4.0 (headissue GmbH, Jens Wilke)", "web12": "CC BY 4.0 (headissue GmbH, Jens Wilke)",
           "orm-busy": "CC BY 4.0 (headissue GmbH, Jens Wilke)",
           "cloudphysics": "CC BY 4.0 via cacheMon/cache_dataset; libCacheSim sample"}
    for name in TRACES:
        t = load_trace(name)
        rows.append(f"| {name} | {len(t):,} | {int(t.max()) + 1:,} | {lic[name]} |")
    X, y = load_mnist()
    rows.append(f"| mnist (t10k) | {len(X):,} x 784 | 10 classes | CC BY-SA 3.0 (LeCun, Cortes) |")
    ml = load_movielens()
    rows.append(f"| movielens (ml-latest-small) | {len(ml['rating']):,} | {int(ml['item'].max()) + 1:,} items | "
                f"GroupLens research-only |")
    return "\n".join(rows)
