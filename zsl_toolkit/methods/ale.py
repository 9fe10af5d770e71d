"""ALE: "Label-Embedding for Image Classification", Akata, Perronnin, Harchaoui and Schmid,
TPAMI 2016 (first as "Label-Embedding for Attribute-Based Classification", CVPR 2013).

A bilinear compatibility ``F(x, y) = x^T W s_y`` trained with the weighted approximate
ranking (WARP) loss. For a sample of class ``y``, a class ``j`` violates the margin when
``Delta + F(x, j) - F(x, y) > 0`` (``Delta`` = 1, the 0/1 loss); with ``k`` violators, the
sample's loss is ``(l_k / k) * sum_j max(0, Delta + F(x, j) - F(x, y))`` with rank weight
``l_k = sum_{i=1..k} 1/i`` (``alpha_i = 1/i``). The ``1/k`` spreads ``l_k`` over the
violators, making the loss a convex-in-W upper bound of ``l_k`` (ALE's eq. for the ranking
objective; Xian et al. 2018 restate it the same way). Putting the true class near the top
matters more than reordering the tail: ``l_k`` grows like ``log k``.

Published GZSL results (Xian et al., TPAMI 2018, proposed splits, ResNet-101, U/S/H):
CUB 23.7/62.8/34.4, SUN 21.8/33.1/26.3, AWA1 16.8/76.1/27.5, AWA2 14.0/81.8/23.9,
APY 4.6/73.7/8.7.
"""

from __future__ import annotations

import torch

from zsl_toolkit.methods.compatibility import RankingCompatibilityMethod


def warp_loss(scores: torch.Tensor, target: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """ALE's WARP loss, averaged over the batch; vectorised, no host synchronisation.

    ``scores`` [B, K] are compatibilities with the K candidate (seen) classes; ``target`` [B]
    holds each row's true position. The violation count ``k`` and weight ``l_k / k`` are
    computed on the device and act as constants (they are counts, not differentiable).
    """
    true = scores.gather(1, target[:, None])
    hinge = (margin + scores - true).clamp_min(0.0)
    hinge = hinge.scatter(1, target[:, None], 0.0)  # the true class never violates
    k = (hinge > 0).sum(dim=1)  # [B] number of margin-violating classes
    ranks = torch.arange(1, scores.shape[1] + 1, device=scores.device, dtype=scores.dtype)
    harmonic = torch.cat([ranks.new_zeros(1), torch.cumsum(1.0 / ranks, 0)])  # l_0 .. l_K
    weight = harmonic[k] / k.clamp_min(1).to(scores.dtype)  # 0 when k = 0
    return (weight * hinge.sum(dim=1)).mean()


class ALE(RankingCompatibilityMethod):
    """Attribute label embedding with the WARP ranking loss (Akata et al., TPAMI 2016).

    ``margin`` is ALE's ``Delta`` for the 0/1 label loss, 1. The paper trains with SGD (one
    sample at a time) and Xian et al. (TPAMI 2018) tuned its learning rate per dataset on
    validation classes; this implementation uses Adam on minibatches (``lr`` 1e-2,
    batch size 64, 50 epochs: the run defaults), one setting for every dataset. The loss is positively
    homogeneous in ``W`` and Adam's steps do not depend on the gradient's scale, so what
    matters is ``lr`` relative to ``margin``: 1e-2 against 1 is DeViSE's 1e-3 against 0.1.
    ``preprocess`` defaults to "l2", for the reason given in
    :class:`~zsl_toolkit.methods.devise.DeViSE`: the margin is absolute, so unit-norm
    features make it mean the same thing on every dataset.

    Class editing: as every :class:`RankingCompatibilityMethod`, a class is its embedding row;
    adding or removing one retrains nothing and leaves the other classes' scores unchanged.

    Parameters
    ----------
    margin : float
        ALE's Delta of the 0/1 label loss: a class violates the ranking when its score comes
        within this of the true class's.
    lr : float
        Adam learning rate of the projection ``W``.
    preprocess : {"none", "minmax", "l2"}
        Feature preprocessing fitted on trainval ("l2": unit-norm features, so the margin
        means the same on every dataset).
    """

    citation = (
        "Akata, Z., Perronnin, F., Harchaoui, Z. and Schmid, C. Label-Embedding for Image "
        "Classification. IEEE TPAMI 38(7), 2016 (CVPR 2013: Label-Embedding for "
        "Attribute-Based Classification)."
    )
    #: Xian et al., TPAMI 2018 (the same values in Li et al., AAAI 2021, Table 2).
    published = {
        "cub": {"U": 23.7, "S": 62.8, "H": 34.4},
        "sun": {"U": 21.8, "S": 33.1, "H": 26.3},
        "awa1": {"U": 16.8, "S": 76.1, "H": 27.5},
        "awa2": {"U": 14.0, "S": 81.8, "H": 23.9},
        "apy": {"U": 4.6, "S": 73.7, "H": 8.7},
    }
    #: ``--select auto``: the step size and the margin (the paper validates both).
    select_candidates = {"lr": (1e-2, 1e-3), "margin": (1.0, 0.1)}

    def __init__(
        self,
        *,
        margin: float = 1.0,
        lr: float = 1e-2,
        preprocess: str = "l2",
    ) -> None:
        self.margin = margin
        self.lr = lr
        self.preprocess = preprocess

    def ranking_loss(self, scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return warp_loss(scores, target, self.margin)
