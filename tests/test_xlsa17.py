"""The xlsa17 loader: MATLAB v5 and v7.3 files, the real split files, and every bad input."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io
from xlsa17_files import (
    SPLITS,
    TINY_NAMES,
    TINY_UNSEEN,
    assert_cli_refuses,
    assert_one_line,
    labels_for_splits,
    shared,
    tiny_arrays,
    write_pair,
    write_v5,
    write_v73,
)

from zsl_toolkit.data.xlsa17 import load_xlsa17
from zsl_toolkit.errors import DataError


def assert_same(data, res, sem, names):
    """The loaded data equal the file's arrays under the xlsa17 -> 0-based conversion."""
    np.testing.assert_array_equal(data.features, res["features"].T.astype(np.float32))
    np.testing.assert_array_equal(data.labels, res["labels"].ravel().astype(int) - 1)
    np.testing.assert_allclose(data.class_embeddings, sem["att"].T, rtol=1e-6)
    assert data.class_names == names
    for split, key in (("trainval", "trainval_loc"), ("test_seen", "test_seen_loc")):
        np.testing.assert_array_equal(data.splits[split], sem[key].ravel().astype(int) - 1)
    np.testing.assert_array_equal(
        data.splits["test_unseen"], sem["test_unseen_loc"].ravel().astype(int) - 1
    )


# ---------------------------------------------------------------------------- valid files
@pytest.mark.parametrize("fmt", ["v5", "v73"])
def test_tiny_folder_loads(tmp_path, fmt):
    res, sem = tiny_arrays()
    folder = write_pair(tmp_path / "TINY", res, sem, TINY_NAMES, fmt=fmt)
    data = load_xlsa17(folder)
    assert_same(data, res, sem, TINY_NAMES)
    assert data.unseen_classes.tolist() == list(TINY_UNSEEN)
    assert data.seen_classes.tolist() == [1, 3, 4, 5]
    assert data.name == "tiny" and "res101.mat" in data.source
    assert data.features.flags.c_contiguous and data.features.dtype == np.float32
    assert data.extra["format"] == ("MATLAB v5" if fmt == "v5" else "MATLAB v7.3")


def test_v73_without_userblock_loads_like_with_it(tmp_path):
    res, sem = tiny_arrays()
    with_header = write_pair(tmp_path / "A", res, sem, TINY_NAMES, fmt="v73")
    bare = tmp_path / "B"
    bare.mkdir()
    write_v73(bare / "res101.mat", res, userblock=False)
    write_v73(bare / "att_splits.mat", sem, {"allclasses_names": TINY_NAMES}, userblock=False)
    assert (with_header / "res101.mat").read_bytes()[:19] == b"MATLAB 7.3 MAT-file"
    assert (bare / "res101.mat").read_bytes()[:4] == b"\x89HDF"
    a, b = load_xlsa17(with_header), load_xlsa17(bare)
    np.testing.assert_array_equal(a.features, b.features)
    assert a.class_names == b.class_names == TINY_NAMES
    assert_same(b, res, sem, TINY_NAMES)


def test_v73_char_matrix_names(tmp_path):
    res, sem = tiny_arrays()
    folder = write_pair(tmp_path / "T", res, sem, None, fmt="v73")
    width = max(map(len, TINY_NAMES)) + 2
    chars = np.array([[ord(c) for c in n.ljust(width)] for n in TINY_NAMES], dtype=np.uint16)
    with h5py.File(folder / "att_splits.mat", "a") as h5:
        dset = h5.create_dataset("allclasses_names", data=chars.T)  # MATLAB C x width
        dset.attrs["MATLAB_class"] = np.bytes_("char")
    assert load_xlsa17(folder).class_names == TINY_NAMES


@pytest.mark.parametrize("fmt", ["v5", "v73"])
def test_without_names_and_with_train_val(tmp_path, fmt):
    res, sem = tiny_arrays()
    sem["train_loc"] = sem["trainval_loc"][:10]
    sem["val_loc"] = sem["trainval_loc"][10:]
    data = load_xlsa17(write_pair(tmp_path / "T", res, sem, None, fmt=fmt))
    assert data.class_names == [f"class_{k:03d}" for k in range(1, 7)]
    np.testing.assert_array_equal(data.splits["train"], sem["trainval_loc"][:10].ravel() - 1)
    np.testing.assert_array_equal(data.splits["val"], sem["trainval_loc"][10:].ravel() - 1)


