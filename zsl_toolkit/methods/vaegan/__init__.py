"""The VAE-GAN feature generators (public API): f-VAEGAN-D2 (Xian et al., CVPR 2019,
inductive) and TF-VAEGAN (Narayan et al., ECCV 2020), their shared networks and loss terms,
and the per-dataset settings of the authors' scripts. The critic and gradient penalty are
f-CLSWGAN's (:mod:`zsl_toolkit.methods.f_clswgan`)."""

from zsl_toolkit.methods.vaegan.defaults import OTHER, PUBLISHED, VAEGANDefaults
from zsl_toolkit.methods.vaegan.fvaegan import FVAEGAN, VAEGANNetworks
from zsl_toolkit.methods.vaegan.networks import (
    FeedbackGenerator,
    FeedbackModule,
    SemanticDecoder,
    TransformedScorer,
    VAEGANEncoder,
    vae_loss,
    weighted_l1,
)
from zsl_toolkit.methods.vaegan.tfvaegan import TFVAEGAN

__all__ = [
    "FVAEGAN",
    "OTHER",
    "PUBLISHED",
    "TFVAEGAN",
    "FeedbackGenerator",
    "FeedbackModule",
    "SemanticDecoder",
    "TransformedScorer",
    "VAEGANDefaults",
    "VAEGANEncoder",
    "VAEGANNetworks",
    "vae_loss",
    "weighted_l1",
]
