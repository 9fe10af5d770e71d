"""Networks and loss terms shared by the VAE-GAN feature generators (f-VAEGAN-D2, TF-VAEGAN).

Shapes and initialisation follow the TF-VAEGAN authors' code (``akshitac8/tfvaegan``, MIT),
which also implements its f-VAEGAN-D2 baseline: every layer is a linear layer with weights
N(0, 0.02) and zero biases, hidden layers use LeakyReLU(0.2). The critic is f-CLSWGAN's
conditional critic and its gradient penalty is f-CLSWGAN's (imported, not repeated).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from zsl_toolkit.methods.f_clswgan import ConditionalCritic, _init_gan_linear

__all__ = [
    "ConditionalCritic",
    "FeedbackGenerator",
    "FeedbackModule",
    "SemanticDecoder",
    "VAEGANEncoder",
    "TransformedScorer",
    "init_gan_linear",
    "reparameterize_standard",
    "vae_loss",
    "weighted_l1",
]

#: The authors' initialisation of every VAE-GAN network: weights N(0, 0.02), biases 0.
init_gan_linear = _init_gan_linear


class VAEGANEncoder(nn.Module):
    """``E(x, a)``: [features, attributes] -> hidden -> 2 * latent -> (mu, logvar).

    Two LeakyReLU(0.2) layers, then two linear heads, as in the authors' encoder (its second
    layer has twice the latent size).
    """

    def __init__(self, feature_dim: int, attribute_dim: int, hidden: int, latent: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(feature_dim + attribute_dim, hidden)
        self.fc2 = nn.Linear(hidden, 2 * latent)
        self.mu = nn.Linear(2 * latent, latent)
        self.logvar = nn.Linear(2 * latent, latent)
        self.apply(_init_gan_linear)

    def forward(self, x: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.leaky_relu(self.fc1(torch.cat([x, a], dim=1)), 0.2)
        h = F.leaky_relu(self.fc2(h), 0.2)
        return self.mu(h), self.logvar(h)


class FeedbackGenerator(nn.Module):
    """``G(z, a)``: [latent, attributes] -> hidden (LeakyReLU 0.2) -> features (sigmoid).

    The sigmoid matches the binary cross-entropy reconstruction of min-max scaled features.
    ``feedback`` (TF-VAEGAN) is added, already weighted, to the hidden layer before the
    output layer; ``None`` is the plain f-VAEGAN generator.
    """

    def __init__(self, latent: int, attribute_dim: int, hidden: int, feature_dim: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(latent + attribute_dim, hidden)
        self.fc2 = nn.Linear(hidden, feature_dim)
        self.apply(_init_gan_linear)

    def forward(
        self, z: torch.Tensor, a: torch.Tensor, feedback: torch.Tensor | None = None
    ) -> torch.Tensor:
        h = F.leaky_relu(self.fc1(torch.cat([z, a], dim=1)), 0.2)
        if feedback is not None:
            h = h + feedback
        return torch.sigmoid(self.fc2(h))


class SemanticDecoder(nn.Module):
    """TF-VAEGAN's semantic embedding decoder: features -> hidden (LeakyReLU 0.2) -> an
    L2-normalised attribute vector. Its hidden layer is what the feedback module reads and
    what the feature transformation appends; :meth:`forward` returns both."""

    def __init__(self, feature_dim: int, hidden: int, attribute_dim: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(feature_dim, hidden)
        self.fc2 = nn.Linear(hidden, attribute_dim)
        self.apply(_init_gan_linear)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = F.leaky_relu(self.fc1(x), 0.2)
        out = self.fc2(hidden)
        # The authors divide by the norm without a floor; a floor keeps an all-zero row finite.
        return out / out.norm(dim=1, keepdim=True).clamp_min(1e-12), hidden


class FeedbackModule(nn.Module):
    """TF-VAEGAN's feedback module: the decoder's hidden layer -> two LeakyReLU(0.2) layers
    of the generator's hidden size; added (weighted) to the generator's hidden layer."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(hidden, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.apply(_init_gan_linear)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(self.fc2(F.leaky_relu(self.fc1(h), 0.2)), 0.2)


class TransformedScorer(nn.Module):
    """TF-VAEGAN's discriminative feature transformation before the final classifier:
    ``x -> [x, decoder(x), decoder hidden(x)]``, then the classifier's log-probabilities."""

    def __init__(self, decoder: SemanticDecoder, classifier: nn.Module) -> None:
        super().__init__()
        self.decoder = decoder
        self.classifier = classifier

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        out, hidden = self.decoder(x)
        return torch.cat([x, out, hidden], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.transform(x))


def reparameterize_standard(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``mu + exp(logvar / 2) * eps``, independent noise per dimension (the authors' VAE-GAN
    code uses the textbook rule, unlike CADA-VAE's)."""
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def vae_loss(
    recon: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor
) -> torch.Tensor:
    """Binary cross-entropy reconstruction plus Gaussian KL, each summed over dimensions and
    averaged over the batch (the authors' ``loss_fn``; features must lie in [0, 1])."""
    n = x.shape[0]
    bce = F.binary_cross_entropy(recon + 1e-12, x.detach(), reduction="sum") / n
    kl = -0.5 * torch.sum(1.0 + logvar - mu.pow(2) - logvar.exp()) / n
    return bce + kl


def weighted_l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The authors' weighted L1 of the decoder's reconstruction: each row's absolute errors
    weighted by their squares over the row's L2 error, summed, averaged over the batch."""
    diff = pred - target
    weight = diff.pow(2)
    weight = weight / (weight.sum(dim=1, keepdim=True) + 1e-24).sqrt()  # finite at zero error
    return (weight * diff.abs()).sum() / pred.shape[0]
