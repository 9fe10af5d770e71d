"""Prediction: the Python API, ``zsl predict`` on features files and datasets, providers."""

from __future__ import annotations

import csv
import json
import sys

import h5py
import numpy as np
import pytest
import scipy.io
from onnx_testkit import assert_user_error, zsl
from zsl_onnx import OnnxPredictor

from zsl_toolkit.errors import DeviceError


def cuda_usable(model) -> bool:
    try:
        OnnxPredictor(model, "cuda", notice=None)
    except DeviceError:
        return False
    return True


@pytest.fixture(scope="module")
def sample(toy, eszsl_run):
    """50 raw feature rows with the exported run's own scores for them."""
    x = toy.features[
        toy.splits["test_seen"][:25].tolist() + toy.splits["test_unseen"][:25].tolist()
    ]
    return x, eszsl_run.method.predict_scores(x)


def test_predictor_api(eszsl_run, eszsl_model, sample):
    x, expected = sample
    predictor = OnnxPredictor(eszsl_model, provider="cpu")
    assert predictor.providers == ["CPUExecutionProvider"]
    assert predictor.class_names == list(eszsl_run.method.spec_.class_names)
    assert predictor.metadata["method"] == "eszsl"
    scores, predictions = predictor.predict(x, batch_size=7)
    assert scores.shape == expected.shape and predictions.dtype == np.int64
    assert np.abs(scores - expected).max() <= 1e-4
    assert np.array_equal(predictions, expected.argmax(axis=1))
    one_scores, one_pred = predictor.predict(x[3])  # a single 1-D sample
    assert one_scores.shape == (1, expected.shape[1]) and one_pred[0] == predictions[3]


def _write(path, x):
    if path.suffix == ".npy":
        np.save(path, x)
    elif path.suffix == ".mat" and "v73" in path.name:
        # MATLAB v7.3 is HDF5 behind a 512-byte header; MATLAB's d1 x N reads back as N x d1.
        with h5py.File(path, "w", userblock_size=512) as fh:
            fh["features"] = x
        header = b"MATLAB 7.3 MAT-file".ljust(116) + bytes(8) + b"\x00\x02IM"
        with path.open("r+b") as fh:
            fh.write(header)
    elif path.suffix == ".mat" and "rows" in path.name:
        scipy.io.savemat(path, {"features": x})  # N x d1: accepted, the width is unambiguous
    elif path.suffix == ".mat":
        scipy.io.savemat(path, {"features": x.T, "labels": np.ones((len(x), 1))})  # res101 layout
    else:
        with h5py.File(path, "w") as fh:
            fh["features"] = x


@pytest.mark.parametrize("source", ["f.npy", "f.mat", "f_rows.mat", "f_v73.mat", "f.h5"])
@pytest.mark.parametrize("fmt", [".csv", ".json"])
def test_predict_cli_writes_named_predictions(eszsl_model, sample, tmp_path, source, fmt):
    x, expected = sample
    features, out = tmp_path / source, tmp_path / f"pred{fmt}"
    _write(features, x)
    result = zsl("predict", eszsl_model, features, "--provider", "cpu", "-o", out)
    assert result.exit_code == 0, result.output
    assert f"{len(x)} samples" in result.stdout and f"written to {out}" in result.stdout
    if fmt == ".csv":
        with out.open() as fh:
            rows = list(csv.DictReader(fh))
    else:
        doc = json.loads(out.read_text())
        assert doc["samples"] == len(x) and doc["provider"] == "CPUExecutionProvider"
        rows = doc["predictions"]
    want = expected.argmax(axis=1)
    assert [int(r["row"]) for r in rows] == list(range(len(x)))
    assert [int(r["class_id"]) for r in rows] == want.tolist()
    assert [r["class_name"] for r in rows] == [f"class_{c:03d}" for c in want]
    best = expected[np.arange(len(x)), want]
    assert np.allclose([float(r["score"]) for r in rows], best, atol=1e-4)


