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
    _check_class_space(run, report.path, x)


def _check_class_space(run, path, x):
    """The edit mode travels with the model; an append method's graph also outputs the
    features projected into the class-embedding space, which times the class-embedding
    rows gives back its scores (what a server needs to score a class added live)."""
    import onnx
    from zsl_onnx.class_space import class_embeddings

    meta = {p.key: p.value for p in onnx.load(path).metadata_props}
    mode = type(run.method).class_edit or "none"
    assert meta["class_edit_mode"] == mode
    assert int(meta["embedding_dim"]) == run.method.spec_.embedding_dim
    predictor = OnnxPredictor(path, "cpu")
    outputs = [o.name for o in predictor.session.get_outputs()]
    if mode != "append":
        assert "embedding" not in outputs and "embedding_output" not in meta
        return
    assert meta["embedding_output"] == "embedding"
    scores, embedding = predictor.session.run(["scores", "embedding"], {"features": x})
    rebuilt = embedding @ class_embeddings(run.method).T
    assert np.abs(rebuilt - scores).max() <= 1e-4 * np.abs(scores).max()
