"""Where unseen classes land in the latent space: the diagnostic behind the ablation study.

Zero-shot transfer works when a test image of an unseen class encodes (visual encoder mean of
the classifier's branch) close to the latent of its own class's attribute vector (attribute
encoder mean) and far from every seen class's. :func:`transfer_margins` measures exactly that
for a trained CADA-VAE-family model, so a report can say whether a component helped by
bringing unseen images nearer their descriptions, or hurt by pulling them towards seen ones.
"""

from __future__ import annotations

import numpy as np
import torch

from zsl_toolkit.data import ZSLData
from zsl_toolkit.methods.vae import CADAVAE


@torch.no_grad()
def _branch_mean(method: CADAVAE, encoder: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    mu, _ = encoder(x)
    lat = method.latent_size
    if mu.shape[1] == lat:
        return mu
    which = getattr(method, "classifier_latent", "t")
    mu_t, mu_p = mu[:, :lat], mu[:, lat:]
    return {"t": mu_t, "p": mu_p, "t+p": mu_t + mu_p}[which]


@torch.no_grad()
def transfer_margins(method: CADAVAE, data: ZSLData) -> dict[str, float]:
    """For each ``test_unseen`` image: the distance of its visual latent mean to its own
    class's attribute latent mean (``own``) and to the nearest seen class's (``seen``).

    Returns the mean of ``own``, of ``seen``, their ratio, and the fraction of images closer
    to their own class than to any seen class (the share that a latent nearest-class rule
    would not lose to a seen class)."""
    m = method.model_
    device = next(m.parameters()).device
    x, y = data.split("test_unseen")
    feats = method.scaler_(torch.from_numpy(x).to(device))
    z = _branch_mean(method, m.visual_encoder, feats)
    emb = torch.from_numpy(data.class_embeddings).to(device)
    anchors = _branch_mean(method, m.attribute_encoder, emb)  # [C, latent]
    dist = torch.cdist(z, anchors)  # [N, C]
    labels = torch.from_numpy(y).to(device)
    own = dist.gather(1, labels[:, None]).squeeze(1)
    seen = dist[:, torch.as_tensor(data.seen_classes, device=device)].min(dim=1).values
    return {
        "own_distance": float(own.mean()),
        "seen_distance": float(seen.mean()),
        "ratio": float(own.mean() / seen.mean()),
        "closer_to_own": float(np.mean((own < seen).cpu().numpy())),
    }
