"""The family of real-attribute datasets: real classes and attributes, subsamples whose split
memberships are the real file's, fixed data under a seed, and mechanisms that really differ."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from xlsa17_files import SHARED

from zsl_toolkit.cli import cli
from zsl_toolkit.data.mechanisms import DeepNarrow, Expression, ModesGain, SubspaceSparse
from zsl_toolkit.data.registry import dataset_registry
from zsl_toolkit.data.resolve import load_dataset
from zsl_toolkit.data.xlsa17 import read_semantic
from zsl_toolkit.data.xlsa17_synth import generate_from_file

FAMILY = {  # name: (folder, feature dim, images per class, seen / unseen classes)
    "cub-synth-s": ("CUB", 2048, 24, (150, 50)),
    "cub-modes": ("CUB", 1024, 12, (150, 50)),
    "awa2-expression": ("AWA2", 2048, 40, (40, 10)),
    "sun-sparse": ("SUN", 1024, 6, (645, 72)),
    "cub-deep": ("CUB", 512, 12, (150, 50)),
}


@pytest.fixture(scope="module")
def root() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"real data folder {SHARED} not present")
    return SHARED.resolve()


@pytest.fixture(scope="module")
def loaded(root):
    return {name: load_dataset(name, root) for name in FAMILY}


def _row_index(features: np.ndarray) -> dict[bytes, int]:
    return {row.tobytes(): i for i, row in enumerate(features)}


@pytest.mark.parametrize("name", sorted(FAMILY))
def test_member_has_the_real_classes(name, root, loaded):
    folder, dim, per_class, (n_seen, n_unseen) = FAMILY[name]
    data = loaded[name]
    assert data.name == name and data.feature_dim == dim
    assert data.features.dtype == np.float32 and data.features.min() >= 0.0
    assert (data.seen_classes.size, data.unseen_classes.size) == (n_seen, n_unseen)
    real = read_semantic(root / folder / "att_splits.mat")
    np.testing.assert_allclose(data.class_embeddings, real.att.T.astype(np.float32))
    assert data.class_names == real.names
    counts = np.bincount(data.labels, minlength=len(real.names))
    assert counts.max() <= per_class + 3  # rounding per split combination


@pytest.mark.parametrize("name", ["cub-modes", "sun-sparse"])
def test_member_is_a_subsample_of_the_real_splits(name, root, loaded):
    """The whole set a member subsamples has the real file's splits, image for image; the
    kept images keep their features, labels and split memberships, in the file's order."""
    folder = FAMILY[name][0]
    data = loaded[name]
    real = read_semantic(root / folder / "att_splits.mat")
    cls = dataset_registry().load(name)
    full = generate_from_file(root / folder, replace(cls.spec, images_per_class=None), name)
    for k in ("trainval", "test_seen", "test_unseen"):
        np.testing.assert_array_equal(full.splits[k], real.splits[k])
    where = _row_index(full.features)
    rows = np.array([where[r.tobytes()] for r in data.features])
    np.testing.assert_array_equal(full.labels[rows], data.labels)
    small_row = np.full(full.labels.size, -1)
    small_row[rows] = np.arange(rows.size)
    for k, idx in full.splits.items():
        kept = small_row[idx]
        np.testing.assert_array_equal(kept[kept >= 0], data.splits[k])


def test_cub_synth_s_is_cub_synth_subsampled(root, loaded):
    whole = load_dataset("cub-synth", root)
    small = loaded["cub-synth-s"]
    where = _row_index(whole.features)
    rows = np.array([where[r.tobytes()] for r in small.features])
    np.testing.assert_array_equal(whole.labels[rows], small.labels)
    np.testing.assert_array_equal(whole.class_embeddings, small.class_embeddings)


@pytest.mark.parametrize("name", ["cub-modes", "sun-sparse"])
def test_fixed_data_under_the_preset_seed(name, root, loaded):
    np.random.seed(123)  # global state plays no part
    again = load_dataset(name, root)
    np.testing.assert_array_equal(again.features, loaded[name].features)
    for k, idx in loaded[name].splits.items():
        np.testing.assert_array_equal(again.splits[k], idx)


def test_validation_protocol_runs_on_members(loaded):
    from zsl_toolkit.data.protocol import apply_protocol

    val = apply_protocol(loaded["cub-modes"], "val")
    assert val.unseen_classes.size == 50 and val.seen_classes.size == 100


