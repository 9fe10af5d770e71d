"""The ``onnx`` exporter: a run's inference module as a checked, self-describing ONNX graph.

The graph maps raw visual features [batch, d1] to ``scores`` [batch, C] and ``prediction``
[batch] (argmax, int64). The feature scaler fitted at training time is part of the inference
module, so deployments feed raw features. Class names, seen/unseen ids and the run's metrics
travel as metadata, with a marker key that :class:`~zsl_onnx.OnnxPredictor` requires.

The graph is traced with torch's ``torch.export``-based exporter (``dynamo=True``, which
translates through onnxscript): it is torch's default and maintained path, and the core's
conformance kit already requires every method's inference module to pass ``torch.export``.
Nothing is written at the target until ``onnx.checker`` and an onnxruntime-vs-PyTorch parity
run on the run's real test features have passed.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from zsl_onnx import class_space
from zsl_onnx.format import (
    FEATURES,
    FORMAT_KEY,
    FORMAT_VERSION,
    IMAGES,
    INPUT,
    MIN_OPSET,
    PREDICTION,
    SCORES,
)
from zsl_onnx.parity import ParityReport, check_image_parity, check_parity
from zsl_toolkit.errors import ConfigError, ExportError
from zsl_toolkit.export.base import Exporter, ExporterOption, io_spec
from zsl_toolkit.io import atomic_write
from zsl_toolkit.runs.load import RunResult, load_run_data

EXAMPLE_BATCH = 2
"""Rows in the tracing example; 1 would let the tracer specialise the batch axis."""

PARITY_BATCHES = (97, 1)
"""onnxruntime batch sizes of the parity run: neither is the tracing example's."""

IMAGE_PARITY_BATCHES = (3, 1)
"""onnxruntime batch sizes of an image-in model's parity run (CPU time is per image)."""


class ScoresAndPrediction(nn.Module):
    """Adds the argmax output to an inference module; ties resolve to the first class in
    both PyTorch and ONNX ArgMax, so the two runtimes agree on ties too. With ``projection``
    (an append method, see :mod:`zsl_onnx.class_space`) the projected features are a third
    output."""

    def __init__(self, inference: nn.Module, projection: nn.Module | None = None) -> None:
        super().__init__()
        self.inference = inference
        self.projection = projection

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, ...]:
        scores = self.inference(features)
        if self.projection is None:
            return scores, scores.argmax(dim=1)
        return scores, scores.argmax(dim=1), self.projection(features)


@dataclass(frozen=True)
class ExportReport:
    """Where the model went and how it was verified."""

    path: Path
    opset: int
    parity: ParityReport


