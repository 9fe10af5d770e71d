"""Loading speed: the xlsa17 loader and the HDF5 store against a bare ``scipy.io.loadmat``.

Builds a CUB-sized ``res101.mat`` (features 2048 x 11788 float64, as in the real file) in a
temporary folder, pairs it with the real CUB ``att_splits.mat`` when ``../shared/data`` is
present (else a generated one of the same shape), and times in one process, best of 3 (rounds interleaved):

- bare ``scipy.io.loadmat`` of both files (the reference),
- ``load_xlsa17`` to a ready, validated :class:`ZSLData` (target: <= 1.5x the reference),
- ``load_h5`` of the store written once by ``save_h5`` (target: <= 0.3x the reference),
- with ``--v73``, ``load_xlsa17`` of the same pair written as MATLAB v7.3 (HDF5) files,
- ``load_xlsa17`` of the pair with ``res101.mat`` saved compressed (``do_compression=True``)
  against a bare ``loadmat`` of that pair (target: <= 1.5x).

Run: ``python benchmarks/bench_loading.py [--v73]``; writes ``benchmarks/results/loading.md``.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import scipy.io
from _common import write_report

from zsl_toolkit.data.hdf5 import load_h5, save_h5
from zsl_toolkit.data.xlsa17 import load_xlsa17

HERE = Path(__file__).resolve().parent
REAL_CUB = HERE.parents[0] / ".." / "shared" / "data" / "xlsa17" / "CUB" / "att_splits.mat"
N, D1, C, D2 = 11788, 2048, 200, 312
TARGET_MAT, TARGET_H5 = 1.5, 0.3


def best_of(candidates: dict[str, Callable[[], object]], repeats: int = 3) -> dict[str, float]:
    """Best time of each candidate, running them in turn each round so that load from other
    processes on a shared machine hits every candidate alike."""
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(repeats):
        for name, fn in candidates.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def generated_splits(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A CUB-shaped att_splits: 150 seen / 50 unseen classes, uint16 1-based indices."""
    unseen = rng.choice(C, size=50, replace=False) + 1
    labels = rng.integers(1, C + 1, size=N)
    is_unseen = np.isin(labels, unseen)
    seen_rows = rng.permutation(np.flatnonzero(~is_unseen))
    n_ts = seen_rows.size // 5
    att = rng.random((D2, C))
    return {
        "att": att / np.linalg.norm(att, axis=0),
        "trainval_loc": (np.sort(seen_rows[n_ts:]) + 1).astype(np.uint16)[:, None],
        "test_seen_loc": (np.sort(seen_rows[:n_ts]) + 1).astype(np.uint16)[:, None],
        "test_unseen_loc": (np.flatnonzero(is_unseen) + 1).astype(np.uint16)[:, None],
        "_labels": labels,
    }


