"""What makes a file a zsl-onnx model: names, the marker key and the opset range.

Kept apart from the exporter and the predictor so both sides of the contract read the same
constants, and so a reader of a model file needs neither torch nor onnx to check it.
"""

from __future__ import annotations

FORMAT_KEY = "zsl_toolkit.format"
"""Metadata key present in every file this exporter writes."""

FORMAT_VERSION = "zsl-onnx/1"
"""Its value; bump the number when the graph's inputs, outputs or metadata change meaning."""

INPUT = "features"
SCORES = "scores"
PREDICTION = "prediction"

MIN_OPSET = 18
"""The lowest opset torch's ``torch.export``-based ONNX exporter writes without converting."""

REQUIRED_METADATA = ("class_names", "seen_classes", "unseen_classes", "feature_dim")
