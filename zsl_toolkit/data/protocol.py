"""Evaluation protocols: the test protocol (the dataset as given) and a validation protocol.

Hyperparameters must be chosen without looking at test numbers. Under ``val`` the dataset is
rewritten, in the data layer, into a smaller GZSL problem in which the seen classes are the
*train* classes, the *validation* classes play unseen, and the true unseen (test) classes are
removed from the class set altogether, with their images and attribute vectors, so no method
or evaluator can see them. Every method and evaluator then runs unchanged.

Which classes validate:

- files that define ``train_loc`` / ``val_loc`` (xlsa17, Xian et al., TPAMI 2018): the train
  classes are the labels of ``train``, the validation classes those of ``val``, exactly as the
  benchmark defines them;
- otherwise (generated sets, digits, stores without those splits): a fixed fraction
  (:data:`VAL_CLASS_FRACTION`, at least one class) of the seen classes, drawn with
  :data:`PROTOCOL_SEED`. That seed belongs to the protocol, not to training, so every run of
  every method validates on the same classes.

``inner`` is the validation protocol applied once more, to the validation problem: its train
classes split by the fraction rule into inner train and inner validation classes, the
validation classes withheld as well. A choice made under ``inner`` has seen neither the
validation nor the test classes, so a run *reported* on ``val`` can choose its own settings
there (``zsl train --protocol val --select``) without its validation H flattering the choice.

Splits under ``val``: ``test_unseen`` holds every image of the validation classes;
``test_seen`` holds a seeded :data:`TEST_SEEN_FRACTION` of each train class's images (as
xlsa17's ``test_seen`` holds 20% of each seen class), ``trainval`` the rest. Class order, names
and the dataset's ``name`` (which dataset-keyed defaults use) are kept.
"""

from __future__ import annotations

import numpy as np

from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.errors import ConfigError, DataError

PROTOCOLS = ("test", "val", "inner")
#: Where a run reported under a protocol chooses its settings (``--select``).
SELECTION_PROTOCOLS = {"test": "val", "val": "inner"}
PROTOCOL_SEED = 20180101
VAL_CLASS_FRACTION = 0.2
TEST_SEEN_FRACTION = 0.2


def check_protocol(value: object, where: str) -> str:
    """``value`` as a protocol name, or a one-line :class:`ConfigError` naming ``where``."""
    if value not in PROTOCOLS:
        raise ConfigError(f"{where}: expected one of {', '.join(PROTOCOLS)}, got {value!r}")
    return str(value)


def selection_protocol(protocol: str) -> str:
    """The protocol on which a run reported under ``protocol`` chooses its settings."""
    check_protocol(protocol, "protocol")
    if protocol not in SELECTION_PROTOCOLS:
        raise ConfigError(
            f"--select under --protocol {protocol}: nothing is left to choose on; "
            f"select under {' or '.join(SELECTION_PROTOCOLS)}"
        )
    return SELECTION_PROTOCOLS[protocol]


def apply_protocol(data: ZSLData, protocol: str = "test") -> ZSLData:
    """``data`` under ``protocol``: itself for ``test``, the validation problem for ``val``,
    the validation problem of that for ``inner``."""
    check_protocol(protocol, "protocol")
    if protocol == "test":
        return data
    if protocol == "inner":
        return _validation_problem(_validation_problem(data, "val"), "inner")
    return _validation_problem(data, "val")


def _validation_problem(data: ZSLData, label: str) -> ZSLData:
    train_classes, val_classes, train_idx, val_idx = validation_classes(data)
    trainval, test_seen = _hold_out(data.labels, train_idx, train_classes)
    return _restrict(data, trainval, test_seen, val_idx, train_classes, val_classes, label)


