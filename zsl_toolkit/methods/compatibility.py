"""Bilinear compatibility ``F(x, c) = x^T W s_c``, shared by DeViSE and ALE.

Both methods score an image against a class by projecting its features with a learned
``W`` and taking the dot product with the class's fixed embedding ``s_c``; they differ only
in the ranking loss that trains ``W``. The class embeddings are a buffer, so the module
scores all classes, seen and unseen, on its own (for evaluation and export).
"""

from __future__ import annotations

import torch
from torch import nn


class BilinearCompatibility(nn.Module):
    """``scores[b, c] = x_b^T W s_c`` for a learned ``W`` [d1, d2] and embeddings ``S`` [C, d2]."""

    def __init__(self, feature_dim: int, embedding_dim: int, n_classes: int) -> None:
        super().__init__()
        # Small random init: the hinge losses have non-zero gradients at W = 0, but a random
        # start keeps different seeds genuinely different runs.
        self.W = nn.Parameter(torch.randn(feature_dim, embedding_dim) / feature_dim)
        self.register_buffer("embeddings", torch.zeros(n_classes, embedding_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x @ self.W) @ self.embeddings.T


def seen_positions(labels: torch.Tensor, seen: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Global class ids -> positions in ``seen`` (computed once per fit, on the device)."""
    lookup = torch.full((n_classes,), -1, dtype=torch.long, device=seen.device)
    lookup[seen] = torch.arange(seen.numel(), device=seen.device)
    return lookup[labels]
