"""Every installed method exports to ONNX and passes parity on toy data.

Methods come from the registry, so a new method plugin is covered as soon as it is
installed. ``TINY`` shrinks known methods for speed, overridden by the core test suite's
shared table (tests/tiny_params.py) where the repository has one; keys a method does not
accept are dropped, so the tables may name parameters of methods not installed or renamed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from zsl_onnx import OnnxExporter, OnnxPredictor

from zsl_toolkit.registry import method_registry

_VAE = {
    "latent_size": 8,
    "visual_encoder_hidden": 32,
    "visual_decoder_hidden": 32,
    "attribute_encoder_hidden": 16,
    "attribute_decoder_hidden": 16,
    "hidden_size": 32,
    "seen_samples": 5,
    "unseen_samples": 5,
    "classifier_epochs": 1,
}
TINY: dict[str, dict[str, object]] = {
    "cada-vae": _VAE,
    "dvae": _VAE,
    "f-clswgan": {
        "hidden_size": 32,
        "generator_hidden": 32,
        "discriminator_hidden": 32,
        "syn_num": 5,
        "synthetic_per_class": 5,
        "classifier_epochs": 1,
    },
    "devise": {},
    "ale": {},
    "eszsl": {},
}


CORE_TINY = Path(__file__).resolve().parents[3] / "tests" / "tiny_params.py"


def tiny_params(name: str) -> dict[str, object]:
    params = dict(TINY.get(name, {}))
    if CORE_TINY.is_file():
        spec = importlib.util.spec_from_file_location("zsl_core_tiny_params", CORE_TINY)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        params.update(module.tiny(name))
    return params


@pytest.mark.parametrize("name", method_registry().names())
def test_every_method_exports_with_parity(name, toy, tmp_path):
    from zsl_toolkit.pipeline import train
    from zsl_toolkit.training import TrainConfig

    defaults = method_registry().load(name).param_defaults()
    params = {k: v for k, v in tiny_params(name).items() if k in defaults}
    config = TrainConfig(epochs=1, device="cpu", quiet=True, checkpoint_every=0)
    run = train(name, "toy", params=params, config=config, out=tmp_path / "run", data=toy)

    report = OnnxExporter().export_with_report(run, tmp_path / "model.onnx", {})
    assert report.parity.passed, report.parity.summary()

    x = toy.features[toy.splits["test_unseen"]]
    expected = run.method.predict_scores(x)
    scores, prediction = OnnxPredictor(report.path, "cpu").predict(x, batch_size=13)
    assert np.abs(scores - expected).max() <= 1e-4
    assert (prediction == expected.argmax(axis=1)).mean() >= 0.999
