"""Loader for the xlsa17 "proposed splits" layout.

Xian, Lampert, Schiele and Akata, "Zero-Shot Learning - A Comprehensive Evaluation of the
Good, the Bad and the Ugly", TPAMI 2018. A benchmark folder holds ``res101.mat``
(``features`` d1 x N, one column per image; ``labels`` N x 1, 1-based) and a semantic file
(``att_splits.mat``, or ``sent_splits.mat`` for CUB sentence embeddings) with ``att`` d2 x C,
the 1-based row-index vectors ``trainval_loc``, ``test_seen_loc``, ``test_unseen_loc``
(optionally ``train_loc``, ``val_loc``) and ``allclasses_names``.

Files may be MATLAB v5 (read by :mod:`zsl_toolkit.data.mat5`, which checks every size a
corrupted file could lie about) or v7.3 (HDF5 inside, read by h5py, where every array
appears transposed). Everything a header tells (keys, shapes, declared sizes against the
file's size) is checked before any array is read, so a wrong, truncated or hostile file fails
fast with a one-line :class:`~zsl_toolkit.errors.DataError` naming the file and key, and
never triggers a huge allocation.

Speed: an uncompressed v5 ``features`` matrix (the usual res101.mat) is read block by block
straight into the float32 ``[N, d]`` result, since MATLAB's column-major bytes already are its
rows; this avoids a full float64 copy. Compressed or unusual variables are decoded whole by
:class:`~zsl_toolkit.data.mat5.Mat5File`; v7.3 features are converted to float32 by HDF5
while reading.

Columns of ``att`` that no image is labelled with are dropped (file order and the original
column number, in default names, are kept): GZSL predicts over all classes, and a class
without images could only act as a distractor. SNU36's file has 26 such columns.
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from zsl_toolkit.data.container import REQUIRED_SPLITS, ZSLData
from zsl_toolkit.data.hdf5 import MAX_COMPRESSION_RATIO, check_declared_size
from zsl_toolkit.data.mat5 import Mat5File, file_kind
from zsl_toolkit.errors import DataError, one_line

RES_FILE = "res101.mat"
ORIGIN = "from the xlsa17 proposed-splits download (Xian et al., TPAMI 2018)"
SPLIT_KEYS = {
    "trainval": "trainval_loc",
    "test_seen": "test_seen_loc",
    "test_unseen": "test_unseen_loc",
    "train": "train_loc",
    "val": "val_loc",
}
NAMES_KEY = "allclasses_names"
_ITEMSIZE = {
    "double": 8,
    "single": 4,
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "uint16": 2,
    "int32": 4,
    "uint32": 4,
    "int64": 8,
    "uint64": 8,
    "logical": 1,
}
_BLOCK_BYTES = 4 << 20


def _shape_str(shape: tuple[int, ...]) -> str:
    return " x ".join(map(str, shape)) if shape else "scalar"


# ---------------------------------------------------------------------------- readers
class _MatFile(ABC):
    """Header facts of one .mat file, and its arrays in MATLAB orientation on demand."""

    path: Path
    fmt: str
    shapes: dict[str, tuple[int, ...]]
    classes: dict[str, str]

    def fail(self, key: str | None, what: str) -> DataError:
        where = f"{self.path}: '{key}'" if key else str(self.path)
        return DataError(f"{where} {what}")

    @abstractmethod
    def read(
        self, keys: list[str], names_key: str | None, rows: str | None = None
    ) -> tuple[dict, list[str] | None]:
        """Arrays of ``keys`` (MATLAB orientation) and the decoded ``names_key`` cell; ``rows``
        names a d x N matrix the caller wants as float32 [N, d] (returned transposed)."""

    def close(self) -> None:  # noqa: B027 - readers without an open handle keep this no-op
        """Release the file handle, if the reader holds one."""

    def __enter__(self) -> _MatFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _V5File(_MatFile):
    """MATLAB v5/v7 file, read by the toolkit's own parser (column-major arrays, returned as
    Fortran-ordered arrays exactly as ``scipy.io.loadmat`` would)."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        with open(path, "rb") as fh:
            head = fh.read(128)
        if head.startswith(b"MATLAB") and len(head) < 128:
            raise DataError(f"{path}: truncated: {size} bytes, shorter than a MATLAB header")
        kind = file_kind(head)
        if kind is None:
            raise DataError(
                f"{path}: not a MATLAB .mat file (no MATLAB v5 header, no HDF5 signature); "
                f"expected MATLAB v5 or v7.3 data"
            )
        if kind == "v7.3":
            raise DataError(f"{path}: MATLAB 7.3 header but no HDF5 data; truncated or corrupt")
        self.mat = Mat5File(path, size)  # refuses v4 files; lists every variable's header
        self.fmt = "MATLAB v5"
        variables = self.mat.variables.values()
        self.shapes = {v.name: v.shape for v in variables}
        self.classes = {v.name: v.cls for v in variables}
        for var in variables:
            per_item = _ITEMSIZE.get(var.cls, 8 if var.cls in ("cell", "struct") else 1)
            declared = int(np.prod(var.shape, dtype=np.float64)) * per_item
            limit = var.nbytes * (MAX_COMPRESSION_RATIO if var.compressed else 1) + 64
            if var.cls != "sparse" and declared > limit:
                raise self.fail(
                    var.name,
                    f"header declares a {_shape_str(var.shape)} {var.cls} array ({declared} "
                    f"bytes) but the file stores only {var.nbytes} bytes for it; truncated or "
                    f"corrupt",
                )

    def read(
        self, keys: list[str], names_key: str | None, rows: str | None = None
    ) -> tuple[dict, list[str] | None]:
        arrays = {}
        if rows is not None:
            fast = self._float32_rows(rows)
            if fast is not None:
                arrays[rows] = fast.T
        wanted = [k for k in keys if k not in arrays] + ([names_key] if names_key else [])
        raw = {  # DataError naming file and key; compressed features inflate to float32
            k: self.mat.read(k, dtype=np.float32 if k == rows else None) for k in wanted
        }
        arrays.update({k: raw[k] for k in keys if k not in arrays})
        names = self._names(names_key, raw[names_key]) if names_key else None
        return arrays, names

    def _float32_rows(self, key: str) -> np.ndarray | None:
        """An uncompressed, real d x N matrix read as float32 [N, d], or None if not one.

        MATLAB stores the matrix column by column, so its bytes are the rows of the [N, d]
        result: they are read in blocks into a small buffer and converted into the result,
        never holding the float64 copy that a full read plus a later conversion would make.
        Anything unusual (compressed, complex, odd sizes) returns None: the full reader then.
        """
        shape = self.shapes.get(key, ())
        located = self.mat.data_tag(key) if len(shape) == 2 else None
        if located is None:
            return None
        offset, dtype, nbytes = located
        d, n = shape
        if nbytes != d * n * dtype.itemsize:
            return None
        out = np.empty((n, d), dtype=np.float32)
        block = max(1, _BLOCK_BYTES // max(d * dtype.itemsize, 1))  # rows per read
        buf = np.empty((min(block, n), d), dtype=dtype)
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            for start in range(0, n, block):
                k = min(block, n - start)
                chunk = buf[:k]
                if fh.readinto(chunk.reshape(-1).view(np.uint8)) != chunk.nbytes:
                    raise self.fail(key, "data ends early; truncated or corrupt")
                with np.errstate(over="ignore"):  # beyond float32 -> inf, refused by ZSLData
                    out[start : start + k] = chunk
        return out

    def _names(self, key: str, value: np.ndarray) -> list[str]:
        if value.dtype.kind == "U":  # a char matrix: one row per name
            return [str(s).rstrip() for s in value.reshape(-1)]
        if value.dtype != object:
            raise self.fail(key, f"holds {value.dtype}, expected a cell array of strings")
        names = []
        for cell in value.reshape(-1, order="F"):
            if not isinstance(cell, np.ndarray) or cell.dtype.kind not in "U":
                if isinstance(cell, np.ndarray) and cell.size == 0:
                    names.append("")
                    continue
                raise self.fail(key, "holds a non-string cell, expected a cell array of strings")
            names.append("".join(str(s) for s in cell.reshape(-1)).rstrip())
        return names


class _H5File(_MatFile):
    """MATLAB v7.3 file (HDF5): datasets hold the transpose of the MATLAB array."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fmt = "MATLAB v7.3"
        try:
            self.h5 = h5py.File(path, "r")
        except OSError as exc:
            raise DataError(
                f"{path}: unreadable MATLAB v7.3 (HDF5) file ({one_line(exc)}); truncated or "
                f"corrupt"
            ) from None
        self.shapes, self.classes = {}, {}
        for key, obj in self.h5.items():
            if key.startswith("#"):  # "#refs#", "#subsystem#": MATLAB's internals
                continue
            if not isinstance(obj, h5py.Dataset):
                self.shapes[key], self.classes[key] = (), "struct"
                continue
            cls = obj.attrs.get("MATLAB_class", b"")
            cls = cls.decode() if isinstance(cls, bytes) else str(cls)
            if obj.dtype.kind == "O" or obj.dtype == h5py.ref_dtype:
                cls = "cell"
            elif not cls:
                cls = {"f": "double", "i": "int64", "u": "uint64", "b": "logical"}.get(
                    obj.dtype.kind, "unknown"
                )
            empty = bool(obj.attrs.get("MATLAB_empty", 0))
            self.shapes[key] = (0, 0) if empty else tuple(int(s) for s in obj.shape[::-1])
            self.classes[key] = cls

    def _dataset(self, key: str) -> h5py.Dataset:
        try:
            dset = self.h5[key]
            check_declared_size(dset, f"{self.path}: '{key}'")
        except DataError:
            raise
        except Exception as exc:  # noqa: BLE001 - corrupt object headers
            raise DataError(f"{self.path}: '{key}' is unreadable ({one_line(exc)})") from None
        return dset

    def read(
        self, keys: list[str], names_key: str | None, rows: str | None = None
    ) -> tuple[dict, list[str] | None]:
        for key in keys + ([names_key] if names_key else []):
            self._dataset(key)  # every header checked before the first read
        try:
            arrays = {k: self._get(k, as_float32=k == rows).T for k in keys}
            names = self._names(names_key) if names_key else None
        except DataError:
            raise
        except MemoryError:
            raise DataError(f"{self.path}: too large to load into memory") from None
        except Exception as exc:  # noqa: BLE001 - corrupt data behind a valid header
            raise DataError(f"{self.path}: unreadable HDF5 data ({one_line(exc)})") from None
        return arrays, names

    def _get(self, key: str, as_float32: bool) -> np.ndarray:
        dset = self.h5[key]
        if not as_float32 or dset.dtype.kind not in "biuf" or dset.ndim != 2:
            return dset[()]
        out = np.empty(dset.shape, dtype=np.float32)  # HDF5 converts while reading
        dset.read_direct(out)
        return out

    def _chars(self, dset: h5py.Dataset) -> np.ndarray:
        check_declared_size(dset, f"{self.path}: '{dset.name}'")
        if dset.attrs.get("MATLAB_empty", 0):
            return np.zeros((0, 0), dtype=np.uint16)
        if dset.dtype.kind not in "ui":
            raise self.fail(NAMES_KEY, f"holds {dset.dtype}, expected MATLAB char data")
        return dset[()]

    def _names(self, key: str) -> list[str]:
        dset = self.h5[key]
        if self.classes[key] == "char":  # a C x width char matrix, stored transposed
            return ["".join(map(chr, row)).rstrip() for row in self._chars(dset).T]
        if self.classes[key] != "cell":
            raise self.fail(key, f"is a MATLAB {self.classes[key]}, expected a cell of strings")
        names = []
        for ref in dset[()].T.reshape(-1, order="F"):
            target = self.h5[ref]
            if not isinstance(target, h5py.Dataset):
                raise self.fail(key, "holds a non-string cell, expected a cell of strings")
            names.append("".join(map(chr, self._chars(target).reshape(-1))).rstrip())
        return names

    def close(self) -> None:
        self.h5.close()


def _open(path: Path) -> _MatFile:
    try:
        size = path.stat().st_size
        if size == 0:
            raise DataError(f"{path}: file is empty; expected a MATLAB .mat file")
        return _H5File(path) if h5py.is_hdf5(path) else _V5File(path, size)
    except DataError:
        raise
    except OSError as exc:  # permissions, I/O errors, HDF5 structures it cannot parse
        raise DataError(f"{path}: cannot read ({exc.strerror or one_line(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - a corrupt header the parsers reject otherwise
        raise DataError(f"{path}: corrupt MATLAB file ({one_line(exc)})") from None


# ---------------------------------------------------------------------------- checks
_NUMERIC = set(_ITEMSIZE)
_KNOWN = {"features", "labels", "att", NAMES_KEY, *SPLIT_KEYS.values()}


def _require(mat: _MatFile, keys: Iterable[str], expected: str) -> None:
    missing = [k for k in keys if k not in mat.shapes]
    if not missing:
        return
    found = sorted(mat.shapes)
    spare = [k for k in found if k not in _KNOWN]
    hints = []
    for k in missing:
        close = difflib.get_close_matches(k, spare, n=1, cutoff=0.6)
        if close:
            hints.append(f"'{close[0]}' for '{k}'")
    hint = f"; misnamed? {', '.join(hints)}" if hints else ""
    raise DataError(
        f"{mat.path}: missing key(s) {', '.join(repr(k) for k in missing)} "
        f"(keys found: {', '.join(found) or 'none'}{hint}); expected {expected}"
    )


def _numeric(mat: _MatFile, key: str) -> tuple[int, ...]:
    if mat.classes[key] not in _NUMERIC:
        raise mat.fail(key, f"is a MATLAB {mat.classes[key]}, expected a numeric array")
    return mat.shapes[key]


def _vector_length(mat: _MatFile, key: str, what: str) -> int:
    shape = _numeric(mat, key)
    if len(shape) > 2 or (len(shape) == 2 and min(shape) > 1):
        raise mat.fail(key, f"has shape {_shape_str(shape)}, expected an N x 1 vector of {what}")
    n = int(np.prod(shape))
    if n == 0:
        raise mat.fail(key, f"is empty; expected at least one entry ({what})")
    return n


def _integers(mat: _MatFile, key: str, value: np.ndarray) -> np.ndarray:
    flat = value.reshape(-1)
    if flat.dtype.kind == "f":
        if not np.isfinite(flat).all() or (flat != np.floor(flat)).any():
            raise mat.fail(key, "holds non-integer values; expected 1-based integer indices")
        if flat.size and np.abs(flat).max() >= 2**62:
            raise mat.fail(key, "holds values far beyond any index; expected 1-based indices")
    return flat.astype(np.int64)


def _one_based(mat: _MatFile, key: str, value: np.ndarray, upper: int, what: str) -> np.ndarray:
    """Validated 0-based copy of a 1-based index vector with entries in 1..upper."""
    idx = _integers(mat, key, value)
    lo, hi = int(idx.min()), int(idx.max())
    if lo == 0:
        raise mat.fail(key, f"contains 0; expected 1-based {what} (1..{upper}): 0-based file?")
    if lo < 0 or hi > upper:
        raise mat.fail(key, f"values {lo}..{hi} are out of range; expected {what} in 1..{upper}")
    return idx - 1


# ---------------------------------------------------------------------------- loader
def read_semantic(path: Path, optional: Iterable[str] = ("train", "val")) -> SemanticFile:
    """The class attributes, class names and split indices of one semantic file
    (``att_splits.mat`` or ``sent_splits.mat``) alone, without ``res101.mat``: the same
    checks as :func:`load_xlsa17`, with indices bounded by the largest one the file holds."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file; expected a semantic file {ORIGIN}")
    with _open(path) as sem:
        _require(
            sem,
            ("att",) + tuple(SPLIT_KEYS[s] for s in REQUIRED_SPLITS),
            "'att' (d2 x C) and the 1-based index vectors "
            + ", ".join(SPLIT_KEYS[s] for s in REQUIRED_SPLITS),
        )
        ashape = _numeric(sem, "att")
        if len(ashape) != 2 or 0 in ashape:
            raise sem.fail("att", f"has shape {_shape_str(ashape)}, expected d2 x C")
        wanted = [*REQUIRED_SPLITS, *(s for s in optional if SPLIT_KEYS[s] in sem.shapes)]
        keys = {s: SPLIT_KEYS[s] for s in wanted}
        for key in keys.values():
            _vector_length(sem, key, "1-based row indices into the images")
        names_key = NAMES_KEY if NAMES_KEY in sem.shapes else None
        arrays, names = sem.read(["att", *keys.values()], names_key)
        for key, value in arrays.items():
            if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
                raise sem.fail(key, f"holds {getattr(value, 'dtype', '?')} data, expected numbers")
    att = np.asarray(arrays["att"], dtype=np.float64)
    if not np.isfinite(att).all():
        raise sem.fail("att", "contains NaN or Inf values")
    if names is not None and len(names) != att.shape[1]:
        raise sem.fail(
            "att", f"has {att.shape[1]} class columns but '{NAMES_KEY}' names {len(names)}"
        )
    raw = {s: _integers(sem, k, arrays[k]) for s, k in keys.items()}
    top = max(int(v.max()) for v in raw.values())
    splits = {s: _one_based(sem, keys[s], v, top, "row indices") for s, v in raw.items()}
    for s, idx in splits.items():
        if np.unique(idx).size != idx.size:
            raise sem.fail(keys[s], "contains duplicate indices")
    return SemanticFile(att=att, names=names, splits=splits, path=path)


