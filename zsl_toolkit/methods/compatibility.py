"""Bilinear compatibility ``F(x, c) = x^T W s_c``, shared by DeViSE and ALE.

Both methods score an image against a class by projecting its features with a learned
``W`` and taking the dot product with the class's fixed embedding ``s_c``; they differ only
in the ranking loss that trains ``W``. The class embeddings are a buffer, so the module
scores all classes, seen and unseen, on its own (for evaluation and export).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import torch
from torch import nn

from zsl_toolkit.methods.base import FitContext, Method, ModelSpec, Stage, seen_positions
from zsl_toolkit.methods.constraints import Interval

#: Classes per matrix product in :func:`class_scores`.
CLASS_BLOCK = 64


def class_scores(projected: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
    """``projected [B, d2] @ embeddings[C, d2].T`` in fixed blocks of :data:`CLASS_BLOCK`
    classes (the last one zero-padded). BLAS picks its kernel, and so its rounding, by matrix
    shape; with every product the same shape, a class's score does not depend on how many
    other classes there are, so appending a class leaves the others' scores bit for bit."""
    n = embeddings.shape[0]
    pad = (-n) % CLASS_BLOCK
    if pad:
        embeddings = torch.cat([embeddings, embeddings.new_zeros(pad, embeddings.shape[1])])
    blocks = [projected @ embeddings[i : i + CLASS_BLOCK].T for i in range(0, n + pad, CLASS_BLOCK)]
    return torch.cat(blocks, dim=1)[:, :n]


class BilinearCompatibility(nn.Module):
    """``scores[b, c] = x_b^T W s_c`` for a learned ``W`` [d1, d2] and embeddings ``S`` [C, d2]."""

    def __init__(self, feature_dim: int, embedding_dim: int, n_classes: int) -> None:
        super().__init__()
        # Small random init: the hinge losses have non-zero gradients at W = 0, but a random
        # start keeps different seeds genuinely different runs.
        self.W = nn.Parameter(torch.randn(feature_dim, embedding_dim) / feature_dim)
        self.register_buffer("embeddings", torch.zeros(n_classes, embedding_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return class_scores(x @ self.W, self.embeddings)


class RankingCompatibilityMethod(Method):
    """A :class:`BilinearCompatibility` trained by a ranking loss over the seen classes.

    Subclasses declare their parameters (``margin``, ``lr``, ``preprocess``) and
    :meth:`ranking_loss`; fitting, scoring and validation are shared. Epochs and batch size are
    run settings (``--epochs``, ``--batch-size``) with the defaults :attr:`EPOCHS` and
    :attr:`BATCH_SIZE`.

    Class editing (``zsl add-class`` / ``remove-class``): ``W`` maps features into the
    embedding space for any class, so adding a class appends its embedding row and removing
    one drops it; nothing retrains and the scores of the other classes do not change.
    """

    class_edit = "append"

    EPOCHS: ClassVar[int] = 50
    BATCH_SIZE: ClassVar[int] = 64
    param_constraints = {
        "margin": Interval(float, 0),
        "lr": Interval(float, 0, strict=True),
    }
    quick_params: ClassVar[dict[str, Any]] = {}

    margin: float
    lr: float

    @abstractmethod
    def ranking_loss(self, scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Loss of seen-class ``scores`` [B, K] for seen positions ``target`` [B]."""

    def build(self, spec: ModelSpec) -> nn.Module:
        return BilinearCompatibility(spec.feature_dim, spec.embedding_dim, spec.n_classes)

    def scorer(self) -> nn.Module:
        return self.model_

    def class_indexed(self) -> dict[str, str]:
        return {"model.embeddings": "all"}

    def set_class_embeddings(self, embeddings: torch.Tensor) -> None:
        with torch.no_grad():
            self.model_.embeddings.copy_(embeddings)

    def stage(self, index: int, ctx: FitContext) -> Stage | None:
        if index > 0:
            return None
        model = self.model_
        with torch.no_grad():
            model.embeddings.copy_(ctx.class_embeddings)
        seen_emb = ctx.class_embeddings[ctx.seen]  # [K, d2]
        target = seen_positions(ctx.labels, ctx.seen, ctx.spec.n_classes)

        def loss(batch: tuple[torch.Tensor, ...], epoch: int) -> dict[str, torch.Tensor]:
            x, y = batch
            return {"loss": self.ranking_loss((x @ model.W) @ seen_emb.T, y)}

        return Stage(
            name=type(self).__name__.lower(),
            epochs=self.EPOCHS,
            batch_size=self.BATCH_SIZE,
            tensors=(ctx.features, target),
            parameters=[model.W],
            optimizer=lambda p: torch.optim.Adam(p, lr=self.lr),
            loss=loss,
            primary=True,
        )
