"""The in-memory GZSL dataset every loader produces and every method consumes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from zsl_toolkit.errors import DataError

REQUIRED_SPLITS = ("trainval", "test_seen", "test_unseen")
OPTIONAL_SPLITS = ("train", "val")


@dataclass(eq=False)
class ZSLData:
    """Features, labels, class embeddings and the xlsa17 splits, validated on construction.

    Indices are 0-based rows of ``features``; labels are 0-based class ids into
    ``class_embeddings`` and ``class_names``. Seen classes are the labels present in
    ``trainval``, unseen classes those in ``test_unseen`` (the xlsa17 convention), so class
    order is whatever the source file uses: never assume seen classes come first.
    """

    features: np.ndarray
    labels: np.ndarray
    class_embeddings: np.ndarray
    class_names: list[str]
    splits: dict[str, np.ndarray]
    name: str = "data"
    source: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.features = np.ascontiguousarray(self.features, dtype=np.float32)
        self.labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        self.class_embeddings = np.ascontiguousarray(self.class_embeddings, dtype=np.float32)
        self.class_names = [str(n) for n in self.class_names]
        self.splits = {k: np.asarray(v, dtype=np.int64).reshape(-1) for k, v in self.splits.items()}
        self._validate()

    # ------------------------------------------------------------------ validation
    def _fail(self, what: str) -> DataError:
        where = self.source or self.name
        return DataError(f"{where}: {what}")

    def _validate(self) -> None:
        x, y, s = self.features, self.labels, self.class_embeddings
        if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
            raise self._fail(f"features must be a non-empty 2-D array [N, d], got shape {x.shape}")
        n = x.shape[0]
        if y.shape[0] != n:
            raise self._fail(
                f"labels has {y.shape[0]} entries but features has {n} rows "
                f"(features may be transposed: expected one row per sample)"
            )
        if s.ndim != 2 or s.shape[0] == 0 or s.shape[1] == 0:
            raise self._fail(
                f"class embeddings must be a non-empty 2-D array [C, d2], got shape {s.shape}"
            )
        c = s.shape[0]
        if len(self.class_names) != c:
            raise self._fail(f"{len(self.class_names)} class names for {c} classes")
        if y.min() < 0 or y.max() >= c:
            raise self._fail(
                f"labels must lie in 0..{c - 1} (one per class embedding), "
                f"got range {y.min()}..{y.max()}"
            )
        if not np.isfinite(x).all():
            bad = int((~np.isfinite(x)).any(axis=1).sum())
            raise self._fail(f"features contain NaN or Inf values in {bad} rows")
        if not np.isfinite(s).all():
            raise self._fail("class embeddings contain NaN or Inf values")
        for k in REQUIRED_SPLITS:
            if k not in self.splits:
                raise self._fail(f"missing split '{k}'")
        for k, idx in self.splits.items():
            if k not in REQUIRED_SPLITS + OPTIONAL_SPLITS:
                raise self._fail(f"unknown split '{k}'")
            if idx.size == 0:
                raise self._fail(f"split '{k}' is empty")
            if idx.min() < 0 or idx.max() >= n:
                raise self._fail(
                    f"split '{k}' indices must lie in 0..{n - 1}, "
                    f"got range {idx.min()}..{idx.max()}"
                )
            if np.unique(idx).size != idx.size:
                raise self._fail(f"split '{k}' contains duplicate indices")
        seen, unseen = self.seen_classes, self.unseen_classes
        overlap = np.intersect1d(seen, unseen)
        if overlap.size:
            names = ", ".join(self.class_names[i] for i in overlap[:5])
            raise self._fail(
                f"seen and unseen classes overlap in {overlap.size} classes ({names}); "
                f"test_unseen must hold only classes absent from trainval"
            )
        stray = np.setdiff1d(np.unique(y[self.splits["test_seen"]]), seen)
        if stray.size:
            raise self._fail(f"test_seen holds {stray.size} classes that are not in trainval")
        if np.intersect1d(self.splits["trainval"], self.splits["test_seen"]).size:
            raise self._fail("trainval and test_seen share samples")

    # ------------------------------------------------------------------ views
    @property
    def n_classes(self) -> int:
        return int(self.class_embeddings.shape[0])

    @property
    def feature_dim(self) -> int:
        return int(self.features.shape[1])

    @property
    def embedding_dim(self) -> int:
        return int(self.class_embeddings.shape[1])

    @property
    def seen_classes(self) -> np.ndarray:
        """Sorted ids of the classes present in ``trainval``."""
        return np.unique(self.labels[self.splits["trainval"]])

    @property
    def unseen_classes(self) -> np.ndarray:
        """Sorted ids of the classes present in ``test_unseen``."""
        return np.unique(self.labels[self.splits["test_unseen"]])

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(features, labels) of one split."""
        idx = self.splits[name]
        return self.features[idx], self.labels[idx]

    def summary(self) -> dict[str, object]:
        """Plain facts for ``zsl data info`` and run configs."""
        return {
            "name": self.name,
            "source": self.source,
            "samples": int(self.features.shape[0]),
            "feature_dim": self.feature_dim,
            "embedding_dim": self.embedding_dim,
            "classes": self.n_classes,
            "seen_classes": int(self.seen_classes.size),
            "unseen_classes": int(self.unseen_classes.size),
            "splits": {k: int(v.size) for k, v in self.splits.items()},
        }
