"""ONNX export and onnxruntime inference for zsl-toolkit runs.

``zsl export RUN --format onnx`` writes a checked, parity-verified graph; :class:`OnnxPredictor`
(and ``zsl predict``) run it with onnxruntime alone. Names are resolved lazily and onnx /
onnxruntime are imported inside functions, so prediction never pays for importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "OnnxPredictor": "zsl_onnx.predictor",
    "OnnxModelError": "zsl_onnx.errors",
    "PredictionResult": "zsl_onnx.commands",
    "predict_file": "zsl_onnx.commands",
    "evaluate_dataset": "zsl_onnx.commands",
    "OnnxExporter": "zsl_onnx.exporter",
    "ExportReport": "zsl_onnx.exporter",
    "ParityReport": "zsl_onnx.parity",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'zsl_onnx' has no attribute '{name}'")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