def test_class_columns_without_images_are_dropped(tmp_path):
    res, sem = tiny_arrays()
    extra = np.random.default_rng(1).random((4, 2))
    # Insert two image-less classes at columns 3 and 8 (1-based) and shift labels around them.
    att = np.concatenate([sem["att"][:, :2], extra[:, :1], sem["att"][:, 2:], extra[:, 1:]], 1)
    old = res["labels"].ravel().astype(int)
    res["labels"] = np.where(old >= 3, old + 1, old).astype(np.float64)[:, None]
    sem["att"] = att
    data = load_xlsa17(write_pair(tmp_path / "T", res, sem, None))
    kept = [1, 2, 4, 5, 6, 7]  # 1-based columns that have images
    assert data.n_classes == 6
    assert data.class_names == [f"class_{k:03d}" for k in kept]
    np.testing.assert_allclose(data.class_embeddings, att[:, [k - 1 for k in kept]].T, rtol=1e-6)
    names_of_labels = [int(data.class_names[y][6:]) for y in data.labels]
    assert names_of_labels == res["labels"].ravel().astype(int).tolist()
    assert data.extra["dropped_classes"] == "2"


# ---------------------------------------------------------------------------- real files
# name: (n_seen, n_unseen, (trainval, test_seen, test_unseen), d2) from the data README.
REAL = {
    "CUB": (150, 50, (7057, 1764, 2967), 312),
    "AWA1": (40, 10, (19832, 4958, 5685), 85),
    "AWA2": (40, 10, (23527, 5882, 7913), 85),
    "SUN": (645, 72, (10320, 2580, 1440), 102),
    "APY": (20, 12, (5932, 1483, 7924), 64),
    "FLO": (82, 20, (5631, 1403, 1155), 1024),
}


def _class_list(folder: Path, name: str) -> list[str]:
    return [s.strip() for s in (folder / name).read_text().splitlines() if s.strip()]


def _pair_with_real(tmp_path: Path, ds: str, semantic: str = "att_splits.mat"):
    """A folder with the real semantic file and a generated res101.mat agreeing with it."""
    real = shared(ds)
    sem = scipy.io.loadmat(str(real / semantic))
    n = max(int(sem[k].max()) for k in SPLITS)
    n_cls = sem["att"].shape[1]
    if "allclasses_names" in sem and (real / "trainvalclasses.txt").is_file():
        names = [str(c[0][0]) for c in sem["allclasses_names"]]
        seen_names = set(_class_list(real, "trainvalclasses.txt"))
        seen = np.array([i + 1 for i, nm in enumerate(names) if nm in seen_names])
        unseen = np.array([i + 1 for i, nm in enumerate(names) if nm not in seen_names])
    else:  # FLO: no class lists; the unseen count is the published one
        perm = np.random.default_rng(0).permutation(n_cls) + 1
        seen, unseen = np.sort(perm[20:]), np.sort(perm[:20])
    labels = labels_for_splits(sem, seen, unseen, n)
    folder = tmp_path / ds
    folder.mkdir()
    write_v5(folder / "res101.mat", {"features": np.ones((3, n)), "labels": labels[:, None]})
    (folder / semantic).symlink_to(real / semantic)
    return folder, sem, seen


@pytest.mark.parametrize("ds", sorted(REAL))
def test_real_att_splits(tmp_path, ds):
    n_seen, n_unseen, sizes, d2 = REAL[ds]
    folder, sem, seen = _pair_with_real(tmp_path, ds)
    data = load_xlsa17(folder)
    assert (data.seen_classes.size, data.unseen_classes.size) == (n_seen, n_unseen)
    assert tuple(data.splits[k].size for k in ("trainval", "test_seen", "test_unseen")) == sizes
    assert data.embedding_dim == d2 and data.n_classes == n_seen + n_unseen
    np.testing.assert_array_equal(data.seen_classes, np.sort(seen) - 1)
    np.testing.assert_allclose(data.class_embeddings, sem["att"].T, rtol=1e-6)
    # seen classes are not the first block in the file's class order
    assert data.seen_classes.tolist() != list(range(n_seen))
    if ds != "FLO":
        assert set(np.array(data.class_names)[data.unseen_classes]) == set(
            _class_list(shared(ds), "testclasses.txt")
        )
    if ds == "CUB":
        assert data.class_names[0] == "002.Laysan_Albatross"
        assert "train" not in data.splits  # CUB's att_splits.mat has no train_loc/val_loc


def test_real_cub_sentences(tmp_path):
    folder, sem, _ = _pair_with_real(tmp_path, "CUB", "sent_splits.mat")
    data = load_xlsa17(folder, semantic="sent_splits.mat")
    assert data.embedding_dim == 1024 and data.n_classes == 200
    assert (data.seen_classes.size, data.unseen_classes.size) == (150, 50)
    assert (data.splits["train"].size, data.splits["val"].size) == (5875, 2946)
    assert data.extra["semantic"] == "sent_splits.mat"


