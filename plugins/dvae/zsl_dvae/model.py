"""Networks of Disentangled-VAE and the branch arithmetic shared by training and scoring.

Each encoder is the toolkit's CADA-VAE :class:`~zsl_toolkit.methods.vae.Encoder` with a latent
of ``branches * latent`` units (:class:`~zsl_toolkit.methods.vae.CrossAlignedVAEModel` with
``branches=2``): its ``mu`` head returns ``[mu_t | mu_p]`` and its ``logvar``
head ``[logvar_t | logvar_p]``. So the two branches' heads are fused into one Linear per
statistic (two matrix products per encoder instead of four), and with ``branches == 1`` the
encoder is exactly CADA-VAE's. Decoders read ``z_t + z_p`` (``latent`` units).
"""

from __future__ import annotations

import torch
from torch import nn

from zsl_toolkit.methods.vae import (
    CrossAlignedVAEModel,
    Encoder,
    LatentClassifier,
    LatentScorer,
    Sampler,
    reparameterize,
)

#: Latents the final classifier can be trained on (the paper's Table 4).
CLASSIFIER_LATENTS = ("t", "p", "t+p")
#: Sampling rule of the dispersing branch: "same" as the distilling branch, or either rule.
DISPERSING_SAMPLING = ("same", "faithful", "textbook", "mean")


class DisentangledVAEModel(CrossAlignedVAEModel):
    """CADA-VAE's networks with two latent branches per encoder, plus (when disentangled) the
    two auxiliary classifiers of the shuffling loss over the ``n_seen`` seen classes.

    The auxiliary classifiers are created after the base networks and only when
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
        super().__init__(feature_dim, embedding_dim, n_classes, latent, hidden, branches)
        if branches == 2:
            self.visual_auxiliary = LatentClassifier(latent, n_seen)
            self.attribute_auxiliary = LatentClassifier(latent, n_seen)

    def vae_modules(self) -> list[nn.Module]:
        modules = super().vae_modules()
        if self.branches == 2:
            modules += [self.visual_auxiliary, self.attribute_auxiliary]
        return modules


def split_branches(t: torch.Tensor, latent: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``[B, 2 * latent]`` -> (distilling ``[B, latent]``, dispersing ``[B, latent]``)."""
    return t[:, :latent], t[:, latent:]


def sample_branches(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    latent: int,
    faithful: bool,
    dispersing: bool | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ``(z_t, z_p)`` from fused statistics ``[B, 2 * latent]``.

    With one rule for both branches (``dispersing`` None or equal to ``faithful``) the rows
    are viewed as ``[2B, latent]`` and sampled in one call, so that under the authors' rule
    (one noise value per sample shared by all dimensions) each branch of each sample gets its
    own noise value: the branches are two latent variables, each sampled as CADA-VAE samples
    its latent. Otherwise each branch is sampled by its own rule (``dispersing`` for ``z_p``).
    """
    b = mu.shape[0]
    if dispersing is None or dispersing == faithful:
        z = reparameterize(mu.reshape(2 * b, latent), logvar.reshape(2 * b, latent), faithful)
        z = z.view(b, 2, latent)
        return z[:, 0], z[:, 1]
    z_t = reparameterize(mu[:, :latent], logvar[:, :latent], faithful)
    z_p = reparameterize(mu[:, latent:], logvar[:, latent:], dispersing)
    return z_t, z_p


def select_latent(z_t: torch.Tensor, z_p: torch.Tensor, which: str) -> torch.Tensor:
    """The classifier's input for ``which`` in :data:`CLASSIFIER_LATENTS`."""
    if which == "t":
        return z_t
    if which == "p":
        return z_p
    return z_t + z_p


class BranchScorer(LatentScorer):
    """CADA-VAE's scorer (visual encoder mean -> classifier) reading one branch of the mean,
    or their sum (:data:`CLASSIFIER_LATENTS`). With one branch (``disentangle=False``) the
    mean is CADA-VAE's."""

    def __init__(self, encoder: Encoder, classifier: nn.Module, latent: int, which: str) -> None:
        super().__init__(encoder, classifier)
        self.latent = latent
        self.which = which

    def select(self, mu: torch.Tensor) -> torch.Tensor:
        if mu.shape[1] == self.latent:  # one branch: the mean itself
            return mu
        mu_t, mu_p = split_branches(mu, self.latent)
        return select_latent(mu_t, mu_p, self.which)


def branch_sampler(
    latent: int,
    which: str,
    noise: bool,
    faithful: bool,
    dispersing: bool | None = None,
    dispersing_used: bool = True,
    dispersing_mean: bool = False,
) -> Sampler:
    """The final classifier's latents from fused statistics: branch ``which`` of a sample
    (:func:`sample_branches`), or of the posterior mean when not ``noise``; the dispersing
    latent is its mean when ``dispersing_mean`` and zero when the encoder's dispersing branch
    is not used."""

    def sample(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        if noise:
            z_t, z_p = sample_branches(mu, logvar, latent, faithful, dispersing)
            if dispersing_mean:
                z_p = split_branches(mu, latent)[1]
        else:
            z_t, z_p = split_branches(mu, latent)
        if not dispersing_used:
            z_p = torch.zeros_like(z_p)
        return select_latent(z_t, z_p, which)

    return sample
