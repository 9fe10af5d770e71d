"""Feature preprocessing fitted on training rows only and carried inside the model.

The scaler is an ``nn.Module`` with buffers, so it is saved with the model, becomes part of
an exported inference graph (users feed raw features) and can never be refitted on test data
by accident: :meth:`FeatureScaler.fit` is called once, on ``trainval``, by the method.
"""

from __future__ import annotations

import torch
from torch import nn

from zsl_toolkit.errors import ConfigError

PREPROCESSING = ("none", "minmax", "l2")


class FeatureScaler(nn.Module):
    """``none``: identity; ``minmax``: (x - min) / (max - min) per dimension, as CADA-VAE's
    scikit-learn MinMaxScaler (constant dimensions map to 0); ``l2``: each row to unit norm."""

    def __init__(self, kind: str, dim: int) -> None:
        super().__init__()
        if kind not in PREPROCESSING:
            raise ConfigError(f"preprocess must be one of {', '.join(PREPROCESSING)}, got '{kind}'")
        self.kind = kind
        self.register_buffer("offset", torch.zeros(dim))
        self.register_buffer("scale", torch.ones(dim))

    def fit(self, x: torch.Tensor) -> FeatureScaler:
        if self.kind == "minmax":
            lo = x.min(dim=0).values
            span = x.max(dim=0).values - lo
            self.offset.copy_(lo)
            self.scale.copy_(torch.where(span > 0, 1.0 / span, torch.ones_like(span)))
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "minmax":
            return (x - self.offset) * self.scale
        if self.kind == "l2":
            return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)
        return x
