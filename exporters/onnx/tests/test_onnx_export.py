"""Export: a checked graph with the right interface and metadata, parity, atomic failure."""

from __future__ import annotations

import json
import os

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx_testkit import assert_user_error, zsl
from zsl_onnx import OnnxExporter
from zsl_onnx.format import FORMAT_KEY, FORMAT_VERSION
from zsl_onnx.parity import ParityReport

from zsl_toolkit.errors import ExportError
from zsl_toolkit.export import io_spec


def test_model_passes_checker_and_declares_its_interface(eszsl_run, eszsl_model):
    model = onnx.load(eszsl_model)
    onnx.checker.check_model(model, full_check=True)
    (inp,) = model.graph.input
    dims = inp.type.tensor_type.shape.dim
    assert inp.name == "features" and inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert dims[0].dim_param and not dims[0].dim_value, "batch axis must be dynamic"
    assert dims[1].dim_value == eszsl_run.method.spec_.feature_dim
    outputs = {o.name: o.type.tensor_type for o in model.graph.output}
    assert outputs["scores"].elem_type == onnx.TensorProto.FLOAT
    assert outputs["prediction"].elem_type == onnx.TensorProto.INT64
    assert outputs["scores"].shape.dim[1].dim_value == eszsl_run.method.spec_.n_classes


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_exported_file_is_not_left_private(eszsl_model):
    umask = os.umask(0o022)
    os.umask(umask)
    assert os.stat(eszsl_model).st_mode & 0o777 == 0o666 & ~umask


def test_metadata_holds_io_spec_and_marker(eszsl_run, eszsl_model):
    meta = {p.key: p.value for p in onnx.load(eszsl_model).metadata_props}
    expected = io_spec(eszsl_run).metadata
    assert {k: meta.get(k) for k in expected} == expected
    assert meta[FORMAT_KEY] == FORMAT_VERSION
    assert json.loads(meta["class_names"]) == list(eszsl_run.method.spec_.class_names)
    assert json.loads(meta["metrics"])["gzsl"]["H"] == eszsl_run.metrics["gzsl"]["H"]


def test_graph_applies_the_fitted_scaler_to_raw_features(eszsl_run, eszsl_model, toy):
    """Recompute ESZSL's scores by hand from its learned buffers: minmax, then x V S^T."""
    state = {k: v.double().numpy() for k, v in eszsl_run.method.modules().state_dict().items()}
    x = toy.features[:37].astype(np.float64)
    scaled = (x - state["scaler.offset"]) * state["scaler.scale"]
    expected = scaled @ state["model.V"] @ state["model.embeddings"].T
    session = ort.InferenceSession(str(eszsl_model), providers=["CPUExecutionProvider"])
    scores, prediction = session.run(["scores", "prediction"], {"features": toy.features[:37]})
    assert np.abs(scores - expected).max() < 1e-4
    assert np.array_equal(prediction, expected.argmax(axis=1))


def test_report_holds_the_parity_numbers(eszsl_run, tmp_path):
    report = OnnxExporter().export_with_report(eszsl_run, tmp_path / "m.onnx", {})
    data_rows = eszsl_run.config["data_summary"]["splits"]
    assert report.parity.samples == data_rows["test_seen"] + data_rows["test_unseen"]
    assert report.parity.passed and report.parity.max_abs_diff <= 1e-4
    assert report.parity.argmax_agreement >= 0.999
    assert 2 not in report.parity.batch_sizes  # never the traced example's batch size
    assert report.path.is_file()


def test_cli_export_prints_parity_and_honours_opset(eszsl_run, tmp_path):
    target = tmp_path / "opset18.onnx"
    result = zsl("export", eszsl_run.run_dir, "--format", "onnx", "-o", target, "--opset", "18")
    assert result.exit_code == 0, result.output
    assert f"exported: {target}" in result.stdout
    assert "parity" in result.stderr and "argmax agreement 100.00%" in result.stderr
    opsets = {o.domain: o.version for o in onnx.load(target).opset_import}
    assert opsets.get("", opsets.get("ai.onnx")) == 18


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--opset", "12"], "opset 12 is outside 18.."),
        (["--option", "opset=x"], "opset must be an integer"),
        (["--option", "colour=red"], "unknown onnx exporter option(s) colour"),
    ],
)
def test_cli_export_rejects_bad_options_and_writes_nothing(eszsl_run, tmp_path, extra, fragment):
    target = tmp_path / "bad.onnx"
    result = zsl("export", eszsl_run.run_dir, "--format", "onnx", "-o", target, *extra)
    assert_user_error(result, fragment)
    assert list(tmp_path.iterdir()) == []


def test_export_into_a_missing_folder_fails_clearly(eszsl_run, tmp_path):
    target = tmp_path / "nope" / "m.onnx"
    result = zsl("export", eszsl_run.run_dir, "--format", "onnx", "-o", target)
    assert_user_error(result, "does not exist")


def test_failed_parity_raises_and_leaves_no_file(eszsl_run, tmp_path, monkeypatch):
    import zsl_onnx.parity

    real = zsl_onnx.parity.torch_reference
    monkeypatch.setattr(
        zsl_onnx.parity, "torch_reference", lambda module, x: real(module, x) + 1e-2
    )
    target = tmp_path / "m.onnx"
    with pytest.raises(ExportError, match=r"disagrees with PyTorch.*max \|score diff\| 1\.00e-02"):
        OnnxExporter().export(eszsl_run, target, {})
    assert list(tmp_path.iterdir()) == [], "neither the target nor a temporary file may remain"


@pytest.mark.parametrize(
    ("diff", "agreement", "consistent", "passed"),
    [
        (1e-4, 0.999, True, True),  # both limits are inclusive
        (1.01e-4, 1.0, True, False),
        (0.0, 0.998, True, False),
        (0.0, 1.0, False, False),  # the prediction output is not the argmax of scores
        (float("nan"), 1.0, True, False),
    ],
)
def test_parity_limits(diff, agreement, consistent, passed):
    report = ParityReport(1000, (97, 1), diff, agreement, consistent, "CPUExecutionProvider")
    assert report.passed is passed


def test_parity_line_names_its_batch_sizes():
    from zsl_onnx.parity import ParityReport

    report = ParityReport(1764, (4096, 1), 3e-7, 1.0, True, "CPUExecutionProvider")
    line = report.summary()
    assert "1764 test samples, onnxruntime at batch sizes 4096 and 1)" in line, line
    assert "batch size 7)" in ParityReport(5, (7,), 0.0, 1.0, True, "CPU").summary()
