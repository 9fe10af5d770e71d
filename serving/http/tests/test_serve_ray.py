"""The same app as two Ray Serve replicas on a local Ray instance: a class added through one
replica is served by both, and kept beside the model."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from serve_testkit import free_port

pytest.importorskip("ray.serve")


def test_class_edits_reach_every_replica(model, toy):
    import ray
    from ray import serve
    from zsl_serve.ray_app import start
    from zsl_serve.server import ServeConfig

    port = free_port()
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        start(ServeConfig(model=str(model), provider="cpu", threads=1), 2, "127.0.0.1", port, None)
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=60) as http:
            r = http.post(
                "/classes", json={"name": "kiwi", "attributes": [0.2] * toy.embedding_dim}
            )
            assert r.status_code == 201, r.text
            pids: set[str] = set()
            deadline = time.monotonic() + 60
            while len(pids) < 2 and time.monotonic() < deadline:
                r = http.get("/classes")
                assert "kiwi" in [c["name"] for c in r.json()["classes"]]
                pids.add(r.headers["x-zsl-serve-pid"])
            assert len(pids) == 2, "only one replica answered"
            r = http.post(
                "/classes", json={"name": "kiwi", "attributes": [0.1] * toy.embedding_dim}
            )
            assert r.status_code == 409
            features = toy.features[:2].tolist()
            assert http.post("/predict", json={"features": features}).status_code == 200
        saved = json.loads(model.with_name("toy.classes.json").read_text())
        assert [c["name"] for c in saved["added"]] == ["kiwi"]
    finally:
        serve.shutdown()
        if started:
            ray.shutdown()
