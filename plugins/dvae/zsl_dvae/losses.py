"""Loss terms Disentangled-VAE adds to CADA-VAE's, built on the toolkit's VAE blocks.

All terms are sums over the batch (the paper's Eq. 6 sums over samples; CADA-VAE's terms are
sums too), so their weights balance as in the paper and in CADA-VAE.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from zsl_toolkit.methods.vae import kl_gaussian, wasserstein_diag


def branch_kl(
    mu: torch.Tensor, logvar: torch.Tensor, latent: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(KL(q(z_t) || N(0, I)), KL(q(z_p) || N(0, I)))`` of fused ``[B, 2 * latent]``
    statistics, each summed over the batch."""
    return (
        kl_gaussian(mu[:, :latent], logvar[:, :latent]),
        kl_gaussian(mu[:, latent:], logvar[:, latent:]),
    )


def branch_distance(
    mu_v: torch.Tensor,
    logvar_v: torch.Tensor,
    mu_s: torch.Tensor,
    logvar_s: torch.Tensor,
    latent: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """2-Wasserstein distance between the visual and semantic posteriors of the distilling
    branches and of the dispersing branches (the paper's Eq. 8, two terms), batch sums."""
    t = slice(0, latent)
    p = slice(latent, 2 * latent)
    return (
        wasserstein_diag(mu_v[:, t], logvar_v[:, t], mu_s[:, t], logvar_s[:, t]),
        wasserstein_diag(mu_v[:, p], logvar_v[:, p], mu_s[:, p], logvar_s[:, p]),
    )


def shuffling_classification(
    classifier: nn.Module,
    z_t: torch.Tensor,
    z_p: torch.Tensor,
    target: torch.Tensor,
    perm: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One modality's share of the paper's Eq. 6, summed over the batch.

    ``classifier`` returns log-probabilities over the seen classes and ``target`` holds each
    row's position among them. Returns ``(-sum_i F(z_t,i + z_p,i)[y_i],
    -sum_i F(z_t,i + z_p,perm(i))[y_i])``: the re-combined rows pair sample ``i``'s
    distilling latent (and label) with another sample's dispersing latent. ``perm=None``
    skips the re-combined term (the ablation without batch re-combining). Both terms go
    through the classifier in one call.
    """
    b = z_t.shape[0]
    if perm is None:
        return F.nll_loss(classifier(z_t + z_p), target, reduction="sum"), None
    z = torch.cat([z_t + z_p, z_t + z_p[perm]])
    nll = F.nll_loss(classifier(z), target.repeat(2), reduction="none")
    return nll[:b].sum(), nll[b:].sum()


class AnchoredClassifier(nn.Module):
    """L_SC's auxiliary classifier as a compatibility function with fixed class points:
    log-softmax over the seen classes of ``-||z - a_c||^2 / 2``, where ``a_c`` is the
    attribute encoder's distilling mean ``mu_t`` of seen class ``c``'s attribute vector.

    Why: a free linear classifier lets L_SC pull ``z_t`` towards seen-class directions that
    nothing ties to the attributes, which unseen classes cannot use; anchored points pull a
    visual ``z_t`` towards where its own class's attributes encode, the place cross-alignment
    also asks for, so the same geometry serves unseen classes. The anchors are recomputed from
    the current attribute encoder at every batch and carry gradients (L_SC then also spreads
    the seen classes' anchors apart). It has no parameters of its own.
    """

    def __init__(self, anchors: torch.Tensor) -> None:
        super().__init__()
        self.anchors = anchors

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        d2 = (z.unsqueeze(1) - self.anchors.unsqueeze(0)).pow(2).sum(dim=2)
        return F.log_softmax(-0.5 * d2, dim=1)


@torch.no_grad()
def branch_diagnostics(
    logvar_v: torch.Tensor, logvar_s: torch.Tensor, mu_v: torch.Tensor, latent: int
) -> dict[str, torch.Tensor]:
    """What the study of the method's components logs per batch (averaged per epoch by the
    trainer): the mean posterior standard deviation ``exp(logvar / 2)`` of each branch of
    each encoder, and how many dimensions of each visual branch carry information
    (batch-mean KL to the prior above 0.01 nats; 0 means the branch collapsed to the prior)."""
    sd_v, sd_s = (0.5 * logvar_v).exp(), (0.5 * logvar_s).exp()
    kl_all = 0.5 * (mu_v.pow(2) + logvar_v.exp() - 1.0 - logvar_v).mean(dim=0)
    kl_dim = kl_all[latent:]
    return {
        "sd_visual_t": sd_v[:, :latent].mean(),
        "sd_visual_p": sd_v[:, latent:].mean(),
        "sd_attribute_t": sd_s[:, :latent].mean(),
        "sd_attribute_p": sd_s[:, latent:].mean(),
        "active_p_dims": (kl_dim > 0.01).sum().float(),
        "active_t_dims": (kl_all[:latent] > 0.01).sum().float(),
    }
