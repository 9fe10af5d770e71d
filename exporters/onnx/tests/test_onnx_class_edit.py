"""An edited and a calibrated run export like any other: parity, metadata, calibrated graph."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort


def _ort_scores(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def test_edited_run_exports_with_its_classes(eszsl_run, toy, tmp_path):
    from zsl_onnx import OnnxExporter

    from zsl_toolkit.editing import NewClass, add_classes
    from zsl_toolkit.runs import load_run

    edited = add_classes(
        eszsl_run.run_dir, [NewClass("okapi", (0.4,) * toy.embedding_dim)], out=tmp_path / "e"
    )
    run = load_run(edited.run_dir)
    path = OnnxExporter().export(run, tmp_path / "e.onnx", {})  # refused unless parity holds
    meta = {p.key: p.value for p in onnx.load(path).metadata_props}
    assert json.loads(meta["class_names"])[-1] == "okapi"
    assert json.loads(meta["class_edit"]) == {"removed": [], "added": ["okapi"]}
    x = toy.features[:50]
    scores = _ort_scores(path, x)
    assert scores.shape == (50, toy.n_classes + 1)
    assert np.allclose(scores, run.method.predict_scores(x), atol=1e-5)


def test_calibrated_graph_subtracts_gamma_from_seen_scores(eszsl_run, toy, tmp_path):
    from zsl_onnx import OnnxExporter

    from zsl_toolkit.editing import calibrate_run
    from zsl_toolkit.runs import load_run

    gamma = 0.3
    calibrated = calibrate_run(eszsl_run.run_dir, gamma=gamma, out=tmp_path / "c")
    path = OnnxExporter().export(load_run(calibrated.run_dir), tmp_path / "c.onnx", {})
    meta = {p.key: p.value for p in onnx.load(path).metadata_props}
    assert float(meta["calibration_gamma"]) == gamma
    x = toy.features[:50]
    raw = eszsl_run.method.predict_scores(x)
    expected = raw.copy()
    expected[:, toy.seen_classes] -= gamma
    assert np.allclose(_ort_scores(path, x), expected, atol=1e-5)
