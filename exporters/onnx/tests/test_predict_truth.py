"""Predictions a person can use, on a small labelled image tree: probabilities (a softmax of
the scores, summing to one) beside the raw score, seen/unseen per answer, ``--unknown-below``,
no silent cut of a folder's rows, ``--truth folders`` (per-class accuracy, U/S/H, confusion
matrix CSV + PNG, an HTML page of the mistakes), and the refusals of a features model given
images and of an image-in model given a features file.

A tiny backbone (from the image-parity tests) stands in for a real one; images are flat
colours with noise, one colour per class, so even ESZSL gets most of them right."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("zsl_images")

from onnx_testkit import assert_user_error, zsl  # noqa: E402
from test_image_parity import ToyBackbone  # noqa: E402

COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 200, 40),
    "blue": (30, 40, 220),
    "grey": (128, 128, 128),
    "yellow": (230, 220, 30),
}
UNSEEN = ("grey", "yellow")
PER_CLASS = 6


def _tree(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for name, rgb in COLOURS.items():
        (root / name).mkdir(parents=True)
        for i in range(PER_CLASS):
            pixels = np.clip(np.asarray(rgb) + rng.normal(0, 12, (20, 20, 3)), 0, 255)
            Image.fromarray(pixels.astype(np.uint8)).save(root / name / f"{i}.png")
    return root


def _attributes(path: Path) -> Path:
    lines = ["class,r,g,b"]
    lines += [f"{n},{r / 255:.4f},{g / 255:.4f},{b / 255:.4f}" for n, (r, g, b) in COLOURS.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    import zsl_images.backbones as backbones
    import zsl_images.extract as extract

    patch = pytest.MonkeyPatch()
    patch.setattr(backbones, "get_backbone", lambda name: ToyBackbone())
    patch.setattr(extract, "get_backbone", lambda name: ToyBackbone())
    root = tmp_path_factory.mktemp("truth")
    tree = _tree(root / "tree")
    (root / "unseen.txt").write_text("\n".join(UNSEEN) + "\n")
    store = root / "colours.h5"
    common = ["--unseen", root / "unseen.txt", "--workers", "0", "--backbone", "toy-backbone"]
    result = zsl("extract", tree, store, "--attributes", _attributes(root / "a.csv"), *common)
    assert result.exit_code == 0, result.output
    run = root / "run"
    result = zsl("train", "-m", "eszsl", "-d", store, "-q", "--out", run, "-p", "gamma=1")
    assert result.exit_code == 0, result.output
    model = root / "image.onnx"
    result = zsl("export", run, "-f", "onnx", "--backbone", "toy-backbone", "-o", model)
    assert result.exit_code == 0, result.output
    features_model = root / "features.onnx"
    assert zsl("export", run, "-f", "onnx", "-o", features_model).exit_code == 0
    yield {
        "root": root,
        "tree": tree,
        "store": store,
        "run": run,
        "model": model,
        "features_model": features_model,
    }
    patch.undo()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_probabilities_sum_to_one_beside_the_raw_score(deployed, tmp_path):
    out = tmp_path / "p.csv"
    result = zsl(
        "predict",
        deployed["model"],
        deployed["tree"],
        "-o",
        out,
        "--all-classes",
        "--provider",
        "cpu",
    )
    assert result.exit_code == 0, result.output
    rows = _rows(out)
    assert len(rows) == len(COLOURS) * PER_CLASS
    for r in rows:
        probs = [float(r[f"p:{n}"]) for n in COLOURS]
        assert sum(probs) == pytest.approx(1.0, abs=1e-6)
        assert float(r["probability"]) == pytest.approx(max(probs), abs=1e-6)
        assert r["split"] == ("unseen" if r["class_name"] in UNSEEN else "seen")
        assert r["class_name"] == max(COLOURS, key=lambda n: float(r[f"p:{n}"]))
    # The probability is the softmax of the raw scores.
    from zsl_onnx import OnnxPredictor

    scores, _ = OnnxPredictor(deployed["model"], "cpu", notice=None).predict([rows[0]["file"]])
    p = np.exp(scores[0] - scores[0].max())
    p /= p.sum()
    assert float(rows[0]["score"]) == pytest.approx(float(scores[0].max()), rel=1e-5)
    assert float(rows[0]["probability"]) == pytest.approx(float(p.max()), rel=1e-5)


def test_unknown_below_a_probability(deployed, tmp_path):
    out = tmp_path / "u.json"
    result = zsl(
        "predict",
        deployed["model"],
        deployed["tree"] / "red",
        "-o",
        out,
        "--unknown-below",
        "1.0",
        "--provider",
        "cpu",
    )
    assert result.exit_code == 0, result.output
    preds = json.loads(out.read_text())["predictions"]
    assert preds and all(p["class_name"] == "unknown" and p["class_id"] == -1 for p in preds)
    assert all(p["split"] == "" and 0 < p["probability"] < 1 for p in preds)
    assert_user_error(
        zsl("predict", deployed["model"], deployed["tree"], "--unknown-below", "1.5"),
        "--unknown-below 1.5: expected a probability in (0, 1]",
    )


def test_a_folder_prints_every_row_or_a_summary_with_the_count(deployed, monkeypatch):
    import zsl_onnx.images

    few = zsl("predict", deployed["model"], deployed["tree"] / "red", "--provider", "cpu")
    assert few.exit_code == 0
    assert sum("red/" in line for line in few.stdout.splitlines()) == PER_CLASS
    monkeypatch.setattr(zsl_onnx.images, "PRINTED_ROWS", 10)
    many = zsl("predict", deployed["model"], deployed["tree"], "--provider", "cpu")
    assert many.exit_code == 0
    assert f"{len(COLOURS) * PER_CLASS} images, more than 10" in many.stdout
    counts = [int(line.split()[-1]) for line in many.stdout.splitlines() if line.startswith("  ")]
    assert sum(counts) == len(COLOURS) * PER_CLASS  # every image is counted


def test_truth_folders_report(deployed, tmp_path):
    report = tmp_path / "report"
    out = tmp_path / "p.csv"
    result = zsl(
        "predict",
        deployed["model"],
        deployed["tree"],
        "--truth",
        "folders",
        "--report",
        report,
        "-o",
        out,
        "--provider",
        "cpu",
    )
    assert result.exit_code == 0, result.output
    rows = _rows(out)
    truth = [Path(r["file"]).parent.name for r in rows]
    metrics = json.loads((report / "metrics.json").read_text())
    for name in COLOURS:
        mine = [r["class_name"] == t for r, t in zip(rows, truth, strict=True) if t == name]
        assert metrics["per_class"][name] == pytest.approx(np.mean(mine))
    u = np.mean([metrics["per_class"][n] for n in UNSEEN])
    s = np.mean([metrics["per_class"][n] for n in COLOURS if n not in UNSEEN])
    assert metrics["U"] == pytest.approx(u) and metrics["S"] == pytest.approx(s)
    assert metrics["H"] == pytest.approx(2 * u * s / (u + s) if u + s else 0.0)
    assert f"H={100 * metrics['H']:.2f}%" in result.stdout
    matrix = list(csv.reader((report / "confusion.csv").open()))
    assert matrix[0][0] == "true \\ predicted" and len(matrix) == len(COLOURS) + 1
    assert sum(int(v) for r in matrix[1:] for v in r[1:]) == len(rows)
    assert (report / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (report / "mistakes.html").read_text()
    wrong = sum(r["class_name"] != t for r, t in zip(rows, truth, strict=True))
    assert f"{wrong} mistakes of {len(rows)} images" in page
    assert page.count("data:image/png;base64,") == wrong


def test_truth_folders_refusals(deployed, tmp_path):
    stray = tmp_path / "stray"
    (stray / "purple").mkdir(parents=True)
    Image.new("RGB", (20, 20), (120, 30, 160)).save(stray / "purple" / "0.png")
    assert_user_error(
        zsl(
            "predict",
            deployed["model"],
            stray,
            "--truth",
            "folders",
            "--report",
            tmp_path / "r",
            "--provider",
            "cpu",
        ),
        "class folder(s) purple name no class of the model",
    )
    (stray / "purple").rename(stray / "Red")
    assert_user_error(
        zsl(
            "predict",
            deployed["model"],
            stray,
            "--truth",
            "folders",
            "--report",
            tmp_path / "r2",
            "--provider",
            "cpu",
        ),
        "did you mean 'red'?",
    )


def test_features_model_given_images_names_the_export_it_needs(deployed):
    line = assert_user_error(
        zsl("predict", deployed["features_model"], deployed["tree"] / "red"),
        "takes features, not images",
    )
    assert "--backbone NAME" in line
    features = deployed["root"] / "f.npy"
    np.save(features, np.zeros((2, 24), np.float32))
    line = assert_user_error(
        zsl("predict", deployed["model"], features), "takes images (backbone 'toy-backbone')"
    )
    assert "without --backbone" in line
