"""Reading raw visual features for prediction from .mat, .h5 or .npy files.

HDF5 files are read by their top-level ``features`` dataset, which is where the toolkit's own
store (``zsl data convert``) keeps its float32 N x d1 features, so a store works as is.

Layouts differ by source: xlsa17's ``res101.mat`` stores one column per image (d1 x N), while
NumPy and HDF5 users store one row per sample (N x d1), and MATLAB v7.3 files read through
h5py come back transposed. The model's input width settles the orientation whenever exactly
one axis matches it; for a square array the file type's convention decides.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zsl_toolkit.errors import DataError

SUFFIXES = (".mat", ".h5", ".hdf5", ".npy")
KEY = "features"


def read_features(path: str | Path, feature_dim: int) -> np.ndarray:
    """Features [N, feature_dim] from ``path``; DataError naming the file on any problem."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(
            f"{path}: unsupported features file type '{path.suffix}'; use {', '.join(SUFFIXES)}"
        )
    if not path.is_file():
        raise DataError(f"{path}: no such features file")
    if suffix == ".npy":
        array, columns = _read_npy(path), False
    elif suffix == ".mat":
        array, columns = _read_mat(path)
    else:
        array, columns = _read_h5(path), False
    return _orient(path, array, feature_dim, columns_by_default=columns)


def _read_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"{path}: cannot read as a .npy array ({exc})") from None


def _read_mat(path: Path) -> tuple[np.ndarray, bool]:
    """(array, stored one column per sample?) from a MATLAB v5 or v7.3 file.

    v5 files go through the toolkit's own reader (:mod:`zsl_toolkit.data.mat5`), which checks
    every declared size before allocating, as the dataset loader does: ``scipy.io.loadmat``
    can crash the process on a corrupted file.
    """
    from zsl_toolkit.data.mat5 import HEADER_BYTES, Mat5File, file_kind

    try:
        with open(path, "rb") as fh:
            kind = file_kind(fh.read(HEADER_BYTES))
    except OSError as exc:
        raise DataError(f"{path}: cannot read as a MATLAB .mat file ({exc.strerror})") from None
    if kind == "v7.3":  # HDF5 inside; h5py reads it transposed
        return _read_h5(path), False
    if kind is None:
        raise DataError(f"{path}: cannot read as a MATLAB .mat file (no MATLAB v5 or v7.3 header)")
    mat = Mat5File(path)  # DataError naming the file for v4 or malformed files
    if KEY not in mat.variables:
        names = ", ".join(sorted(mat.variables)) or "none"
        raise DataError(f"{path}: no '{KEY}' variable (found: {names})")
    return np.asarray(mat.read(KEY)), True


def _read_h5(path: Path) -> np.ndarray:
    """The top-level ``features`` dataset: a plain file, or the toolkit's store (same layout)."""
    import h5py

    from zsl_toolkit.data.hdf5 import check_declared_size
    from zsl_toolkit.errors import one_line

    try:
        with h5py.File(path, "r") as fh:
            node = fh.get(KEY)
            if not isinstance(node, h5py.Dataset):
                found = ", ".join(sorted(fh.keys())) or "none"
                raise DataError(f"{path}: no '{KEY}' dataset (found: {found})")
            check_declared_size(node, f"{path}: '{KEY}'")  # before allocating it
            return node[()]
    except OSError as exc:
        raise DataError(f"{path}: cannot read as an HDF5 file ({one_line(exc)})") from None


def _orient(path: Path, array: np.ndarray, dim: int, *, columns_by_default: bool) -> np.ndarray:
    if array.dtype.kind not in "fiub":
        raise DataError(f"{path}: '{KEY}' must be numeric, got dtype {array.dtype}")
    if array.ndim != 2:
        raise DataError(
            f"{path}: '{KEY}' must be a 2-D array of {dim}-d samples, got shape {array.shape}"
        )
    rows, cols = array.shape
    if rows == dim and cols == dim:
        return array.T if columns_by_default else array
    if cols == dim:
        return array
    if rows == dim:
        return array.T
    raise DataError(
        f"{path}: features have shape {rows} x {cols} but the model expects {dim}-d samples "
        f"(an N x {dim} or {dim} x N array)"
    )
