"""The image-in parity rule, both ways, on an image-in model of every installed method: a
correct graph passes (its scores checked against PyTorch's head on the graph's own features,
within a limit relative to the scores' scale), a graph whose head or backbone is wrong fails.

A tiny backbone stands in for a real one (a real one costs seconds per image on a CPU); the
models are trained on the toy set for a couple of epochs: the rule is about the graph, not
about accuracy."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

pytest.importorskip("zsl_images")

from zsl_images.backbones.base import Backbone  # noqa: E402

TOY_FEATURES = 24


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.conv = nn.Conv2d(3, TOY_FEATURES, 3, padding=1)
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(self.conv.weight.shape, generator=gen) * 0.3)
            self.conv.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x)).mean(dim=(2, 3))


class ToyBackbone(Backbone):
    name = "toy-backbone"
    citation = "test double"
    feature_dim = TOY_FEATURES
    input_size = 16
    resize_to = 18

    def build(self, weights: Path | None = None) -> nn.Module:
        return _Net().eval()


def _methods() -> list[str]:
    from zsl_toolkit.methods.registry import method_registry

    return method_registry().names()


@pytest.fixture
def toy_backbone(monkeypatch):
    import zsl_images.backbones as backbones

    monkeypatch.setattr(backbones, "get_backbone", lambda name: ToyBackbone())


@pytest.fixture(params=_methods())
def image_in(request, tmp_path_factory, toy_backbone):
    """(exported model path, its ImageScores module, report) of one method's image-in graph."""
    from zsl_images.backbones import image_features
    from zsl_onnx import OnnxExporter, image_model

    from zsl_toolkit.methods.registry import method_registry
    from zsl_toolkit.pipeline import train
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.training import TrainConfig

    name = request.param
    cls = method_registry().load(name)
    out = tmp_path_factory.mktemp(name.replace("-", "_")) / "run"
    config = TrainConfig(device="cpu", quiet=True, epochs=2)
    run = train(RunSettings(name, "toy", dict(cls.quick_params), config), out=out)
    exporter = OnnxExporter()
    path = exporter.export(run, out / "image.onnx", {"backbone": "toy-backbone"})
    features = image_features(ToyBackbone())
    module = image_model.ImageScores(features, run.method.inference_module()).eval()
    return path, module, exporter.report


def _session(path: Path):
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _images(n: int = 8) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (n, 16, 16, 3), dtype=np.uint8)


class _Scaled(nn.Module):
    def __init__(self, inner: nn.Module, factor: float) -> None:
        super().__init__()
        self.inner, self.factor = inner, factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x) * self.factor


def test_correct_image_in_graph_passes_and_wrong_ones_fail(image_in):
    from zsl_onnx.parity import check_image_parity

    path, module, report = image_in
    assert report.parity.passed and report.parity.feature_diff is not None
    session = _session(path)
    images = _images()
    assert check_image_parity(session, module, images, (3, 1)).passed
    wrong_head = copy.deepcopy(module)
    wrong_head.inference = _Scaled(wrong_head.inference, 1.01)  # scores 1% off
    failed = check_image_parity(session, wrong_head, images, (3,))
    assert not failed.passed and failed.max_abs_diff > failed.score_limit
    wrong_backbone = copy.deepcopy(module)
    with torch.no_grad():
        wrong_backbone.features.network.conv.weight.mul_(1.01)  # other weights, 1% apart
    failed = check_image_parity(session, wrong_backbone, images, (3,))
    assert not failed.passed and failed.feature_diff > 1e-4


def test_score_limit_is_relative_to_the_score_scale():
    from zsl_onnx.parity import ParityReport

    # A log-softmax's scores reach -40: 2.8e-4 of float noise there is 7e-6 of the scale.
    noisy = ParityReport(16, (3, 1), 2.8e-4, 1.0, True, "CPU", score_scale=40.0, feature_diff=2e-6)
    assert noisy.passed and "limit 4.00e-03" in noisy.summary()
    wrong = ParityReport(16, (3, 1), 0.1, 1.0, True, "CPU", score_scale=40.0, feature_diff=2e-6)
    assert not wrong.passed
    # Scores of order one keep the absolute 1e-4.
    assert not ParityReport(16, (3,), 2e-4, 1.0, True, "CPU", score_scale=0.5).passed
    assert not ParityReport(16, (3,), 0.0, 1.0, True, "CPU", feature_diff=2e-3).passed


def test_image_in_graph_of_an_append_method_keeps_its_embedding_output(tmp_path, toy_backbone):
    """The backbone graph joined to the head keeps the head's ``embedding`` output (a server
    scores live-added classes with it), and it reproduces the graph's scores."""
    from zsl_onnx import OnnxExporter, class_space

    from zsl_toolkit.pipeline import train
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.training import TrainConfig

    config = TrainConfig(device="cpu", quiet=True)
    run = train(RunSettings("eszsl", "toy", {"gamma": 1.0}, config), out=tmp_path / "run")
    path = OnnxExporter().export(run, tmp_path / "image.onnx", {"backbone": "toy-backbone"})
    session = _session(path)
    names = [o.name for o in session.get_outputs()]
    assert names == ["scores", "prediction", "features", class_space.EMBEDDING]
    scores, embedding = session.run(["scores", class_space.EMBEDDING], {"images": _images()})
    rows = class_space.class_embeddings(run.method)
    assert np.allclose(embedding @ rows.T, scores, atol=1e-4 * max(1.0, np.abs(scores).max()))
