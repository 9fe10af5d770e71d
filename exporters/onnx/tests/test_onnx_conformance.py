"""Every installed method exports to ONNX and passes parity on toy data.

Methods come from the registry, so a new method plugin is covered as soon as it is
installed; each trains with its own ``quick_params`` for speed.
"""

from __future__ import annotations

import numpy as np
import pytest
from zsl_onnx import OnnxExporter, OnnxPredictor

from zsl_toolkit.methods.registry import method_registry


@pytest.mark.parametrize("name", method_registry().names())
def test_every_method_exports_with_parity(name, toy, tmp_path):
    from zsl_toolkit.pipeline import train
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.training import TrainConfig

    params = dict(method_registry().load(name).quick_params)
    config = TrainConfig(epochs=1, device="cpu", quiet=True, checkpoint_every=0)
    run = train(RunSettings(name, "toy", params, config), out=tmp_path / "run", data=toy)

    report = OnnxExporter().export_with_report(run, tmp_path / "model.onnx", {})
    assert report.parity.passed, report.parity.summary()

    x = toy.features[toy.splits["test_unseen"]]
    expected = run.method.predict_scores(x)
    scores, prediction = OnnxPredictor(report.path, "cpu").predict(x, batch_size=13)
    assert np.abs(scores - expected).max() <= 1e-4
    assert (prediction == expected.argmax(axis=1)).mean() >= 0.999
