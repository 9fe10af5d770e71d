"""DeViSE: "DeViSE: A Deep Visual-Semantic Embedding Model", Frome, Corrado, Shlens, Bengio,
Dean, Ranzato and Mikolov, NeurIPS 2013.

A linear map ``W`` takes visual features into the class-embedding space; an image scores
``(W x) . s_c`` against class ``c``. ``W`` is trained with the hinge rank loss over the seen
classes, ``sum_{j != y} max(0, margin - s_y . W x + s_j . W x)``, so the true class outranks
every other seen class by ``margin``. At test time every class, seen or unseen, is scored the
same way, which is what makes the model zero-shot.

Published GZSL results (Xian et al., TPAMI 2018, proposed splits, ResNet-101, U/S/H):
CUB 23.8/53.0/32.8, SUN 16.9/27.4/20.9, AWA1 13.4/68.7/22.4, AWA2 17.1/74.7/27.8,
APY 4.9/76.9/9.2.
"""

from __future__ import annotations

import torch

from zsl_toolkit.methods.compatibility import RankingCompatibilityMethod


def hinge_rank_loss(scores: torch.Tensor, target: torch.Tensor, margin: float) -> torch.Tensor:
    """DeViSE's loss, summed over the wrong classes and averaged over the batch.

    ``scores`` [B, K] are compatibilities with the K candidate (seen) classes; ``target`` [B]
    holds each row's true position in 0..K-1.
    """
    true = scores.gather(1, target[:, None])
    hinge = (margin - true + scores).clamp_min(0.0)
    hinge = hinge.scatter(1, target[:, None], 0.0)  # j != y
    return hinge.sum(dim=1).mean()


class DeViSE(RankingCompatibilityMethod):
    """Linear visual-semantic embedding with a hinge rank loss (Frome et al., NeurIPS 2013).

    ``margin`` 0.1 is the paper's. The paper trained with SGD, and Xian et al. (TPAMI 2018)
    tuned its learning rate per dataset on validation classes; this implementation uses Adam
    (``lr`` 1e-3, batch size 64, 50 epochs: the run defaults) so that one setting works across datasets
    without that search. The loss is summed over the wrong seen classes (not truncated at the
    first violation as in the paper's stochastic approximation) and averaged over the batch.
    ``preprocess`` defaults to "l2": with unit-norm features the scale of ``W x`` relative to
    the margin does not depend on the raw feature scale (ResNet activations, VGGish bytes,
    synthetic values), so the same ``lr`` and ``margin`` apply everywhere.

    Class editing: as every :class:`RankingCompatibilityMethod`, a class is its embedding row;
    adding or removing one retrains nothing and leaves the other classes' scores unchanged.

    Parameters
    ----------
    margin : float
        How far the true class's score must exceed each other seen class's before the hinge
        rank loss is zero.
    lr : float
        Adam learning rate of the projection ``W``.
    preprocess : {"none", "minmax", "l2"}
        Feature preprocessing fitted on trainval ("l2": unit-norm features, so the margin
        means the same on every dataset).
    """

    citation = (
        "Frome, A., Corrado, G. S., Shlens, J., Bengio, S., Dean, J., Ranzato, M. and "
        "Mikolov, T. DeViSE: A Deep Visual-Semantic Embedding Model. NeurIPS 2013."
    )
    #: Xian et al., TPAMI 2018 (the same values in Li et al., AAAI 2021, Table 2).
    published = {
        "cub": {"U": 23.8, "S": 53.0, "H": 32.8},
        "sun": {"U": 16.9, "S": 27.4, "H": 20.9},
        "awa1": {"U": 13.4, "S": 68.7, "H": 22.4},
        "awa2": {"U": 17.1, "S": 74.7, "H": 27.8},
        "apy": {"U": 4.9, "S": 76.9, "H": 9.2},
    }
    #: ``--select auto``: the margin (the paper's one tuned value) and the step size.
    select_candidates = {"margin": (0.1, 1.0), "lr": (1e-3, 1e-2)}

    def __init__(
        self,
        *,
        margin: float = 0.1,
        lr: float = 1e-3,
        preprocess: str = "l2",
    ) -> None:
        self.margin = margin
        self.lr = lr
        self.preprocess = preprocess

    def ranking_loss(self, scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return hinge_rank_loss(scores, target, self.margin)