def test_predict_on_a_toolkit_hdf5_store(eszsl_run, eszsl_model, toy, tmp_path):
    store, out = tmp_path / "toy.h5", tmp_path / "pred.csv"
    assert zsl("data", "convert", "toy", store).exit_code == 0
    result = zsl("predict", eszsl_model, store, "--provider", "cpu", "-o", out)
    assert result.exit_code == 0, result.output
    with out.open() as fh:
        got = [int(r["class_id"]) for r in csv.DictReader(fh)]
    assert got == eszsl_run.method.predict_scores(toy.features).argmax(axis=1).tolist()


def test_v73_fixture_is_what_scipy_calls_v73(tmp_path, sample):
    _write(tmp_path / "f_v73.mat", sample[0])
    with pytest.raises(NotImplementedError):
        scipy.io.loadmat(tmp_path / "f_v73.mat")


def test_predict_help_lists_the_inputs():
    result = zsl("predict", "--help")
    assert result.exit_code == 0 and "FEATURES" in result.stdout and "--provider" in result.stdout


def test_predict_cli_summary_on_stdout(eszsl_model, sample, tmp_path):
    x, expected = sample
    np.save(tmp_path / "f.npy", x)
    result = zsl("predict", eszsl_model, tmp_path / "f.npy", "--provider", "cpu")
    assert result.exit_code == 0, result.output
    counts = np.bincount(expected.argmax(axis=1))
    top = int(counts.argmax())
    assert f"class_{top:03d}" in result.stdout and str(counts[top]) in result.stdout
    assert list(tmp_path.iterdir()) == [tmp_path / "f.npy"]


def test_predict_on_dataset_equals_evaluate_of_the_run(eszsl_run, eszsl_model):
    evaluated = zsl("evaluate", eszsl_run.run_dir, "--json")
    predicted = zsl("predict", eszsl_model, "--dataset", "toy", "--provider", "cpu", "--json")
    assert evaluated.exit_code == 0 and predicted.exit_code == 0, predicted.output
    want, got = json.loads(evaluated.stdout), json.loads(predicted.stdout)
    assert set(got) == {"gzsl", "zsl", "calibrated"}
    for key in ("U", "S", "H", "per_class"):
        assert got["gzsl"][key] == want["gzsl"][key], key
    assert got["zsl"]["T1"] == want["zsl"]["T1"]
    assert 0 < want["gzsl"]["H"] < 1  # a comparison of degenerate metrics would prove little
    # Calibrated stacking sorts score differences, so it may move with float rounding.
    for key in ("U", "S", "H", "AUSUC"):
        assert got["calibrated"][key] == pytest.approx(want["calibrated"][key], abs=1e-3)


def test_predict_on_dataset_prints_headline_metrics(eszsl_run, eszsl_model):
    result = zsl("predict", eszsl_model, "-d", "toy", "--provider", "cpu", "-e", "gzsl")
    assert result.exit_code == 0, result.output
    h = 100 * eszsl_run.metrics["gzsl"]["H"]
    assert f"H={h:6.2f}" in result.stdout and "T1" not in result.stdout


def test_cuda_provider_fails_clearly_without_cuda(eszsl_model, sample, tmp_path):
    if cuda_usable(eszsl_model):
        pytest.skip("CUDA is usable here")
    np.save(tmp_path / "f.npy", sample[0])
    result = zsl("predict", eszsl_model, tmp_path / "f.npy", "--provider", "cuda")
    assert_user_error(
        result, "--provider cuda: CUDAExecutionProvider cannot start: ", "use --provider cpu"
    )


# ---------------------------------------------------------------------- bad input
def _garbage(path, data=b"\x00\x13 definitely not what the suffix says \xff" * 10):
    path.write_bytes(data)
    return path


def _foreign_onnx(path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["features"], ["scores"])],
        "foreign",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 24])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 24])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9  # loadable by every onnxruntime this package supports
    onnx.save(model, path)
    return path


def _with_nan(x, rows):
    x = x.copy()
    x[rows, 1] = np.nan
    x[rows[-1], 0] = np.inf
    return x


