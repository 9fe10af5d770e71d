"""Publishing an extracted set: the toolkit's HDF5 store, or an xlsa17-layout folder.

Both keep the image file of every row (relative to the image folder, recorded as
``image_root``), as xlsa17's ``res101.mat`` does in ``image_files``, so a deployed image-in
model can be evaluated on the very images the store's splits name.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import h5py
import numpy as np

from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.data.hdf5 import save_h5
from zsl_toolkit.data.xlsa17 import SPLIT_KEYS
from zsl_toolkit.errors import ConfigError, DataError

FILES_KEY = "image_files"


def check_target(output: Path, fmt: str, force: bool = False) -> None:
    """Refuse an output that cannot be written, before any work is done; an existing store
    (a file, or a non-empty folder for ``mat``) only with ``force``, as ``zsl data convert``
    and ``zsl train --out`` do."""
    if not output.parent.is_dir():
        raise ConfigError(f"{output}: folder {output.parent} does not exist")
    if fmt == "h5" and output.is_dir():
        raise ConfigError(f"{output}: is a folder; --format h5 writes one .h5 file")
    if fmt == "mat" and output.exists() and not output.is_dir():
        raise ConfigError(
            f"{output}: is a file; --format mat writes res101.mat and att_splits.mat into a folder"
        )
    taken = output.is_file() if fmt == "h5" else output.is_dir() and any(output.iterdir())
    if taken and not force:
        raise ConfigError(f"{output}: already exists (use --force to replace it)")


def write_h5(data: ZSLData, files: list[str], output: Path) -> None:
    """The store of :func:`zsl_toolkit.data.hdf5.save_h5` plus ``image_files``, one rename."""
    tmp = output.parent / f".{output.name}.writing.h5"
    try:
        save_h5(data, tmp)
        with h5py.File(tmp, "r+") as h5:
            h5.create_dataset(FILES_KEY, data=files, dtype=h5py.string_dtype("utf-8"))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)


def write_mat(data: ZSLData, files: list[str], output: Path) -> None:
    """``res101.mat`` + ``att_splits.mat`` (MATLAB v5, 1-based indices) in a new folder.

    The xlsa17 loader drops classes without images, so such classes are absent when the
    folder is read back (the HDF5 store keeps them).
    """
    from scipy.io import savemat

    tmp = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        cells = np.empty((len(files), 1), dtype=object)
        cells[:, 0] = files
        savemat(
            tmp / "res101.mat",
            {
                "features": data.features.T.astype(np.float64),
                "labels": (data.labels + 1).reshape(-1, 1).astype(np.float64),
                FILES_KEY: cells,
            },
        )
        names = np.empty((data.n_classes, 1), dtype=object)
        names[:, 0] = data.class_names
        sem = {"att": data.class_embeddings.T.astype(np.float64), "allclasses_names": names}
        for split, key in SPLIT_KEYS.items():
            if split in data.splits:
                sem[key] = (data.splits[split] + 1).reshape(-1, 1).astype(np.float64)
        savemat(tmp / "att_splits.mat", sem)
        if output.is_dir():  # empty, or replaced under --force (checked before)
            old = output.parent / f".{output.name}.replaced"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(output, old)
            os.replace(tmp, output)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, output)
    except OSError as exc:
        raise DataError(f"{output}: cannot write ({exc})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_image_files(store: str | Path) -> list[str]:
    """The ``image_files`` of a store written by :func:`write_h5` (DataError if absent)."""
    path = Path(store)
    try:
        with h5py.File(path, "r") as h5:
            if FILES_KEY not in h5:
                raise DataError(f"{path}: has no '{FILES_KEY}' (not written by zsl extract)")
            return [str(s) for s in h5[FILES_KEY].asstr()[()]]
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
