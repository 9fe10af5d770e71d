"""Shared fixtures: one ESZSL run on toy data, exported once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.runs import RunResult

# minmax preprocessing puts a fitted scaler inside the graph; these values give toy metrics
# away from 0 and 1, so comparisons of U/S/H are informative.
ESZSL_PARAMS = {"gamma": 1.0, "lam": 1.0, "preprocess": "minmax"}


@pytest.fixture(scope="session")
def toy() -> ZSLData:
    from zsl_toolkit.data.synthetic import Toy

    return Toy().load()


@pytest.fixture(scope="session")
def eszsl_run(tmp_path_factory, toy) -> RunResult:
    from zsl_toolkit.pipeline import train
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.training import TrainConfig

    out = tmp_path_factory.mktemp("eszsl") / "run"
    config = TrainConfig(device="cpu", quiet=True)
    return train(RunSettings("eszsl", "toy", ESZSL_PARAMS, config), out=out, data=toy)


@pytest.fixture(scope="session")
def eszsl_model(eszsl_run) -> Path:
    from zsl_onnx import OnnxExporter

    return OnnxExporter().export(eszsl_run, eszsl_run.run_dir / "model.onnx", {})


@pytest.fixture(scope="session", autouse=True)
def _backbone_graph_cache(tmp_path_factory):
    """Backbone graphs exported by the tests go to a folder of the test session, not to the
    user's cache (shared by the session's tests, so each backbone is exported once)."""
    import os

    folder = tmp_path_factory.mktemp("zsl-cache")
    old = os.environ.get("ZSL_CACHE_DIR")
    os.environ["ZSL_CACHE_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("ZSL_CACHE_DIR", None)
    else:
        os.environ["ZSL_CACHE_DIR"] = old
