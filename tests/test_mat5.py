"""The MATLAB v5 reader: equal to scipy.io.loadmat on valid files, a one-line DataError on
every malformed one, and never a crash or a hang on corrupted bytes (fuzzed in a child)."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse
from xlsa17_files import TINY_NAMES, tiny_arrays, write_pair

from zsl_toolkit.data.mat5 import Mat5File, file_kind
from zsl_toolkit.data.xlsa17 import load_xlsa17
from zsl_toolkit.errors import DataError

HERE = Path(__file__).resolve().parent


def _cell(*items) -> np.ndarray:
    out = np.empty((len(items), 1), dtype=object)
    for i, item in enumerate(items):
        out[i, 0] = item
    return out


VALUES = {
    "f8": np.array([[1.5, -2.0, 3.25], [4.0, 5.5, -6.0]]),
    "f4": np.array([[1.5, 2.5], [3.5, 4.5], [5.5, 6.5]], dtype=np.float32),
    "i1": np.array([[-128, 0, 127]], dtype=np.int8),
    "u1": np.array([[0, 200, 255]], dtype=np.uint8),
    "i2": np.array([[-300], [300]], dtype=np.int16),
    "u2": np.array([[1, 65535]], dtype=np.uint16),
    "i4": np.array([[-(2**31), 2**31 - 1]], dtype=np.int32),
    "u4": np.array([[2**32 - 1, 7]], dtype=np.uint32),
    "i8": np.array([[-(2**63), 2**63 - 1]], dtype=np.int64),
    "u8": np.array([[2**64 - 1, 3]], dtype=np.uint64),
    "integral": np.array([[1.0, 2.0, 3.0]]),  # MATLAB-like writers may store it as uint8
    "logical": np.array([[True, False], [False, True]]),
    "one": np.array([[7.0]]),
    "scalar": 3.5,
    "row": np.arange(5.0)[None, :],
    "column": np.arange(4.0)[:, None],
    "three_d": np.arange(24.0).reshape(2, 3, 4),
    "empty": np.zeros((0, 0)),
    "empty_rows": np.zeros((0, 3)),
    "text": "hello",
    "unicode": "Zürich ∑",
    "char_rows": np.array(["ab", "cd", "ef"]),
    "empty_text": "",
    "names": _cell("001.Black_footed_Albatross", "002.Laysan", "", "Zürich"),
    "mixed_cell": _cell(np.array([[1.0, 2.0]]), "x", _cell("inner")),
}


def assert_same(ours, ref, where: str) -> None:
    """Equal type, shape, dtype (up to byte order) and values; object arrays recursively."""
    assert isinstance(ours, np.ndarray) and isinstance(ref, np.ndarray), where
    assert ours.shape == ref.shape, (where, ours.shape, ref.shape)
    assert ours.dtype.newbyteorder("=") == ref.dtype.newbyteorder("="), (where, ours.dtype)
    if ref.dtype == object:
        for i, (a, b) in enumerate(zip(ours.flat, ref.flat, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        np.testing.assert_array_equal(ours, ref, err_msg=where)


def assert_equals_loadmat(path: Path) -> None:
    mat = Mat5File(path)
    listing = {name: (shape, cls) for name, shape, cls in scipy.io.whosmat(str(path))}
    assert set(mat.variables) == set(listing)
    for mat_dtype in (False, True):
        ref = scipy.io.loadmat(str(path), mat_dtype=mat_dtype)
        for name, var in mat.variables.items():
            assert var.cls == listing[name][1], name
            if var.cls not in ("char",):  # whosmat drops a char array's last dimension
                assert var.shape == listing[name][0], name
            assert_same(mat.read(name, mat_dtype=mat_dtype), ref[name], name)


@pytest.mark.parametrize("compressed", [False, True])
def test_round_trip_of_scipy_files(tmp_path, compressed):
    path = tmp_path / "all.mat"
    scipy.io.savemat(str(path), VALUES, do_compression=compressed)
    assert_equals_loadmat(path)
    var = Mat5File(path).variables["f8"]
    assert (var.cls, var.shape, var.compressed) == ("double", (2, 3), compressed)


def test_real_matlab_files_equal_loadmat():
    """The xlsa17 files were written by MATLAB (compressed, integral doubles stored small)."""
    root = HERE.parents[0] / ".." / "shared" / "data" / "xlsa17" / "APY"
    if not root.is_dir():
        pytest.skip(f"real data folder {root} not present")
    assert_equals_loadmat(root / "att_splits.mat")


@pytest.mark.parametrize("compressed", [False, True])
def test_dtype_conversion_while_reading(tmp_path, compressed):
    path = tmp_path / "f.mat"
    rng = np.random.default_rng(1)
    value = rng.random((7, 300)) * 1e3
    scipy.io.savemat(str(path), {"f": value, "n": "text"}, do_compression=compressed)
    mat = Mat5File(path)
    got = mat.read("f", dtype=np.float32)
    assert got.dtype == np.float32 and got.shape == (7, 300)
    np.testing.assert_array_equal(got, value.astype(np.float32))
    assert mat.read("n", dtype=np.float32).tolist() == ["text"]  # not numeric: unchanged


def test_block_conversion_with_tiny_blocks(tmp_path, monkeypatch):
    from zsl_toolkit.data import mat5

    monkeypatch.setattr(mat5, "_BLOCK_BYTES", 24)  # many blocks; first one from the prefix
    monkeypatch.setattr(mat5, "_CHUNK_IN", 7)
    path = tmp_path / "f.mat"
    value = np.arange(1000, dtype=np.int16).reshape(10, 100)
    scipy.io.savemat(str(path), {"f": value}, do_compression=True)
    np.testing.assert_array_equal(Mat5File(path).read("f", dtype=np.float32), value)


# ---------------------------------------------------------------------------- hand-made files
def el(mdtype: int, payload: bytes, e: str = "<") -> bytes:
    """A data element: tag, payload, zero padding to 8 bytes."""
    return struct.pack(e + "II", mdtype, len(payload)) + payload + b"\0" * (-len(payload) % 8)


def small(mdtype: int, payload: bytes, e: str = "<") -> bytes:
    """A small data element: byte count and type packed in one uint32, data in 4 bytes."""
    return struct.pack(e + "I", (len(payload) << 16) | mdtype) + payload.ljust(4, b"\0")


def matrix(name: str, cls: int, dims, body: bytes, e: str = "<", flags: int = 0) -> bytes:
    head = el(6, struct.pack(e + "II", cls | flags, 0), e)
    head += el(5, struct.pack(f"{e}{len(dims)}i", *dims), e)
    head += el(1, name.encode(), e)
    return el(14, head + body, e)


def compressed(element: bytes, e: str = "<") -> bytes:
    payload = zlib.compress(element)
    return struct.pack(e + "II", 15, len(payload)) + payload


def header(e: str = "<", version: int = 0x0100) -> bytes:
    text = b"MATLAB 5.0 MAT-file, hand-made for the tests".ljust(116)
    return text + b"\0" * 8 + struct.pack(e + "H", version) + (b"IM" if e == "<" else b"MI")


def doubles(values, e: str = "<") -> bytes:
    return el(9, np.asarray(values, dtype=np.dtype("f8").newbyteorder(e)).tobytes(), e)


def write(tmp_path: Path, *elements: bytes, e: str = "<") -> Path:
    path = tmp_path / "made.mat"
    path.write_bytes(header(e) + b"".join(elements))
    return path


def _big_and_little(e: str) -> list[bytes]:
    u2 = np.dtype("u2").newbyteorder(e)
    chars = np.array([ord(c) for c in "acbd"], dtype=u2).tobytes()  # 2 x 2, column-major
    name_el = matrix("", 4, (1, 3), el(4, np.array([120, 121, 122], dtype=u2).tobytes(), e), e)
    return [
        matrix("a", 6, (2, 3), doubles([1, 2, 3, 4, 5, 6], e), e),
        matrix("b", 6, (1, 2), small(3, np.array([-5, 9], np.dtype("i2").newbyteorder(e)).tobytes(), e), e),
        matrix("c", 4, (2, 2), el(4, chars, e), e),
        matrix("d", 9, (1, 3), el(2, bytes([1, 0, 1]), e), e, flags=0x0200),
        compressed(matrix("e", 1, (1, 1), name_el, e), e),
        matrix("f", 11, (1, 2), small(4, np.array([7, 65535], dtype=u2).tobytes(), e), e),
    ]  # fmt: skip


@pytest.mark.parametrize("endian", ["<", ">"])
def test_hand_made_files_in_both_byte_orders(tmp_path, endian):
    """scipy writes native (little-endian) files only; these bytes follow the format
    documentation, including small elements, and scipy reads them as the reference."""
    path = write(tmp_path, *_big_and_little(endian), e=endian)
    assert file_kind(path.read_bytes()[:128]) == "v5"
    assert_equals_loadmat(path)
    mat = Mat5File(path)
    assert mat.read("c").tolist() == ["ab", "cd"]
    assert mat.read("b").tolist() == [[-5, 9]]
    assert mat.read("d", mat_dtype=True).dtype == bool


def test_padded_compressed_elements_and_trailing_bytes_are_tolerated(tmp_path):
    first = compressed(matrix("a", 6, (1, 2), doubles([1, 2])))
    pad = b"\0" * (-len(first) % 8)
    assert pad, "the test needs an unaligned compressed element"
    path = write(tmp_path, first, pad, matrix("b", 6, (1, 1), doubles([3])), b"\0\0\0")
    mat = Mat5File(path)
    assert mat.read("a").tolist() == [[1.0, 2.0]] and mat.read("b").tolist() == [[3.0]]


def _nested(depth: int) -> bytes:
    inner = matrix("", 6, (1, 1), doubles([1]))
    for _ in range(depth):
        inner = matrix("", 1, (1, 1), inner)
    return matrix("deep", 1, (1, 1), inner)


def _zip_bomb() -> bytes:
    """A compressed element whose inner tag claims far more than zlib could have packed."""
    stream = zlib.compress(struct.pack("<II", 14, 2**31) + b"\0" * 64)
    return struct.pack("<II", 15, len(stream)) + stream


def _short_stream() -> bytes:
    """A valid zlib stream that stops before the bytes its element declares."""
    element = matrix("short", 6, (1, 4), doubles([1, 2, 3, 4]))
    stream = zlib.compress(element[:-16])
    return struct.pack("<II", 15, len(stream)) + stream


def _cut_stream() -> bytes:
    stream = zlib.compress(matrix("cut", 6, (1, 400), doubles(np.arange(400.0))))[:-30]
    return struct.pack("<II", 15, len(stream)) + stream


OK = matrix("ok", 6, (1, 1), doubles([1]))
# id: (elements after the header, variable read (None: listing refuses), message fragments)
MALFORMED = {
    "complex": ([matrix("z", 6, (1, 1), doubles([1]) + doubles([2]), flags=0x0800)], "z", ["'z'", "complex", "expected real numbers"]),
    "sparse": ([matrix("s", 5, (2, 2), el(5, b"\0" * 4) + el(5, b"\0" * 12) + doubles([]))], "s", ["'s'", "MATLAB sparse"]),
    "struct": ([matrix("st", 2, (1, 1), small(5, struct.pack("<i", 8)) + el(1, b"a".ljust(8, b"\0")) + matrix("", 6, (1, 1), doubles([1])))], "st", ["'st'", "MATLAB struct"]),
    "object": ([matrix("ob", 3, (1, 1), el(1, b"cls"))], "ob", ["'ob'", "MATLAB object"]),
    "function": ([matrix("fn", 16, (1, 1), b"")], "fn", ["'fn'", "MATLAB function"]),
    "unknown-class": ([matrix("u", 99, (1, 1), doubles([1]))], None, ["variable 2", "unknown array class 99"]),
    "unknown-data-type": ([matrix("t", 6, (1, 1), el(11, b"\0" * 8))], "t", ["'t'", "unknown numeric type 11"]),
    "data-count": ([matrix("n", 6, (2, 3), doubles([1, 2, 3, 4, 5]))], "n", ["'n'", "40 bytes", "needs 48"]),
    "negative-dim": ([matrix("neg", 6, (-1, 3), doubles([]))], None, ["negative dimension", "-1 x 3"]),
    "absurd-dims": ([matrix("big", 6, (2**30, 2**30), doubles([]))], None, ["absurd dimensions"]),
    "too-many-dims": ([matrix("many", 6, (1,) * 40, doubles([1]))], None, ["dimensions", "1 to 32"]),
    "no-dims": ([el(14, el(6, struct.pack("<II", 6, 0)) + el(5, b"") + el(1, b"x") + doubles([]))], None, ["dimensions", "1 to 32"]),
    "subelement-past-parent": ([el(14, el(6, struct.pack("<II", 6, 0)) + struct.pack("<II", 5, 4000) + struct.pack("<ii", 1, 1))], None, ["declares 4000 bytes", "parent"]),
    "data-past-parent": ([matrix("p", 6, (1, 1), struct.pack("<II", 9, 64) + b"\0" * 8)], "p", ["'p'", "declares 64 bytes"]),
    "truncated-file": ([matrix("tr", 6, (1, 8), doubles(np.arange(8.0)))[:-20]], None, ["truncated", "variable 2"]),
    "small-element-too-big": ([matrix("sm", 6, (1, 1), struct.pack("<I", (6 << 16) | 9) + b"\0" * 4)], "sm", ["'sm'", "at most 4"]),
    "flags-wrong": ([el(14, el(5, b"\0" * 8) + el(5, struct.pack("<ii", 1, 1)))], None, ["array flags"]),
    "not-a-matrix": ([doubles([1, 2])], None, ["variable 2", "has type 9", "miMATRIX"]),
    "bad-zlib": ([struct.pack("<II", 15, 16) + b"\x78\x9c" + b"\xff" * 14], None, ["zlib"]),
    "zip-bomb": ([_zip_bomb()], None, ["beyond what zlib can compress"]),
    "short-stream": ([_short_stream()], "short", ["'short'", "compressed data ends"]),
    "cut-stream": ([_cut_stream()], "cut", ["'cut'", "compressed data ends"]),
    "deep-nesting": ([_nested(12)], "deep", ["'deep'", "nested deeper than 8"]),
    "cells-without-bytes": ([matrix("cells", 1, (1000, 1000), b"")], "cells", ["'cells'", "1000 x 1000 cell", "holds only"]),
    "cell-not-matrix": ([matrix("cm", 1, (1, 1), doubles([1]))], "cm", ["'cm'", "cell 1", "expected a matrix"]),
    "bad-utf8": ([matrix("u8", 4, (1, 2), el(16, b"\xff\xfe"))], "u8", ["'u8'", "not valid utf-8"]),
    "char-count": ([matrix("cc", 4, (1, 5), el(4, b"a\0b\0"))], "cc", ["'cc'", "4 bytes", "1 x 5 characters"]),
    "char-type": ([matrix("ct", 4, (1, 1), el(9, b"\0" * 8))], "ct", ["'ct'", "char data has type 9"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(MALFORMED))
@pytest.mark.parametrize("zipped", [False, True])
def test_malformed_files_are_refused(tmp_path, case, zipped):
    elements, key, fragments = MALFORMED[case]
    if zipped and elements[0][:4] == struct.pack("<I", 14) and case != "truncated-file":
        elements = [compressed(elements[0])]  # the same element inside a zlib stream
    path = write(tmp_path, OK, *elements)
    with pytest.raises(DataError) as info:
        mat = Mat5File(path)
        assert key is not None, "the listing should have refused this file"
        assert mat.read("ok").tolist() == [[1.0]]  # a good variable stays readable
        mat.read(key)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: "), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_opaque_objects_are_listed_and_refused(tmp_path):
    """Opaque objects (MATLAB classes such as string) have a name but no dimensions."""
    body = el(6, struct.pack("<II", 17, 0)) + el(1, b"obj") + el(1, b"MCOS") + el(1, b"string")
    path = write(tmp_path, el(14, body), OK)
    mat = Mat5File(path)
    assert (mat.variables["obj"].cls, mat.variables["obj"].shape) == ("opaque", ())
    with pytest.raises(DataError, match="'obj' is a MATLAB opaque"):
        mat.read("obj")


def test_scipy_written_unsupported_classes_are_refused(tmp_path):
    path = tmp_path / "u.mat"
    scipy.io.savemat(
        str(path),
        {"c": np.array([[1 + 2j]]), "s": scipy.sparse.eye(3).tocsc(), "st": {"a": 1.0}},
    )
    mat = Mat5File(path)
    assert {k: v.cls for k, v in mat.variables.items()} == {
        "c": "double",
        "s": "sparse",
        "st": "struct",
    }
    for key, fragment in (("c", "complex"), ("s", "sparse"), ("st", "struct")):
        with pytest.raises(DataError, match=fragment):
            mat.read(key)


def test_v4_and_other_files_are_named(tmp_path):
    v4 = tmp_path / "v4.mat"
    scipy.io.savemat(str(v4), {"x": np.ones((2, 2))}, format="4")
    with pytest.raises(DataError, match="MATLAB v4 .mat files are not supported; save with -v7"):
        Mat5File(v4)
    other = tmp_path / "other.mat"
    other.write_bytes(b"MATLAB text that is not a header" * 10)
    with pytest.raises(DataError, match="not a MATLAB v5 .mat file"):
        Mat5File(other)
    assert file_kind(header(version=0x0200)) == "v7.3"


def test_v4_res101_is_refused_by_the_loader(tmp_path):
    res, sem = tiny_arrays()
    folder = write_pair(tmp_path / "V4", res, sem, TINY_NAMES)
    scipy.io.savemat(str(folder / "res101.mat"), res, format="4")
    with pytest.raises(DataError) as info:
        load_xlsa17(folder)
    assert "res101.mat" in str(info.value) and "MATLAB v4" in str(info.value)


# ---------------------------------------------------------------------------- fuzzing
def test_fuzzed_files_never_crash_or_hang_the_loader(tmp_path):
    """~2000 byte flips, edge-value words, inner (recompressed) edits, truncations and
    insertions of valid files, loaded in a child process: the child must not die by a
    signal (scipy's C reader segfaulted on such files) nor run over its time, and every
    case must end in ZSLData or a one-line DataError."""
    res, sem = tiny_arrays()
    res["features"] = res["features"][:, :]  # 5 x 48 doubles
    plain = write_pair(tmp_path / "plain", res, sem, TINY_NAMES)
    zipped = tmp_path / "zipped"
    zipped.mkdir()
    scipy.io.savemat(str(zipped / "res101.mat"), res, do_compression=True)
    sem_z = {**sem, "allclasses_names": _cell(*TINY_NAMES)}
    scipy.io.savemat(str(zipped / "att_splits.mat"), sem_z, do_compression=True)
    cases = 2000
    seed = int(os.environ.get("ZSL_FUZZ_SEED", "0"))
    work = tmp_path / "work"
    work.mkdir()
    cmd = [sys.executable, str(HERE / "mat5_fuzz.py"), str(plain), str(zipped)]
    cmd += ["--cases", str(cases), "--seed", str(seed), "--work", str(work)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        pytest.fail(f"fuzz child ran over 90 s; last lines: {out.splitlines()[-3:]}")
    lines = proc.stdout.splitlines()
    assert proc.returncode >= 0, f"child killed by signal {-proc.returncode}: {lines[-2:]}"
    assert proc.returncode == 0, (proc.returncode, lines[-2:], proc.stderr[-2000:])
    outcomes = [line.split()[1] for line in lines]
    assert len(outcomes) == cases
    assert set(outcomes) <= {"ZSLData", "DataError"}
    # the mutations reach past the first check: both outcomes occur, in several ways
    assert outcomes.count("DataError") > cases // 4 and outcomes.count("ZSLData") > 20