def test_real_cub_as_v73_matches_v5(tmp_path):
    folder, sem, _ = _pair_with_real(tmp_path, "CUB")
    names = [str(c[0][0]) for c in sem["allclasses_names"]]
    v73 = tmp_path / "CUB73"
    v73.mkdir()
    res = scipy.io.loadmat(str(folder / "res101.mat"))
    write_v73(v73 / "res101.mat", {"features": res["features"], "labels": res["labels"]})
    arrays = {k: sem[k] for k in ("att", *SPLITS)}
    write_v73(v73 / "att_splits.mat", arrays, {"allclasses_names": names})
    a, b = load_xlsa17(folder), load_xlsa17(v73)
    assert a.class_names == b.class_names == names
    np.testing.assert_array_equal(a.class_embeddings, b.class_embeddings)
    for k in a.splits:
        np.testing.assert_array_equal(a.splits[k], b.splits[k])


def test_real_snu36_complete_set():
    folder = shared("SNU36")
    data = load_xlsa17(folder)
    assert data.n_classes == 169
    assert (data.seen_classes.size, data.unseen_classes.size) == (135, 34)
    assert {k: v.size for k, v in data.splits.items()} == {
        "trainval": 5400,
        "test_seen": 1350,
        "test_unseen": 1700,
        "train": 4080,
        "val": 1320,
    }
    assert data.feature_dim == 128 and data.embedding_dim == 7
    raw = scipy.io.loadmat(str(folder / "res101.mat"))
    np.testing.assert_array_equal(data.features, raw["features"].T.astype(np.float32))
    # default names keep the file's 1-based class number, so labels map back exactly
    assert [int(data.class_names[y][6:]) for y in data.labels] == raw["labels"].ravel().tolist()
    att = scipy.io.loadmat(str(folder / "att_splits.mat"))["att"]
    used = np.unique(raw["labels"]) - 1
    np.testing.assert_array_equal(data.class_embeddings, att[:, used].T.astype(np.float32))


# ---------------------------------------------------------------------------- bad input
def _set(which: str, key: str, value):
    def edit(res, sem):
        (res if which == "res" else sem)[key] = value(res, sem)

    return edit


def _rename(which: str, old: str, new: str):
    def edit(res, sem):
        d = res if which == "res" else sem
        d[new] = d.pop(old)

    return edit


def _with_nan(res, sem):
    res["features"][2, 7] = np.nan


def _with_inf(res, sem):
    res["features"][0, 3] = np.inf


def _overlap(res, sem):
    # A seen-class image (from test_seen) appears in test_unseen.
    sem["test_unseen_loc"] = np.concatenate([sem["test_unseen_loc"], sem["test_seen_loc"][:1]])


def _zero_based_splits(res, sem):
    for key in SPLITS:
        sem[key] = sem[key] - 1


def _bad_label(value):
    def edit(res, sem):
        res["labels"][5, 0] = value

    return edit


