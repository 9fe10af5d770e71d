"""Networks of Disentangled-VAE and the branch arithmetic shared by training and scoring.

Each encoder is the toolkit's CADA-VAE :class:`~zsl_toolkit.methods.vae.Encoder` with a latent
of ``branches * latent`` units: its ``mu`` head returns ``[mu_t | mu_p]`` and its ``logvar``
head ``[logvar_t | logvar_p]``. So the two branches' heads are fused into one Linear per
statistic (two matrix products per encoder instead of four), and with ``branches == 1`` the
encoder is exactly CADA-VAE's. Decoders read ``z_t + z_p`` (``latent`` units).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from zsl_toolkit.methods.vae import Decoder, Encoder, LatentClassifier, reparameterize

#: Latents the final classifier can be trained on (the paper's Table 4).
CLASSIFIER_LATENTS = ("t", "p", "t+p")


class DisentangledVAEModel(nn.Module):
    """Encoders, decoders, the final classifier and (when disentangled) the two auxiliary
    classifiers of the shuffling loss.

    Modules are created in CADA-VAE's order (visual encoder, attribute encoder, visual
    decoder, attribute decoder, classifier) and the auxiliary classifiers last and only when
    ``branches == 2``: with one branch the parameters and the random numbers drawn to
    initialise them are CADA-VAE's, which is what lets ``disentangle=False`` reproduce it.
    """

    def __init__(
        self,
        feature_dim: int,
        embedding_dim: int,
        n_classes: int,
        n_seen: int,
        latent: int,
        hidden: tuple[int, int, int, int],
        branches: int,
    ) -> None:
        super().__init__()
        venc, vdec, aenc, adec = hidden
        self.latent = latent
        self.branches = branches
        self.visual_encoder = Encoder(feature_dim, venc, branches * latent)
        self.attribute_encoder = Encoder(embedding_dim, aenc, branches * latent)
        self.visual_decoder = Decoder(latent, vdec, feature_dim)
        self.attribute_decoder = Decoder(latent, adec, embedding_dim)
        self.classifier = LatentClassifier(latent, n_classes)
        if branches == 2:
            self.visual_auxiliary = LatentClassifier(latent, n_seen)
            self.attribute_auxiliary = LatentClassifier(latent, n_seen)

    def vae_modules(self) -> list[nn.Module]:
        """Everything the first stage trains (the final classifier is trained later)."""
        modules: list[nn.Module] = [
            self.visual_encoder,
            self.attribute_encoder,
            self.visual_decoder,
            self.attribute_decoder,
        ]
        if self.branches == 2:
            modules += [self.visual_auxiliary, self.attribute_auxiliary]
        return modules


def split_branches(t: torch.Tensor, latent: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``[B, 2 * latent]`` -> (distilling ``[B, latent]``, dispersing ``[B, latent]``)."""
    return t[:, :latent], t[:, latent:]


def sample_branches(
    mu: torch.Tensor, logvar: torch.Tensor, latent: int, faithful: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ``(z_t, z_p)`` from fused statistics ``[B, 2 * latent]`` in one call.

    Rows are viewed as ``[2B, latent]`` so that, under the authors' rule (one noise value per
    sample shared by all dimensions), each branch of each sample gets its own noise value:
    the branches are two latent variables, each sampled as CADA-VAE samples its latent.
    """
    b = mu.shape[0]
    z = reparameterize(mu.reshape(2 * b, latent), logvar.reshape(2 * b, latent), faithful)
    z = z.view(b, 2, latent)
    return z[:, 0], z[:, 1]


def select_latent(z_t: torch.Tensor, z_p: torch.Tensor, which: str) -> torch.Tensor:
    """The classifier's input for ``which`` in :data:`CLASSIFIER_LATENTS`."""
    if which == "t":
        return z_t
    if which == "p":
        return z_p
    return z_t + z_p


class BranchScorer(nn.Module):
    """Preprocessed features -> the visual encoder's mean of one branch (or of their sum) ->
    classifier log-probabilities over all classes ``[B, C]``.

    Only the ``hidden`` and ``mu`` layers run: scores are deterministic and each row's score
    depends on that row alone. With one branch (``disentangle=False``) the mean is CADA-VAE's.
    """

    def __init__(self, encoder: Encoder, classifier: nn.Module, latent: int, which: str) -> None:
        super().__init__()
        self.encoder = encoder
        self.classifier = classifier
        self.latent = latent
        self.which = which

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu = self.encoder.mu(F.relu(self.encoder.hidden(x)))
        if mu.shape[1] == self.latent:  # one branch: the mean itself
            return self.classifier(mu)
        mu_t, mu_p = split_branches(mu, self.latent)
        return self.classifier(select_latent(mu_t, mu_p, self.which))
