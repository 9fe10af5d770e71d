"""Errors specific to ONNX model files; everything else uses the core's typed errors."""

from __future__ import annotations

from zsl_toolkit.errors import ZSLError


class OnnxModelError(ZSLError):
    """A path given as a model is missing, not an ONNX model, or not one this exporter made."""
