"""What ``zsl predict`` does, as library calls: predict a features file, or evaluate on a
dataset's test splits with the core's evaluators (so the numbers are comparable with
``zsl evaluate`` of the exported run)."""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zsl_onnx.features import read_features
from zsl_onnx.predictor import DEFAULT_BATCH_SIZE, OnnxPredictor
from zsl_toolkit.errors import ConfigError, DataError
from zsl_toolkit.io import atomic_write

OUTPUT_SUFFIXES = (".csv", ".json")


@dataclass
class PredictionResult:
    """Predictions for one features file, with what produced them."""

    model: Path
    features: Path
    class_ids: np.ndarray
    class_names: list[str]
    scores: np.ndarray
    providers: list[str]
    seconds: float
    output: Path | None = None

    @property
    def records(self) -> list[dict[str, Any]]:
        """One dict per sample (row, class id and name, its score): built on demand, because
        only a CSV/JSON output needs them and they cost a Python object per row."""
        return _records(self.scores, self.class_ids, self.class_names)

    def summary(self, top: int = 10) -> list[str]:
        """Human-readable lines: counts per predicted class, provider and time."""
        n = len(self.class_ids)
        lines = [f"{n} samples from {self.features} on {self.providers[0]} in {self.seconds:.3f} s"]
        if self.output is not None:
            lines.append(f"predictions written to {self.output}")
        counts = Counter(int(c) for c in self.class_ids)
        if counts:
            lines.append("predicted classes (most frequent first):")
        for class_id, count in counts.most_common(top):
            lines.append(f"  {self.class_names[class_id]:<24} {count:>7}")
        if len(counts) > top:
            lines.append(f"  ... {len(counts) - top} more classes")
        return lines


def predict_file(
    model: str | Path,
    features: str | Path,
    *,
    provider: str = "auto",
    batch_size: int = DEFAULT_BATCH_SIZE,
    output: str | Path | None = None,
) -> PredictionResult:
    """Predict every sample of a .mat/.h5/.npy features file; write CSV/JSON if ``output``."""
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
    )
    if output is not None:
        data = _render(result, output.suffix.lower())
        atomic_write(output, lambda fh: fh.write(data))
    return result


def _records(scores: np.ndarray, class_ids: np.ndarray, names: list[str]) -> list[dict[str, Any]]:
    best = scores[np.arange(len(class_ids)), class_ids] if len(class_ids) else []
    return [
        {"row": i, "class_id": int(c), "class_name": names[int(c)], "score": float(s)}
        for i, (c, s) in enumerate(zip(class_ids, best, strict=True))
    ]


def _render(result: PredictionResult, suffix: str) -> bytes:
    records = result.records
    if suffix == ".json":
        doc = {
            "model": str(result.model),
            "features": str(result.features),
            "provider": result.providers[0],
            "samples": len(records),
            "predictions": records,
        }
        return (json.dumps(doc, indent=1) + "\n").encode()
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["row", "class_id", "class_name", "score"])
    writer.writeheader()
    writer.writerows(records)
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
