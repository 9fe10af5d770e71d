"""Inference with an exported model through onnxruntime alone (no torch, no onnx needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from zsl_onnx.errors import OnnxModelError
from zsl_onnx.format import (
    FORMAT_KEY,
    FORMAT_VERSION,
    IMAGES,
    INPUT,
    PREDICTION,
    REQUIRED_METADATA,
    SCORES,
)
from zsl_onnx.providers import Notice, check_provider, open_session, stderr_notice
from zsl_toolkit.errors import DataError

DEFAULT_BATCH_SIZE = 4096


def run_session(
    session: Any, features: np.ndarray, batch_size: int, input_name: str = INPUT
) -> tuple[np.ndarray, ...]:
    """(scores, prediction) of an onnxruntime session, fed ``batch_size`` rows at a time."""
    scores, preds = [], []
    for i in range(0, len(features), batch_size):
        s, p = session.run([SCORES, PREDICTION], {input_name: features[i : i + batch_size]})
        scores.append(s)
        preds.append(p)
    return np.concatenate(scores), np.concatenate(preds)


class DeviceBinding:
    """Runs a CUDA session through one reused I/O binding: the input and both outputs live in
    device buffers allocated once per batch size, so repeated batches only copy the features
    in and the results out (``session.run`` allocates fresh device buffers on every call).
    The buffers' device is a parameter so the same code path is tested on CPU sessions."""

    def __init__(self, session: Any, device: str) -> None:
        self.session = session
        self.device = device
        self.binding = session.io_binding()
        self.buffers: dict[int, tuple[Any, ...]] = {}

    def _buffers(self, rows: int, width: int, classes: int) -> tuple[Any, ...]:
        from onnxruntime import OrtValue

        if rows not in self.buffers:
            if len(self.buffers) >= 2:  # the batch size and one remainder size are kept
                del self.buffers[next(iter(self.buffers))]
            self.buffers[rows] = (
                OrtValue.ortvalue_from_shape_and_type([rows, width], np.float32, self.device, 0),
                OrtValue.ortvalue_from_shape_and_type([rows, classes], np.float32, self.device, 0),
                OrtValue.ortvalue_from_shape_and_type([rows], np.int64, self.device, 0),
            )
        return self.buffers[rows]

    def run(self, features: np.ndarray, batch_size: int, classes: int) -> tuple[np.ndarray, ...]:
        scores, preds = [], []
        for i in range(0, len(features), batch_size):
            batch = features[i : i + batch_size]
            x, s, p = self._buffers(len(batch), batch.shape[1], classes)
            x.update_inplace(batch)
            self.binding.bind_ortvalue_input(INPUT, x)
            self.binding.bind_ortvalue_output(SCORES, s)
            self.binding.bind_ortvalue_output(PREDICTION, p)
            self.session.run_with_iobinding(self.binding)
            s_host, p_host = self.binding.copy_outputs_to_cpu()
            scores.append(s_host)
            preds.append(p_host)
        return np.concatenate(scores), np.concatenate(preds)


