"""The final classifier's training set when the latent space has two branches.

CADA-VAE's :func:`~zsl_toolkit.methods.vae.gzsl_latent_set` samples one latent per chosen
row; here the classifier may see the distilling branch, the dispersing branch or their sum
(the paper's Table 4), and seen-class rows may be encoded to their mean (the paper's rule for
the distilling branch) rather than sampled. Rows are chosen by the toolkit's
:func:`~zsl_toolkit.methods.vae.select_per_class`, so the draw rule is CADA-VAE's.
"""

from __future__ import annotations

import torch

from zsl_dvae.model import sample_branches, select_latent, split_branches
from zsl_toolkit.methods.vae import Encoder, select_per_class


@torch.no_grad()
def encode(encoder: Encoder, inputs: torch.Tensor, chunk: int = 8192) -> tuple[torch.Tensor, ...]:
    """``(mu, logvar)`` of every row, in chunks so large training sets fit in memory."""
    stats = [encoder(part) for part in torch.split(inputs, chunk)]
    return torch.cat([s[0] for s in stats]), torch.cat([s[1] for s in stats])


@torch.no_grad()
def branch_latents(
    encoder: Encoder,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    classes: torch.Tensor,
    per_class: int,
    *,
    latent: int,
    which: str,
    noise: bool,
    faithful: bool,
    draw: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``per_class`` latents (branch ``which``) for each of ``classes`` from the rows of
    ``inputs`` carrying that label; sampled when ``noise``, else the posterior means."""
    mu, logvar = encode(encoder, inputs)
    idx, y = select_per_class(labels, classes, per_class, draw)
    if noise:
        z_t, z_p = sample_branches(mu[idx], logvar[idx], latent, faithful)
    else:
        z_t, z_p = split_branches(mu[idx], latent)
    return select_latent(z_t, z_p, which), y


@torch.no_grad()
def gzsl_branch_set(
    visual_encoder: Encoder,
    attribute_encoder: Encoder,
    features: torch.Tensor,
    labels: torch.Tensor,
    class_embeddings: torch.Tensor,
    seen: torch.Tensor,
    unseen: torch.Tensor,
    n_seen: int,
    n_unseen: int,
    *,
    latent: int,
    which: str,
    seen_noise: bool,
    faithful: bool,
    draw: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n_seen`` latents per seen class from real features (means unless ``seen_noise``) and
    ``n_unseen`` sampled latents per unseen class from its attribute vector; global ids."""
    parts = []
    if n_seen > 0 and seen.numel():
        parts.append(
            branch_latents(
                visual_encoder,
                features,
                labels,
                seen,
                n_seen,
                latent=latent,
                which=which,
                noise=seen_noise,
                faithful=faithful,
                draw=draw,
            )
        )
    if n_unseen > 0 and unseen.numel():
        parts.append(
            branch_latents(
                attribute_encoder,
                class_embeddings[unseen],
                unseen,
                unseen,
                n_unseen,
                latent=latent,
                which=which,
                noise=True,
                faithful=faithful,
                draw=draw,
            )
        )
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
