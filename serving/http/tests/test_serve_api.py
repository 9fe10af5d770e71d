"""The HTTP API on a features model: predictions equal the exported graph's, live class edits
equal `zsl add-class` / `remove-class` on the run, every mistake is a one-sentence 4xx."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from serve_testkit import set_metadata


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _error(response, status: int, *fragments: str) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    message = body["error"]
    assert "\n" not in message and "Traceback" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


def _predict(client, rows, **extra):
    return client.post("/predict", json={"features": np.asarray(rows).tolist(), **extra})


def test_health_classes_and_metrics(client, eszsl_run):
    spec = eszsl_run.method.spec_
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["classes"] == spec.n_classes
    doc = client.get("/classes").json()
    assert [c["name"] for c in doc["classes"]] == list(spec.class_names)
    kinds = {c["name"]: c["kind"] for c in doc["classes"]}
    assert {kinds[spec.class_names[i]] for i in spec.seen_classes} == {"seen"}
    assert {kinds[spec.class_names[i]] for i in spec.unseen_classes} == {"unseen"}
    assert doc["editable"] is True and doc["embedding_dim"] == spec.embedding_dim
    text = client.get("/metrics").text
    assert 'zsl_serve_requests_total{method="GET",route="/health",status="200"} 1.0' in text
    assert "zsl_serve_request_seconds_bucket" in text and "zsl_serve_batch_rows" in text


def test_predictions_are_the_graphs(client, eszsl_onnx, toy):
    from zsl_onnx import OnnxPredictor

    x = toy.features[toy.splits["test_unseen"][:40]]
    scores, ids = OnnxPredictor(eszsl_onnx, "cpu").predict(x)
    body = _predict(client, x, top_k=3).json()
    assert len(body["predictions"]) == 40
    for row, p in enumerate(body["predictions"]):
        assert p["class"] == toy.class_names[ids[row]]
        assert len(p["top"]) == 3
        assert p["top"][0]["score"] == pytest.approx(float(scores[row, ids[row]]), abs=1e-5)
        probs = [t["probability"] for t in p["top"]]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    assert body["model"]["sha256"] == _sha(eszsl_onnx)[:12]


def test_added_class_scores_equal_the_edited_run(client, model, eszsl_run, toy, tmp_path):
    """Adding a class live gives the scores `zsl add-class` gives on the run; the model file
    is untouched and the edit is kept in a new file beside it."""
    from zsl_toolkit.editing import NewClass, add_classes

    before = _sha(model)
    vector = [float(v) for v in np.linspace(-0.5, 0.9, toy.embedding_dim)]
    response = client.post("/classes", json={"name": "okapi", "attributes": vector})
    assert response.status_code == 201, response.text
    edited = add_classes(eszsl_run.run_dir, [NewClass("okapi", tuple(vector))], out=tmp_path / "e")
    x = toy.features[:60]
    expected = edited.method.predict_scores(x)
    body = _predict(client, x, top_k=len(toy.class_names) + 1).json()
    names = list(edited.method.spec_.class_names)
    for row, p in enumerate(body["predictions"]):
        got = {t["class"]: t["score"] for t in p["top"]}
        assert np.allclose([got[n] for n in names], expected[row], atol=1e-4)
        assert p["class"] == names[int(expected[row].argmax())]
    kinds = {c["name"]: c["kind"] for c in client.get("/classes").json()["classes"]}
    assert kinds["okapi"] == "added"
    assert _sha(model) == before
    saved = json.loads(model.with_name("toy.classes.json").read_text())
    assert saved["added"][0]["name"] == "okapi" and saved["model_sha256"] == before


def test_edits_survive_a_restart_and_delete(make_client, model, toy):
    first = make_client(model)
    dim = toy.embedding_dim
    assert (
        first.post("/classes", json={"name": "kiwi", "attributes": [0.3] * dim}).status_code == 201
    )
    removed = toy.class_names[0]
    assert first.delete(f"/classes/{removed}").status_code == 200
    again = make_client(model)  # a new server process would read the same file
    names = [c["name"] for c in again.get("/classes").json()["classes"]]
    assert names[-1] == "kiwi" and removed not in names
    assert len(names) == len(toy.class_names)
    seen = {p["class"] for p in _predict(again, toy.features[:200]).json()["predictions"]}
    assert removed not in seen
    assert again.delete("/classes/kiwi").status_code == 200
    assert "kiwi" not in [c["name"] for c in again.get("/classes").json()["classes"]]


def test_class_edit_mistakes(client, toy):
    dim = toy.embedding_dim
    first = toy.class_names[0]
    _error(client.post("/classes", json={"name": first, "attributes": [0.1] * dim}), 409, first)
    _error(
        client.post("/classes", json={"name": "a", "attributes": [0.1] * (dim + 1)}), 422, str(dim)
    )
    _error(client.post("/classes", json={"name": "a", "attributes": ["x"] * dim}), 422, "numbers")
    _error(client.post("/classes", json={"name": "", "attributes": [0.1] * dim}), 422, "name")
    _error(client.post("/classes", json={"name": "a"}), 422, "attributes")
    both = {"name": "a", "attributes": [0.1] * dim, "description": "striped"}
    _error(client.post("/classes", json=both), 422, "exactly one")
    _error(client.post("/classes", json={"name": "a", "description": "striped"}), 422, "attribute")
    _error(
        client.post("/classes", content=b"{nope", headers={"content-type": "application/json"}),
        400,
        "JSON",
    )
    _error(client.delete("/classes/no-such-class"), 404, "no-such-class")
    assert client.get("/health").json()["status"] == "ok"


def test_refit_model_answers_409(make_client, model, tmp_path):
    """A model whose method retrains to change classes: edits refused with what to do."""
    refit = set_metadata(
        model, tmp_path / "refit.onnx", class_edit_mode="refit", embedding_output=None
    )
    client = make_client(refit)
    message = _error(client.post("/classes", json={"name": "a", "attributes": [0.1]}), 409)
    assert "zsl add-class" in message and "/reload" in message
    _error(client.delete("/classes/anything"), 409, "zsl add-class")
    assert client.get("/classes").json()["editable"] is False


def test_model_exported_without_class_space_says_to_export_again(make_client, model, tmp_path):
    """A model file from before the class-edit metadata: served, edits refused with a fix."""
    old = set_metadata(
        model,
        tmp_path / "old.onnx",
        class_edit_mode=None,
        embedding_output=None,
        embedding_dim=None,
    )
    client = make_client(old)
    assert client.get("/health").json()["status"] == "ok"
    _error(client.post("/classes", json={"name": "a", "attributes": [0.1]}), 409, "export")


def test_description_uses_the_models_text_encoder(make_client, model, tmp_path, toy, monkeypatch):
    import zsl_serve.server as server

    calls = []

    class Encoder:
        def encode(self, texts):
            calls.append(list(texts))
            return np.full((len(texts), toy.embedding_dim), 0.25, np.float32)

    monkeypatch.setattr(server, "load_text_encoder", lambda name: Encoder())
    text_model = set_metadata(model, tmp_path / "text.onnx", text_encoder="fake-encoder")
    client = make_client(text_model)
    assert client.get("/classes").json()["descriptions"] == "fake-encoder"
    response = client.post("/classes", json={"name": "zebra", "description": "black and white"})
    assert response.status_code == 201, response.text
    assert calls == [["black and white"]]
    saved = json.loads(text_model.with_name("text.classes.json").read_text())
    assert saved["added"][0]["text"] == "black and white"
    assert saved["added"][0]["embedding"] == [0.25] * toy.embedding_dim


def test_predict_mistakes(make_client, model, toy):
    client = make_client(model, max_body=4096, max_rows=50)
    d = toy.feature_dim
    _error(_predict(client, np.zeros((2, d + 3))), 422, str(d))
    _error(
        client.post(
            "/predict",
            content=b'{"features": [[NaN' + b", 1" * (d - 1) + b"]]}",
            headers={"content-type": "application/json"},
        ),
        400,
        "not valid JSON",
    )
    _error(client.post("/predict", json={"features": []}), 422, "non-empty")
    _error(client.post("/predict", json={"features": [[1, 2], [3]]}), 422)
    _error(client.post("/predict", json={"rows": [[1]]}), 422, "features")
    _error(client.post("/predict", json={"features": np.zeros((51, 1)).tolist()}), 413, "50")
    _error(
        client.post("/predict", content=b"x" * 5000, headers={"content-type": "application/json"}),
        413,
        "4096",
    )
    chunks = (b"x" * 1000 for _ in range(6))  # no Content-Length: counted while read
    _error(
        client.post("/predict", content=chunks, headers={"content-type": "application/json"}), 413
    )
    _error(client.post("/predict", content=b"abc", headers={"content-type": "text/plain"}), 415)
    _error(client.post("/predict", files={"f": ("a.png", b"png")}), 415, "features")
    _error(_predict(client, np.zeros((1, d)), top_k=0), 400, "top_k")
    _error(client.get("/nowhere"), 404, "/nowhere")
    _error(client.get("/predict"), 405)
    assert _predict(client, toy.features[:2]).status_code == 200


def test_api_key_protects_write_endpoints(make_client, model, toy, monkeypatch):
    client = make_client(model, api_key="s3cret")
    body = {"name": "kiwi", "attributes": [0.1] * toy.embedding_dim}
    _error(client.post("/classes", json=body), 401, "API key")
    _error(client.post("/classes", json=body, headers={"x-api-key": "wrong"}), 401)
    _error(client.delete("/classes/kiwi"), 401)
    _error(client.post("/reload", json={}), 401)
    assert client.get("/classes").status_code == 200
    assert _predict(client, toy.features[:1]).status_code == 200
    ok = client.post("/classes", json=body, headers={"authorization": "Bearer s3cret"})
    assert ok.status_code == 201
    assert client.delete("/classes/kiwi", headers={"x-api-key": "s3cret"}).status_code == 200


def test_reload_swaps_atomically_and_refuses_bad_files(client, model, tmp_path, toy, eszsl_run):
    """Requests in flight during reloads all get answers; a bad file keeps the old model."""
    import concurrent.futures

    from zsl_onnx import OnnxExporter

    from zsl_toolkit.editing import calibrate_run
    from zsl_toolkit.runs import load_run

    calibrated = calibrate_run(eszsl_run.run_dir, gamma=0.5, out=tmp_path / "cal")
    other = OnnxExporter().export(load_run(calibrated.run_dir), tmp_path / "other.onnx", {})
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    x = toy.features[:4]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = [pool.submit(_predict, client, x) for _ in range(120)]
        for target in (other, model, other):
            assert client.post("/reload", json={"model": str(target)}).status_code == 200
        codes = [a.result().status_code for a in answers]
    assert codes == [200] * 120
    _error(client.post("/reload", json={"model": str(bad)}), 422, "still serving")
    _error(
        client.post("/reload", json={"model": str(tmp_path / "none.onnx")}), 422, "still serving"
    )
    assert client.get("/health").json()["model"]["sha256"] == _sha(other)[:12]
    served = _predict(client, x, top_k=1).json()["predictions"]
    expected = calibrated.method.predict_scores(x).argmax(axis=1)
    assert [p["class"] for p in served] == [toy.class_names[i] for i in expected]


def test_page_is_served(client):
    response = client.get("/")
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert 'id="drop"' in response.text and 'fetch("predict"' in response.text
