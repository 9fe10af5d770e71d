"""The HDF5 store: round trips, layout, atomic writes, CLI convert/train, and bad stores."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from xlsa17_files import (
    TINY_NAMES,
    assert_cli_refuses,
    assert_one_line,
    tiny_arrays,
    write_pair,
    write_v73,
)

from zsl_toolkit.cli import cli
from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.data.hdf5 import FORMAT_VERSION, load_h5, save_h5
from zsl_toolkit.data.synthetic import Toy
from zsl_toolkit.data.xlsa17 import load_xlsa17
from zsl_toolkit.errors import DataError


def assert_equal_data(a: ZSLData, b: ZSLData) -> None:
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.class_embeddings, b.class_embeddings)
    assert a.class_names == b.class_names
    assert list(a.splits) == list(b.splits)  # same splits, in the same order
    for k in a.splits:
        np.testing.assert_array_equal(a.splits[k], b.splits[k])
    assert (a.name, a.source, a.extra) == (b.name, b.source, b.extra)


def test_round_trip_keeps_everything(tmp_path):
    data = Toy().load()
    data.class_names[1] = "Größe 2"  # non-ASCII names survive
    data.splits["val"] = data.splits["trainval"][:5]
    path = tmp_path / "toy.h5"
    save_h5(data, path)
    loaded = load_h5(path)
    assert_equal_data(data, loaded)
    assert loaded.features.dtype == np.float32 and loaded.features.flags.c_contiguous


def test_store_layout_is_contiguous_uncompressed(tmp_path):
    path = tmp_path / "toy.h5"
    save_h5(Toy().load(), path)
    with h5py.File(path) as h5:
        assert h5.attrs["format_version"] == FORMAT_VERSION
        for key in ("features", "labels", "class_embeddings"):
            assert h5[key].chunks is None and h5[key].compression is None
        assert h5["features"].dtype == np.float32
        assert set(h5["splits"]) == {"trainval", "test_seen", "test_unseen"}


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "store.h5"
    save_h5(Toy().load(), path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("disk died")

    monkeypatch.setattr(h5py.Group, "create_dataset", boom)
    with pytest.raises(RuntimeError):
        save_h5(Toy().load(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["store.h5"]  # no temporary file left


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("fmt", ["v5", "v73"])
def test_cli_convert_info_and_train_on_store(tmp_path, fmt):
    res, sem = tiny_arrays()
    folder = write_pair(tmp_path / "TINY", res, sem, TINY_NAMES, fmt=fmt)
    store = tmp_path / "tiny.h5"
    result = _run("data", "convert", str(folder), str(store))
    assert result.exit_code == 0, result.output
    assert store.is_file() and "48 samples, 6 classes" in result.output
    assert_equal_data(load_h5(store), load_xlsa17(folder))

    info = _run("data", "info", str(store))
    assert info.exit_code == 0, info.output
    assert "samples:     48" in info.output and "6 (4 seen, 2 unseen)" in info.output
    assert "source:      " + str(folder / "res101.mat") in info.output

    metrics = []
    for name, dataset in (("from-store", store), ("from-folder", folder)):
        out = tmp_path / name
        result = _run("train", "-m", "eszsl", "-d", str(dataset), "-o", str(out), "-q")
        assert result.exit_code == 0, result.output
        metrics.append(json.loads((out / "metrics.json").read_text()))
    for ev in ("gzsl", "zsl", "calibrated"):  # the store trains exactly like its source
        assert metrics[0][ev] == metrics[1][ev]


def test_cli_convert_digits(tmp_path):
    store = tmp_path / "sub" / "digits.h5"
    result = _run("data", "convert", "digits", str(store))
    assert result.exit_code == 0, result.output
    data = load_h5(store)
    assert data.name == "digits" and data.source == "scikit-learn load_digits"
    assert data.features.shape == (1797, 64)


# ---------------------------------------------------------------------------- bad stores
def _good_store(tmp_path: Path) -> Path:
    path = tmp_path / "store.h5"
    save_h5(Toy().load(), path)
    return path


def _edit(fn):
    def edit(path: Path) -> None:
        with h5py.File(path, "a") as h5:
            fn(h5)

    return edit


def _mat73(path: Path) -> None:
    res, _ = tiny_arrays()
    path.unlink()
    write_v73(path, res)


def _absurd(h5: h5py.File) -> None:
    del h5["features"]
    h5.create_dataset("features", shape=(10**6, 1000), dtype="f4")  # never written


def _text_features(h5: h5py.File) -> None:
    del h5["features"]
    h5.create_dataset("features", data=np.array([["a", "b"]], dtype=h5py.string_dtype()))


def _labels_out_of_range(h5: h5py.File) -> None:
    h5["labels"][0] = 99


BAD_STORES = {
    "missing-file": (lambda p: p.unlink(), ["store.h5", "no such file", "zsl data convert"]),
    "not-hdf5": (lambda p: p.write_text("hello"), ["store.h5", "not an HDF5 file"]),
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[:4000]), ["store.h5", "cannot open"]),
    "matlab-v73-file": (_mat73, ["store.h5", "not a zsl-toolkit store", "features, labels"]),
    "wrong-version": (_edit(lambda h5: h5.attrs.__setitem__("format_version", 99)), ["store.h5", "format_version 99"]),
    "missing-key": (_edit(lambda h5: h5.__delitem__("labels")), ["store.h5", "missing 'labels'", "keys found"]),
    "absurd-size": (_edit(_absurd), ["store.h5", "'features'", "declares"]),
    "invalid-content": (_edit(_labels_out_of_range), ["store.h5", "labels must lie in"]),
    "text-features": (_edit(_text_features), ["store.h5", "'features'", "expected numbers"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_STORES))
def test_bad_store(tmp_path, case):
    edit, fragments = BAD_STORES[case]
    path = _good_store(tmp_path)
    edit(path)
    with pytest.raises(DataError) as info:
        load_h5(path)
    assert_one_line(info.value, fragments)
    assert_cli_refuses(path, tmp_path, fragments)
