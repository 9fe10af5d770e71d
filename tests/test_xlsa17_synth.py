"""Datasets generated from a real att_splits.mat: the real shape, splits and classes, fixed
data, non-negative features, the real validation images, and clear errors for bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from xlsa17_files import SHARED

from zsl_toolkit.cli import cli
from zsl_toolkit.data.protocol import apply_protocol
from zsl_toolkit.data.resolve import load_dataset
from zsl_toolkit.data.xlsa17 import read_semantic
from zsl_toolkit.errors import DataError

REAL = {  # trainval / test_seen / test_unseen, seen / unseen classes, attribute dim
    "cub-synth": ("CUB", (7057, 1764, 2967), (150, 50), 312),
    "apy-synth": ("APY", (5932, 1483, 7924), (20, 12), 64),
}


@pytest.fixture(scope="module")
def root() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"real data folder {SHARED} not present")
    return SHARED.resolve()


@pytest.fixture(scope="module")
def cub(root):
    return load_dataset("cub-synth", root)


def _lines(path: Path) -> set[str]:
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


@pytest.mark.parametrize("name", sorted(REAL))
def test_shape_splits_and_classes_are_the_real_files(name, root, cub):
    folder, sizes, (n_seen, n_unseen), d2 = REAL[name]
    data = cub if name == "cub-synth" else load_dataset(name, root)
    assert data.name == name
    assert tuple(data.splits[k].size for k in ("trainval", "test_seen", "test_unseen")) == sizes
    assert (data.seen_classes.size, data.unseen_classes.size) == (n_seen, n_unseen)
    assert data.feature_dim == 2048 and data.embedding_dim == d2
    assert data.features.dtype == np.float32 and data.features.min() >= 0.0
    real = read_semantic(root / folder / "att_splits.mat")
    np.testing.assert_allclose(data.class_embeddings, real.att.T.astype(np.float32))
    assert data.class_names == real.names
    for k in ("trainval", "test_seen", "test_unseen"):  # same images in the same splits
        np.testing.assert_array_equal(data.splits[k], real.splits[k])
    names = np.array(data.class_names)
    assert set(names[data.seen_classes]) == _lines(root / folder / "trainvalclasses.txt")
    assert set(names[data.unseen_classes]) == _lines(root / folder / "testclasses.txt")
    # Every seen class has test_seen images, as in xlsa17.
    assert set(np.unique(data.labels[data.splits["test_seen"]])) <= set(data.seen_classes)


def test_features_carry_class_information(cub):
    """Not noise: class means of seen classes differ far beyond their within-class spread."""
    x, y = cub.split("trainval")
    means = np.stack([x[y == k].mean(axis=0) for k in cub.seen_classes[:20]])
    within = np.mean([x[y == k].std(axis=0).mean() for k in cub.seen_classes[:20]])
    between = means.std(axis=0).mean()
    assert between > 0.2 * within


def test_fixed_data_whatever_the_global_seeds(root, cub):
    import torch

    np.random.seed(123)
    torch.manual_seed(123)
    again = load_dataset("cub-synth", root)
    np.testing.assert_array_equal(again.features, cub.features)
    np.testing.assert_array_equal(again.labels, cub.labels)


def test_validation_protocol_uses_the_real_val_images(root, cub):
    """CUB's att_splits.mat has no train_loc/val_loc: they come from sent_splits.mat."""
    real = read_semantic(root / "CUB" / "sent_splits.mat")
    np.testing.assert_array_equal(cub.splits["val"], real.splits["val"])
    np.testing.assert_array_equal(cub.splits["train"], real.splits["train"])
    val = apply_protocol(cub, "val")
    assert val.splits["test_unseen"].size == real.splits["val"].size == 2946
    assert val.unseen_classes.size == 50 and val.seen_classes.size == 100  # as xlsa17's CUB
    assert val.splits["trainval"].size + val.splits["test_seen"].size == 5875
    test_names = {cub.class_names[k] for k in cub.unseen_classes}
    assert not test_names & set(val.class_names)


def _copy(root: Path, tmp_path: Path, folder: str = "APY") -> Path:
    shutil.copytree(root / folder, tmp_path / folder)
    for f in (tmp_path / folder).iterdir():
        f.chmod(0o644)
    return tmp_path / folder


def test_missing_root_and_missing_file(tmp_path, monkeypatch):
    monkeypatch.delenv("ZSL_DATA_ROOT", raising=False)
    with pytest.raises(
        DataError,
        match="needs a data root holding CUB/att_splits.mat, .* pass --data-root DIR or set",
    ):
        load_dataset("cub-synth")
    with pytest.raises(DataError, match=f"{tmp_path}/CUB/att_splits.mat: no such file"):
        load_dataset("cub-synth", tmp_path)
    result = CliRunner().invoke(cli, ["data", "info", "cub-synth", "--data-root", str(tmp_path)])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path}/CUB/att_splits.mat")


def test_bad_files_are_one_line_errors(root, tmp_path):
    folder = _copy(root, tmp_path)
    (folder / "testclasses.txt").unlink()
    with pytest.raises(DataError, match="testclasses.txt: no such file; expected the class list"):
        load_dataset("apy-synth", tmp_path)
    (folder / "testclasses.txt").write_text("goat\nunicorn\n")
    with pytest.raises(DataError, match="not in 'allclasses_names' \\(first: 'unicorn'\\)"):
        load_dataset("apy-synth", tmp_path)
    shutil.copy(root / "APY" / "testclasses.txt", folder / "testclasses.txt")
    data = (folder / "att_splits.mat").read_bytes()
    (folder / "att_splits.mat").write_bytes(data[: len(data) // 3])
    with pytest.raises(DataError, match="att_splits.mat"):
        load_dataset("apy-synth", tmp_path)
    (folder / "att_splits.mat").write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(DataError, match="not a MATLAB .mat file"):
        load_dataset("apy-synth", tmp_path)


def test_difficulty_options_change_features_only(root, cub):
    """``--dataset-option attribute_jitter=...``: same images, labels and splits, other
    features; the preset's own value gives the preset's data; bad values are one line."""
    from zsl_toolkit.data.xlsa17_synth import DEFAULT_MODEL

    same = load_dataset(
        "cub-synth", root, options={"attribute_jitter": DEFAULT_MODEL.attribute_jitter}
    )
    np.testing.assert_array_equal(same.features, cub.features)
    easier = load_dataset("cub-synth", root, options={"attribute_jitter": 0.0, "noise": 0.05})
    np.testing.assert_array_equal(easier.labels, cub.labels)
    for k in cub.splits:
        np.testing.assert_array_equal(easier.splits[k], cub.splits[k])
    assert not np.array_equal(easier.features, cub.features)
    assert easier.extra["attribute_jitter"] == "0.0" and easier.extra["noise"] == "0.05"
    result = CliRunner().invoke(
        cli,
        ["data", "info", "cub-synth", "--data-root", str(root), "--dataset-option", "noise=-1"],
    )
    assert result.exit_code != 0
    assert result.output.strip() == "error: dataset option noise: expected a number >= 0, got -1.0"
