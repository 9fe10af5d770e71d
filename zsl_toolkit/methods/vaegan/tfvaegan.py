"""TF-VAEGAN: "Latent Embedding Feedback and Discriminative Features for Zero-Shot
Classification", Narayan, Gupta, Khan, Snoek and Shao, ECCV 2020.

f-VAEGAN-D2 (inductive, :class:`~zsl_toolkit.methods.vaegan.fvaegan.FVAEGAN`) plus a semantic
embedding decoder that maps features back to their class attributes, used three ways:
(1) as a training signal, a cycle-consistency loss on generated features; (2) through a
feedback module that turns the decoder's hidden layer into a correction added to the
generator's hidden layer, in training and when features are generated for the classifier;
(3) as a feature transformation, the final classifier reading ``[x, decoder(x), decoder
hidden(x)]``. Everything else is inherited from :class:`FVAEGAN`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from zsl_toolkit.methods.base import ModelSpec
from zsl_toolkit.methods.constraints import Boolean, Interval
from zsl_toolkit.methods.vaegan.defaults import VAEGANDefaults
from zsl_toolkit.methods.vaegan.fvaegan import FVAEGAN, VAEGANNetworks
from zsl_toolkit.methods.vaegan.networks import TransformedScorer, weighted_l1

__all__ = ["TFVAEGAN"]


class TFVAEGAN(FVAEGAN):
    """f-VAEGAN with semantic feedback and feature transformation (Narayan et al., ECCV 2020).

    As in the authors' code: the decoder has one hidden layer of ``hidden`` units and ends in
    an L2 normalisation; its loss is a weighted L1 to the class attributes (each error
    weighted by its square over the row's L2 error). In the critic's update the decoder also
    learns from real features (``recons_weight`` times that loss, its own Adam at
    ``decoder_lr``); in the generator's update the same loss on the generated features joins
    the generator's loss, and the decoder learns from it too unless ``freeze_decoder``. The
    feedback module (two layers of ``hidden`` units on the decoder's detached hidden layer)
    trains at ``feedback_lr``. Each epoch of the authors' code makes ``feedback_loop`` (2)
    passes over the data, the second with feedback (weight ``feedback_weight``, a1); here
    each pass is an epoch of the "vaegan" stage, so the stage's epochs are the scripts'
    ``--nepoch`` times ``feedback_loop`` (CUB 600, AWA 240, SUN 800, FLO 1000), and an
    epoch ``e`` uses feedback when ``e % feedback_loop == 1``. Generated features for the
    final classifier use feedback weighted by ``synthesis_feedback_weight`` (a2).

    Parameters
    ----------
    recons_weight : float or None
        Weight of the decoder's loss (real features in the critic's update, generated ones
        in the generator's); None: the dataset's value (0.01; AWA 0.1).
    feedback_weight : float or None
        a1, the feedback's weight while training; None: the dataset's value (CUB 1, AWA
        0.01, SUN 0.1, FLO 0.5).
    synthesis_feedback_weight : float or None
        a2, the feedback's weight when generating the classifier's features; None: the
        dataset's value (CUB 1, AWA 0.01, SUN 0.01, FLO 0.5).
    feedback_lr : float or None
        Adam learning rate of the feedback module; None: the dataset's value (CUB/FLO 1e-5,
        AWA/SUN 1e-4).
    decoder_lr : float or None
        Adam learning rate of the decoder; None: the dataset's value (1e-4).
    freeze_decoder : bool or None
        Keep the decoder out of the generator's update; None: the dataset's value (AWA
        True, else False).
    feedback_loop : int
        Passes per authors' epoch; the second uses feedback (1: no feedback in training).
    transform : bool
        Train and score the final classifier on the transformed features (False: on the
        features alone, an ablation).

    Notes
    -----
    Every parameter of :class:`FVAEGAN` applies too.

    Departures from the authors' code, besides those of :class:`FVAEGAN`: the decoder's
    two updates keep separate Adam moments (theirs share one optimizer), and the decoder
    hidden layer that feeds the critic's fake features is read before the decoder's step of
    that round (theirs after); without encoded noise the feedback of the generator's fake
    features comes from their own decoding (theirs from the reconstruction's).

    Published GZSL results (Narayan et al. 2020, inductive, ResNet-101 features, xlsa17
    proposed splits, U/S/H): CUB 52.8/64.7/58.1, AWA2 59.8/75.1/66.6, SUN 45.6/40.7/43.0.
    """

    citation = (
        "Narayan, S., Gupta, A., Khan, F. S., Snoek, C. G. M. and Shao, L. Latent Embedding "
        "Feedback and Discriminative Features for Zero-Shot Classification. ECCV 2020."
    )
    #: The paper's inductive GZSL results (ResNet-101 features, no fine-tuning).
    published = {
        "cub": {"U": 52.8, "S": 64.7, "H": 58.1},
        "awa2": {"U": 59.8, "S": 75.1, "H": 66.6},
        "sun": {"U": 45.6, "S": 40.7, "H": 43.0},
    }
    DATASET_FIELDS: ClassVar[tuple[str, ...]] = (
        *FVAEGAN.DATASET_FIELDS,
        "recons_weight",
        "feedback_weight",
        "synthesis_feedback_weight",
        "feedback_lr",
        "decoder_lr",
        "freeze_decoder",
    )
    param_constraints = {
        **{
            name: Interval(float, 0, optional=True)
            for name in ("recons_weight", "feedback_weight", "synthesis_feedback_weight")
        },
        "feedback_lr": Interval(float, 0, strict=True, optional=True),
        "decoder_lr": Interval(float, 0, strict=True, optional=True),
        "freeze_decoder": Boolean(optional=True),
        "feedback_loop": Interval(int, 1),
        "transform": Boolean(),
    }

    def __init__(
        self,
        *,
        recons_weight: float | None = None,
        feedback_weight: float | None = None,
        synthesis_feedback_weight: float | None = None,
        feedback_lr: float | None = None,
        decoder_lr: float | None = None,
        freeze_decoder: bool | None = None,
        feedback_loop: int = 2,
        transform: bool = True,
        **base: Any,
    ) -> None:
        super().__init__(**base)
        self.recons_weight = recons_weight
        self.feedback_weight = feedback_weight
        self.synthesis_feedback_weight = synthesis_feedback_weight
        self.feedback_lr = feedback_lr
        self.decoder_lr = decoder_lr
        self.freeze_decoder = freeze_decoder
        self.feedback_loop = feedback_loop
        self.transform = transform

    @classmethod
    def published_for(cls, params: dict[str, Any]) -> dict[str, dict[str, float]]:
        """The paper's rows describe the full method: none for a configuration that switches
        the feedback or the transformation off."""
        ablated = (
            params.get("transform") is False
            or params.get("feedback_loop") == 1
            or params.get("feedback_weight") == 0
        )
        return {} if ablated else cls.published

    def stage_epochs(self, row: VAEGANDefaults) -> int:
        return row.epochs * self.feedback_loop

    # ------------------------------------------------------------------ networks
    def build(self, spec: ModelSpec) -> nn.Module:
        return VAEGANNetworks(
            spec,
            self.hidden,
            self.resolved_["latent_dim"],
            self.gp_weight,
            semantic=True,
            transform=self.transform,
        )

    def scorer(self) -> nn.Module:
        if not self.transform:
            return self.model_.classifier
        return TransformedScorer(self.model_.decoder, self.model_.classifier)

    # ------------------------------------------------------------------ hooks
    def _with_feedback(self, z: torch.Tensor, a: torch.Tensor, weight: float) -> torch.Tensor:
        G = self.model_.generator
        _, hidden = self.model_.decoder(G(z, a))
        return G(z, a, weight * self.model_.feedback(hidden.detach()))

    def generate_from(self, z: torch.Tensor, a: torch.Tensor, epoch: int) -> torch.Tensor:
        if epoch % self.feedback_loop == 1:
            return self._with_feedback(z, a, self.resolved_["feedback_weight"])
        return self.model_.generator(z, a)

    def synthesize(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return self._with_feedback(z, a, self.resolved_["synthesis_feedback_weight"])

    def critic_terms(self, x: torch.Tensor, a: torch.Tensor) -> dict[str, torch.Tensor]:
        out, _ = self.model_.decoder(x)
        return {"decoder": self.resolved_["recons_weight"] * weighted_l1(out, a)}

    def generator_terms(self, fake: torch.Tensor, a: torch.Tensor) -> dict[str, torch.Tensor]:
        out, _ = self.model_.decoder(fake)
        return {"semantic": self.resolved_["recons_weight"] * weighted_l1(out, a)}

    def critic_groups(self) -> list[dict[str, Any]]:
        decoder = self._group(self.model_.decoder, self.resolved_["decoder_lr"], self.beta1)
        return [*super().critic_groups(), decoder]

    def generator_groups(self) -> list[dict[str, Any]]:
        groups = [
            *super().generator_groups(),
            self._group(self.model_.feedback, self.resolved_["feedback_lr"], self.beta1),
        ]
        if not self.resolved_["freeze_decoder"]:
            groups.append(
                self._group(self.model_.decoder, self.resolved_["decoder_lr"], self.beta1)
            )
        return groups

    @torch.no_grad()
    def classifier_input(self, x: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
        if not self.transform:
            return x
        scorer = TransformedScorer(self.model_.decoder, self.model_.classifier)
        return torch.cat([scorer.transform(part) for part in torch.split(x, chunk)])
