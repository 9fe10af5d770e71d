"""Seen/unseen classes and the xlsa17-style splits, by seeded, documented rules.

Following Xian et al.'s proposed splits (TPAMI 2018):

- unseen classes: the names of ``--unseen FILE`` (one per line), or ``round(F * K)`` of the
  K classes that have images, drawn by a permutation seeded with ``seed``; classes with
  semantics but no images are unseen too (they are scored, but have no test images).
- ``test_seen``: of each seen class's images, ``round(0.2 * n)`` drawn by a permutation seeded
  with ``seed`` (xlsa17 holds out about 20% of each seen class); ``trainval`` the rest.
- ``test_unseen``: every image of an unseen class.
- ``train``/``val`` (xlsa17's ``train_loc``/``val_loc``): the seen classes are split into
  validation classes, ``round(VAL_CLASS_FRACTION * S)`` of the S seen classes drawn by a
  permutation seeded with ``seed`` (xlsa17's CUB: 50 of 150), and training classes; ``val``
  holds the trainval images of the validation classes, ``train`` those of the others.

Each rule draws from its own generator, ``numpy.random.default_rng([seed, rule])``, so changing
one rule's input does not shift another's draw.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zsl_toolkit.errors import DataError

TEST_SEEN_FRACTION = 0.2
VAL_CLASS_FRACTION = 1 / 3
_UNSEEN, _TEST, _VAL = 0, 1, 2


def read_unseen(path: str | Path) -> list[str]:
    """Class names, one per non-blank line."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"{path}: no such file (expected one unseen class name per line)")
    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    names = [n for n in names if n]
    if not names:
        raise DataError(f"{path}: no class names (expected one unseen class name per line)")
    return names


def draw_unseen(with_images: list[str], fraction: float, seed: int) -> list[str]:
    """``round(fraction * len(with_images))`` names, seeded; at least one, never all."""
    if not 0 < fraction < 1:
        raise DataError(f"--unseen-fraction {fraction}: expected a number between 0 and 1")
    k = int(round(fraction * len(with_images)))
    if k < 1 or k >= len(with_images):
        raise DataError(
            f"--unseen-fraction {fraction} of {len(with_images)} classes with images gives "
            f"{k} unseen classes; need at least one seen and one unseen class with images"
        )
    order = np.random.default_rng([seed, _UNSEEN]).permutation(len(with_images))
    return sorted(with_images[i] for i in order[:k])


def make_splits(labels: np.ndarray, unseen: np.ndarray, n_classes: int, seed: int):
    """{split name: sorted row indices} for rows with class ``labels`` (ids < n_classes)."""
    is_unseen = np.zeros(n_classes, bool)
    is_unseen[unseen] = True
    test_rng = np.random.default_rng([seed, _TEST])
    order = test_rng.permutation(labels.size)
    trainval, test_seen = [], []
    seen = [k for k in range(n_classes) if not is_unseen[k] and (labels == k).any()]
    for k in seen:
        idx = order[labels[order] == k]
        n_test = int(round(TEST_SEEN_FRACTION * idx.size))
        test_seen.append(idx[:n_test])
        trainval.append(idx[n_test:])
    splits = {
        "trainval": np.sort(np.concatenate(trainval)),
        "test_seen": np.sort(np.concatenate(test_seen)),
        "test_unseen": np.flatnonzero(is_unseen[labels]),
    }
    if splits["test_seen"].size == 0:
        raise DataError("no test_seen images: every seen class has too few images to hold out 20%")
    n_val = int(round(VAL_CLASS_FRACTION * len(seen)))
    if len(seen) >= 2 and n_val >= 1:
        pick = np.random.default_rng([seed, _VAL]).permutation(len(seen))[:n_val]
        val_classes = np.asarray(seen)[pick]
        in_val = np.isin(labels[splits["trainval"]], val_classes)
        splits["train"] = splits["trainval"][~in_val]
        splits["val"] = splits["trainval"][in_val]
    return splits