def _nearest_mean_accuracy(data) -> float:
    """Per-class mean accuracy on ``test_seen`` of the nearest mean (standardized features)
    of each seen class's ``trainval`` images."""
    x, y = data.features.astype(np.float64), data.labels
    x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-6)
    train, test = data.splits["trainval"], data.splits["test_seen"]
    classes = np.unique(y[train])
    means = np.stack([x[train][y[train] == c].mean(axis=0) for c in classes])
    dist = (means**2).sum(axis=1)[None, :] - 2.0 * x[test] @ means.T
    hit = classes[dist.argmin(axis=1)] == y[test]
    return float(np.mean([hit[y[test] == c].mean() for c in np.unique(y[test])]))


@pytest.mark.parametrize("name", sorted(FAMILY))
def test_seen_classes_are_told_apart_under_validation(name, loaded):
    """A member whose held-out seen images the seen classes' own mean features classify at
    about chance gives every method S near 0 and H near 0, whatever it does: the class
    signal must outweigh the class-irrelevant factors at the images kept per class."""
    from zsl_toolkit.data.protocol import apply_protocol

    val = apply_protocol(loaded[name], "val")
    chance = 1.0 / val.seen_classes.size
    assert _nearest_mean_accuracy(val) > 5.0 * chance


def test_dataset_options_change_the_mechanism(root, loaded):
    cls = dataset_registry().load("cub-deep")
    easier = cls(nuisance_scale=0.0).load(root)
    assert easier.features.shape == loaded["cub-deep"].features.shape
    assert not np.array_equal(easier.features, loaded["cub-deep"].features)


MECHANISMS = {
    "modes": ModesGain(feature_dim=64, attribute_jitter=0.0, nuisance_scale=0.0, noise=0.0),
    "expression": Expression(feature_dim=64, attribute_jitter=0.0, nuisance_scale=0.0, noise=0.0),
    "subspace": SubspaceSparse(feature_dim=64, attribute_jitter=0.0, nuisance_scale=0.0, noise=0.0),
    "deep": DeepNarrow(feature_dim=64, attribute_jitter=0.0, nuisance_scale=0.0, noise=0.0),
}


def _within_class_sd(mechanism, attributes, labels) -> float:
    x = mechanism.render(np.random.default_rng(0), attributes, labels)
    return float(np.mean([x[labels == c].std(axis=0).mean() for c in np.unique(labels)]))


def test_mechanisms_differ_in_within_class_variation():
    rng = np.random.default_rng(0)
    attributes = 0.5 + 0.25 * rng.standard_normal((12, 20))
    labels = np.repeat(np.arange(12), 30)
    sd = {k: _within_class_sd(m, attributes, labels) for k, m in MECHANISMS.items()}
    # With jitter, nuisance and noise off, only a mechanism whose samples vary by
    # construction (modes; expression strength and dropped attributes) still varies.
    assert sd["modes"] > 0.01 and sd["expression"] > 0.01
    assert sd["subspace"] < 1e-5 and sd["deep"] < 1e-5
    # Each knob then adds variation of its own kind.
    for key, mechanism in MECHANISMS.items():
        for knob in ("attribute_jitter", "nuisance_scale", "noise"):
            more = replace(mechanism, **{knob: 0.5})
            assert _within_class_sd(more, attributes, labels) > sd[key], (key, knob)


def test_mechanisms_differ_in_their_outputs():
    rng = np.random.default_rng(0)
    attributes = 0.5 + 0.25 * rng.standard_normal((12, 20))
    labels = np.repeat(np.arange(12), 30)
    out = {
        k: replace(m, attribute_jitter=0.1, nuisance_scale=1.0, noise=0.1).render(
            np.random.default_rng(1), attributes, labels
        )
        for k, m in MECHANISMS.items()
    }
    zeros = {k: float((x == 0).mean()) for k, x in out.items()}
    assert zeros["modes"] > 0.3 and zeros["subspace"] > 0.2  # sparse ReLU outputs
    assert zeros["expression"] == 0.0 and zeros["deep"] == 0.0  # softplus: never exactly 0
    assert all(x.min() >= 0.0 and x.dtype == np.float32 for x in out.values())


def test_cli_lists_and_describes_members(root):
    result = CliRunner().invoke(cli, ["data", "info", "cub-deep", "--data-root", str(root)])
    assert result.exit_code == 0, result.output
    assert "cub-deep" in result.output and "512" in result.output
