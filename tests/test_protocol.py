"""The validation protocol's split rules: no test class leaks, classes disjoint, deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from zsl_toolkit.data.protocol import (
    PROTOCOL_SEED,
    TEST_SEEN_FRACTION,
    apply_protocol,
    check_protocol,
    selection_protocol,
)
from zsl_toolkit.data.resolve import load_dataset
from zsl_toolkit.errors import ConfigError, DataError


def _names(data, classes) -> set[str]:
    return {data.class_names[k] for k in classes}


def _check_val_problem(full, val) -> None:
    """Properties every validation problem must have, whatever rule chose its classes."""
    test_names = _names(full, full.unseen_classes)
    # The true unseen classes are gone: no name, no attribute vector, no image.
    assert not test_names & set(val.class_names)
    for row in val.class_embeddings:
        for k in full.unseen_classes:
            assert not np.array_equal(row, full.class_embeddings[k])
    assert val.n_classes == full.seen_classes.size
    # Validation classes play unseen; train classes play seen; disjoint; all from the seen set.
    seen_names, unseen_names = _names(val, val.seen_classes), _names(val, val.unseen_classes)
    assert not seen_names & unseen_names
    assert seen_names | unseen_names == _names(full, full.seen_classes)
    # test_seen holds a fraction of every train class, never all of it.
    for k in val.seen_classes:
        n_tv = int((val.labels[val.splits["trainval"]] == k).sum())
        n_ts = int((val.labels[val.splits["test_seen"]] == k).sum())
        assert n_tv >= 1 and n_ts >= (1 if n_tv + n_ts > 1 else 0)
        assert abs(n_ts - TEST_SEEN_FRACTION * (n_tv + n_ts)) <= 1
    # Features and embeddings are the original rows (nothing regenerated or rescaled).
    name_to_old = {n: i for i, n in enumerate(full.class_names)}
    for i, n in enumerate(val.class_names):
        np.testing.assert_array_equal(
            val.class_embeddings[i], full.class_embeddings[name_to_old[n]]
        )
    assert val.name == full.name
    assert val.feature_dim == full.feature_dim


def test_test_protocol_is_the_data_itself():
    data = load_dataset("toy")
    assert apply_protocol(data, "test") is data


def test_seeded_rule_without_train_val_splits():
    full = load_dataset("synthetic")
    assert "train" not in full.splits
    val = apply_protocol(full, "val")
    _check_val_problem(full, val)
    n_seen = full.seen_classes.size
    assert val.unseen_classes.size == round(0.2 * n_seen)  # 30 seen -> 6 validation classes
    # Validation classes' images are exactly the original seen images of those classes.
    val_names = _names(val, val.unseen_classes)
    rows = np.union1d(full.splits["trainval"], full.splits["test_seen"])
    expected = sum(full.class_names[y] in val_names for y in full.labels[rows])
    assert val.splits["test_unseen"].size == expected
    assert val.extra["protocol"] == "val"


def test_deterministic_and_independent_of_global_random_state():
    full = load_dataset("toy")
    np.random.seed(1)
    a = apply_protocol(full, "val")
    np.random.seed(2)
    b = apply_protocol(full, "val")
    assert a.class_names == b.class_names
    for k in a.splits:
        np.testing.assert_array_equal(a.splits[k], b.splits[k])
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert PROTOCOL_SEED != 0  # the protocol's own seed, not a training seed's default


def test_real_train_val_splits_define_the_classes(shared_data):
    """SNU36 (a complete real xlsa17 folder) defines train_loc/val_loc: they set the classes."""
    full = load_dataset(str(shared_data / "SNU36"))
    val = apply_protocol(full, "val")
    _check_val_problem(full, val)
    expected_val = _names(full, np.unique(full.labels[full.splits["val"]]))
    expected_train = _names(full, np.unique(full.labels[full.splits["train"]]))
    assert _names(val, val.unseen_classes) == expected_val
    assert _names(val, val.seen_classes) == expected_train
    assert val.splits["test_unseen"].size == full.splits["val"].size
    assert val.splits["trainval"].size + val.splits["test_seen"].size == full.splits["train"].size


def _with_splits(full, train, val):
    from zsl_toolkit.data.container import ZSLData

    return ZSLData(
        full.features,
        full.labels,
        full.class_embeddings,
        full.class_names,
        {**full.splits, "train": train, "val": val},
        name=full.name,
        source="test data",
    )


def test_overlapping_or_leaking_train_val_splits_are_refused():
    full = load_dataset("toy")
    seen, unseen = full.seen_classes, full.unseen_classes
    tv = full.splits["trainval"]
    rows_of = {k: tv[full.labels[tv] == k] for k in seen}
    train = np.concatenate([rows_of[k] for k in seen[:4]])
    # Half of class seen[3] moves into val: one class on both sides.
    half = rows_of[seen[3]][: rows_of[seen[3]].size // 2]
    val = np.concatenate([half, rows_of[seen[4]]])
    with pytest.raises(DataError, match="share 1 classes"):
        apply_protocol(_with_splits(full, np.setdiff1d(train, half), np.sort(val)), "val")
    unseen_rows = full.splits["test_unseen"][full.labels[full.splits["test_unseen"]] == unseen[0]]
    with pytest.raises(DataError, match="test \\(unseen\\) classes"):
        apply_protocol(_with_splits(full, np.sort(train), unseen_rows), "val")


def test_unknown_protocol_is_a_config_error():
    with pytest.raises(ConfigError, match="protocol: expected one of test, val, inner, got 'dev'"):
        check_protocol("dev", "protocol")
    with pytest.raises(ConfigError):
        apply_protocol(load_dataset("toy"), "dev")


@pytest.mark.parametrize("name", ["toy", "digits"])
def test_inner_protocol_is_the_validation_problem_of_the_validation_problem(name):
    """``inner`` sees only the validation problem's train classes: neither the validation
    classes nor the test classes (names, attribute vectors or images) are in it."""
    full = load_dataset(name)
    val = apply_protocol(full, "val")
    inner = apply_protocol(full, "inner")
    _check_val_problem(val, inner)
    assert set(inner.class_names) == _names(val, val.seen_classes)
    assert not set(inner.class_names) & _names(full, full.unseen_classes)
    assert not set(inner.class_names) & _names(val, val.unseen_classes)
    for row in inner.class_embeddings:
        for k in (
            *full.unseen_classes,
            *[full.class_names.index(n) for n in _names(val, val.unseen_classes)],
        ):
            assert not np.array_equal(row, full.class_embeddings[k])
    assert inner.extra["protocol"] == "inner"
    assert int(inner.extra["withheld_classes"]) == full.n_classes - inner.n_classes
    assert "(inner validation protocol)" in inner.source
    # Deterministic, like every protocol.
    again = apply_protocol(full, "inner")
    assert np.array_equal(again.features, inner.features)
    assert np.array_equal(again.labels, inner.labels)


def test_selection_protocol_is_one_level_inside_the_reported_one():
    assert selection_protocol("test") == "val"
    assert selection_protocol("val") == "inner"
    with pytest.raises(ConfigError, match="--select under --protocol inner"):
        selection_protocol("inner")
