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


@dataclass(frozen=True)
class FeatureModel:
    """How features arise from class attributes: the generator's difficulty knobs."""

    feature_dim: int
    hidden: int = 64
    nuisance_dim: int = 16
    nuisance_scale: float = 1.5
    attribute_jitter: float = 0.1
    noise: float = 0.1


def render_features(
    rng: np.random.Generator,
    attributes: np.ndarray,
    labels: np.ndarray,
    model: FeatureModel,
    dtype: type[np.floating] = np.float64,
) -> np.ndarray:
    """Features [N, feature_dim] for samples of classes ``labels`` with class ``attributes``
    [C, d2] (roughly in [0, 1]): a random nonlinear map of per-sample jittered attributes, plus
    projected nuisance factors, plus noise, through a softplus. The map's weights are drawn
    from ``rng`` first, so the same generator state gives the same map.

    ``dtype`` float32 halves memory and time for large sets; it draws other random numbers
    than float64, so a preset keeps the dtype it was defined with.
    """
    n, d2 = labels.size, attributes.shape[1]
    d1, h, k = model.feature_dim, model.hidden, model.nuisance_dim
    w1 = rng.standard_normal((d2, h)) * (2.0 / np.sqrt(d2))
    b1 = rng.standard_normal(h) * 0.5
    w2 = rng.standard_normal((h, d1)) / np.sqrt(h)
    w_nuis = rng.standard_normal((k, d1)) / np.sqrt(k)
    if dtype == np.float64:
        sample_attr = attributes[labels] + model.attribute_jitter * rng.standard_normal((n, d2))
        signal = np.tanh((sample_attr - 0.5) @ w1 + b1) @ w2
        nuisance = model.nuisance_scale * rng.standard_normal((n, k)) @ w_nuis
        noise = model.noise * rng.standard_normal((n, d1))
        return np.logaddexp(0.0, signal + nuisance + noise)  # softplus
    w1, b1, w2, w_nuis = (a.astype(dtype) for a in (w1, b1, w2, w_nuis))
    sample_attr = attributes[labels].astype(dtype) - dtype(0.5)
    sample_attr += dtype(model.attribute_jitter) * rng.standard_normal((n, d2), dtype=dtype)
    out = np.tanh(sample_attr @ w1 + b1) @ w2
    del sample_attr
    out += (dtype(model.nuisance_scale) * rng.standard_normal((n, k), dtype=dtype)) @ w_nuis
    out += dtype(model.noise) * rng.standard_normal((n, d1), dtype=dtype)
    return np.logaddexp(dtype(0.0), out, out=out)  # softplus, in place


def generate(spec: SyntheticSpec, name: str = "synthetic") -> ZSLData:
    """Generate a dataset from ``spec``; the same spec always gives the same arrays."""
    rng = np.random.default_rng(spec.seed)
    c, d2 = spec.n_classes, spec.attribute_dim
    # Class attributes in [0, 1], like CUB's per-class attribute percentages.
    attributes = 1.0 / (1.0 + np.exp(-1.5 * rng.standard_normal((c, d2))))
    n = c * spec.samples_per_class
    labels = np.repeat(np.arange(c), spec.samples_per_class)
    model = FeatureModel(
        feature_dim=spec.feature_dim,
        hidden=spec.hidden,
        nuisance_dim=spec.nuisance_dim,
        nuisance_scale=spec.nuisance_scale,
        attribute_jitter=spec.attribute_jitter,
        noise=spec.noise,
    )
    features = render_features(rng, attributes, labels, model)

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
