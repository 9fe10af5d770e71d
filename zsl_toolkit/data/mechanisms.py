"""Feature generators for the family of real-attribute datasets, one mechanism per class.

``cub-synth`` and its siblings render features with one mechanism
(:func:`zsl_toolkit.data.synthetic.render_features`): isotropic per-sample attribute jitter,
an additive low-rank nuisance, a one-hidden-layer tanh network, a softplus. A result that
holds only for that mechanism is a property of the generator, so these mechanisms differ
from it, and from each other, in how a sample varies within its class, how class-irrelevant
factors enter, and the feature map:

=================  ==========================  ===========================  ======================
mechanism          within-class variation      class-irrelevant factors     feature map
=================  ==========================  ===========================  ======================
ModesGain          several modes per class     multiplicative gain          2-layer ReLU, sparse
                   (flipped attribute subsets) per sample                   ReLU output, sqrt
Expression         per-sample expression       contexts shared across       3-layer softplus net
                   strength, dropped attrs     classes, mixed in the input  on [attributes, ctx]
SubspaceSparse     jitter inside the class     sparse atoms (few of many    tanh layer, max-pooled
                   attributes' top PCs (mixes  per sample)                  pairs, ReLU
                   relevant dimensions)
DeepNarrow         isotropic jitter            additive, high-rank          4-layer narrow ReLU,
                                                                            softplus
=================  ==========================  ===========================  ======================

Every mechanism takes attributes standardized as in :mod:`zsl_toolkit.data.xlsa17_synth`
(mean 0.5, spread 0.25 over classes) and shares three difficulty knobs with ``cub-synth``:
``attribute_jitter`` (within-class variation), ``nuisance_scale`` (class-irrelevant factors),
``noise`` (feature noise). Weights are drawn from the generator state first, so a preset's
seed fixes the map. Everything is float32: the sets are large.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

F32 = np.float32


def _he(rng: np.random.Generator, d_in: int, d_out: int) -> np.ndarray:
    return (rng.standard_normal((d_in, d_out), dtype=F32) * F32(np.sqrt(2.0 / d_in))).astype(F32)


def _relu(a: np.ndarray) -> np.ndarray:
    return np.maximum(a, F32(0.0), out=a)


def _softplus(a: np.ndarray) -> np.ndarray:
    return np.logaddexp(F32(0.0), a, out=a)


@dataclass(frozen=True)
class Mechanism(ABC):
    """A feature generator: ``render(rng, attributes [C, d2], labels [N]) -> [N, d]``."""

    feature_dim: int
    attribute_jitter: float
    nuisance_scale: float
    noise: float

    @abstractmethod
    def render(
        self, rng: np.random.Generator, attributes: np.ndarray, labels: np.ndarray
    ) -> np.ndarray:
        """Features of ``labels``' samples from their classes' ``attributes``."""


@dataclass(frozen=True)
class ModesGain(Mechanism):
    """Each class shows up in ``modes`` variants, each reflecting a random ``mode_flip`` share
    of its attributes about 0.5 (a bird in breeding or winter plumage); a per-sample gain
    ``exp(nuisance_scale * N(0, 1))`` scales the pre-activations (illumination, scale),
    carrying no class information; a 2-layer ReLU network ends in a ReLU whose negative bias
    leaves most outputs zero, as pooled CNN activations of a rare part, and a square root
    that compresses the heavy tail the gain gives (as power-normalized pooled features; with
    the tail, min-max scaling squeezes most values towards 0 and the VAEs learn nothing)."""

    hidden: int = 512
    modes: int = 3
    mode_flip: float = 0.15
    sparsity_bias: float = -0.3

    def render(
        self, rng: np.random.Generator, attributes: np.ndarray, labels: np.ndarray
    ) -> np.ndarray:
        c, d2 = attributes.shape
        n, h, d1 = labels.size, self.hidden, self.feature_dim
        w1, w2, w3 = _he(rng, d2, h), _he(rng, h, h), _he(rng, h, d1)
        b1 = rng.standard_normal(h, dtype=F32) * F32(0.1)
        flip = rng.random((c, self.modes, d2)) < self.mode_flip
        att = attributes.astype(F32)[:, None, :]
        variants = np.where(flip, F32(1.0) - att, att).astype(F32)  # [C, modes, d2]
        mode = rng.integers(0, self.modes, size=n)
        x = variants[labels, mode] - F32(0.5)
        x += F32(self.attribute_jitter) * rng.standard_normal((n, d2), dtype=F32)
        gain = np.exp(F32(self.nuisance_scale) * rng.standard_normal((n, 1), dtype=F32))
        hid = _relu(_relu(x @ w1 + b1) @ w2)
        out = hid @ w3
        out /= out.std() + F32(1e-6)
        out *= gain
        out += F32(self.sparsity_bias)
        out += F32(self.noise) * rng.standard_normal((n, d1), dtype=F32)
        return np.sqrt(_relu(out), out=out)


@dataclass(frozen=True)
class Expression(Mechanism):
    """A sample expresses its class's attributes with a strength drawn per sample (a partly
    hidden animal), each attribute dropped to neutral with probability ``dropout``; one of
    ``contexts`` shared scene vectors (scale ``nuisance_scale``), the same for every class,
    enters the network beside the attributes, so it mixes with them nonlinearly; a
    ``depth``-layer softplus network of width ``hidden``."""

    hidden: int = 256
    depth: int = 3
    contexts: int = 6
    context_dim: int = 16
    dropout: float = 0.2
    min_strength: float = 0.25

    def render(
        self, rng: np.random.Generator, attributes: np.ndarray, labels: np.ndarray
    ) -> np.ndarray:
        d2 = attributes.shape[1]
        n, h, d1, k = labels.size, self.hidden, self.feature_dim, self.context_dim
        dims = [d2 + k] + [h] * self.depth
        weights = [_he(rng, a, b) for a, b in zip(dims[:-1], dims[1:], strict=True)]
        w_out = _he(rng, h, d1)
        context = rng.standard_normal((self.contexts, k), dtype=F32)
        strength = rng.uniform(self.min_strength, 1.0, size=(n, 1)).astype(F32)
        x = strength * (attributes.astype(F32)[labels] - F32(0.5))
        x[rng.random((n, d2)) < self.dropout] = 0.0
        x += F32(self.attribute_jitter) * rng.standard_normal((n, d2), dtype=F32)
        ctx = F32(self.nuisance_scale) * context[rng.integers(0, self.contexts, size=n)]
        # Attributes span about +-0.25; scale them up so they and the context weigh alike.
        a = np.concatenate([F32(4.0) * x, ctx], axis=1)
        for w in weights:
            a = _softplus(a @ w) - F32(0.7)
        out = a @ w_out
        out /= out.std() + F32(1e-6)
        out += F32(self.noise) * rng.standard_normal((n, d1), dtype=F32)
        return _softplus(out)


@dataclass(frozen=True)
class SubspaceSparse(Mechanism):
    """Within-class variation confined to the ``rank`` leading principal directions of the
    class attributes (the directions along which classes differ, so a sample drifts towards
    other classes' descriptions); class-irrelevant factors are sparse: ``active`` of ``atoms``
    fixed patterns per sample, amplitude ``nuisance_scale``; a tanh layer, then a max over
    pairs of units (pooling) and a ReLU."""

    hidden: int = 256
    rank: int = 8
    atoms: int = 64
    active: int = 2

    def render(
        self, rng: np.random.Generator, attributes: np.ndarray, labels: np.ndarray
    ) -> np.ndarray:
        d2 = attributes.shape[1]
        n, h, d1 = labels.size, self.hidden, self.feature_dim
        w1 = (rng.standard_normal((d2, h), dtype=F32) * F32(2.0 / np.sqrt(d2))).astype(F32)
        b1 = rng.standard_normal(h, dtype=F32) * F32(0.5)
        w2 = _he(rng, h, 2 * d1)
        patterns = rng.standard_normal((self.atoms, 2 * d1), dtype=F32)
        centred = attributes - attributes.mean(axis=0)
        rank = min(self.rank, *centred.shape)
        basis = np.linalg.svd(centred, full_matrices=False)[2][:rank].astype(F32)  # [r, d2]
        # Same energy per sample as isotropic jitter of this size, all of it in the subspace.
        scale = F32(self.attribute_jitter * np.sqrt(d2 / rank))
        x = attributes.astype(F32)[labels] - F32(0.5)
        x += scale * rng.standard_normal((n, rank), dtype=F32) @ basis
        pre = np.tanh(x @ w1 + b1) @ w2
        pre /= pre.std() + F32(1e-6)
        picks = np.argsort(rng.random((n, self.atoms)), axis=1)[:, : self.active]
        amp = F32(self.nuisance_scale) * rng.standard_normal((n, self.active), dtype=F32)
        for j in range(self.active):
            pre += amp[:, j : j + 1] * patterns[picks[:, j]]
        pre += F32(self.noise) * rng.standard_normal((n, 2 * d1), dtype=F32)
        pooled = pre.reshape(n, d1, 2).max(axis=2)
        return _relu(np.ascontiguousarray(pooled))


@dataclass(frozen=True)
class DeepNarrow(Mechanism):
    """Isotropic per-sample jitter and an additive nuisance of rank ``nuisance_dim`` (larger
    than ``cub-synth``'s 32), through ``depth`` narrow ReLU layers of width ``hidden`` and a
    softplus: a deep map that loses part of the attribute information on the way."""

    hidden: int = 96
    depth: int = 4
    nuisance_dim: int = 128

    def render(
        self, rng: np.random.Generator, attributes: np.ndarray, labels: np.ndarray
    ) -> np.ndarray:
        d2 = attributes.shape[1]
        n, h, d1, k = labels.size, self.hidden, self.feature_dim, self.nuisance_dim
        dims = [d2] + [h] * self.depth
        layers = [
            (_he(rng, a, b), rng.standard_normal(b, dtype=F32) * F32(0.1))
            for a, b in zip(dims[:-1], dims[1:], strict=True)
        ]
        w_out = _he(rng, h, d1)
        w_nuis = rng.standard_normal((k, d1), dtype=F32) / F32(np.sqrt(k))
        a = F32(4.0) * (attributes.astype(F32)[labels] - F32(0.5))
        a += F32(4.0 * self.attribute_jitter) * rng.standard_normal(a.shape, dtype=F32)
        for w, b in layers:
            a = _relu(a @ w + b)
        out = a @ w_out
        out /= out.std() + F32(1e-6)
        out += F32(self.nuisance_scale) * rng.standard_normal((n, k), dtype=F32) @ w_nuis
        out += F32(self.noise) * rng.standard_normal((n, d1), dtype=F32)
        return _softplus(out)
