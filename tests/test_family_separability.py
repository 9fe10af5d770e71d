"""benchmarks/family_separability.py: its proxies see class signal where there is one and
fall to chance where the features carry none."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from zsl_toolkit.data.container import ZSLData

REPO = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location(
        "family_separability", REPO / "benchmarks" / "family_separability.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _data(signal: float, seed: int = 0) -> ZSLData:
    """20 seen and 5 unseen classes, features a linear map of the class attributes (times
    ``signal``) plus unit noise; 8 training and 2 test images per seen class."""
    rng = np.random.default_rng(seed)
    att = rng.standard_normal((25, 10))
    w = rng.standard_normal((10, 40))
    labels = np.concatenate([np.repeat(np.arange(20), 10), np.repeat(np.arange(20, 25), 10)])
    features = signal * att[labels] @ w + rng.standard_normal((labels.size, 40))
    seen_rows = np.arange(200).reshape(20, 10)
    return ZSLData(
        features=features.astype(np.float32),
        labels=labels,
        class_embeddings=att,
        class_names=[f"c{i}" for i in range(25)],
        splits={
            "trainval": seen_rows[:, :8].ravel(),
            "test_seen": seen_rows[:, 8:].ravel(),
            "test_unseen": np.arange(200, 250),
        },
    )


def test_proxies_find_the_class_signal():
    result = _script().proxies(_data(signal=3.0))
    assert result["chance_S"] == 1 / 20
    assert result["nearest_mean_S"] == 1.0
    assert min(result[k] for k in ("U", "S", "H", "T1")) > 0.9


def test_proxies_fall_to_chance_without_signal():
    result = _script().proxies(_data(signal=0.0))
    assert result["nearest_mean_S"] < 0.3  # chance 0.05; 40 test images
    assert result["T1"] < 0.6  # chance 0.2
