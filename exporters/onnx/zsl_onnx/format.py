"""What makes a file a zsl-onnx model: names, the marker key and the opset range.

Kept apart from the exporter and the predictor so both sides of the contract read the same
constants, and so a reader of a model file needs neither torch nor onnx to check it.
"""

from __future__ import annotations

# The graph's input and outputs are the toolkit's standard inference interface
# (``zsl_toolkit.export.io_spec``), whose names are defined there, once.
from zsl_toolkit.export.base import FEATURES as INPUT
from zsl_toolkit.export.base import PREDICTION, SCORES

FORMAT_KEY = "zsl_toolkit.format"
"""Metadata key present in every file this exporter writes."""

FORMAT_VERSION = "zsl-onnx/1"
"""Its value; bump the number when the graph's inputs, outputs or metadata change meaning."""

IMAGES = "images"
"""Input of an image-in model: uint8 RGB [batch, size, size, 3] (metadata ``input``)."""
FEATURES = "features"
"""Extra output of an image-in model: the backbone's features [batch, d1]."""

MIN_OPSET = 18
"""The lowest opset torch's ``torch.export``-based ONNX exporter writes without converting."""

__all__ = [
    "FEATURES",
    "FORMAT_KEY",
    "FORMAT_VERSION",
    "IMAGES",
    "INPUT",
    "MIN_OPSET",
    "PREDICTION",
    "REQUIRED_METADATA",
    "SCORES",
]

REQUIRED_METADATA = ("class_names", "seen_classes", "unseen_classes", "feature_dim")
