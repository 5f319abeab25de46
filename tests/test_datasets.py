import numpy as np
import pytest

from online_algs import datasets
from online_algs.exceptions import DataError, InvalidInputError


@pytest.mark.parametrize("name", ["web07", "web12", "cloudphysics"])
def test_traces_load_and_remap(name):
    t = datasets.load_trace(name)
    assert t.dtype == np.int64 and t.ndim == 1 and len(t) == datasets.TRACES[name][1]
    # ids remapped to 0..N-1 in order of first appearance
    first = np.unique(t, return_index=True)[1]
    assert t.min() == 0 and np.all(np.diff(t[np.sort(first)]) == 1)
    raw = datasets.load_trace_raw(name)
    assert len(np.unique(raw)) == t.max() + 1
    with pytest.raises(ValueError):
        t[0] = 5  # read-only


def test_trace_counts_match_readme():
    assert datasets.load_trace("web07").max() + 1 == 20_484
    assert datasets.load_trace("web12").max() + 1 == 13_756
    assert datasets.load_trace("cloudphysics").max() + 1 == 48_974


def test_mnist():
    X, y = datasets.load_mnist()
    assert X.shape == (10000, 784) and X.dtype == np.uint8
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_movielens():
    ml = datasets.load_movielens()
    assert len(ml["rating"]) == 100_836
    assert np.all(np.diff(ml["timestamp"]) >= 0)
    assert ml["user"].max() + 1 == 610 and ml["item"].max() + 1 == 9_724


def test_unknown_name():
    with pytest.raises(InvalidInputError, match="one of"):
        datasets.load_trace("nope")


def test_damaged_and_missing_files(tmp_path, monkeypatch):
    rel = "cache2k-traces/web07.trace.xz"
    bad = tmp_path / rel
    bad.parent.mkdir(parents=True)
    data = datasets.data_path(rel).read_bytes()
    bad.write_bytes(data[:-10] + b"0123456789")
    with pytest.raises(DataError, match="damaged"):
        datasets.verify(rel, data_dir=tmp_path)
    with pytest.raises(DataError, match="missing"):
        datasets.verify("cache2k-traces/web12.trace.xz", data_dir=tmp_path)


def test_unknown_trace_name_names_load_trace():
    # UAT 18: the message named the internal load_trace_raw
    with pytest.raises(InvalidInputError, match=r"'name' parameter of load_trace must be one of .*web07"):
        datasets.load_trace("web99")
