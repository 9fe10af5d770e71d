"""Reusable building blocks of CADA-VAE-style cross-modal VAEs (public API).

CADA-VAE (Schonfeld et al., CVPR 2019) and methods extending it, such as the Disentangled-VAE
plugin, share the same parts: Gaussian MLP encoders, MLP decoders, the authors' Xavier
initialisation, their sampling rule, summed L1 / KL / 2-Wasserstein loss terms, linear
per-epoch warm-ups and a softmax classifier trained on latents. They are exported here so a
plugin distribution can import them without reaching into private modules. :class:`CADAVAE`
itself is the base class such a method extends (see :mod:`zsl_toolkit.methods.vae.cada`).
"""

from zsl_toolkit.methods.vae.blocks import (
    Decoder,
    Encoder,
    init_xavier,
    kl_gaussian,
    l1_sum,
    reparameterize,
    wasserstein_diag,
)
from zsl_toolkit.methods.vae.cada import CADAVAE, CrossAlignedVAEModel, LatentScorer, scaled
from zsl_toolkit.methods.vae.classifier import (
    CLASSIFIER_EPOCHS_GZSL,
    DRAWS,
    REFERENCE_CLASSIFIER_STEPS,
    LatentClassifier,
    Sampler,
    classifier_stage,
    default_classifier_epochs,
    gaussian_sampler,
    gzsl_latent_set,
    sample_latents,
    select_per_class,
)
from zsl_toolkit.methods.vae.warmup import (
    BETA_WARMUP,
    CROSS_RECONSTRUCTION_WARMUP,
    DISTANCE_WARMUP,
    Warmup,
)

__all__ = [
    "BETA_WARMUP",
    "CADAVAE",
    "CrossAlignedVAEModel",
    "LatentScorer",
    "Sampler",
    "gaussian_sampler",
    "scaled",
    "CLASSIFIER_EPOCHS_GZSL",
    "CROSS_RECONSTRUCTION_WARMUP",
    "DISTANCE_WARMUP",
    "DRAWS",
    "Decoder",
    "Encoder",
    "LatentClassifier",
    "REFERENCE_CLASSIFIER_STEPS",
    "Warmup",
    "classifier_stage",
    "default_classifier_epochs",
    "gzsl_latent_set",
    "init_xavier",
    "kl_gaussian",
    "l1_sum",
    "reparameterize",
    "sample_latents",
    "select_per_class",
    "wasserstein_diag",
]