class OnnxExporter(Exporter):
    """ONNX graph (features -> scores, prediction), checked and compared with onnxruntime.

    Options: ``opset``, ``backbone`` (a ``zsl_toolkit.backbones`` name: write an image-in
    graph, see :mod:`zsl_onnx.image_model`), ``weights`` (that backbone's weights file, when
    not its default; all declared below) and the common ``data_root`` (where the run's
    dataset lives, when it moved since training). ``export`` prints the parity numbers on
    stderr and keeps them in :attr:`report`.
    """

    suffix: ClassVar[str] = ".onnx"
    description: ClassVar[str] = "ONNX (features -> scores, prediction), parity-checked"
    options: ClassVar[tuple[ExporterOption, ...]] = (
        ExporterOption("opset", int, f"ONNX opset, at least {MIN_OPSET} (default: torch's)"),
        ExporterOption("backbone", str, "Image backbone: write an image-in graph (zsl-images)"),
        ExporterOption("weights", str, "The backbone's weights file (default: its own)"),
    )

    report: ExportReport | None = None

    def export(self, run: RunResult, output: Path, options: dict[str, Any]) -> Path:
        self.report = self.export_with_report(run, Path(output), options)
        print(self.report.parity.summary(), file=sys.stderr)
        return self.report.path

    def export_with_report(
        self, run: RunResult, output: Path, options: dict[str, Any]
    ) -> ExportReport:
        """Export, check and verify; return the parity numbers. Raises ExportError."""
        options = self.check_options(options, "onnx")
        opset = _opset(options.get("opset"))
        output = Path(output)
        if not output.parent.is_dir():
            raise ConfigError(f"cannot export to {output}: folder {output.parent} does not exist")
        spec = io_spec(run)
        data = _test_data(run, options.get("data_root"))
        index = np.concatenate([data.splits["test_seen"], data.splits["test_unseen"]])
        features = data.features[index]
        method = run.record.method
        extra_meta: dict[str, str] = {}
        stored = np.zeros((0, 0))
        scores, prediction = spec.output_names
        projection = class_space.checked_projection(run.method, features)
        extra_outputs = (class_space.EMBEDDING,) if projection is not None else ()
        if options.get("backbone"):
            from zsl_onnx import image_model

            image_module, backbone = image_model.build(
                run, str(options["backbone"]), options.get("weights"), data, projection
            )
            image_module = copy.deepcopy(image_module).cpu().eval()
            from zsl_images.preprocess import sizing_of

            features, stored = image_model.parity_images(
                data, sizing_of(backbone), run.record.dataset.path
            )
            head = to_onnx_model(
                ScoresAndPrediction(image_module.inference, image_module.projection),
                image_model.example_features(image_module, features[:EXAMPLE_BATCH]),
                opset,
                method,
                input_name=image_model.HEAD_INPUT,
                output_names=(scores, prediction, *extra_outputs),
            )
            model = image_model.compose(
                image_model.backbone_model(backbone, options.get("weights"), opset),
                head,
                extra_outputs,
            )
            reference: nn.Module = image_module
            batches, input_name = IMAGE_PARITY_BATCHES, IMAGES
            extra_meta = image_model.metadata(backbone, options.get("weights"))
            doc = (
                f"{IMAGES} [batch, {backbone.input_size}, {backbone.input_size}, 3] uint8 RGB, "
                f"resized/cropped as metadata 'preprocessing' says -> {scores} [batch, C], "
                f"{prediction} [batch], {FEATURES} [batch, {spec.input_dim}]; class names in "
                f"metadata"
            )
        else:
            if options.get("weights"):
                raise ConfigError("the weights option needs the backbone option")
            module = ScoresAndPrediction(
                copy.deepcopy(run.method.inference_module()).cpu(), projection
            )
            module = module.eval()
            model = to_onnx_model(
                module,
                features[:EXAMPLE_BATCH],
                opset,
                method,
                input_name=spec.input_name,
                output_names=(*spec.output_names, *extra_outputs),
            )
            reference, batches, input_name = module.inference, PARITY_BATCHES, spec.input_name
            doc = (
                f"{spec.input_name} [batch, {spec.input_dim}] raw visual features -> {scores} "
                f"[batch, C], {prediction} [batch] (argmax class id); class names in metadata"
            )
        metadata = {
            **spec.metadata,
            FORMAT_KEY: FORMAT_VERSION,
            "exporter": f"zsl-onnx {_version()}",
            "preprocess": getattr(run.method.scaler_, "kind", "none") + " (inside the graph)",
            **extra_meta,
            **class_space.metadata(run.method, projection is not None, data.extra),
        }
        for key, value in metadata.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        model.doc_string = doc
        blob = model.SerializeToString()
        checked: list[ParityReport] = []

        def verify(tmp: Path) -> None:  # on the written file, before it is published
            _check_model(tmp)
            session = _cpu_session(tmp)
            if input_name == IMAGES:
                parity = check_image_parity(session, reference, features, batches)
            else:
                parity = check_parity(session, reference, features, batches, input_name)
            if not parity.passed:
                raise ExportError(
                    f"onnxruntime disagrees with PyTorch for method "
                    f"'{run.record.method}': {parity.summary()}; "
                    f"nothing was written to {output}"
                )
            if stored.size:
                from zsl_onnx.image_model import FEATURE_TOLERANCE, feature_diff

                diff = feature_diff(session, features, stored)
                if not diff <= FEATURE_TOLERANCE:
                    raise ExportError(
                        f"the graph's backbone features differ from the run's store by "
                        f"{diff:.2e} (relative; limit {FEATURE_TOLERANCE:.0e}) on "
                        f"{len(stored)} test images: other weights or preprocessing than "
                        f"the store was extracted with; nothing was written to {output}"
                    )
            if projection is not None:
                _check_projection(session, run.method, features, input_name)
            checked.append(parity)

        atomic_write(output, lambda fh: fh.write(blob), verify=verify)
        parity = checked[0]
        return ExportReport(path=output, opset=_default_opset(model, -1), parity=parity)