def labels_for(splits: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """1-based labels agreeing with real splits: seen classes on trainval + test_seen rows."""
    tv = splits["trainval_loc"].ravel().astype(np.int64) - 1
    ts = splits["test_seen_loc"].ravel().astype(np.int64) - 1
    tu = splits["test_unseen_loc"].ravel().astype(np.int64) - 1
    classes = rng.permutation(splits["att"].shape[1]) + 1
    seen, unseen = classes[:150], classes[150:]
    labels = np.zeros(N, dtype=np.int64)
    labels[tv] = seen[np.arange(tv.size) % seen.size]
    labels[ts] = seen[np.arange(ts.size) % seen.size]
    labels[tu] = unseen[np.arange(tu.size) % unseen.size]
    return labels


def write_v73(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """MATLAB v7.3 layout for numeric arrays: 512-byte header, datasets stored transposed."""
    with h5py.File(path, "w", userblock_size=512) as h5:
        for key, value in arrays.items():
            dset = h5.create_dataset(key, data=np.ascontiguousarray(value.T))
            dset.attrs["MATLAB_class"] = np.bytes_(
                "double" if value.dtype.kind == "f" else "uint16"
            )
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .".ljust(116)
    with open(path, "r+b") as fh:
        fh.write(header + b"\x00" * 8 + b"\x00\x02IM")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--v73", action="store_true", help="also time a MATLAB v7.3 pair")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "loading.md")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    tmp = Path(tempfile.mkdtemp(prefix="zsl-bench-loading-"))
    try:
        folder = tmp / "CUB"
        folder.mkdir()
        if REAL_CUB.is_file():
            shutil.copy(REAL_CUB, folder / "att_splits.mat")
            splits = scipy.io.loadmat(str(folder / "att_splits.mat"))
            labels = labels_for(splits, rng)
            att_source = "real CUB att_splits.mat"
        else:
            splits = generated_splits(rng)
            labels = splits.pop("_labels")
            scipy.io.savemat(str(folder / "att_splits.mat"), splits)
            att_source = "generated CUB-shaped att_splits.mat"
        features = rng.random((D1, N))  # float64, one column per image, like the real file
        scipy.io.savemat(
            str(folder / "res101.mat"),
            {"features": features, "labels": labels[:, None].astype(np.float64)},
        )
        res, att = str(folder / "res101.mat"), str(folder / "att_splits.mat")
        zipped = tmp / "CUBZ"
        zipped.mkdir()
        shutil.copy(folder / "att_splits.mat", zipped / "att_splits.mat")
        scipy.io.savemat(
            str(zipped / "res101.mat"),
            {"features": features, "labels": labels[:, None].astype(np.float64)},
            do_compression=True,
        )
        res_z = str(zipped / "res101.mat")

        def bare() -> None:
            scipy.io.loadmat(res)
            scipy.io.loadmat(att)

        def bare_z() -> None:
            scipy.io.loadmat(res_z)
            scipy.io.loadmat(att)

        store = tmp / "cub.h5"
        save_h5(load_xlsa17(folder), store)
        candidates = {
            "bare": bare,
            "mat": lambda: load_xlsa17(folder),
            "h5": lambda: load_h5(store),
            "bare_z": bare_z,
            "mat_z": lambda: load_xlsa17(zipped),
        }
        if args.v73:
            v73 = tmp / "CUB73"
            v73.mkdir()
            write_v73(v73 / "res101.mat", {"features": features, "labels": labels[None, :]})
            keys = ("att", "trainval_loc", "test_seen_loc", "test_unseen_loc")
            write_v73(v73 / "att_splits.mat", {k: np.asarray(splits[k]) for k in keys})
            candidates["v73"] = lambda: load_xlsa17(v73)
        for fn in candidates.values():  # warm the page cache for every candidate alike
            fn()
        best = best_of(candidates)
        t_bare, t_mat, t_h5 = best["bare"], best["mat"], best["h5"]
        rows = [
            ("bare scipy.io.loadmat (res101.mat + att_splits.mat)", t_bare, None, None),
            ("load_xlsa17 -> ZSLData (MATLAB v5)", t_mat, t_mat / t_bare, TARGET_MAT),
            ("load_h5 -> ZSLData (toolkit store)", t_h5, t_h5 / t_bare, TARGET_H5),
            (
                "bare scipy.io.loadmat, compressed res101.mat (next row's reference)",
                best["bare_z"],
                None,
                None,
            ),
            (
                "load_xlsa17 -> ZSLData, compressed res101.mat",
                best["mat_z"],
                best["mat_z"] / best["bare_z"],
                TARGET_MAT,
            ),
        ]
        if args.v73:
            t_73 = best["v73"]
            rows.append(("load_xlsa17 -> ZSLData (MATLAB v7.3)", t_73, t_73 / t_bare, None))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    lines = [
        "# Loading speed",
        "",
        f"CUB-sized res101.mat (features {D1} x {N} float64, MATLAB v5) + {att_source}; "
        "best of 3 in one process (candidates interleaved), files in the page cache.",
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"Python {platform.python_version()}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, h5py {h5py.__version__}.",
        "Command: `python benchmarks/bench_loading.py" + (" --v73`" if args.v73 else "`"),
        "",
        "| what | seconds | ratio to bare loadmat | target | ok |",
        "|---|---:|---:|---:|:---:|",
    ]
    for what, seconds, ratio, target in rows:
        r = f"{ratio:.2f}x" if ratio is not None else "1.00x"
        t = f"<= {target}x" if target is not None else ""
        ok = ("yes" if ratio <= target else "NO") if target is not None else ""
        lines.append(f"| {what} | {seconds:.3f} | {r} | {t} | {ok} |")
    write_report(lines, args.out)


if __name__ == "__main__":
    main()
