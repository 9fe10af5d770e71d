"""``zsl extract`` as a library call: image folder + class semantics -> a GZSL feature set.

Images are decoded and sized in DataLoader worker processes while the main process runs the
backbone, batch by batch. Features are kept in chunks of whole batches in a work folder
beside the output (``.NAME.partial``), each chunk written atomically; an interrupted run
given the same inputs finds its chunks and continues after the last complete one. A chunk's
batches are the same whether or not the run was interrupted, so the result is identical.
The output is published by one rename at the end; the work folder is then removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np
import torch

from zsl_images.backbone_graph import GraphUnavailable, OrtFeatures, backbone_graph, choose_engine
from zsl_images.backbones import get_backbone, image_features
from zsl_images.checks import check_semantics, check_unseen
from zsl_images.folder import ImageFolder, scan
from zsl_images.preprocess import DECODE_ERRORS, Sizing, sizing_of
from zsl_images.progress import Progress
from zsl_images.semantics import Semantics
from zsl_images.splits import TEST_SEEN_FRACTION, VAL_CLASS_FRACTION, draw_unseen, make_splits
from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.device import resolve_device
from zsl_toolkit.errors import ConfigError, DataError
from zsl_toolkit.io import atomic_write

BATCHES_PER_CHUNK = 8
FORMATS = ("h5", "mat")


class _Images(torch.utils.data.Dataset):
    """Row -> (uint8 image, ok flag): a file Pillow cannot decode gives a blank image and
    ok = False, so one bad file never stops a worker."""

    def __init__(self, folder: ImageFolder, rows: np.ndarray, sizing: Sizing) -> None:
        self.folder, self.rows, self.sizing = folder, rows, sizing

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, bool]:
        try:
            image = self.sizing.load(self.folder.path(int(self.rows[i])))
            return torch.from_numpy(image), True
        except DECODE_ERRORS:
            size = self.sizing.size
            return torch.zeros((size, size, 3), dtype=torch.uint8), False


@dataclass
class ExtractReport:
    """What was written and what was skipped."""

    output: Path
    data: ZSLData
    skipped: list[str] = field(default_factory=list)
    imageless: list[str] = field(default_factory=list)
    resumed_rows: int = 0
    images_per_second: float = 0.0


def _fingerprint(folder: ImageFolder, parts: dict[str, object]) -> str:
    h = hashlib.sha256(json.dumps(parts, sort_keys=True).encode())
    for rel in folder.files:
        st = folder.root.joinpath(rel).stat()
        h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _weights_id(path: Path | None) -> str:
    if path is None:
        return "default"
    st = Path(path).stat()
    return f"{Path(path).resolve()}:{st.st_size}:{st.st_mtime_ns}"


def extract_features(
    folder: ImageFolder,
    *,
    backbone: str,
    weights: Path | None,
    device: str,
    batch_size: int,
    workers: int,
    work_dir: Path,
    progress: TextIO | None = None,
    interval: float = 10.0,
    engine: str = "auto",
) -> tuple[np.ndarray, np.ndarray, int, float]:
    """(features [N, d], ok [N] bool, rows reused from earlier chunks, images/s).

    ``engine``: ``onnxruntime`` runs the backbone's cached ONNX graph (the one image-in
    exports compose, :mod:`zsl_images.backbone_graph`), ``torch`` its module, ``auto`` the
    graph on a CPU when it is available."""
    spec = get_backbone(backbone)
    sizing = sizing_of(spec)
    dev = resolve_device(device)
    chosen = choose_engine(engine, dev.type)
    run_graph = None
    if chosen == "onnxruntime":
        try:
            run_graph = OrtFeatures(backbone_graph(spec, weights))
        except GraphUnavailable as exc:
            if engine == "onnxruntime":
                raise ConfigError(f"--engine onnxruntime: {exc}") from None
            chosen = "torch"
    key = _fingerprint(
        folder,
        {
            "backbone": backbone,
            "weights": _weights_id(weights),
            "batch": batch_size,
            "pre": spec.preprocessing(),
            "device": dev.type,
            "engine": chosen,
        },
    )
    work_dir.mkdir(parents=True, exist_ok=True)
    manifest = work_dir / "manifest.json"
    if not manifest.is_file() or json.loads(manifest.read_text()).get("key") != key:
        for old in work_dir.glob("chunk-*.npz"):
            old.unlink()
        data = json.dumps({"key": key}).encode()
        atomic_write(manifest, lambda fh: fh.write(data))
    n = len(folder.files)
    chunk = batch_size * BATCHES_PER_CHUNK
    n_chunks = -(-n // chunk)
    features = np.zeros((n, spec.feature_dim), np.float32)
    ok = np.zeros(n, bool)
    pending = []
    for c in range(n_chunks):
        path = work_dir / f"chunk-{c:06d}.npz"
        if path.is_file():
            with np.load(path) as z:
                features[c * chunk : (c + 1) * chunk] = z["features"]
                ok[c * chunk : (c + 1) * chunk] = z["ok"]
        else:
            pending.append(c)
    reused = n - sum(min(chunk, n - c * chunk) for c in pending)
    if not pending:
        return features, ok, reused, 0.0
    model = run_graph if run_graph is not None else image_features(spec, weights).to(dev)
    rows = np.concatenate([np.arange(c * chunk, min(n, (c + 1) * chunk)) for c in pending])
    loader = torch.utils.data.DataLoader(
        _Images(folder, rows, sizing),
        batch_size=batch_size,
        shuffle=False,
        num_workers=workers,
        pin_memory=dev.type == "cuda",
        persistent_workers=False,
        prefetch_factor=4 if workers > 0 else None,
    )
    bar = Progress(n, reused, stream=progress or sys.stderr, interval=interval)
    pos = 0
    with torch.inference_mode():
        for images, flags in loader:
            if run_graph is not None:
                out = run_graph(images.numpy())
            else:
                out = model(images.to(dev, non_blocking=True)).float().cpu().numpy()
            idx = rows[pos : pos + len(out)]
            features[idx], ok[idx] = out, flags.numpy()
            pos += len(out)
            bar.update(len(out))
            last = idx[-1]
            c = last // chunk
            if last == min(n, (c + 1) * chunk) - 1:  # the chunk is complete: keep it
                sl = slice(c * chunk, last + 1)
                path = work_dir / f"chunk-{c:06d}.npz"
                atomic_write(path, lambda fh, sl=sl: np.savez(fh, features=features[sl], ok=ok[sl]))
    bar.close()
    return features, ok, reused, bar.rate


def build_data(
    folder: ImageFolder,
    semantics: Semantics,
    features: np.ndarray,
    ok: np.ndarray,
    unseen: list[str] | None,
    unseen_fraction: float | None,
    seed: int,
) -> tuple[ZSLData, list[str]]:
    """Match folders to semantics rows, choose unseen classes, split; (data, kept files)."""
    names = semantics.names
    index = {name: k for k, name in enumerate(names)}
    missing = [c for c in folder.classes if c not in index]
    if missing:
        raise DataError(
            f"{semantics.source}: no row for class folder(s) {', '.join(missing[:5])}"
            f"{' ...' if len(missing) > 5 else ''} (every class with images needs semantics)"
        )
    with_images = [
        c for c in folder.classes if ok[np.asarray(folder.labels) == folder.classes.index(c)].any()
    ]
    if unseen is not None:
        unknown = [u for u in unseen if u not in index]
        if unknown:
            raise DataError(
                f"--unseen: class(es) {', '.join(unknown[:5])} have no row in {semantics.source}"
            )
        chosen = set(unseen)
    else:
        chosen = set(draw_unseen(with_images, float(unseen_fraction or 0), seed))
    imageless = [n for n in names if n not in with_images]
    chosen |= set(imageless)
    keep = np.flatnonzero(ok)
    labels = np.asarray([index[folder.classes[folder.labels[r]]] for r in keep], np.int64)
    unseen_ids = np.asarray(sorted(index[c] for c in chosen), np.int64)
    if not any(c in chosen for c in with_images):
        raise DataError(
            "no unseen class has images: test_unseen would be empty "
            "(choose at least one class with images as unseen)"
        )
    if all(c in chosen for c in with_images):
        raise DataError("every class with images is unseen: nothing to train on")
    splits = make_splits(labels, unseen_ids, len(names), seed)
    data = ZSLData(
        features=features[keep],
        labels=labels,
        class_embeddings=semantics.vectors,
        class_names=names,
        splits=splits,
        name=folder.root.resolve().name.lower(),
        source=str(folder.root),
        extra={
            **semantics.record(),
            "split_seed": str(seed),
            "unseen_rule": "file" if unseen is not None else f"fraction {unseen_fraction}",
            "test_seen_fraction": str(TEST_SEEN_FRACTION),
            "val_class_fraction": f"{VAL_CLASS_FRACTION:.6f}",
            "imageless_classes": json.dumps(imageless),
        },
    )
    return data, [folder.files[r] for r in keep]


def store_name(output: Path) -> str:
    """The dataset name a store records: its file name without ``.h5`` (the folder name for
    ``mat``), lowercase like the toolkit's dataset names, so runs and reports name the set
    the user named."""
    return (output.stem if output.suffix.lower() == ".h5" else output.name).lower()


def extract(
    image_dir: str | Path,
    output: str | Path,
    semantics: Semantics,
    *,
    unseen: list[str] | None = None,
    unseen_fraction: float | None = None,
    seed: int = 0,
    backbone: str = "efficientnet-lite0",
    weights: str | Path | None = None,
    fmt: str = "h5",
    device: str = "auto",
    batch_size: int = 64,
    workers: int | None = None,
    strict: bool = False,
    force: bool = False,
    engine: str = "auto",
    progress: TextIO | None = None,
    interval: float = 10.0,
) -> ExtractReport:
    """Extract features of every image and write the store (see the module docstring)."""
    from zsl_images.writers import check_target, write_h5, write_mat

    if fmt not in FORMATS:
        raise ConfigError(f"--format '{fmt}': expected one of {', '.join(FORMATS)}")
    if (unseen is None) == (unseen_fraction is None):
        raise ConfigError("give exactly one of --unseen FILE and --unseen-fraction F")
    if batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    output = Path(output).expanduser()
    check_target(output, fmt, force)
    folder = scan(image_dir)
    spec = get_backbone(backbone)  # fail on an unknown name before any work
    weights = Path(weights).expanduser() if weights else None
    if weights is not None and not weights.is_file():
        raise ConfigError(f"--weights {weights}: no such file")
    # Before decoding anything: the class files against the class folders.
    check_semantics(folder.classes, semantics)
    if unseen is not None:
        check_unseen(unseen, folder.classes, semantics)
    work_dir = output.parent / f".{output.name}.partial"
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    features, ok, reused, rate = extract_features(
        folder,
        backbone=backbone,
        weights=weights,
        device=device,
        batch_size=batch_size,
        workers=workers,
        work_dir=work_dir,
        progress=progress,
        interval=interval,
        engine=engine,
    )
    skipped = [folder.files[r] for r in np.flatnonzero(~ok)]
    if skipped and strict:
        raise DataError(
            f"{folder.root / skipped[0]}: not a readable image ({len(skipped)} "
            f"such file(s); drop --strict to skip them)"
        )
    data, files = build_data(folder, semantics, features, ok, unseen, unseen_fraction, seed)
    data.name = store_name(output)
    data.extra.update(
        {
            "backbone": backbone,
            "backbone_weights": str(weights) if weights else "default",
            "preprocessing": json.dumps(spec.preprocessing(), sort_keys=True),
            "image_root": str(folder.root.resolve()),
            "skipped_files": str(len(skipped)),
        }
    )
    if fmt == "h5":
        write_h5(data, files, output)
    else:
        write_mat(data, files, output)
    shutil.rmtree(work_dir, ignore_errors=True)
    imageless = json.loads(data.extra["imageless_classes"])
    return ExtractReport(output, data, skipped, imageless, reused, rate)
