"""A class added live from a description, on a model whose class embeddings came from the
real `wordllama` text encoder: the export records the encoder, the server embeds the text
with it, and the scores equal `zsl add-class --text` on the run."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("zsl_images")


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    from zsl_images.text import WordLlamaEncoder

    from zsl_toolkit.data.container import ZSLData
    from zsl_toolkit.data.hdf5 import save_h5
    from zsl_toolkit.data.synthetic import Toy
    from zsl_toolkit.pipeline import train
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.training import TrainConfig

    toy = Toy().load()
    texts = [f"a {c.replace('_', ' ')} animal, small and grey" for c in toy.class_names]
    semantics = WordLlamaEncoder().encode(texts).astype(np.float32)
    data = ZSLData(
        features=toy.features,
        labels=toy.labels,
        class_embeddings=semantics,
        class_names=list(toy.class_names),
        splits=toy.splits,
        name="toy-text",
        extra={"semantics": "text", "text_encoder": "wordllama"},
    )
    root = tmp_path_factory.mktemp("text")
    store = root / "toy-text.h5"
    save_h5(data, store)
    config = TrainConfig(device="cpu", quiet=True)
    params = {"gamma": 1.0, "lam": 1.0, "preprocess": "minmax"}
    return train(RunSettings("eszsl", str(store), params, config), out=root / "run")


def test_description_scores_equal_add_class_text(text_run, make_client, tmp_path):
    import onnx
    from zsl_onnx import OnnxExporter

    from zsl_toolkit.editing import add_classes, encode_text

    model = OnnxExporter().export(text_run, tmp_path / "text.onnx", {})
    meta = {p.key: p.value for p in onnx.load(model).metadata_props}
    assert meta["text_encoder"] == "wordllama"
    client = make_client(model)
    assert client.get("/classes").json()["descriptions"] == "wordllama"
    text = "a striped horse of the savannah"
    r = client.post("/classes", json={"name": "zebra", "description": text})
    assert r.status_code == 201, r.text

    extra = {"semantics": "text", "text_encoder": "wordllama"}
    new = encode_text("zebra", text, extra, str(text_run.run_dir))
    edited = add_classes(text_run.run_dir, [new], out=tmp_path / "edited")
    dim = text_run.method.spec_.feature_dim
    x = np.random.default_rng(0).normal(size=(20, dim)).astype(np.float32)
    expected = edited.method.predict_scores(x)
    names = list(edited.method.spec_.class_names)
    body = client.post("/predict", json={"features": x.tolist(), "top_k": len(names)}).json()
    for row, p in enumerate(body["predictions"]):
        got = {t["class"]: t["score"] for t in p["top"]}
        assert np.allclose([got[n] for n in names], expected[row], atol=1e-4)
