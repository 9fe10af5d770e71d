"""``zsl predict`` for image-in models: predict image files, or evaluate U/S/H on the images
an extracted store's test splits name.

Evaluation runs the images themselves through the deployed graph (decode, resize/crop,
backbone, head), then aggregates with the core evaluators, so the numbers compare with
``zsl evaluate`` of the run on the store's features: equal when the graph reproduces the
features the store holds.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zsl_onnx.predictor import OnnxPredictor
from zsl_onnx.probabilities import Answered, answer_name, check_threshold, split_of
from zsl_toolkit.errors import ConfigError, DataError
from zsl_toolkit.io import atomic_write

IMAGE_BATCH = 32
"""Images decoded and run at once (bounded memory: 32 x 224 x 224 x 3 bytes)."""


PRINTED_ROWS = 50
"""Without --output, up to this many images are printed one per line; more get a summary
(counts per answer) that says how many there are and how to get every row."""


@dataclass
class ImagePredictions(Answered):
    """Predictions for image files: the answer (best class, or ``unknown`` below the
    threshold), its probability (:mod:`zsl_onnx.probabilities`) and raw score, whether the
    class is seen or unseen, and the top-k classes."""

    model: Path
    files: list[str]
    class_names: list[str]
    scores: np.ndarray
    class_ids: np.ndarray
    providers: list[str]
    seconds: float
    skipped: list[str] = field(default_factory=list)
    output: Path | None = None
    top_k: int = 5
    seen_classes: list[int] = field(default_factory=list)
    unknown_below: float | None = None
    all_classes: bool = False
    """Outputs carry every class's probability (a CSV column ``p:NAME`` per class)."""

    def records(self) -> list[dict[str, Any]]:
        k = min(self.top_k, len(self.class_names))
        probs = self.probabilities
        top = np.argsort(-self.scores, axis=1, kind="stable")[:, :k]
        seen = set(self.seen_classes)
        return [
            {
                "file": f,
                "class_id": int(a),
                "class_name": answer_name(int(a), self.class_names),
                "split": split_of(int(a), seen),
                "probability": float(probs[i, c]),
                "score": float(self.scores[i, c]),
                "top_k": [
                    {
                        "class_name": self.class_names[int(j)],
                        "probability": float(probs[i, j]),
                        "score": float(self.scores[i, j]),
                    }
                    for j in top[i]
                ],
            }
            for i, (f, c, a) in enumerate(
                zip(self.files, self.class_ids, self.answers, strict=True)
            )
        ]

    def summary(self) -> list[str]:
        lines = [
            f"{len(self.files)} images on {self.providers[0]} in {self.seconds:.3f} s"
            + (f"; skipped {len(self.skipped)} unreadable" if self.skipped else "")
        ]
        if self.skipped:
            lines.append("skipped: " + ", ".join(self.skipped[:5]))
        if self.output is not None:
            lines.append(f"predictions written to {self.output} (all {len(self.files)} rows)")
        elif len(self.files) <= PRINTED_ROWS:
            for r in self.records():
                lines.append(
                    f"  {r['file']}  {r['class_name']}  {r['split'] or '-'}  "
                    f"p={r['probability']:.4f}  score={r['score']:.4g}"
                )
        else:
            answers = [answer_name(int(a), self.class_names) for a in self.answers]
            lines.append(
                f"{len(self.files)} images, more than {PRINTED_ROWS}: counts per answer below; "
                f"every row with --output FILE.csv"
            )
            for name, count in Counter(answers).most_common():
                lines.append(f"  {name:<24} {count:>7}")
        return lines


def image_files(inputs: list[str]) -> list[str]:
    """Files given, and every visible file below folders given, in sorted order per folder."""
    out: list[str] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            out += [str(p) for p in found]
        elif path.is_file():
            out.append(str(path))
        else:
            raise DataError(f"{path}: no such image file or folder")
    if not out:
        raise DataError(f"{', '.join(inputs)}: no files")
    return out


def predict_images(
    model: str | Path,
    inputs: list[str],
    *,
    provider: str = "auto",
    batch_size: int = IMAGE_BATCH,
    output: str | Path | None = None,
    top_k: int = 5,
    unknown_below: float | None = None,
    all_classes: bool = False,
) -> ImagePredictions:
    """Predict every readable image of ``inputs``; unreadable files are skipped and listed."""
    from zsl_images.preprocess import DECODE_ERRORS

    check_threshold(unknown_below)
    output = Path(output) if output is not None else None
    if output is not None and output.suffix.lower() not in (".csv", ".json"):
        raise ConfigError(f"--output {output}: use a .csv or .json file name")
    predictor = _image_predictor(model, provider)
    files = image_files(inputs)
    kept, skipped, scores, ids = [], [], [], []
    start = time.perf_counter()
    batch = max(1, min(batch_size, IMAGE_BATCH))
    for i in range(0, len(files), batch):
        pixels = []
        for f in files[i : i + batch]:
            try:
                pixels.append(predictor.sizing.load(f))
                kept.append(f)
            except DECODE_ERRORS:
                skipped.append(f)
        if pixels:
            s, c = predictor.predict(np.stack(pixels), batch)
            scores.append(s)
            ids.append(c)
    if not kept:
        raise DataError(f"none of the {len(files)} files is a readable image ({files[0]}, ...)")
    result = ImagePredictions(
        model=Path(model),
        files=kept,
        class_names=predictor.class_names,
        scores=np.concatenate(scores),
        class_ids=np.concatenate(ids),
        providers=predictor.providers,
        seconds=time.perf_counter() - start,
        skipped=skipped,
        output=output,
        top_k=top_k,
        seen_classes=list(predictor.seen_classes),
        unknown_below=unknown_below,
        all_classes=all_classes,
    )
    if output is not None:
        data = _render(result, output.suffix.lower())
        atomic_write(output, lambda fh: fh.write(data))
    return result