def _check_projection(session: Any, method: Any, inputs: np.ndarray, input_name: str) -> None:
    """The graph's ``embedding`` output times the class-embedding rows gives its scores."""
    rows = class_space.class_embeddings(method)
    assert rows is not None
    batch = inputs[: IMAGE_PARITY_BATCHES[0] if input_name == IMAGES else PARITY_BATCHES[0]]
    out_scores, embedding = session.run([SCORES, class_space.EMBEDDING], {input_name: batch})
    error = class_space.projection_error(
        embedding, out_scores, rows, class_space.seen_offset(method)
    )
    if not error <= class_space.PROJECTION_TOLERANCE:
        raise ExportError(
            f"the graph's {class_space.EMBEDDING} output does not reproduce its scores "
            f"(relative error {error:.2e}, limit {class_space.PROJECTION_TOLERANCE:.0e})"
        )


def _opset(opset: int | None) -> int | None:
    """The requested opset (already an int: a declared option), checked against the range
    torch's exporter writes and onnx knows."""
    if opset is None:
        return None
    import onnx

    highest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= highest:
        raise ConfigError(
            f"opset {opset} is outside {MIN_OPSET}..{highest} (lowest written by torch's "
            f"torch.export-based exporter .. highest known to onnx {onnx.__version__})"
        )
    return opset


def _test_data(run: RunResult, root: str | None) -> Any:
    """The run's dataset, reloaded as evaluate_run does and checked against the run."""
    data = load_run_data(run.record, root)
    dataset = run.record.dataset.spec
    spec = run.method.spec_
    if data.feature_dim != spec.feature_dim or data.n_classes != spec.n_classes:
        raise ExportError(
            f"dataset '{dataset}' now has {data.feature_dim}-d features and {data.n_classes} "
            f"classes but the run was trained on {spec.feature_dim}-d and {spec.n_classes}"
        )
    return data


def to_onnx_model(
    module: nn.Module,
    example: np.ndarray,
    opset: int | None = None,
    method: str = "module",
    *,
    input_name: str = INPUT,
    output_names: Sequence[str] = (SCORES, PREDICTION),
) -> Any:
    """ModelProto of ``module`` (features -> scores, prediction) with a dynamic batch axis.

    ``example`` is a [rows, d1] float32 array (uint8 images for an image-in module) with at
    least two rows. No checks, no
    metadata: :meth:`OnnxExporter.export` adds those; benchmarks use this directly.
    """
    kwargs: dict[str, Any] = {} if opset is None else {"opset_version": opset}
    try:
        with _quiet_exporter():
            program = torch.onnx.export(
                module,
                (torch.from_numpy(np.ascontiguousarray(example)),),
                None,
                dynamo=True,
                input_names=[input_name],
                output_names=list(output_names),
                dynamic_shapes=({0: torch.export.Dim("batch", min=1)},),
                verbose=False,
                **kwargs,
            )
    except ModuleNotFoundError as exc:
        raise ExportError(f"torch.onnx.export needs '{exc.name}' (pip install onnxscript)") from exc
    except Exception as exc:  # tracing failures come from the method's module
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ExportError(
            f"cannot trace method '{method}' to ONNX: {type(exc).__name__}: {first[:300]}"
        ) from exc
    model = program.model_proto
    if opset is not None and _default_opset(model, -1) != opset:
        raise ExportError(
            f"torch wrote opset {_default_opset(model, -1)} instead of the requested {opset}"
        )
    return model


def _default_opset(model: Any, fallback: int) -> int:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    return fallback


def _check_model(path: Path) -> None:
    import onnx

    try:
        onnx.checker.check_model(str(path), full_check=True)
    except Exception as exc:  # ValidationError, or InferenceError from shape inference
        raise ExportError(f"the exported graph fails onnx.checker: {exc}") from exc


def _cpu_session(path: Path) -> Any:
    from zsl_onnx.providers import open_session

    def fail(exc: Exception) -> ExportError:
        return ExportError(f"onnxruntime cannot load the exported graph: {exc}")

    return open_session(path, "cpu", on_load_error=fail)


@contextlib.contextmanager
def _quiet_exporter():
    """Silence the exporter's progress logs and deprecation chatter for one export."""
    names = ("torch.onnx", "torch.export", "torch._export", "onnxscript")
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _version() -> str:
    try:
        return version("zsl-onnx")
    except Exception:  # running from a source tree without metadata
        return "unknown"