@dataclass(frozen=True)
class SemanticFile:
    """What :func:`read_semantic` found: ``att`` d2 x C, names (or None), 0-based splits."""

    att: np.ndarray
    names: list[str] | None
    splits: dict[str, np.ndarray]
    path: Path


def _locate(folder: Path, semantic: str) -> tuple[Path, Path]:
    expected = f"{RES_FILE} and {semantic} {ORIGIN}"
    if not folder.exists():
        raise DataError(f"{folder}: no such folder; expected a folder holding {expected}")
    if not folder.is_dir():
        raise DataError(
            f"{folder}: is a file; pass the folder holding {expected} (e.g. {folder.parent})"
        )
    res, sem = folder / RES_FILE, folder / semantic
    missing = [p.name for p in (res, sem) if not p.is_file()]
    if missing:
        raise DataError(
            f"{folder}: missing {' and '.join(missing)}; expected {res} and {sem} {ORIGIN}"
        )
    return res, sem


def load_xlsa17(folder: Path, semantic: str = "att_splits.mat") -> ZSLData:
    """Load an xlsa17 folder (``res101.mat`` + ``semantic``) as 0-based :class:`ZSLData`."""
    folder = Path(folder).expanduser()
    res_path, sem_path = _locate(folder, semantic)
    with _open(res_path) as res, _open(sem_path) as sem:
        # ---- headers only: keys and shapes, before any array is read
        _require(res, ("features", "labels"), "'features' (d1 x N) and 'labels' (N x 1)")
        _require(
            sem,
            ("att",) + tuple(SPLIT_KEYS[s] for s in REQUIRED_SPLITS),
            "'att' (d2 x C) and the 1-based index vectors "
            + ", ".join(SPLIT_KEYS[s] for s in REQUIRED_SPLITS),
        )
        n = _vector_length(res, "labels", "1-based class labels, one per image")
        fshape = _numeric(res, "features")
        if len(fshape) != 2 or 0 in fshape:
            raise res.fail("features", f"has shape {_shape_str(fshape)}, expected d1 x {n}")
        if fshape[1] != n:
            if fshape[0] == n:
                raise res.fail(
                    "features",
                    f"is {_shape_str(fshape)}: transposed; expected d1 x N = "
                    f"{fshape[1]} x {n}, one column per image ('labels' has {n} entries)",
                )
            raise res.fail(
                "features",
                f"has shape {_shape_str(fshape)} but 'labels' has {n} entries; "
                f"expected d1 x {n}, one column per image",
            )
        ashape = _numeric(sem, "att")
        if len(ashape) != 2 or 0 in ashape:
            raise sem.fail("att", f"has shape {_shape_str(ashape)}, expected d2 x C")
        split_keys = {s: k for s, k in SPLIT_KEYS.items() if k in sem.shapes}
        for key in split_keys.values():
            _vector_length(sem, key, f"1-based row indices into the {n} images")
        names_key = NAMES_KEY if NAMES_KEY in sem.shapes else None

        # ---- data
        res_arrays, _ = res.read(["features", "labels"], None, rows="features")
        sem_arrays, names = sem.read(["att", *split_keys.values()], names_key)
        for mat, arrays in ((res, res_arrays), (sem, sem_arrays)):
            for key, value in arrays.items():
                if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
                    kind = getattr(value, "dtype", type(value).__name__)
                    raise mat.fail(key, f"holds {kind} data, expected real numbers")

    att = sem_arrays["att"]
    n_cls = att.shape[1]
    if names is not None and len(names) != n_cls:
        if att.shape[0] == len(names):
            raise sem.fail(
                "att",
                f"is {_shape_str(att.shape)}: transposed; expected d2 x C = "
                f"{att.shape[1]} x {len(names)}, one column per class",
            )
        raise sem.fail(
            "att", f"has {n_cls} class columns but '{NAMES_KEY}' names {len(names)} classes"
        )
    raw_labels = _integers(res, "labels", res_arrays["labels"])
    top = int(raw_labels.max())
    if top > n_cls:
        if names is None and att.shape[0] >= top:
            raise sem.fail(
                "att",
                f"is {_shape_str(att.shape)}: transposed; expected d2 x C with one column per "
                f"class (labels in {res.path} go up to {top})",
            )
        raise sem.fail(
            "att",
            f"has {n_cls} class columns but 'labels' in {res.path} go up to {top}; "
            f"expected d2 x C with C >= {top} (do the two files belong together?)",
        )
    labels = _one_based(res, "labels", raw_labels, n_cls, "class labels")
    splits = {
        split: _one_based(sem, key, sem_arrays[key], n, f"row indices into the {n} images")
        for split, key in split_keys.items()
    }

    if names is None:
        names = [f"class_{j + 1:03d}" for j in range(n_cls)]
    present = np.zeros(n_cls, dtype=bool)
    present[labels] = True
    extra = {"format": res.fmt, "semantic": semantic}
    if not present.all():
        used = np.flatnonzero(present)
        remap = np.full(n_cls, -1, dtype=np.int64)
        remap[used] = np.arange(used.size)
        labels = remap[labels]
        att = att[:, used]
        names = [names[j] for j in used]
        extra["dropped_classes"] = str(n_cls - used.size)

    features = res_arrays["features"].T  # [N, d1]; C-contiguous when the file was column-major
    if not features.flags.c_contiguous:
        features = np.ascontiguousarray(features, dtype=np.float32)
    return ZSLData(
        features=features,
        labels=labels,
        class_embeddings=att.T,
        class_names=names,
        splits=splits,
        name=folder.resolve().name.lower(),
        source=f"{res_path} + {sem_path.name}",
        extra=extra,
    )