def _render(result: ImagePredictions, suffix: str) -> bytes:
    records = result.records()
    if suffix == ".json":
        doc = {
            "model": str(result.model),
            "images": len(records),
            "probability": "softmax of the scores over all classes",
            "unknown_below": result.unknown_below,
            "class_names": result.class_names,
            "predictions": records,
        }
        if result.all_classes:
            for r, p in zip(records, result.probabilities.tolist(), strict=True):
                r["probabilities"] = p
        return (json.dumps(doc, indent=1) + "\n").encode()
    buf = io.StringIO()
    writer = csv.writer(buf)
    extra = [f"p:{n}" for n in result.class_names] if result.all_classes else []
    writer.writerow(
        ["file", "class_id", "class_name", "split", "probability", "score", "top_k", *extra]
    )
    probs = result.probabilities if result.all_classes else None
    for i, r in enumerate(records):
        top = ";".join(f"{t['class_name']}={t['probability']:.6g}" for t in r["top_k"])
        row = [
            r["file"],
            r["class_id"],
            r["class_name"],
            r["split"],
            f"{r['probability']:.6g}",
            f"{r['score']:.6g}",
            top,
        ]
        writer.writerow(row + ([f"{v:.8g}" for v in probs[i]] if probs is not None else []))
    return buf.getvalue().encode()


def _image_predictor(model: str | Path, provider: str) -> OnnxPredictor:
    predictor = OnnxPredictor(model, provider)
    if not predictor.takes_images:
        raise ConfigError(
            f"{model} takes features, not images (export with --option backbone=NAME for an "
            f"image-in model)"
        )
    return predictor


class _RowScores:
    """Gives ``pipeline.evaluate`` the graph's scores of each row's image: the container's
    features are replaced by row numbers, looked up here."""

    def __init__(self, scores: dict[int, np.ndarray]) -> None:
        self.scores = scores

    def predict_scores(self, rows: np.ndarray) -> np.ndarray:
        return np.stack([self.scores[int(r)] for r in rows[:, 0]])


def evaluate_images(
    model: str | Path,
    store: str,
    image_dir: str | None = None,
    *,
    provider: str = "auto",
    batch_size: int = IMAGE_BATCH,
    evaluators: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Metrics of an image-in model on the images of ``store``'s test splits."""
    from zsl_images.writers import read_image_files

    from zsl_onnx.commands import _check_compatible
    from zsl_toolkit.data.container import ZSLData
    from zsl_toolkit.data.resolve import load_dataset
    from zsl_toolkit.evaluation import evaluate
    from zsl_toolkit.evaluation.base import DEFAULT_EVALUATORS
    from zsl_toolkit.evaluation.registry import evaluator_registry

    evaluators = tuple(evaluators or DEFAULT_EVALUATORS)
    for name in evaluators:
        evaluator_registry().load(name)
    predictor = _image_predictor(model, provider)
    data = load_dataset(store, None)
    _check_compatible(predictor, data, store)
    files = read_image_files(store)
    root = Path(image_dir or data.extra.get("image_root", ""))
    rows = np.concatenate([data.splits["test_seen"], data.splits["test_unseen"]])
    scores: dict[int, np.ndarray] = {}
    batch = max(1, min(batch_size, IMAGE_BATCH))
    for i in range(0, len(rows), batch):
        chunk = rows[i : i + batch]
        paths = [root / files[r] for r in chunk]
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise DataError(
                f"{missing[0]}: image of the store's row not found (give the image folder "
                f"the store was extracted from)"
            )
        s, _ = predictor.predict([str(p) for p in paths], batch)
        scores.update(zip(chunk.tolist(), s, strict=True))
    by_row = ZSLData(
        features=np.arange(len(data.labels), dtype=np.float32)[:, None],
        labels=data.labels,
        class_embeddings=data.class_embeddings,
        class_names=data.class_names,
        splits=data.splits,
        name=data.name,
    )
    return evaluate(_RowScores(scores), by_row, evaluators)
