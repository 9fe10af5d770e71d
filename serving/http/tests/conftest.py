"""Fixtures of the zsl-serve tests: an ESZSL features model on toy data, and an image-in ESZSL
model trained from scikit-learn's digits rendered as PNG files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from serve_testkit import copy_model

# minmax puts a fitted scaler inside the graph (as in the zsl-onnx tests).
ESZSL_PARAMS = {"gamma": 1.0, "lam": 1.0, "preprocess": "minmax"}
DIGITS_PER_CLASS = 6


@pytest.fixture(scope="session")
def toy():
    from zsl_toolkit.data.synthetic import Toy

    return Toy().load()


@pytest.fixture(scope="session")
def eszsl_run(tmp_path_factory, toy):
    from zsl_toolkit.pipeline import train
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.training import TrainConfig

    out = tmp_path_factory.mktemp("serve-eszsl") / "run"
    config = TrainConfig(device="cpu", quiet=True)
    return train(RunSettings("eszsl", "toy", ESZSL_PARAMS, config), out=out, data=toy)


@pytest.fixture(scope="session")
def eszsl_onnx(eszsl_run) -> Path:
    from zsl_onnx import OnnxExporter

    return OnnxExporter().export(eszsl_run, eszsl_run.run_dir / "toy.onnx", {})


@pytest.fixture
def model(eszsl_onnx, tmp_path) -> Path:
    """A private copy of the features model (its class edits land in tmp_path)."""
    return copy_model(eszsl_onnx, tmp_path / "models")


@pytest.fixture
def make_client() -> Iterator[Callable[..., Any]]:
    """Factory of in-process clients (lifespan run) for a model and settings."""
    from starlette.testclient import TestClient
    from zsl_serve.app import create_app
    from zsl_serve.server import ServeConfig

    opened: list[TestClient] = []

    def make(model: Path, **settings: Any) -> TestClient:
        settings.setdefault("provider", "cpu")
        client = TestClient(create_app(ServeConfig(model=str(model), **settings)))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client, model):
    return make_client(model)


@pytest.fixture(scope="session")
def digits_model(tmp_path_factory) -> dict[str, Path]:
    """scikit-learn's digits as PNG files -> zsl extract (EfficientNet-Lite0) -> ESZSL ->
    image-in ONNX export."""
    pytest.importorskip("zsl_images")
    from click.testing import CliRunner
    from zsl_images.digits_folder import write_digits_folder

    from zsl_toolkit.cli import cli

    def zsl(*args: str) -> None:
        result = CliRunner().invoke(cli, [str(a) for a in args])
        assert result.exit_code == 0, (args[0], result.output, result.exception)

    root = write_digits_folder(tmp_path_factory.mktemp("digits"), per_class=DIGITS_PER_CLASS)
    store = root / "digits.h5"
    zsl(
        "extract",
        root / "images",
        store,
        "--attributes",
        root / "attributes.csv",
        "--unseen",
        root / "unseen.txt",
        "--batch-size",
        "16",
    )
    run = root / "run"
    zsl("train", "-m", "eszsl", "-d", store, "--device", "cpu", "-q", "--out", run)
    model = root / "digits.onnx"
    zsl("export", run, "--format", "onnx", "--option", "backbone=efficientnet-lite0", "-o", model)
    return {"root": root, "images": root / "images", "run": run, "model": model}
