"""`zsl serve` as a real process: command-line mistakes, a soak of mixed good and bad
requests with a memory bound, and edits shared by `--workers` processes."""

from __future__ import annotations

import random

import httpx
import numpy as np
from serve_testkit import rss_kib, running_server

from zsl_toolkit.cli import cli

SOAK_REQUESTS = 2000
SOAK_RSS_GROWTH_KIB = 30 * 1024
"""Allowed growth of the server's resident memory over the soak, measured after a warm-up
of 200 requests (allocator pools and caches fill first): 30 MiB."""


def _zsl(*args: str):
    from click.testing import CliRunner

    return CliRunner().invoke(cli, [str(a) for a in args])


def _one_error_line(result, *fragments: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def test_command_line_mistakes(tmp_path, model):
    _one_error_line(_zsl("serve", tmp_path / "none.onnx"), "none.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"junk")
    _one_error_line(_zsl("serve", junk), "junk.onnx")
    _one_error_line(_zsl("serve", model, "--max-body", "lots"), "--max-body")
    _one_error_line(_zsl("serve", model, "--provider", "tpu"), "provider")
    _one_error_line(_zsl("serve", model, "--ray-address", "auto"), "--replicas")
    assert "serve" in _zsl("--help").output


def test_soak_mixed_requests(model, toy, record_property):
    """2,000 requests, about a third of them bad in six ways: every good one gets the
    graph's answer, every bad one a 4xx, memory stays bounded and /health stays OK."""
    from zsl_onnx import OnnxPredictor

    x = toy.features[:64]
    _, ids = OnnxPredictor(model, "cpu").predict(x)
    expected = [toy.class_names[i] for i in ids]
    d = toy.feature_dim
    bad = [
        ("post", "/predict", {"json": {"features": [[0.0] * (d + 1)]}}, 422),
        (
            "post",
            "/predict",
            {"content": b"{oops", "headers": {"content-type": "application/json"}},
            400,
        ),
        (
            "post",
            "/predict",
            {"content": b"x" * 70000, "headers": {"content-type": "application/json"}},
            413,
        ),
        ("post", "/predict", {"content": b"hello", "headers": {"content-type": "text/plain"}}, 415),
        ("delete", "/classes/no-such", {}, 404),
        ("get", "/no-such-page", {}, 404),
    ]
    rng = random.Random(0)
    with running_server(str(model), "--provider", "cpu", "--max-body", "64KB") as (url, proc):
        with httpx.Client(base_url=url, timeout=30) as http:
            start_rss = None
            wrong = []
            for i in range(SOAK_REQUESTS):
                if i == 200:
                    start_rss = rss_kib(proc.pid)
                if rng.random() < 0.35:
                    method, path, kwargs, status = rng.choice(bad)
                    r = getattr(http, method)(path, **kwargs)
                    if r.status_code != status or "error" not in r.json():
                        wrong.append((path, r.status_code, r.text[:100]))
                    continue
                rows = rng.sample(range(len(x)), rng.randint(1, 4))
                r = http.post("/predict", json={"features": x[rows].tolist(), "top_k": 1})
                got = (
                    [p["class"] for p in r.json()["predictions"]] if r.status_code == 200 else None
                )
                if got != [expected[j] for j in rows]:
                    wrong.append(("/predict", r.status_code, r.text[:100]))
            growth = rss_kib(proc.pid) - start_rss
            assert http.get("/health").json()["status"] == "ok"
            metrics = http.get("/metrics").text
    record_property("rss_growth_kib", growth)
    assert wrong == []
    assert growth < SOAK_RSS_GROWTH_KIB, f"resident memory grew {growth} KiB"
    assert 'route="/predict",status="200"' in metrics


def _both_workers(http: httpx.Client, path: str, check) -> None:
    """GET ``path`` on fresh connections until both workers answered (the second may still
    be loading its model; the kernel picks the worker per connection); every answer passes
    ``check``."""
    import time

    pids = set()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        r = http.get(path, headers={"connection": "close"})
        check(r.json())
        pids.add(r.headers["x-zsl-serve-pid"])
        if len(pids) == 2:
            return
        time.sleep(0.02)
    raise AssertionError("only one worker answered in 90 s")


def test_workers_share_class_edits_and_reloads(model, toy, tmp_path):
    """Two worker processes: a class added, and a model reloaded, through one are served
    by both (each answer carries the answering process's id)."""
    import hashlib

    from serve_testkit import set_metadata

    other = set_metadata(model, tmp_path / "other.onnx", dataset="renamed")
    other_sha = hashlib.sha256(other.read_bytes()).hexdigest()[:12]
    vector = [0.2] * toy.embedding_dim
    with running_server(str(model), "--provider", "cpu", "--workers", "2") as (url, _):
        with httpx.Client(base_url=url, timeout=30) as http:
            r = http.post("/classes", json={"name": "kiwi", "attributes": vector})
            assert r.status_code == 201, r.text

            def has_kiwi(doc):
                assert "kiwi" in [c["name"] for c in doc["classes"]]

            _both_workers(http, "/classes", has_kiwi)
            r = http.post("/reload", json={"model": str(other)})
            assert r.status_code == 200, r.text

            def reloaded(doc):
                assert doc["model"]["sha256"] == other_sha

            _both_workers(http, "/health", reloaded)
            r = http.post("/predict", json={"features": np.asarray(toy.features[:3]).tolist()})
            assert r.status_code == 200