@pytest.mark.parametrize(
    ("case", "fragments"),
    [
        ("wrong_dim", ["features have shape 50 x 25", "expects 24-d samples"]),
        ("wrong_dim_api", ["features have 25 dimensions per sample", "expects 24"]),
        ("nan_rows", ["NaN or Inf in 3 of 50 rows", "rows 2, 7, 40"]),
        ("not_onnx", ["not a readable ONNX model"]),
        ("foreign_onnx", ["not written by zsl-onnx", "zsl_toolkit.format"]),
        ("missing_model", ["no such model file"]),
        ("corrupt_npy", ["cannot read as a .npy array"]),
        ("corrupt_mat", ["cannot read as a MATLAB .mat file"]),
        ("corrupt_h5", ["cannot read as an HDF5 file"]),
        ("h5_without_features", ["no 'features' dataset (found: labels)"]),
        ("mat_without_features", ["no 'features' variable (found: labels)"]),
        ("unknown_suffix", ["unsupported features file type '.txt'"]),
        ("unknown_provider", ["unknown provider 'tpu'", "auto, cuda, cpu"]),
        ("bad_output_suffix", ["use a .csv or .json file name"]),
        ("neither_input", ["needs either a FEATURES file or --dataset"]),
        ("dataset_mismatch", ["does not match model", "256-d features"]),
    ],
)
def test_bad_input_is_one_line_error(eszsl_model, sample, tmp_path, case, fragments):
    x = sample[0]
    model, features = eszsl_model, tmp_path / "f.npy"
    np.save(features, x)
    extra: list[str] = ["--provider", "cpu"]
    if case == "wrong_dim":
        np.save(features, np.hstack([x, x[:, :1]]))
    elif case == "wrong_dim_api":  # through the API: the array is given, no file involved
        with pytest.raises(Exception) as info:
            OnnxPredictor(model, "cpu").predict(np.hstack([x, x[:, :1]]))
        assert type(info.value).__name__ == "DataError"
        for fragment in fragments:
            assert fragment in str(info.value)
        return
    elif case == "nan_rows":
        np.save(features, _with_nan(x, [2, 7, 40]))
    elif case == "not_onnx":
        model = _garbage(tmp_path / "m.onnx")
    elif case == "foreign_onnx":
        model = _foreign_onnx(tmp_path / "foreign.onnx")
    elif case == "missing_model":
        model = tmp_path / "absent.onnx"
    elif case == "corrupt_npy":
        features = _garbage(tmp_path / "bad.npy")
    elif case == "corrupt_mat":
        features = _garbage(tmp_path / "bad.mat")
    elif case == "corrupt_h5":
        features = _garbage(tmp_path / "bad.h5")
    elif case == "h5_without_features":
        features = tmp_path / "l.h5"
        with h5py.File(features, "w") as fh:
            fh["labels"] = np.arange(3)
    elif case == "mat_without_features":
        features = tmp_path / "l.mat"
        scipy.io.savemat(features, {"labels": np.arange(3)})
    elif case == "unknown_suffix":
        features = _garbage(tmp_path / "f.txt")
    elif case == "unknown_provider":
        extra = ["--provider", "tpu"]
    elif case == "bad_output_suffix":
        extra += ["-o", str(tmp_path / "p.xlsx")]
    elif case == "neither_input":
        features = None
    elif case == "dataset_mismatch":
        features = None
        extra += ["--dataset", "synthetic"]
    args = [model] + ([features] if features is not None else []) + extra
    assert_user_error(zsl("predict", *args), *fragments)
    assert not (tmp_path / "p.xlsx").exists()


def test_a_broken_plugin_command_names_its_distribution(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "zsl_onnx", None)  # makes `import zsl_onnx` fail
    monkeypatch.delitem(sys.modules, "zsl_onnx.cli", raising=False)
    result = zsl("predict", tmp_path / "m.onnx", tmp_path / "f.npy")
    assert_user_error(
        result,
        "command 'predict' from distribution zsl-onnx failed to import (zsl_onnx.cli:predict)",
    )
