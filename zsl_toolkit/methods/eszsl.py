"""ESZSL: "An embarrassingly simple approach to zero-shot learning", Romera-Paredes and Torr,
ICML 2015.

A bilinear compatibility ``x^T V s`` whose ``V`` has a closed form under squared loss with
Frobenius-norm regularisers on the projections of features and of class embeddings:
``V = (X X^T + gamma I)^-1 X Y S^T (S S^T + lam I)^-1`` with ``Y`` in {-1, 1} over seen
classes. No epochs, no randomness: it exercises every part of the toolkit cheaply.

Published GZSL results (Xian et al., TPAMI 2018, proposed splits, U/S/H):
CUB 12.6/63.8/21.0, SUN 11.0/27.9/15.8, AWA1 6.6/75.6/12.1, AWA2 5.9/77.8/11.0,
APY 2.4/70.1/4.6.
"""

from __future__ import annotations

import torch
from torch import nn

from zsl_toolkit.methods.base import FitContext, Method, ModelSpec, Stage
from zsl_toolkit.methods.compatibility import class_scores
from zsl_toolkit.methods.constraints import Interval


class BilinearScorer(nn.Module):
    """scores = x V S^T for every class embedding row of S."""

    def __init__(self, feature_dim: int, embedding_dim: int, n_classes: int) -> None:
        super().__init__()
        self.register_buffer("V", torch.zeros(feature_dim, embedding_dim))
        self.register_buffer("embeddings", torch.zeros(n_classes, embedding_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return class_scores(x @ self.V, self.embeddings)


class ESZSL(Method):
    """Closed-form bilinear ZSL (Romera-Paredes and Torr, ICML 2015).

    ``gamma`` regularises the feature side and ``lam`` the embedding side. Defaults 10^3 and
    10^0 lie in the paper's validation grid (10^-3 .. 10^3) and suit raw ResNet-scale features;
    ``preprocess`` defaults to "none" as the xlsa17 benchmark fed raw features. On features of
    a very different scale, retune ``gamma`` (it is absolute, not relative to the data).

    Class editing (``zsl add-class`` / ``remove-class``): a class is its embedding row, since
    ``V`` maps features into the embedding space for any class; adding one appends its
    attribute vector, removing one drops its row, and nothing is solved again, so the scores
    of the other classes do not change at all. (Removing a seen class leaves ``V`` as solved
    with it; retrain to re-solve without it.)

    Parameters
    ----------
    gamma : float
        Regularises the feature side: weight of the Frobenius penalty on the projection of
        features (the ``gamma I`` added to ``X X^T``); absolute, not relative to the data.
    lam : float
        Regularises the embedding side: weight of the penalty on the projection of class
        embeddings (the ``lam I`` added to ``S S^T``).
    preprocess : {"none", "minmax", "l2"}
        Feature preprocessing fitted on trainval ("none": raw features, as the benchmark).
    """

    citation = (
        "Romera-Paredes, B. and Torr, P. H. S. An embarrassingly simple approach to zero-shot "
        "learning. ICML 2015."
    )
    published = {
        "cub": {"U": 12.6, "S": 63.8, "H": 21.0},
        "sun": {"U": 11.0, "S": 27.9, "H": 15.8},
        "awa1": {"U": 6.6, "S": 75.6, "H": 12.1},
        "awa2": {"U": 5.9, "S": 77.8, "H": 11.0},
        "apy": {"U": 2.4, "S": 70.1, "H": 4.6},
    }

    param_constraints = {
        "gamma": Interval(float, 0, strict=True),
        "lam": Interval(float, 0, strict=True),
    }

    #: Part of the paper's validation grid around the defaults (closed form: cheap).
    select_candidates = {"gamma": (1e3, 1e0, 1e1, 1e2), "lam": (1.0, 1e-2, 1e-1, 1e1)}
    class_edit = "append"

    def __init__(self, *, gamma: float = 1e3, lam: float = 1.0, preprocess: str = "none") -> None:
        self.gamma = gamma
        self.lam = lam
        self.preprocess = preprocess

    def build(self, spec: ModelSpec) -> nn.Module:
        return BilinearScorer(spec.feature_dim, spec.embedding_dim, spec.n_classes)

    def scorer(self) -> nn.Module:
        return self.model_

    def class_indexed(self) -> dict[str, str]:
        return {"model.embeddings": "all"}

    def set_class_embeddings(self, embeddings: torch.Tensor) -> None:
        self.model_.embeddings.copy_(embeddings)

    def stage(self, index: int, ctx: FitContext) -> Stage | None:
        if index > 0:
            return None
        return Stage(name="closed-form", closed_form=lambda: self._solve(ctx))

    def _solve(self, ctx: FitContext) -> dict[str, float]:
        x = ctx.features.double().T  # [d, m]
        seen = ctx.seen
        # Y[i, j] = 1 if sample i belongs to seen class j else -1.
        y = (ctx.labels[:, None] == seen[None, :]).double() * 2 - 1  # [m, z]
        s = ctx.class_embeddings[seen].double().T  # [a, z]
        d, a = x.shape[0], s.shape[0]
        left = torch.linalg.solve(
            x @ x.T + self.gamma * torch.eye(d, dtype=x.dtype, device=x.device), x @ y @ s.T
        )
        right = s @ s.T + self.lam * torch.eye(a, dtype=x.dtype, device=x.device)
        v = torch.linalg.solve(right, left.T).T  # left @ right^-1 (right is symmetric)
        self.model_.V.copy_(v.float())
        self.model_.embeddings.copy_(ctx.class_embeddings)
        residual = ((x.T @ v @ s) - y).pow(2).mean()
        return {"loss": float(residual)}
