"""Writers of xlsa17 folders for the data tests: MATLAB v5 (scipy) and v7.3 (HDF5, as MATLAB
lays it out), a tiny consistent dataset, and res101 labels that agree with real splits."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io
from click.testing import CliRunner

from zsl_toolkit.cli import cli

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "xlsa17"
SPLITS = ("trainval_loc", "test_seen_loc", "test_unseen_loc")


def shared(name: str) -> Path:
    """A real xlsa17 folder beside the repository; skips the test when it is absent."""
    folder = SHARED / name
    if not folder.is_dir():
        pytest.skip(f"real data folder {folder} not present")
    return folder


# ---------------------------------------------------------------------------- writers
def _matlab_class(value: np.ndarray) -> str:
    return {"f8": "double", "f4": "single", "u2": "uint16", "u1": "uint8", "i8": "int64"}.get(
        f"{value.dtype.kind}{value.dtype.itemsize}", "double"
    )


def write_v73(
    path: Path,
    arrays: dict[str, np.ndarray],
    cells: dict[str, list[str]] | None = None,
    userblock: bool = True,
) -> None:
    """Write ``arrays`` (MATLAB orientation) the way MATLAB's ``save -v7.3`` does.

    Each array is stored transposed (HDF5 is row-major, MATLAB column-major) with a
    ``MATLAB_class`` attribute; an empty array is stored as its dimensions with
    ``MATLAB_empty``; a C x 1 cell of strings is a 1 x C dataset of object references to
    uint16 char arrays in ``#refs#``. With ``userblock``, the file starts with MATLAB's 512-byte
    text header ("MATLAB 7.3 MAT-file ...") in front of the HDF5 data.
    """
    with h5py.File(path, "w", userblock_size=512 if userblock else 0) as h5:
        for key, value in arrays.items():
            value = np.asarray(value)
            if value.ndim == 1:
                value = value[:, None]
            if value.size == 0:
                dset = h5.create_dataset(key, data=np.array(value.shape, dtype=np.uint64))
                dset.attrs["MATLAB_empty"] = np.uint8(1)
            else:
                dset = h5.create_dataset(key, data=np.ascontiguousarray(value.T))
            dset.attrs["MATLAB_class"] = np.bytes_(_matlab_class(value))
        refs = h5.create_group("#refs#")
        for key, strings in (cells or {}).items():
            ref_list = []
            for i, text in enumerate(strings):
                codes = np.array([[ord(ch) for ch in text]], dtype=np.uint16)  # MATLAB 1 x len
                target = refs.create_dataset(f"{key}_{i}", data=codes.T)
                target.attrs["MATLAB_class"] = np.bytes_("char")
                target.attrs["MATLAB_int_decode"] = np.int32(2)
                ref_list.append(target.ref)
            cell = h5.create_dataset(key, data=np.array([ref_list]), dtype=h5py.ref_dtype)
            cell.attrs["MATLAB_class"] = np.bytes_("cell")
    if userblock:
        text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 "
        text += b"HDF5 schema 1.00 ."
        header = text.ljust(116) + b"\x00" * 8 + b"\x00\x02IM"
        with open(path, "r+b") as fh:
            fh.write(header)


def write_v5(path: Path, arrays: dict[str, np.ndarray], cells: dict | None = None) -> None:
    """Write with scipy (MATLAB v5); a list of strings becomes a C x 1 cell array."""
    content = dict(arrays)
    for key, strings in (cells or {}).items():
        cell = np.empty((len(strings), 1), dtype=object)
        for i, text in enumerate(strings):
            cell[i, 0] = text
        content[key] = cell
    scipy.io.savemat(str(path), content)


def write_pair(
    folder: Path,
    res: dict[str, np.ndarray],
    sem: dict[str, np.ndarray],
    names: list[str] | None = None,
    fmt: str = "v5",
    semantic: str = "att_splits.mat",
) -> Path:
    """Write ``res101.mat`` and the semantic file into ``folder`` in format v5 or v73."""
    folder.mkdir(parents=True, exist_ok=True)
    cells = {"allclasses_names": names} if names is not None else None
    if fmt == "v5":
        write_v5(folder / "res101.mat", res)
        write_v5(folder / semantic, sem, cells)
    else:
        write_v73(folder / "res101.mat", res)
        write_v73(folder / semantic, sem, cells)
    return folder


# ---------------------------------------------------------------------------- data
TINY_NAMES = ["001.alpha", "002.beta", "003.gamma", "004.delta", "005.epsilon", "006.zeta"]
TINY_UNSEEN = (0, 2)  # 0-based; seen classes are 1, 3, 4, 5: not the first block


def tiny_arrays(seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """A 6-class set (4 seen, 2 unseen), 8 images per class, 5-d features, 4-d attributes,
    in xlsa17 conventions: features d1 x N, labels N x 1 1-based, uint16 1-based locs."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(6), 8))  # 0-based, shuffled
    features = rng.random((5, labels.size)) * 10.0
    att = rng.random((4, 6))
    att /= np.linalg.norm(att, axis=0)
    trainval, test_seen = [], []
    for k in range(6):
        if k in TINY_UNSEEN:
            continue
        rows = np.flatnonzero(labels == k)
        trainval += list(rows[:6])
        test_seen += list(rows[6:])
    unseen_rows = np.flatnonzero(np.isin(labels, TINY_UNSEEN))

    def loc(rows: list[int] | np.ndarray) -> np.ndarray:
        return (np.sort(np.asarray(rows)) + 1).astype(np.uint16)[:, None]

    res = {"features": features, "labels": (labels + 1).astype(np.float64)[:, None]}
    sem = {
        "att": att,
        "trainval_loc": loc(trainval),
        "test_seen_loc": loc(test_seen),
        "test_unseen_loc": loc(unseen_rows),
    }
    return res, sem


def labels_for_splits(
    sem: dict[str, np.ndarray], seen: np.ndarray, unseen: np.ndarray, n: int
) -> np.ndarray:
    """1-based labels agreeing with real splits: ``seen`` (1-based class numbers) cycle over
    trainval and test_seen rows, ``unseen`` over test_unseen rows."""
    labels = np.full(n, seen[0], dtype=np.float64)
    for key, classes in (("trainval_loc", seen), ("test_seen_loc", seen)):
        rows = sem[key].ravel().astype(np.int64) - 1
        labels[rows] = classes[np.arange(rows.size) % classes.size]
    rows = sem["test_unseen_loc"].ravel().astype(np.int64) - 1
    labels[rows] = unseen[np.arange(rows.size) % unseen.size]
    return labels


# ---------------------------------------------------------------------------- assertions
def assert_one_line(exc: Exception, fragments: list[str]) -> None:
    msg = str(exc)
    assert "\n" not in msg, msg
    for f in fragments:
        assert f in msg, (f, msg)


def assert_cli_refuses(target: Path | str, tmp_path: Path, fragments: list[str]) -> None:
    """`zsl data info` and `zsl train` exit 2 with one `error:` line; no run dir is made."""
    out = tmp_path / "run-out"
    for args in (
        ["data", "info", str(target)],
        ["train", "-m", "eszsl", "-d", str(target), "-o", str(out), "-q", "--device", "cpu"],
    ):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        lines = [ln for ln in result.output.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), result.output
        assert "Traceback" not in result.output
        for f in fragments:
            assert f in lines[0], (f, lines[0])
        assert not out.exists()
