"""Image-in export: images -> backbone -> the run's inference module, in one graph.

Input format: uint8 RGB ``images`` [batch, S, S, 3] at the backbone's input size S. The
resize/crop stays outside the graph, done by Pillow in :mod:`zsl_images.preprocess` exactly as
at extraction time, so an image gives the deployed model the very pixels its training
features came from (a resize inside the graph would resample differently and shift the
features). Scaling, mean/std normalisation and the NHWC -> NCHW transpose are inside the
graph, so a deployment cannot get the normalisation wrong; uint8 is also a quarter of the
bytes of float input. Outputs: ``scores``, ``prediction`` and the backbone's ``features``.

The graph is two graphs joined: the backbone's cached ONNX graph
(:func:`zsl_images.backbone_graph.backbone_graph`), the very file ``zsl extract`` runs to
make a store's features on a CPU, and the run's head (features -> scores, prediction)
(with an append method's ``embedding`` output, :mod:`zsl_onnx.class_space`) traced on its
own. Deployment then computes the features that training saw with the same
graph, not with a second trace of the same network.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from zsl_toolkit.errors import ConfigError, ExportError, MissingDependency

HEAD_INPUT = "head_features"
"""The head graph's input before it is joined to the backbone's ``features`` output."""
PARITY_IMAGES = 16
"""Test images (from the run's store) in the image-in parity run; CPU time is per image."""
FEATURE_TOLERANCE = 1e-3
"""Largest |graph feature - store feature| / max |store feature| accepted: a different
weights file or preprocessing than the store was extracted with fails by orders more."""


class ImageScores(nn.Module):
    """uint8 images -> (scores, prediction, features[, embedding])."""

    def __init__(
        self, features: nn.Module, inference: nn.Module, projection: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.features = features
        self.inference = inference
        self.projection = projection

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        f = self.features(images)
        scores = self.inference(f)
        if self.projection is None:
            return scores, scores.argmax(dim=1), f
        return scores, scores.argmax(dim=1), f, self.projection(f)


class ImageScoresOnly(nn.Module):
    """The scores alone, as the parity check compares them."""

    def __init__(self, model: ImageScores) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images)[0]


def zsl_images() -> Any:
    try:
        import zsl_images.backbones as backbones
    except ModuleNotFoundError as exc:
        if exc.name and not exc.name.startswith("zsl_images"):
            raise
        raise MissingDependency(
            "image-in models need zsl-images: pip install ./extractors/images"
        ) from None
    return backbones


def build(
    run: Any, name: str, weights: str | None, data: Any, projection: nn.Module | None = None
) -> tuple[ImageScores, Any]:
    """(module, backbone) for a run; refused when the backbone does not fit the run.
    ``projection``: the append method's class-space output (:mod:`zsl_onnx.class_space`)."""
    backbones = zsl_images()
    backbone = backbones.get_backbone(name)
    dim = run.method.spec_.feature_dim
    if backbone.feature_dim != dim:
        raise ExportError(
            f"backbone '{name}' gives {backbone.feature_dim}-d features but the run was "
            f"trained on {dim}-d features"
        )
    stored = data.extra.get("backbone")
    if stored is not None and stored != name:
        raise ExportError(
            f"the run's features were extracted with backbone '{stored}', not '{name}'"
        )
    path = Path(weights).expanduser() if weights else None
    if path is not None and not path.is_file():
        raise ConfigError(f"weights {path}: no such file")
    features = backbones.image_features(backbone, path)
    return ImageScores(features, run.method.inference_module(), projection).eval(), backbone


def parity_images(data: Any, sizing: Any, store: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images, their store features) of up to PARITY_IMAGES test images of the run's
    store, evenly spread over test_seen + test_unseen; ``(random images, empty)`` when the
    store records no image files (then only PyTorch-vs-onnxruntime parity is checked)."""
    rows = np.concatenate([data.splits["test_seen"], data.splits["test_unseen"]])
    root = data.extra.get("image_root")
    files = None
    if store and root and str(store).endswith(".h5"):
        from zsl_images.writers import read_image_files

        try:
            files = read_image_files(store)
        except Exception:  # noqa: BLE001 - a store without files: parity on random images
            files = None
    if files is None or len(files) != len(data.labels):
        rng = np.random.default_rng(0)
        size = sizing.size
        return rng.integers(0, 256, (4, size, size, 3), dtype=np.uint8), np.zeros((0, 0))
    pick = rows[np.linspace(0, len(rows) - 1, min(PARITY_IMAGES, len(rows))).astype(int)]
    images = []
    for r in pick:
        path = Path(root) / files[r]
        try:
            images.append(sizing.load(path))
        except OSError as exc:
            raise ExportError(
                f"{path}: cannot read a test image of the run's store for the parity check "
                f"({exc}); the images moved since extraction?"
            ) from None
    return np.stack(images), data.features[pick]


def metadata(backbone: Any, weights: str | None) -> dict[str, str]:
    from zsl_onnx.format import IMAGES

    return {
        "input": IMAGES,
        "backbone": backbone.name,
        "backbone_weights": str(weights) if weights else "default",
        "preprocessing": json.dumps(backbone.preprocessing(), sort_keys=True),
    }


def feature_diff(session: Any, images: np.ndarray, stored: np.ndarray) -> float:
    """max |graph features - store features| / max |store features| on ``images``."""
    from zsl_onnx.format import FEATURES, IMAGES

    if stored.size == 0:
        return 0.0
    out = np.concatenate(
        [session.run([FEATURES], {IMAGES: images[i : i + 4]})[0] for i in range(0, len(images), 4)]
    )
    return float(np.abs(out - stored).max() / max(float(np.abs(stored).max()), 1e-12))


def example_features(module: ImageScores, images: np.ndarray) -> np.ndarray:
    """Backbone features of ``images`` (float32), the head's tracing example."""
    with torch.inference_mode():
        return module.features(torch.from_numpy(np.ascontiguousarray(images))).numpy()


def backbone_model(backbone: Any, weights: str | None, opset: int | None) -> Any:
    """The backbone's cached graph as a ModelProto (ExportError when it cannot be made)."""
    import onnx
    from zsl_images.backbone_graph import GraphUnavailable, backbone_graph

    path = Path(weights).expanduser() if weights else None
    try:
        return onnx.load(str(backbone_graph(backbone, path, opset)))
    except GraphUnavailable as exc:
        raise ExportError(f"no ONNX graph of backbone '{backbone.name}': {exc}") from None


def compose(backbone: Any, head: Any, extra_outputs: tuple[str, ...] = ()) -> Any:
    """One model: images -> backbone graph -> features -> head graph -> scores, prediction
    (and the head's ``extra_outputs``, such as an append method's embedding); ``features``
    stays an output. The head's inner names get a prefix so no name of the two
    graphs collides; inputs and outputs keep theirs."""
    import onnx
    from onnx import compose as oc

    from zsl_onnx.format import FEATURES, PREDICTION, SCORES

    def opsets(model: Any) -> dict[str, int]:
        return {o.domain or "ai.onnx": o.version for o in model.opset_import}

    shared = opsets(backbone).keys() & opsets(head).keys()
    clash = {d for d in shared if opsets(backbone)[d] != opsets(head)[d]}
    if clash:
        raise ExportError(
            f"the backbone graph and the head use different opsets ({sorted(clash)}): "
            f"give the same --opset to both (the backbone graph is cached per opset)"
        )
    head = onnx.ModelProto.FromString(head.SerializeToString())
    oc.add_prefix_graph(
        head.graph, "head/", rename_inputs=False, rename_outputs=False, inplace=True
    )
    if head.ir_version != backbone.ir_version:
        head.ir_version = backbone.ir_version = min(head.ir_version, backbone.ir_version)
    merged = oc.merge_models(
        backbone,
        head,
        io_map=[(FEATURES, HEAD_INPUT)],
        outputs=[SCORES, PREDICTION, FEATURES, *extra_outputs],
    )
    # Outputs in the order a features-in graph has them (scores first), whatever order the
    # merge left them in: a consumer that takes outputs by position gets the same ones.
    order = [SCORES, PREDICTION, FEATURES, *extra_outputs]
    outputs = sorted(merged.graph.output, key=lambda o: order.index(o.name))
    outputs = [copy.deepcopy(o) for o in outputs]
    del merged.graph.output[:]
    merged.graph.output.extend(outputs)
    return merged
