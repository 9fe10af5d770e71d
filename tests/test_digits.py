"""The digits dataset: real sklearn images, seven-segment descriptors, fixed 7/3 split."""

from __future__ import annotations

import itertools

import numpy as np
from sklearn.datasets import load_digits

from zsl_toolkit.data.digits import Digits
from zsl_toolkit.pipeline import train
from zsl_toolkit.settings import RunSettings
from zsl_toolkit.testing import check_dataset
from zsl_toolkit.training import TrainConfig

# The usual seven-segment font as byte codes, bit 0 = segment a ... bit 6 = segment g.
SEGMENT_BYTES = [0x3F, 0x06, 0x5B, 0x4F, 0x66, 0x6D, 0x7D, 0x07, 0x7F, 0x6F]
LOOPS = [1, 0, 0, 0, 1, 0, 1, 0, 2, 1]


def raw_descriptors() -> np.ndarray:
    bits = [[(code >> b) & 1 for b in range(7)] for code in SEGMENT_BYTES]
    return np.array([row + [loops] for row, loops in zip(bits, LOOPS, strict=True)], float)


def test_shapes_names_and_source():
    data = Digits().load()
    assert data.features.shape == (1797, 64) and data.class_embeddings.shape == (10, 8)
    assert data.class_names == [str(k) for k in range(10)]
    assert (data.name, data.source) == ("digits", "scikit-learn load_digits")
    bunch = load_digits()
    np.testing.assert_array_equal(data.features, bunch.data.astype(np.float32))
    np.testing.assert_array_equal(data.labels, bunch.target)


def test_descriptors_are_normalised_segment_codes():
    data = Digits().load()
    raw = raw_descriptors()
    expected = raw / np.sqrt((raw**2).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(data.class_embeddings, expected, rtol=1e-6)
    assert len({tuple(r) for r in data.class_embeddings.round(6)}) == 10


def test_split_is_seven_seen_three_unseen_80_20():
    data = Digits().load()
    assert data.unseen_classes.tolist() == [0, 4, 5]
    assert data.seen_classes.tolist() == [1, 2, 3, 6, 7, 8, 9]
    counts = np.bincount(load_digits().target)
    for k in data.seen_classes:
        n_tv = int((data.labels[data.splits["trainval"]] == k).sum())
        n_ts = int((data.labels[data.splits["test_seen"]] == k).sum())
        assert n_tv + n_ts == counts[k]
        assert n_ts == int(np.floor(0.2 * counts[k] + 0.5))
    assert data.splits["test_unseen"].size == counts[[0, 4, 5]].sum()
    union = np.concatenate([data.splits[k] for k in ("trainval", "test_seen", "test_unseen")])
    assert np.array_equal(np.sort(union), np.arange(1797))  # a partition of all images
    assert not np.array_equal(  # a permutation, not the first 80% of each class
        data.splits["trainval"][:20], np.flatnonzero(np.isin(data.labels, data.seen_classes))[:20]
    )


def test_unseen_descriptors_are_distinguishable_from_seen():
    raw = raw_descriptors()
    data = Digits().load()
    seen, unseen = data.seen_classes, data.unseen_classes
    for u in unseen:
        assert min(np.abs(raw[u] - raw[s]).sum() for s in seen) >= 2
    for a, b in itertools.combinations(unseen, 2):
        assert np.abs(raw[a] - raw[b]).sum() >= 4
    for j in range(7):  # every segment is lit and dark in some seen digit
        assert set(raw[seen, j]) == {0.0, 1.0}
    assert set(raw[seen, 7]) == {0.0, 1.0, 2.0}


def test_deterministic_and_passes_check_dataset():
    first = check_dataset("digits")
    second = Digits().load()
    for k in first.splits:
        np.testing.assert_array_equal(first.splits[k], second.splits[k])


def test_eszsl_trains_and_transfers(tmp_path):
    data = Digits().load()
    settings = RunSettings("eszsl", "digits", config=TrainConfig(device="cpu", quiet=True))
    run = train(settings, out=tmp_path / "run", data=data)
    zsl, gzsl = run.metrics["zsl"], run.metrics["gzsl"]
    assert (tmp_path / "run" / "metrics.json").is_file()
    assert zsl["T1"] > 1 / 3  # above chance among the three unseen digits
    assert gzsl["S"] > 1 / 10 and np.isfinite(gzsl["H"])
