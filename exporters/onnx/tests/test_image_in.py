"""Images to deployment, end to end and offline: scikit-learn's digits rendered as PNG files,
``zsl extract`` with the packaged EfficientNet-Lite0, ``zsl train --method dvae``, an image-in
ONNX export, and ``zsl predict`` on the image files, whose U/S/H must equal ``zsl evaluate``'s
on the extracted store."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("zsl_images")
pytest.importorskip("zsl_dvae")

from onnx_testkit import assert_user_error, zsl  # noqa: E402

PER_CLASS = 8


def ok(*args: str):
    result = zsl(*args)
    assert result.exit_code == 0, (args[0], result.output, result.exception)
    return result


TINY_DVAE = ["hidden_scale=0.05", "seen_samples=20", "unseen_samples=20", "classifier_epochs=3"]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> dict[str, Path]:
    from zsl_images.digits_folder import write_digits_folder

    root = write_digits_folder(tmp_path_factory.mktemp("digits"), per_class=PER_CLASS)
    store = root / "digits.h5"
    ok(
        "extract",
        str(root / "images"),
        str(store),
        "--attributes",
        str(root / "attributes.csv"),
        "--unseen",
        str(root / "unseen.txt"),
        "--workers",
        "2",
        "--batch-size",
        "16",
    )
    run = root / "run"
    params = [a for p in TINY_DVAE for a in ("-p", p)]
    ok(
        "train",
        "-m",
        "dvae",
        "-d",
        str(store),
        "--epochs",
        "5",
        "--device",
        "cpu",
        "-q",
        "--out",
        str(run),
        *params,
    )
    model = root / "digits.onnx"
    ok(
        "export",
        str(run),
        "--format",
        "onnx",
        "--option",
        "backbone=efficientnet-lite0",
        "-o",
        str(model),
    )
    return {"root": root, "store": store, "run": run, "model": model}


def test_ush_from_the_images_equal_zsl_evaluate_on_the_store(deployed):
    onnx = json.loads(
        ok(
            "predict",
            str(deployed["model"]),
            "--dataset",
            str(deployed["store"]),
            "--provider",
            "cpu",
            "--json",
        ).stdout
    )
    torch_side = json.loads(ok("evaluate", str(deployed["run"]), "--json").stdout)
    for key in ("U", "S", "H"):
        assert onnx["gzsl"][key] == torch_side["gzsl"][key]
    assert onnx["zsl"] == torch_side["zsl"]
    assert onnx["calibrated"]["AUSUC"] == torch_side["calibrated"]["AUSUC"]


def test_metadata_names_the_backbone_and_its_preprocessing(deployed):
    from zsl_onnx import OnnxPredictor

    predictor = OnnxPredictor(deployed["model"], "cpu", notice=None)
    assert predictor.takes_images
    assert predictor.metadata["backbone"] == "efficientnet-lite0"
    pre = json.loads(predictor.metadata["preprocessing"])
    assert pre["input_size"] == 224 and pre["mean"] == [0.5, 0.5, 0.5]
    assert [i.name for i in predictor.session.get_inputs()] == ["images"]
    assert {o.name for o in predictor.session.get_outputs()} == {"scores", "prediction", "features"}


def test_predict_image_files_writes_top_k(deployed):
    folder = deployed["root"] / "images" / "4"
    out = deployed["root"] / "preds.csv"
    ok(
        "predict",
        str(deployed["model"]),
        str(folder),
        "--top-k",
        "3",
        "-o",
        str(out),
        "--provider",
        "cpu",
    )
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == PER_CLASS
    assert rows[0]["file"].endswith("4/0004.png")
    first = rows[0]["top_k"].split(";")
    assert len(first) == 3 and first[0].split("=")[0] == rows[0]["class_name"]
    scores = [float(t.split("=")[1]) for t in first]
    assert scores == sorted(scores, reverse=True)


def test_predictor_takes_paths_pil_images_and_arrays(deployed):
    from PIL import Image
    from zsl_onnx import OnnxPredictor

    predictor = OnnxPredictor(deployed["model"], "cpu", notice=None)
    path = sorted((deployed["root"] / "images" / "7").iterdir())[0]
    with Image.open(path) as im:
        pil = im.copy()
    by_path, _ = predictor.predict([str(path)])
    by_pil, _ = predictor.predict(pil)
    by_array, _ = predictor.predict(np.asarray(pil))
    np.testing.assert_array_equal(by_path, by_pil)
    np.testing.assert_array_equal(by_path, by_array)


def test_backbone_of_another_feature_size_is_refused(deployed):
    target = deployed["root"] / "wrong.onnx"
    assert_user_error(
        zsl(
            "export",
            str(deployed["run"]),
            "--format",
            "onnx",
            "--option",
            "backbone=resnet101",
            "-o",
            str(target),
        ),
        "backbone 'resnet101' gives 2048-d features but the run was trained on 1280-d",
    )
    assert not target.exists()


def test_unreadable_image_file_is_skipped_and_listed(deployed):
    bad = deployed["root"] / "bad"
    bad.mkdir(exist_ok=True)
    (bad / "x.png").write_bytes(b"not a png")
    good = sorted((deployed["root"] / "images" / "1").iterdir())[0]
    result = ok("predict", str(deployed["model"]), str(bad), str(good), "--provider", "cpu")
    assert "1 images" in result.stdout and "skipped 1 unreadable" in result.stdout
    assert_user_error(
        zsl("predict", str(deployed["model"]), str(bad), "--provider", "cpu"),
        "none of the 1 files is a readable image",
    )
