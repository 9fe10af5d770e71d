"""Networks and loss terms of CADA-VAE-style cross-modal VAEs.

Each function states which convention of the authors' code (Schonfeld et al., CVPR 2019,
``edgarschnfld/CADA-VAE-PyTorch``) it follows. The networks use the names ``logvar`` for the
second encoder head, as the authors do, but the authors' code reads that head two ways:

* sampling (:func:`reparameterize` with ``faithful=True``) uses ``sigma = exp(logvar)``;
* the KL term (:func:`kl_gaussian`) and the distribution distance (:func:`wasserstein_diag`)
  use ``sigma = exp(logvar / 2)``, i.e. ``logvar = log sigma^2``.

Both are reproduced exactly; only the sampling rule is switchable, because that is the one
that matters (see :func:`reparameterize`).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "Decoder",
    "Encoder",
    "init_xavier",
    "kl_gaussian",
    "l1_sum",
    "reparameterize",
    "wasserstein_diag",
]


def init_xavier(module: nn.Module, gain: float = 0.5) -> nn.Module:
    """Xavier-uniform weights (``gain`` 0.5 as in the authors' code), zero bias, for every
    ``nn.Linear`` inside ``module``; returns ``module``."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight, gain=gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return module


class Encoder(nn.Module):
    """``x -> Linear(hidden) -> ReLU -> (Linear(latent) = mu, Linear(latent) = logvar)``.

    Initialised with :func:`init_xavier` at construction, as the authors' encoders are.
    """

    def __init__(self, in_dim: int, hidden: int, latent: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(in_dim, hidden)
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        init_xavier(self)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.relu(self.hidden(x))
        return self.mu(h), self.logvar(h)


class Decoder(nn.Module):
    """``z -> Linear(hidden) -> ReLU -> Linear(out_dim)``, Xavier-initialised at construction."""

    def __init__(self, latent: int, hidden: int, out_dim: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(latent, hidden)
        self.out = nn.Linear(hidden, out_dim)
        init_xavier(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(F.relu(self.hidden(z)))


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, faithful: bool = True) -> torch.Tensor:
    """Draw ``z = mu + sigma * eps`` from the encoder's Gaussian.

    ``faithful=True`` (the default everywhere in the toolkit) is the authors' rule:
    ``sigma = exp(logvar)`` and one ``eps ~ N(0, 1)`` per sample, shared by all latent
    dimensions. ``faithful=False`` is the textbook rule: ``sigma = exp(logvar / 2)`` and
    independent noise per dimension. The authors' rule is the default because it is what their
    published numbers were produced with, and it is not a detail
    (``benchmarks/results/cada_vae_sampling.md``).
    Noise comes from torch's global generator on ``mu``'s device (seeded by the trainer).
    """
    if faithful:
        eps = torch.randn(mu.shape[0], 1, dtype=mu.dtype, device=mu.device)
        return mu + torch.exp(logvar) * eps
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def l1_sum(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``sum |a - b|`` over batch and dimensions (the authors' ``L1Loss(size_average=False)``);
    summing, not averaging, fixes the balance against the KL and alignment terms."""
    return (a - b).abs().sum()


def kl_gaussian(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, exp(logvar)) || N(0, I))`` summed over batch and dimensions (>= 0).

    ``-0.5 * sum(1 + logvar - mu^2 - exp(logvar))``: the authors' formula (they subtract
    ``beta`` times its negative). It treats ``logvar`` as ``log sigma^2``, i.e. ``sigma =
    exp(logvar / 2)``, whatever the sampling rule; this is reproduced as is.
    """
    return -0.5 * torch.sum(1.0 + logvar - mu.pow(2) - logvar.exp())


def wasserstein_diag(
    mu1: torch.Tensor, logvar1: torch.Tensor, mu2: torch.Tensor, logvar2: torch.Tensor
) -> torch.Tensor:
    """2-Wasserstein distance between diagonal Gaussians, per sample, summed over the batch:
    ``sum_i sqrt(||mu1_i - mu2_i||^2 + ||sigma1_i - sigma2_i||^2)``.

    ``sigma = exp(logvar / 2)``: the authors' code computes ``sqrt(logvar.exp())`` here (the
    KL's convention), not the ``exp(logvar)`` of their sampling, so the same formula is right
    under both sampling rules and there is nothing to switch.
    """
    d_mu = (mu1 - mu2).pow(2).sum(dim=1)
    d_sigma = (torch.exp(0.5 * logvar1) - torch.exp(0.5 * logvar2)).pow(2).sum(dim=1)
    return torch.sqrt(d_mu + d_sigma).sum()
