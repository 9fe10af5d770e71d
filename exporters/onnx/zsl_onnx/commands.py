"""What ``zsl predict`` does, as library calls: predict a features file, or evaluate on a
dataset's test splits with the core's evaluators (so the numbers are comparable with
``zsl evaluate`` of the exported run)."""

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

from zsl_onnx.features import read_features
from zsl_onnx.predictor import DEFAULT_BATCH_SIZE, OnnxPredictor
from zsl_onnx.probabilities import Answered, answer_name, check_threshold, split_of
from zsl_toolkit.errors import ConfigError, DataError
from zsl_toolkit.io import atomic_write

OUTPUT_SUFFIXES = (".csv", ".json")
FEATURE_SUFFIXES = (".npy", ".mat", ".h5")
"""Files a features model reads (:func:`zsl_onnx.features.read_features`)."""
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
"""Files taken for images when given to a features model (folders too)."""


def check_inputs_fit(model: str | Path, metadata: dict[str, str], inputs: list[str]) -> None:
    """Refuse images given to a features model, and a features file given to an image-in
    model, naming the export each needs."""
    from zsl_onnx.format import IMAGES

    takes_images = metadata.get("input") == IMAGES
    features = [i for i in inputs if Path(i).suffix.lower() in FEATURE_SUFFIXES]
    if takes_images and features:
        raise ConfigError(
            f"{model} takes images (backbone '{metadata.get('backbone', '?')}'), not the "
            f"features file {features[0]}: give image files or folders, or predict features "
            f"with a features model (`zsl export RUN --format onnx` without --backbone)"
        )
    others = [i for i in inputs if Path(i).is_dir() or Path(i).suffix.lower() in IMAGE_SUFFIXES]
    if not takes_images and others:
        raise ConfigError(
            f"{model} takes features, not images ({others[0]}): export an image-in model "
            f"with `zsl export RUN --format onnx --backbone NAME` (NAME: the backbone the "
            f"run's store was extracted with, efficientnet-lite0 unless `zsl extract "
            f"--backbone` named another)"
        )


@dataclass
class PredictionResult(Answered):
    """Predictions for one features file, with what produced them: each row's answer (best
    class, or ``unknown`` below the threshold), its probability (softmax of the scores, see
    :mod:`zsl_onnx.probabilities`), raw score and whether the class is seen or unseen."""

    model: Path
    features: Path
    class_ids: np.ndarray
    class_names: list[str]
    scores: np.ndarray
    providers: list[str]
    seconds: float
    output: Path | None = None
    seen_classes: list[int] = field(default_factory=list)
    unknown_below: float | None = None
    all_classes: bool = False

    @property
    def records(self) -> list[dict[str, Any]]:
        """One dict per sample: built on demand, because only a CSV/JSON output needs them
        and they cost a Python object per row."""
        probs = self.probabilities
        rows = np.arange(len(self.class_ids))
        best_p = probs[rows, self.class_ids] if len(rows) else []
        best_s = self.scores[rows, self.class_ids] if len(rows) else []
        seen = set(self.seen_classes)
        out = []
        for i, (a, p, s) in enumerate(zip(self.answers, best_p, best_s, strict=True)):
            record = {
                "row": i,
                "class_id": int(a),
                "class_name": answer_name(int(a), self.class_names),
                "split": split_of(int(a), seen),
                "probability": float(p),
                "score": float(s),
            }
            if self.all_classes:
                record["probabilities"] = probs[i].tolist()
            out.append(record)
        return out

    def summary(self, top: int = 10) -> list[str]:
        """Human-readable lines: counts per answer (every answer, never cut), provider and
        time."""
        n = len(self.class_ids)
        lines = [f"{n} samples from {self.features} on {self.providers[0]} in {self.seconds:.3f} s"]
        if self.output is not None:
            lines.append(f"predictions written to {self.output} (all {n} rows)")
        else:
            lines.append("every row with --output FILE.csv")
        counts = Counter(answer_name(int(c), self.class_names) for c in self.answers)
        if counts:
            lines.append(f"answers ({len(counts)} classes, most frequent first):")
        for name, count in counts.most_common():
            lines.append(f"  {name:<24} {count:>7}")
        return lines


