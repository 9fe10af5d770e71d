"""One ONNX graph per backbone, shared by extraction and deployment.

A run's training features and a deployed image-in model's features should come from the
same arithmetic, not from two implementations that agree to some tolerance. So the
backbone (:class:`~zsl_images.backbones.ImageFeatures`: uint8 ``images`` [batch, S, S, 3] ->
``features`` [batch, d], normalisation inside) is exported to ONNX once, cached by what
determines it (the backbone's name and preprocessing, a digest of its weights, the torch
and onnx versions), and that very
file is what ``zsl extract`` runs through onnxruntime on the CPU and what zsl-onnx's
image-in export composes with the run's head.

onnxruntime is also the faster engine on a CPU (fused convolutions, its own thread pool;
``benchmarks/results/extraction_speed.md``). The torch path stays for GPUs and for
backbones that cannot be exported (:class:`GraphUnavailable`).
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zsl_images.backbones import Backbone, image_features
from zsl_toolkit.io import atomic_write

IMAGES = "images"
FEATURES = "features"
ENGINES = ("auto", "onnxruntime", "torch")


class GraphUnavailable(Exception):
    """The backbone has no ONNX graph here (onnx/onnxruntime missing, or it fails to
    export); extraction then runs the torch module."""


def cache_dir() -> Path:
    """``$ZSL_CACHE_DIR/backbones``, else ``~/.cache/zsl-toolkit/backbones``."""
    root = os.environ.get("ZSL_CACHE_DIR")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "zsl-toolkit"
    return base / "backbones"


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "none"


def state_digest(module: torch.nn.Module) -> str:
    """SHA-256 of a module's tensors, names and shapes: what its graph's constants hold."""
    h = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}\n".encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()


def graph_key(spec: Backbone, module: torch.nn.Module, opset: int | None = None) -> str:
    parts = {
        "backbone": spec.name,
        "opset": opset,
        "state": state_digest(module),
        "preprocessing": spec.preprocessing(),
        "torch": torch.__version__,
        "onnx": _version("onnx"),
        "onnxscript": _version("onnxscript"),
        "zsl-images": _version("zsl-images"),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def backbone_graph(spec: Backbone, weights: Path | None = None, opset: int | None = None) -> Path:
    """The cached ONNX file of ``spec``'s :class:`ImageFeatures` (exported on first use, at
    ``opset`` or torch's default)."""
    module = image_features(spec, weights).eval()
    path = cache_dir() / f"{spec.name}-{graph_key(spec, module, opset)}.onnx"
    if path.is_file():
        return path
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ModuleNotFoundError as exc:
        raise GraphUnavailable(f"exporting needs {exc.name} (pip install zsl-onnx)") from None
    example = torch.zeros((2, spec.input_size, spec.input_size, 3), dtype=torch.uint8)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import logging

            level = logging.getLogger("torch.onnx").level
            logging.getLogger("torch.onnx").setLevel(logging.ERROR)
            try:
                program = torch.onnx.export(
                    module,
                    (example,),
                    None,
                    dynamo=True,
                    input_names=[IMAGES],
                    output_names=[FEATURES],
                    dynamic_shapes=({0: torch.export.Dim("batch", min=1)},),
                    verbose=False,
                    **({} if opset is None else {"opset_version": opset}),
                )
            finally:
                logging.getLogger("torch.onnx").setLevel(level)
    except Exception as exc:  # noqa: BLE001 - tracing failures are the backbone's
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise GraphUnavailable(f"backbone '{spec.name}' does not export: {first}") from None
    blob = program.model_proto.SerializeToString()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda fh: fh.write(blob))
    except OSError as exc:  # a read-only home: say where, run torch instead
        raise GraphUnavailable(
            f"cannot cache the graph at {path} ({exc}; set ZSL_CACHE_DIR)"
        ) from None
    return path


class OrtFeatures:
    """The backbone graph in an onnxruntime CPU session: uint8 images -> float32 features."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
        except ModuleNotFoundError:
            raise GraphUnavailable("onnxruntime is not installed") from None
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self.path = path
        self.session: Any = ort.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, images: np.ndarray) -> np.ndarray:
        out = self.session.run([FEATURES], {IMAGES: np.ascontiguousarray(images, np.uint8)})
        return np.asarray(out[0], dtype=np.float32)


def choose_engine(engine: str, device_type: str) -> str:
    """``auto`` -> onnxruntime on the CPU when it is installed, else torch."""
    from zsl_toolkit.errors import ConfigError

    if engine not in ENGINES:
        raise ConfigError(f"--engine '{engine}': expected one of {', '.join(ENGINES)}")
    if engine == "onnxruntime" and device_type != "cpu":
        raise ConfigError("--engine onnxruntime runs on the CPU; use --device cpu")
    if engine != "auto":
        return engine
    if device_type != "cpu":
        return "torch"
    try:
        import onnxruntime  # noqa: F401
    except ModuleNotFoundError:
        return "torch"
    return "onnxruntime"
