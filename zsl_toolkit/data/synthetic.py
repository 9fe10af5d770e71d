"""Seeded generator of xlsa17-like data with class-irrelevant nuisance factors.

Each class has an attribute vector in [0, 1]. A sample's features are a fixed random
nonlinear function of its class attributes (perturbed per sample, as individual birds differ
from their species' description), plus a projection of class-irrelevant nuisance factors
(pose, background, lighting in real images) that carry no class information, plus noise,
passed through a softplus so features are non-negative like pooled ResNet activations. A
method that separates class-relevant from class-irrelevant factors therefore has something
to gain. Zero-shot transfer is possible because the attribute-to-feature map is shared by all
classes, seen and unseen.

Splits follow the xlsa17 proportions: unseen classes are drawn at random; 80% of each seen
class's samples form ``trainval`` and 20% ``test_seen``; all unseen samples form
``test_unseen``. The data depend only on the preset (its seed is part of the preset), never on
a training seed, so every run of a preset sees the same data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from zsl_toolkit.data.base import Dataset
from zsl_toolkit.data.container import ZSLData


@dataclass(frozen=True)
class SyntheticSpec:
    """Shape and difficulty of a generated dataset."""

    n_classes: int
    n_unseen: int
    feature_dim: int
    attribute_dim: int
    samples_per_class: int
    nuisance_dim: int = 16
    nuisance_scale: float = 1.5
    attribute_jitter: float = 0.1
    noise: float = 0.1
    hidden: int = 64
    test_fraction: float = 0.2
    seed: int = 0


def generate(spec: SyntheticSpec, name: str = "synthetic") -> ZSLData:
    """Generate a dataset from ``spec``; the same spec always gives the same arrays."""
    rng = np.random.default_rng(spec.seed)
    c, d1, d2, h = spec.n_classes, spec.feature_dim, spec.attribute_dim, spec.hidden
    # Class attributes in [0, 1], like CUB's per-class attribute percentages.
    attributes = 1.0 / (1.0 + np.exp(-1.5 * rng.standard_normal((c, d2))))
    w1 = rng.standard_normal((d2, h)) * (2.0 / np.sqrt(d2))
    b1 = rng.standard_normal(h) * 0.5
    w2 = rng.standard_normal((h, d1)) / np.sqrt(h)
    w_nuis = rng.standard_normal((spec.nuisance_dim, d1)) / np.sqrt(spec.nuisance_dim)

    n = c * spec.samples_per_class
    labels = np.repeat(np.arange(c), spec.samples_per_class)
    sample_attr = attributes[labels] + spec.attribute_jitter * rng.standard_normal((n, d2))
    signal = np.tanh((sample_attr - 0.5) @ w1 + b1) @ w2
    nuisance = spec.nuisance_scale * rng.standard_normal((n, spec.nuisance_dim)) @ w_nuis
    noise = spec.noise * rng.standard_normal((n, d1))
    features = np.logaddexp(0.0, signal + nuisance + noise)  # softplus

    perm = rng.permutation(n)  # shuffle sample order so splits are not contiguous blocks
    features, labels = features[perm], labels[perm]
    unseen = rng.choice(c, size=spec.n_unseen, replace=False)
    is_unseen = np.isin(labels, unseen)
    trainval, test_seen = [], []
    for k in np.setdiff1d(np.arange(c), unseen):
        idx = np.flatnonzero(labels == k)
        n_test = max(1, int(round(spec.test_fraction * idx.size)))
        test_seen.append(idx[:n_test])
        trainval.append(idx[n_test:])
    embeddings = attributes / np.linalg.norm(attributes, axis=1, keepdims=True)
    return ZSLData(
        features=features.astype(np.float32),
        labels=labels,
        class_embeddings=embeddings,
        class_names=[f"class_{k:03d}" for k in range(c)],
        splits={
            "trainval": np.sort(np.concatenate(trainval)),
            "test_seen": np.sort(np.concatenate(test_seen)),
            "test_unseen": np.flatnonzero(is_unseen),
        },
        name=name,
        source=f"generated ({name} preset)",
        extra={k: str(v) for k, v in asdict(spec).items()},
    )


class _Preset(Dataset):
    spec: ClassVar[SyntheticSpec]
    preset_name: ClassVar[str]

    def load(self, data_root: Path | None = None) -> ZSLData:
        return generate(self.spec, self.preset_name)


class Toy(_Preset):
    """Tiny generated set for tests: 10 classes (3 unseen), 24-d features, 8-d attributes."""

    description = "generated, tiny (tests): 10 classes, 24-d features"
    preset_name = "toy"
    spec = SyntheticSpec(
        n_classes=10,
        n_unseen=3,
        feature_dim=24,
        attribute_dim=8,
        samples_per_class=20,
        nuisance_dim=4,
        hidden=16,
    )


class Synthetic(_Preset):
    """Default generated set: 40 classes (10 unseen), 256-d features, 32-d attributes."""

    description = "generated, default: 40 classes (30 seen / 10 unseen), 256-d features"
    preset_name = "synthetic"
    spec = SyntheticSpec(
        n_classes=40,
        n_unseen=10,
        feature_dim=256,
        attribute_dim=32,
        samples_per_class=50,
    )


class SyntheticCUB(_Preset):
    """CUB-shaped generated set: 2048-d features, 312-d attributes, 150 seen / 50 unseen."""

    description = "generated, CUB-shaped: 200 classes (150/50), 2048-d features, 312-d attrs"
    preset_name = "synthetic-cub"
    spec = SyntheticSpec(
        n_classes=200,
        n_unseen=50,
        feature_dim=2048,
        attribute_dim=312,
        samples_per_class=60,
        nuisance_dim=32,
        hidden=128,
    )
