"""The toolkit's own HDF5 store: one file holding a validated :class:`ZSLData`.

Converting once (``zsl data convert SOURCE OUT.h5``) gives any source (a registered dataset,
an xlsa17 folder of either MATLAB format) one fast, self-describing file: features are kept as
the float32 ``[N, d]`` array the methods consume, in a contiguous uncompressed dataset that
HDF5 reads straight into the result buffer (no transpose, no dtype conversion, no
decompression).

Layout (``format_version`` 1): root attributes ``format``, ``format_version``, ``name``,
``source``, ``extra`` (JSON); datasets ``features`` (float32 N x d1), ``labels`` (int64 N,
0-based), ``class_embeddings`` (float32 C x d2), ``class_names`` (UTF-8 strings, C) and one
int64 dataset per split under the group ``splits``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import h5py
import numpy as np

from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.errors import DataError, one_line
from zsl_toolkit.io import publish_mode

FORMAT = "zsl-toolkit ZSLData"
FORMAT_VERSION = 1
DATASETS = ("features", "labels", "class_embeddings", "class_names", "splits")

# zlib cannot compress by more than ~1032:1, so a filtered dataset declaring more bytes than
# this multiple of its stored size has a corrupt or malicious header.
MAX_COMPRESSION_RATIO = 1100
_SMALL = 1 << 20  # below this, declared sizes are not worth refusing


def check_declared_size(dset: h5py.Dataset, where: str) -> None:
    """Refuse a dataset whose header declares far more data than the file stores.

    Reading it would allocate the declared size (HDF5 fills unstored space), so this check
    runs on the header alone, before any read.
    """
    declared = int(np.prod(dset.shape, dtype=np.float64)) * dset.dtype.itemsize
    if declared <= _SMALL:
        return
    stored = dset.id.get_storage_size()
    filtered = dset.id.get_create_plist().get_nfilters() > 0
    limit = stored * (MAX_COMPRESSION_RATIO if filtered else 1)
    if declared > limit:
        shape = " x ".join(map(str, dset.shape))
        raise DataError(
            f"{where} header declares a {shape} {dset.dtype} array ({declared} bytes) but "
            f"the file stores only {stored} bytes for it; truncated or corrupt"
        )


def save_h5(data: ZSLData, path: Path) -> None:
    """Write ``data`` to ``path`` atomically (temporary file beside it, then rename)."""
    path = Path(path).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise DataError(f"{path}: cannot write the store ({exc.strerror})") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        publish_mode(tmp)
        with h5py.File(tmp, "w") as h5:
            h5.attrs["format"] = FORMAT
            h5.attrs["format_version"] = FORMAT_VERSION
            h5.attrs["name"] = data.name
            h5.attrs["source"] = data.source
            h5.attrs["extra"] = json.dumps(data.extra, sort_keys=True)
            # Contiguous, uncompressed: loading is then one read into the result array.
            h5.create_dataset("features", data=np.ascontiguousarray(data.features, np.float32))
            h5.create_dataset("labels", data=data.labels.astype(np.int64, copy=False))
            h5.create_dataset(
                "class_embeddings", data=np.ascontiguousarray(data.class_embeddings, np.float32)
            )
            h5.create_dataset(
                "class_names", data=data.class_names, dtype=h5py.string_dtype("utf-8")
            )
            group = h5.create_group("splits", track_order=True)  # keep the split order
            for key, idx in data.splits.items():
                group.create_dataset(key, data=idx.astype(np.int64, copy=False))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(f"{path}: cannot write the store ({one_line(exc)})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _attr(h5: h5py.File, key: str) -> object:
    """A root attribute as a plain Python value (numpy scalars and bytes unwrapped)."""
    value = h5.attrs.get(key)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return value


def _show(value: object) -> str:
    return "missing" if value is None else " ".join(repr(value).split())


def _read(group: h5py.Group, key: str, path: Path) -> np.ndarray:
    dset = group[key]
    where = f"{path}: '{dset.name.lstrip('/')}'"
    if not isinstance(dset, h5py.Dataset):
        raise DataError(f"{where} is a group, expected an array")
    if dset.dtype.kind not in "biuf":
        raise DataError(f"{where} holds {dset.dtype} data, expected numbers")
    check_declared_size(dset, where)
    return dset[()]


def load_h5(path: Path) -> ZSLData:
    """Load a store written by :func:`save_h5`; reads only data (no code, no pickles)."""
    path = Path(path).expanduser()
    hint = "expected a store written by `zsl data convert SOURCE OUT.h5`"
    if not path.is_file():
        raise DataError(f"{path}: no such file; {hint}")
    if not h5py.is_hdf5(path):
        raise DataError(f"{path}: not an HDF5 file; {hint}")
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"{path}: cannot open ({one_line(exc)}); {hint}") from None
    try:
        with h5:
            return _read_store(h5, path, hint)
    except DataError:
        raise
    except MemoryError:
        raise DataError(f"{path}: too large to load into memory") from None
    except Exception as exc:  # noqa: BLE001 - corrupt HDF5 structures fail in many ways
        raise DataError(f"{path}: corrupt store ({one_line(exc)}); {hint}") from None


def _read_store(h5: h5py.File, path: Path, hint: str) -> ZSLData:
    found = sorted(str(k) for k in h5.keys())
    fmt = _attr(h5, "format")
    if not isinstance(fmt, str) or fmt != FORMAT:
        raise DataError(
            f"{path}: not a zsl-toolkit store (attribute 'format' is {_show(fmt)}, keys "
            f"found: {', '.join(found) or 'none'}); {hint}"
        )
    version = _attr(h5, "format_version")
    if not isinstance(version, int) or version != FORMAT_VERSION:
        raise DataError(
            f"{path}: store format_version {_show(version)} is not supported (this "
            f"toolkit reads version {FORMAT_VERSION}); convert the source data again"
        )
    missing = [k for k in DATASETS if k not in h5]
    if missing:
        raise DataError(
            f"{path}: missing {', '.join(repr(k) for k in missing)} "
            f"(keys found: {', '.join(found) or 'none'}); {hint}"
        )
    try:
        extra = json.loads(str(_attr(h5, "extra") or "{}"))
    except json.JSONDecodeError:
        extra = None
    if not isinstance(extra, dict):
        raise DataError(f"{path}: attribute 'extra' is not a JSON object")
    try:
        features = _read(h5, "features", path)
        labels = _read(h5, "labels", path)
        embeddings = _read(h5, "class_embeddings", path)
        names = h5["class_names"]
        check_declared_size(names, f"{path}: 'class_names'")
        if names.dtype.kind not in "OSU":
            raise DataError(f"{path}: 'class_names' holds {names.dtype}, expected strings")
        class_names = [str(n) for n in names.asstr()[()].reshape(-1)]
        splits_group = h5["splits"]
        if not isinstance(splits_group, h5py.Group):
            raise DataError(f"{path}: 'splits' is an array, expected a group of index arrays")
        splits = {k: _read(splits_group, k, path) for k in splits_group}
        name = str(_attr(h5, "name") or path.stem)
        source = str(_attr(h5, "source") or "")
    except (OSError, KeyError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: unreadable store data ({one_line(exc)})") from None
    # Validate under this file's name, so errors point at the store; then restore the source.
    data = ZSLData(
        features=features,
        labels=labels,
        class_embeddings=embeddings,
        class_names=class_names,
        splits=splits,
        name=name,
        source=str(path),
        extra={str(k): str(v) for k, v in extra.items()},
    )
    data.source = source or str(path)
    return data