# id: (edit of the tiny arrays, substrings the one-line message must contain)
ARRAY_CASES = {
    "misnamed-features": (_rename("res", "features", "feature"), ["res101.mat", "'features'", "keys found", "feature"]),
    "missing-labels": (_rename("res", "labels", "label_ids"), ["res101.mat", "'labels'", "keys found"]),
    "misnamed-att": (_rename("sem", "att", "attributes"), ["att_splits.mat", "'att'", "attributes"]),
    "missing-split": (_rename("sem", "test_unseen_loc", "unseen_loc"), ["att_splits.mat", "'test_unseen_loc'"]),
    "features-transposed": (_set("res", "features", lambda r, s: r["features"].T.copy()), ["res101.mat", "'features'", "transposed"]),
    "features-wrong-count": (_set("res", "features", lambda r, s: r["features"][:, :-3]), ["res101.mat", "'features'", "'labels' has 48"]),
    "labels-matrix": (_set("res", "labels", lambda r, s: np.ones((48, 2))), ["res101.mat", "'labels'", "N x 1"]),
    "labels-zero-based": (_set("res", "labels", lambda r, s: r["labels"] - 1), ["res101.mat", "'labels'", "contains 0", "1-based"]),
    "labels-negative": (_bad_label(-2), ["res101.mat", "'labels'", "out of range"]),
    "labels-beyond-att": (_bad_label(9), ["att_splits.mat", "'att'", "6 class columns", "go up to 9"]),
    "labels-fractional": (_bad_label(2.5), ["res101.mat", "'labels'", "non-integer"]),
    "index-out-of-range": (_set("sem", "test_unseen_loc", lambda r, s: s["test_unseen_loc"] + 40), ["att_splits.mat", "'test_unseen_loc'", "out of range", "48"]),
    "indices-zero-based": (_zero_based_splits, ["att_splits.mat", "_loc'", "contains 0", "1-based"]),
    "split-empty": (_set("sem", "test_seen_loc", lambda r, s: np.zeros((0, 0))), ["att_splits.mat", "'test_seen_loc'", "empty"]),
    "split-matrix": (_set("sem", "trainval_loc", lambda r, s: np.ones((4, 3))), ["att_splits.mat", "'trainval_loc'", "N x 1"]),
    "att-transposed": (_set("sem", "att", lambda r, s: s["att"].T.copy()), ["att_splits.mat", "'att'", "transposed"]),
    "att-too-few-classes": (_set("sem", "att", lambda r, s: s["att"][:, :5]), ["att_splits.mat", "'att'", "5 class columns"]),
    "features-nan": (_with_nan, ["res101.mat", "NaN"]),
    "features-inf": (_with_inf, ["res101.mat", "Inf"]),
    "seen-unseen-overlap": (_overlap, ["att_splits.mat", "overlap"]),
}  # fmt: skip
NAMELESS = {"att-transposed-no-names", "att-too-few-no-names"}
ARRAY_CASES["att-transposed-no-names"] = ARRAY_CASES["att-transposed"]
ARRAY_CASES["att-too-few-no-names"] = (
    ARRAY_CASES["att-too-few-classes"][0],
    ["att_splits.mat", "'att'", "5 class columns", "go up to 6"],
)


@pytest.mark.parametrize("fmt", ["v5", "v73"])
@pytest.mark.parametrize("case", sorted(ARRAY_CASES))
def test_bad_arrays(tmp_path, case, fmt):
    edit, fragments = ARRAY_CASES[case]
    res, sem = tiny_arrays()
    edit(res, sem)
    names = None if case in NAMELESS else TINY_NAMES
    folder = write_pair(tmp_path / "BAD", res, sem, names, fmt=fmt)
    with pytest.raises(DataError) as info:
        load_xlsa17(folder)
    assert_one_line(info.value, fragments)
    assert_cli_refuses(folder, tmp_path, fragments)


def _good(tmp_path: Path, fmt: str = "v5") -> Path:
    res, sem = tiny_arrays()
    return write_pair(tmp_path / "BAD", res, sem, TINY_NAMES, fmt=fmt)


def _truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _absurd_v5(path: Path) -> None:
    """Rewrite ``features``' dimensions in an uncompressed v5 file to 100000 x 100000."""
    data = path.read_bytes()
    dims = struct.pack("<ii", 5, 48)
    assert data.count(dims) == 1
    path.write_bytes(data.replace(dims, struct.pack("<ii", 100000, 100000)))


def _absurd_v5_compressed(path: Path) -> None:
    """Same, inside a zlib-compressed variable: decompress, patch, recompress, re-tag."""
    res, _ = tiny_arrays()
    scipy.io.savemat(str(path), res, do_compression=True)
    data = bytearray(path.read_bytes())
    pos, out = 128, bytes(data[:128])
    while pos < len(data):
        mdtype, nbytes = struct.unpack("<II", data[pos : pos + 8])
        payload = bytes(data[pos + 8 : pos + 8 + nbytes])
        if mdtype == 15:
            inner = zlib.decompress(payload)
            dims = struct.pack("<ii", 5, 48)
            if dims in inner:
                inner = inner.replace(dims, struct.pack("<ii", 100000, 100000))
            payload = zlib.compress(inner)
        out += struct.pack("<II", mdtype, len(payload)) + payload
        pos += 8 + nbytes
    path.write_bytes(out)


def _absurd_v73(path: Path) -> None:
    """A v7.3 'features' declaring 100000 x 48 doubles that were never written."""
    res, _ = tiny_arrays()
    write_v73(path, {"labels": res["labels"]})
    with h5py.File(path, "a") as h5:
        dset = h5.create_dataset("features", shape=(48, 100000), dtype="f8")  # MATLAB 1e5 x 48
        dset.attrs["MATLAB_class"] = np.bytes_("double")