class OnnxPredictor:
    """Scores and predicted classes for raw visual features from a zsl-onnx model file.

    ``provider`` is "auto" (CUDA when a session really gets it, else CPU with a notice),
    "cuda" (fail when CUDA is not usable) or "cpu". ``threads`` sets onnxruntime's intra-op
    threads. One session serves every call; on CUDA (or with ``io_binding=True``) batches
    go through one reused I/O binding with device-resident buffers. The file must carry this
    exporter's marker: a foreign ONNX graph has no class
    names and unknown preprocessing, so running it would give confidently wrong answers.
    """

    def __init__(
        self,
        model_path: str | Path,
        provider: str = "auto",
        *,
        threads: int | None = None,
        notice: Notice | None = stderr_notice,
        io_binding: bool | None = None,
    ) -> None:
        self.model_path = Path(model_path)
        check_provider(provider)
        if not self.model_path.is_file():
            raise OnnxModelError(f"{self.model_path}: no such model file")
        self.session = open_session(
            self.model_path,
            provider,
            threads=threads,
            notice=notice,
            on_load_error=self._not_onnx,
        )
        self.metadata: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)
        self._check_format()
        self.class_names: list[str] = json.loads(self.metadata["class_names"])
        self.seen_classes: list[int] = json.loads(self.metadata["seen_classes"])
        self.unseen_classes: list[int] = json.loads(self.metadata["unseen_classes"])
        self.feature_dim = int(self.metadata["feature_dim"])
        self.takes_images = self.metadata.get("input") == IMAGES
        self.input_name = IMAGES if self.takes_images else INPUT
        self._sizing: Any = None
        on_cuda = self.providers[0] == "CUDAExecutionProvider"
        use_binding = on_cuda if io_binding is None else io_binding
        # The binding's buffers are float32 features; image-in models feed uint8 images
        # through plain session runs.
        self._binding = (
            DeviceBinding(self.session, "cuda" if on_cuda else "cpu")
            if use_binding and not self.takes_images
            else None
        )

    @property
    def providers(self) -> list[str]:
        """Execution providers the session runs on, in priority order."""
        return list(self.session.get_providers())

    def predict(
        self, features: Any, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores [N, C] float32, predictions [N] int64 class ids) for raw features [N, d1],
        or, for an image-in model, for images (see :meth:`images`)."""
        x = self.images(features) if self.takes_images else self.validate(features)
        if len(x) == 0:
            return np.zeros((0, len(self.class_names)), np.float32), np.zeros(0, np.int64)
        if self._binding is not None:
            scores, preds = self._binding.run(x, max(1, batch_size), len(self.class_names))
        else:
            scores, preds = run_session(self.session, x, max(1, batch_size), self.input_name)
        return scores, preds.astype(np.int64, copy=False)

    @property
    def sizing(self) -> Any:
        """The model's resize/crop rule (a :class:`zsl_images.preprocess.Sizing`)."""
        if self._sizing is None:
            try:
                from zsl_images.preprocess import Sizing
            except ModuleNotFoundError:
                raise DataError(
                    f"{self.model_path} takes images; reading them needs zsl-images "
                    f"(pip install ./extractors/images)"
                ) from None
            self._sizing = Sizing.from_dict(json.loads(self.metadata["preprocessing"]))
        return self._sizing

    def images(self, images: Any) -> np.ndarray:
        """uint8 [N, S, S, 3] from image file paths, PIL images or arrays.

        A uint8 array [N, S, S, 3] at the model's input size is taken as already sized;
        anything else (a path, a PIL image, an [H, W, 3] or [H, W] array of any size, or a
        list of those) is resized/cropped by the rule the model was exported with.
        """
        sizing = self.sizing
        s = sizing.size
        if isinstance(images, np.ndarray) and images.ndim == 4:
            if images.dtype != np.uint8 or images.shape[1:] != (s, s, 3):
                raise DataError(
                    f"an image batch must be uint8 [N, {s}, {s}, 3], got {images.dtype} "
                    f"{list(images.shape)}"
                )
            return np.ascontiguousarray(images)
        items = images if isinstance(images, list | tuple) else [images]
        return (
            np.stack([self._one_image(item) for item in items])
            if items
            else np.zeros((0, s, s, 3), np.uint8)
        )

    def _one_image(self, item: Any) -> np.ndarray:
        from PIL import Image
        from zsl_images.preprocess import DECODE_ERRORS

        if isinstance(item, str | Path):
            try:
                return self.sizing.load(item)
            except DECODE_ERRORS as exc:
                raise DataError(f"{item}: not a readable image ({exc})") from None
        if isinstance(item, Image.Image):
            return self.sizing.apply(item)
        arr = np.asarray(item)
        if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
            raise DataError(f"an image array must be [H, W] or [H, W, 3], got {list(arr.shape)}")
        if arr.dtype != np.uint8:
            raise DataError(f"an image array must be uint8, got {arr.dtype}")
        return self.sizing.apply(Image.fromarray(arr))

    def validate(self, features: Any) -> np.ndarray:
        """``features`` as a C-contiguous float32 [N, d1] array, or a DataError saying why not."""
        if hasattr(features, "detach"):  # a torch tensor
            features = features.detach().cpu().numpy()
        x = np.asarray(features)
        if x.dtype.kind not in "fiub":
            raise DataError(f"features must be numeric, got dtype {x.dtype}")
        if x.ndim == 1 and x.shape[0] == self.feature_dim:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.feature_dim:
            given = x.shape[1] if x.ndim == 2 else f"an array of shape {x.shape}"
            raise DataError(
                f"features have {given} dimensions per sample but the model expects "
                f"{self.feature_dim} (input '{INPUT}' [batch, {self.feature_dim}])"
            )
        x = np.ascontiguousarray(x, dtype=np.float32)
        bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
        if bad.size:
            rows = ", ".join(str(r) for r in bad[:5]) + (", ..." if bad.size > 5 else "")
            raise DataError(
                f"features contain NaN or Inf in {bad.size} of {len(x)} rows (0-based rows {rows})"
            )
        return x

    # ------------------------------------------------------------------ internals
    def _not_onnx(self, exc: Exception) -> OnnxModelError:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return OnnxModelError(f"{self.model_path}: not a readable ONNX model ({detail[:200]})")

    def _check_format(self) -> None:
        where = self.model_path
        marker = self.metadata.get(FORMAT_KEY)
        if marker is None:
            raise OnnxModelError(
                f"{where}: ONNX model was not written by zsl-onnx (no '{FORMAT_KEY}' metadata); "
                f"export a run with `zsl export RUN_DIR --format onnx`"
            )
        if marker != FORMAT_VERSION:
            raise OnnxModelError(
                f"{where}: model format '{marker}' is not supported by this zsl-onnx "
                f"(reads '{FORMAT_VERSION}')"
            )
        missing = [k for k in REQUIRED_METADATA if k not in self.metadata]
        names = [i.name for i in self.session.get_inputs()]
        outputs = {o.name for o in self.session.get_outputs()}
        expected = IMAGES if self.metadata.get("input") == IMAGES else INPUT
        if self.metadata.get("input") == IMAGES and "preprocessing" not in self.metadata:
            missing.append("preprocessing")
        if missing or names != [expected] or not {SCORES, PREDICTION} <= outputs:
            raise OnnxModelError(
                f"{where}: zsl-onnx model is incomplete (missing metadata {missing}, "
                f"inputs {names}, outputs {sorted(outputs)})"
            )
