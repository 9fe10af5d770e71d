"""Property-based adversarial inputs for the xlsa17 loader and the HDF5 store.

Every generated file must either load into valid ZSLData or raise the toolkit's own
DataError: never another exception type, never a hang (each example runs under an alarm).
"""

from __future__ import annotations

import signal
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xlsa17_files import tiny_arrays, write_pair

from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.data.hdf5 import load_h5, save_h5
from zsl_toolkit.data.xlsa17 import load_xlsa17
from zsl_toolkit.errors import DataError

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
HANG_SECONDS = 20


@contextmanager
def no_hang():
    def fail(signum, frame):
        raise AssertionError(f"loader did not finish within {HANG_SECONDS} s")

    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def loads_or_data_error(load, path) -> None:
    with no_hang():
        try:
            data = load(path)
        except DataError as exc:
            assert str(exc).strip() and "\n" not in str(exc), repr(exc)
            return
    assert isinstance(data, ZSLData)


@pytest.fixture(scope="module")
def valid_folders(tmp_path_factory) -> dict[str, Path]:
    res, sem = tiny_arrays()
    names = [f"{i:03d}.c" for i in range(6)]
    return {
        fmt: write_pair(tmp_path_factory.mktemp(fmt), res, sem, names, fmt=fmt)
        for fmt in ("v5", "v73")
    }


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


@SETTINGS
@given(
    fmt=st.sampled_from(["v5", "v73"]),
    which=st.sampled_from(["res101.mat", "att_splits.mat"]),
    flips=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=8
    ),
)
def test_random_byte_flips(valid_folders, tmp_path_factory, fmt, which, flips):
    folder = _copy(valid_folders[fmt], tmp_path_factory.mktemp("flip"))
    raw = bytearray((folder / which).read_bytes())
    for where, value in flips:
        raw[int(where * len(raw))] = value
    (folder / which).write_bytes(bytes(raw))
    loads_or_data_error(load_xlsa17, folder)


@SETTINGS
@given(
    fmt=st.sampled_from(["v5", "v73"]),
    which=st.sampled_from(["res101.mat", "att_splits.mat"]),
    keep=st.floats(0, 1, exclude_max=True),
)
def test_truncated_files(valid_folders, tmp_path_factory, fmt, which, keep):
    folder = _copy(valid_folders[fmt], tmp_path_factory.mktemp("trunc"))
    raw = (folder / which).read_bytes()
    (folder / which).write_bytes(raw[: int(keep * len(raw))])
    loads_or_data_error(load_xlsa17, folder)


def _mutate(arrays: dict[str, np.ndarray], key: str, kind: str, rng: np.random.Generator) -> None:
    a = np.asarray(arrays[key])
    if a.size == 0 and kind in ("nan", "inf", "out_of_range", "negative"):
        kind = "transpose"  # nothing to overwrite in an empty array
    if a.dtype.kind in "USO" and kind not in ("transpose", "drop", "empty"):
        return  # already not numbers: numeric mutations cannot apply
    if kind == "transpose":
        arrays[key] = a.T
    elif kind == "drop":
        del arrays[key]
    elif kind == "empty":
        arrays[key] = np.zeros((0, 1))
    elif kind == "nan":
        b = np.real(a).astype(np.float64)
        b.flat[rng.integers(b.size)] = np.nan
        arrays[key] = b
    elif kind == "inf":
        b = np.real(a).astype(np.float64)
        b.flat[rng.integers(b.size)] = -np.inf
        arrays[key] = b
    elif kind == "zero_based":
        arrays[key] = np.real(a).astype(np.float64) - 1
    elif kind == "out_of_range":
        b = np.real(a).astype(np.float64)
        b.flat[rng.integers(b.size)] = 10_000
        arrays[key] = b
    elif kind == "negative":
        b = np.real(a).astype(np.float64)
        b.flat[rng.integers(b.size)] = -3
        arrays[key] = b
    elif kind == "duplicate":
        b = a.copy()
        if b.size > 1:
            b.flat[1] = b.flat[0]
        arrays[key] = b
    elif kind == "fraction":
        arrays[key] = np.real(a).astype(np.float64) + 0.5
    elif kind == "text":
        arrays[key] = np.array(["not", "numbers"])
    elif kind == "complex":
        arrays[key] = a.astype(np.complex128) * 1j
    elif kind == "bool":
        arrays[key] = a.astype(bool)
    elif kind == "scalar":
        arrays[key] = np.array(7.0)
    elif kind == "three_d":
        arrays[key] = np.stack([a, a], axis=-1)


KINDS = [
    "transpose",
    "drop",
    "empty",
    "nan",
    "inf",
    "zero_based",
    "out_of_range",
    "negative",
    "duplicate",
    "fraction",
    "text",
    "complex",
    "bool",
    "scalar",
    "three_d",
]
KEYS = ["features", "labels", "att", "trainval_loc", "test_seen_loc", "test_unseen_loc"]


@SETTINGS
@given(
    fmt=st.sampled_from(["v5", "v73"]),
    mutations=st.lists(
        st.tuples(st.sampled_from(KEYS), st.sampled_from(KINDS)), min_size=1, max_size=3
    ),
    seed=st.integers(0, 2**16),
)
def test_structural_mutations(tmp_path_factory, fmt, mutations, seed):
    rng = np.random.default_rng(seed)
    res, sem = tiny_arrays()
    for key, kind in mutations:
        target = res if key in res else sem
        if key not in target:
            continue  # dropped by an earlier mutation
        if kind in ("text", "complex", "bool") and fmt == "v73":
            kind = "fraction"  # the v7.3 test writer covers numeric classes only
        _mutate(target, key, kind, rng)
    folder = tmp_path_factory.mktemp("mut")
    try:
        write_pair(folder, res, sem, fmt=fmt)
    except (ValueError, TypeError):
        return  # the writer itself cannot express this combination
    loads_or_data_error(load_xlsa17, folder)


@SETTINGS
@given(
    flips=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=8
    ),
    keep=st.one_of(st.none(), st.floats(0, 1, exclude_max=True)),
)
def test_corrupted_hdf5_store(valid_folders, tmp_path_factory, flips, keep):
    path = tmp_path_factory.mktemp("h5") / "d.h5"
    save_h5(load_xlsa17(valid_folders["v5"]), path)
    raw = bytearray(path.read_bytes())
    for where, value in flips:
        raw[int(where * len(raw))] = value
    if keep is not None:
        raw = raw[: int(keep * len(raw))]
    path.write_bytes(bytes(raw))
    loads_or_data_error(load_h5, path)