def validation_classes(data: ZSLData) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train classes, validation classes, rows of the train classes, rows of the validation
    classes), by the rule of the module docstring; checked to be disjoint and to leave the
    test classes out."""
    seen, unseen = data.seen_classes, data.unseen_classes
    where = data.source or data.name
    if "train" in data.splits and "val" in data.splits:
        train_idx, val_idx = data.splits["train"], data.splits["val"]
        train_classes = np.unique(data.labels[train_idx])
        val_classes = np.unique(data.labels[val_idx])
        shared = np.intersect1d(train_classes, val_classes)
        if shared.size:
            raise DataError(
                f"{where}: 'train' and 'val' share {shared.size} classes; the validation "
                f"protocol needs disjoint train and validation classes"
            )
        leaked = np.intersect1d(np.union1d(train_classes, val_classes), unseen)
        if leaked.size:
            raise DataError(
                f"{where}: 'train'/'val' hold {leaked.size} test (unseen) classes; they must "
                f"hold seen classes only"
            )
        return train_classes, val_classes, np.sort(train_idx), np.sort(val_idx)
    if seen.size < 2:
        raise DataError(
            f"{where}: {seen.size} seen class; the validation protocol needs at least 2 "
            f"(one to train on, one to validate)"
        )
    n_val = min(seen.size - 1, max(1, int(round(VAL_CLASS_FRACTION * seen.size))))
    rng = np.random.default_rng(PROTOCOL_SEED)
    val_classes = np.sort(rng.choice(seen, size=n_val, replace=False))
    train_classes = np.setdiff1d(seen, val_classes)
    rows = np.union1d(data.splits["trainval"], data.splits["test_seen"])
    in_val = np.isin(data.labels[rows], val_classes)
    return train_classes, val_classes, rows[~in_val], rows[in_val]


def fold_problem(data: ZSLData, train_classes: np.ndarray, val_classes: np.ndarray) -> ZSLData:
    """The validation problem of any class fold: ``train_classes`` trained on (with
    :data:`TEST_SEEN_FRACTION` of their images held out), ``val_classes`` playing unseen, every
    other class withheld, built as :func:`apply_protocol` builds ``val`` from the images it
    draws on (seen classes only: the test classes are refused)."""
    seen = data.seen_classes
    fold = np.union1d(train_classes, val_classes)
    if np.setdiff1d(fold, seen).size or np.intersect1d(train_classes, val_classes).size:
        raise ConfigError("a validation fold takes disjoint train and validation seen classes")
    _, _, train_idx, val_idx = validation_classes(data)
    rows = np.union1d(train_idx, val_idx)  # the images the validation protocol draws on
    labels = data.labels
    train_rows = rows[np.isin(labels[rows], train_classes)]
    val_rows = np.sort(rows[np.isin(labels[rows], val_classes)])
    trainval, test_seen = _hold_out(labels, train_rows, np.sort(train_classes))
    return _restrict(
        data, trainval, test_seen, val_rows, np.sort(train_classes), np.sort(val_classes)
    )


def _hold_out(
    labels: np.ndarray, rows: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``rows`` per class: a seeded ``TEST_SEEN_FRACTION`` (at least one image, never a
    class's only image) to test_seen, the rest to trainval."""
    rng = np.random.default_rng(PROTOCOL_SEED + 1)
    trainval, test_seen = [], []
    for k in classes:
        idx = rows[labels[rows] == k]
        idx = idx[rng.permutation(idx.size)]
        n_test = min(idx.size - 1, max(1, int(round(TEST_SEEN_FRACTION * idx.size))))
        test_seen.append(idx[:n_test])
        trainval.append(idx[n_test:])
    return np.sort(np.concatenate(trainval)), np.sort(np.concatenate(test_seen))


def _restrict(
    data: ZSLData,
    trainval: np.ndarray,
    test_seen: np.ndarray,
    test_unseen: np.ndarray,
    train_classes: np.ndarray,
    val_classes: np.ndarray,
    label: str = "val",
) -> ZSLData:
    """The rows and classes of the validation problem only, labels renumbered in class order."""
    keep_classes = np.union1d(train_classes, val_classes)
    class_map = np.full(data.n_classes, -1, dtype=np.int64)
    class_map[keep_classes] = np.arange(keep_classes.size)
    rows = np.concatenate([trainval, test_seen, test_unseen])
    n_tv, n_ts = trainval.size, test_seen.size
    order = np.arange(rows.size)
    extra = dict(data.extra)
    withheld = data.n_classes - keep_classes.size + int(data.extra.get("withheld_classes", 0))
    extra.update(
        protocol=label,
        val_classes=",".join(data.class_names[k] for k in val_classes),
        withheld_classes=str(withheld),
    )
    return ZSLData(
        features=data.features[rows],
        labels=class_map[data.labels[rows]],
        class_embeddings=data.class_embeddings[keep_classes],
        class_names=[data.class_names[k] for k in keep_classes],
        splits={
            "trainval": order[:n_tv],
            "test_seen": order[n_tv : n_tv + n_ts],
            "test_unseen": order[n_tv + n_ts :],
        },
        name=data.name,
        source=_source(data, label),
        extra=extra,
    )


def _source(data: ZSLData, label: str) -> str:
    where = data.source or data.name
    if label == "inner":
        return f"{where.removesuffix(' (validation protocol)')} (inner validation protocol)"
    return f"{where} (validation protocol)"