def predict_file(
    model: str | Path,
    features: str | Path,
    *,
    provider: str = "auto",
    batch_size: int = DEFAULT_BATCH_SIZE,
    output: str | Path | None = None,
    unknown_below: float | None = None,
    all_classes: bool = False,
) -> PredictionResult:
    """Predict every sample of a .mat/.h5/.npy features file; write CSV/JSON if ``output``."""
    check_threshold(unknown_below)
    output = Path(output) if output is not None else None
    if output is not None and output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ConfigError(f"--output {output}: use a .csv or .json file name")
    predictor = OnnxPredictor(model, provider)
    x = read_features(features, predictor.feature_dim)
    start = time.perf_counter()
    scores, class_ids = predictor.predict(x, batch_size)
    seconds = time.perf_counter() - start
    result = PredictionResult(
        model=Path(model),
        features=Path(features),
        class_ids=class_ids,
        class_names=predictor.class_names,
        scores=scores,
        providers=predictor.providers,
        seconds=seconds,
        output=output,
        seen_classes=list(predictor.seen_classes),
        unknown_below=unknown_below,
        all_classes=all_classes,
    )
    if output is not None:
        data = _render(result, output.suffix.lower())
        atomic_write(output, lambda fh: fh.write(data))
    return result


def _render(result: PredictionResult, suffix: str) -> bytes:
    records = result.records
    if suffix == ".json":
        doc = {
            "model": str(result.model),
            "features": str(result.features),
            "provider": result.providers[0],
            "samples": len(records),
            "probability": "softmax of the scores over all classes",
            "unknown_below": result.unknown_below,
            "class_names": result.class_names,
            "predictions": records,
        }
        return (json.dumps(doc, indent=1) + "\n").encode()
    buf = io.StringIO()
    fields = ["row", "class_id", "class_name", "split", "probability", "score"]
    writer = csv.writer(buf)
    extra = [f"p:{n}" for n in result.class_names] if result.all_classes else []
    writer.writerow(fields + extra)
    for r in records:
        row = [r["row"], r["class_id"], r["class_name"], r["split"]]
        row += [f"{r['probability']:.6g}", f"{r['score']:.6g}"]
        row += [f"{v:.8g}" for v in r.get("probabilities", [])]
        writer.writerow(row)
    return buf.getvalue().encode()


class _OnnxScores:
    """Adapter giving the core's ``pipeline.evaluate`` the ONNX model's scores, so the
    aggregation into U/S/H is the very code ``zsl evaluate`` runs."""

    def __init__(self, predictor: OnnxPredictor, batch_size: int) -> None:
        self.predictor = predictor
        self.batch_size = batch_size

    def predict_scores(self, features: np.ndarray) -> np.ndarray:
        return self.predictor.predict(features, self.batch_size)[0]


def evaluate_dataset(
    model: str | Path,
    dataset: str,
    *,
    data_root: str | Path | None = None,
    provider: str = "auto",
    batch_size: int = DEFAULT_BATCH_SIZE,
    evaluators: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Metrics of the ONNX model on ``dataset``'s test splits (default: all core evaluators)."""
    from zsl_toolkit.data.resolve import load_dataset
    from zsl_toolkit.evaluation import evaluate
    from zsl_toolkit.evaluation.base import DEFAULT_EVALUATORS
    from zsl_toolkit.evaluation.registry import evaluator_registry

    evaluators = tuple(evaluators or DEFAULT_EVALUATORS)
    for name in evaluators:  # fail on a typo before any work
        evaluator_registry().load(name)
    predictor = OnnxPredictor(model, provider)
    data = load_dataset(dataset, data_root)
    _check_compatible(predictor, data, dataset)
    return evaluate(_OnnxScores(predictor, batch_size), data, evaluators)


def _check_compatible(predictor: OnnxPredictor, data: Any, dataset: str) -> None:
    """The dataset must have the classes the model scores, in the same order."""
    where = f"dataset '{dataset}' does not match model {predictor.model_path}"
    if data.feature_dim != predictor.feature_dim:
        raise DataError(
            f"{where}: {data.feature_dim}-d features, the model expects {predictor.feature_dim}"
        )
    if list(data.class_names) != predictor.class_names:
        raise DataError(
            f"{where}: {data.n_classes} classes, the model scores "
            f"{len(predictor.class_names)} (class names or their order differ)"
        )
    if (
        data.seen_classes.tolist() != predictor.seen_classes
        or data.unseen_classes.tolist() != predictor.unseen_classes
    ):
        raise DataError(f"{where}: its seen/unseen split differs from the one trained on")
