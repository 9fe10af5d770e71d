"""A small real GZSL set: scikit-learn's bundled 8x8 handwritten digits (no download).

Features are the 64 pixel intensities (0..16) of the 1,797 images of
``sklearn.datasets.load_digits`` (the UCI optical recognition of handwritten digits test set).
Each digit class is described by how it looks on a seven-segment display plus how many
closed loops it has, so an unseen digit is a new combination of strokes already seen in
other digits: zero-shot transfer from strokes to digits is possible in principle.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zsl_toolkit.data.base import Dataset
from zsl_toolkit.data.container import ZSLData

SEGMENTS = "abcdefg"
# Standard seven-segment encoding: a top, b upper right, c lower right, d bottom,
# e lower left, f upper left, g middle.
SEVEN_SEGMENT = {
    0: "abcdef",
    1: "bc",
    2: "abdeg",
    3: "abcdg",
    4: "bcfg",
    5: "acdfg",
    6: "acdefg",
    7: "abc",
    8: "abcdefg",
    9: "abcdfg",
}
LOOPS = {0: 1, 1: 0, 2: 0, 3: 0, 4: 1, 5: 0, 6: 1, 7: 0, 8: 2, 9: 1}
UNSEEN = (0, 4, 5)
TEST_FRACTION = 0.2
SPLIT_SEED = 0


def descriptors() -> np.ndarray:
    """[10, 8] class descriptors: segments a..g (0/1) then loop count, rows L2-normalised."""
    raw = np.array(
        [[float(s in SEVEN_SEGMENT[k]) for s in SEGMENTS] + [float(LOOPS[k])] for k in range(10)]
    )
    return raw / np.linalg.norm(raw, axis=1, keepdims=True)


class Digits(Dataset):
    """Handwritten digits 0-9 with seven-segment + loop-count descriptors; 7 seen / 3 unseen.

    Descriptor of digit k: eight floats, segments a..g of the standard seven-segment display
    (1 lit, 0 dark) followed by the number of closed loops, each row then L2-normalised like
    xlsa17 ``att``. Segments: a top, b upper right, c lower right, d bottom, e lower left,
    f upper left, g middle.

    ======  ===========  =====
    digit   segments     loops
    ======  ===========  =====
    0       a b c d e f  1
    1       b c          0
    2       a b d e g    0
    3       a b c d g    0
    4       b c f g      1
    5       a c d f g    0
    6       a c d e f g  1
    7       a b c        0
    8       all seven    2
    9       a b c d f g  1
    ======  ===========  =====

    Unseen digits: 0, 4 and 5. Of all 120 choices of three, only three satisfy all of
    (1) each unseen descriptor differs from every seen one in at least two of the eight
    attributes (1 and 7 differ only in segment a, so neither may be unseen while the other
    is seen), (2) the unseen digits differ from each other in at least four, (3) every
    segment is both lit and dark in some seen digit and every loop count (0, 1, 2) occurs
    among seen digits, so no attribute value needed at test time is missing from training
    (8 is the only two-loop digit, so it stays seen); of those three ({0, 3, 4}, {0, 4, 5},
    {3, 4, 6}) this one has the fewest seen digits at distance two from an unseen one.

    Splits: ``trainval`` is 80% of each seen digit's images and ``test_seen`` the other 20%,
    chosen by a permutation seeded with 0 (fixed, independent of any training seed);
    ``test_unseen`` is every image of 0, 4 and 5. Class names are "0".."9".
    """

    description = "sklearn 8x8 handwritten digits: 10 classes (7/3), 64-d pixels, 8-d segments"

    def load(self, data_root: Path | None = None) -> ZSLData:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        features = bunch.data.astype(np.float32)
        labels = bunch.target.astype(np.int64)
        rng = np.random.default_rng(SPLIT_SEED)
        order = rng.permutation(labels.size)
        trainval, test_seen = [], []
        for k in range(10):
            if k in UNSEEN:
                continue
            idx = order[labels[order] == k]  # this class's images in permuted order
            n_test = int(round(TEST_FRACTION * idx.size))
            test_seen.append(idx[:n_test])
            trainval.append(idx[n_test:])
        return ZSLData(
            features=features,
            labels=labels,
            class_embeddings=descriptors(),
            class_names=[str(k) for k in range(10)],
            splits={
                "trainval": np.sort(np.concatenate(trainval)),
                "test_seen": np.sort(np.concatenate(test_seen)),
                "test_unseen": np.flatnonzero(np.isin(labels, UNSEEN)),
            },
            name="digits",
            source="scikit-learn load_digits",
            extra={"unseen": ",".join(map(str, UNSEEN)), "split_seed": str(SPLIT_SEED)},
        )