# id: (format, edit of the good folder, fragments)
FILE_CASES = {
    "missing-folder": ("v5", lambda f: f.rename(f.with_name("ELSEWHERE")), ["BAD", "no such folder", "res101.mat", "att_splits.mat", "xlsa17"]),
    "missing-res101": ("v5", lambda f: (f / "res101.mat").unlink(), ["missing res101.mat", "att_splits.mat", "xlsa17"]),
    "missing-semantic": ("v5", lambda f: (f / "att_splits.mat").unlink(), ["missing att_splits.mat", "xlsa17"]),
    "not-a-mat": ("v5", lambda f: (f / "res101.mat").write_text("features,labels\n1,2\n"), ["res101.mat", "not a MATLAB .mat file"]),
    "empty-file": ("v5", lambda f: (f / "att_splits.mat").write_bytes(b""), ["att_splits.mat", "empty"]),
    "truncated-v5": ("v5", lambda f: _truncate(f / "res101.mat", 0.6), ["res101.mat", "truncated"]),
    "truncated-v73": ("v73", lambda f: _truncate(f / "res101.mat", 0.6), ["res101.mat", "truncated or corrupt"]),
    "truncated-v73-header-only": ("v73", lambda f: _truncate(f / "res101.mat", 0.01), ["res101.mat"]),
    "absurd-header-v5": ("v5", lambda f: _absurd_v5(f / "res101.mat"), ["res101.mat", "'features'", "declares", "100000 x 100000"]),
    "absurd-header-v5-compressed": ("v5", lambda f: _absurd_v5_compressed(f / "res101.mat"), ["res101.mat", "'features'", "declares"]),
    "absurd-header-v73": ("v73", lambda f: _absurd_v73(f / "res101.mat"), ["res101.mat", "'features'", "declares"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_bad_files(tmp_path, case):
    fmt, edit, fragments = FILE_CASES[case]
    folder = _good(tmp_path, fmt)
    edit(folder)
    with pytest.raises(DataError) as info:
        load_xlsa17(folder)
    assert_one_line(info.value, fragments)
    assert_cli_refuses(folder, tmp_path, fragments)


def test_folder_given_as_a_file_is_refused(tmp_path):
    folder = _good(tmp_path)
    with pytest.raises(DataError) as info:
        load_xlsa17(folder / "res101.mat")
    assert_one_line(info.value, ["res101.mat", "is a file", str(folder)])


def test_unreadable_file_is_a_data_error(tmp_path, monkeypatch):
    folder = _good(tmp_path)
    real_open = open

    def deny(file, *args, **kwargs):
        if str(file).endswith("res101.mat"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    with pytest.raises(DataError) as info:
        load_xlsa17(folder)
    assert_one_line(info.value, ["res101.mat", "cannot read", "Permission denied"])


@pytest.mark.parametrize("fmt", ["v5", "v73"])
def test_complex_features_are_refused(tmp_path, fmt):
    res, sem = tiny_arrays()
    folder = write_pair(tmp_path / "C", res, sem, TINY_NAMES, fmt=fmt)
    path = folder / "res101.mat"
    if fmt == "v5":
        write_v5(path, {"features": res["features"] * (1 + 1j), "labels": res["labels"]})
    else:  # MATLAB stores complex arrays as a compound of real and imag
        with h5py.File(path, "a") as h5:
            del h5["features"]
            pair = np.dtype([("real", "f8"), ("imag", "f8")])
            value = np.zeros(res["features"].T.shape, dtype=pair)
            dset = h5.create_dataset("features", data=value)
            dset.attrs["MATLAB_class"] = np.bytes_("double")
    with pytest.raises(DataError) as info:
        load_xlsa17(folder)
    assert_one_line(info.value, ["res101.mat", "'features'", "expected real numbers"])


@pytest.mark.parametrize("dtype", ["f8", "f4", "u1", "i2"])
@pytest.mark.parametrize("compressed", [False, True])
def test_v5_features_in_blocks_equal_loadmat(tmp_path, monkeypatch, dtype, compressed):
    """Uncompressed v5 features are read block-wise straight to float32; compressed ones go
    through loadmat. Both must equal scipy's own reading of the file."""
    from zsl_toolkit.data import xlsa17

    monkeypatch.setattr(xlsa17, "_BLOCK_BYTES", 64)  # many blocks, a short last one
    res, sem = tiny_arrays()
    res["features"] = (res["features"] * 10).astype(dtype)
    folder = write_pair(tmp_path / "T", res, sem, TINY_NAMES)
    path = folder / "res101.mat"
    scipy.io.savemat(str(path), res, do_compression=compressed)
    expected = scipy.io.loadmat(str(path))["features"].T.astype(np.float32)
    np.testing.assert_array_equal(load_xlsa17(folder).features, expected)
    rows = xlsa17._V5File(path, path.stat().st_size)._float32_rows("features")
    assert (rows is None) == compressed
