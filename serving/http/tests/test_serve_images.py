"""An image-in model behind the API: multipart uploads predict as `zsl predict` does on the
same files; not-an-image and too many images are 4xx answers."""

from __future__ import annotations

from pathlib import Path

from serve_testkit import copy_model


def _files(images: Path, n: int) -> list[Path]:
    return sorted(images.rglob("*.png"))[:: max(1, len(list(images.rglob("*.png"))) // n)][:n]


def test_image_predictions_equal_zsl_predict(digits_model, make_client, tmp_path):
    from zsl_onnx.images import predict_images

    model = copy_model(digits_model["model"], tmp_path / "m")
    client = make_client(model, max_images=4)
    paths = _files(digits_model["images"], 4)
    expected = predict_images(model, [str(p) for p in paths], provider="cpu").records()
    files = [("images", (p.name, p.read_bytes(), "image/png")) for p in paths]
    body = client.post("/predict", files=files, data={"top_k": "2"}).json()
    assert [p["class"] for p in body["predictions"]] == [r["class_name"] for r in expected]
    for p, r in zip(body["predictions"], expected, strict=True):
        assert len(p["top"]) == 2
        assert abs(p["top"][0]["score"] - r["score"]) < 1e-4

    not_image = client.post(
        "/predict", files=[("images", ("notes.png", b"plain text", "image/png"))]
    )
    assert not_image.status_code == 422 and "notes.png" in not_image.json()["error"]
    five = files + [files[0]]
    too_many = client.post("/predict", files=five)
    assert too_many.status_code == 413 and "at most 4" in too_many.json()["error"]
    ten = client.post("/predict", files=files * 3)
    assert ten.status_code == 413 and "at most 4" in ten.json()["error"]
    empty = client.post("/predict", data={"top_k": "1"}, files=[])
    assert empty.status_code in (415, 422)
    features = client.post("/predict", json={"features": [[0.0]]})
    assert features.status_code == 415 and "images" in features.json()["error"]
    assert client.get("/health").json()["status"] == "ok"
