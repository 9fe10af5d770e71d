"""Small settings per known method so tests over every installed method stay fast.

Methods not listed run with their defaults (third-party plugins included).
"""

from __future__ import annotations

TINY: dict[str, dict[str, object]] = {
    "cada-vae": {
        "latent_size": 4,
        "visual_encoder_hidden": 16,
        "visual_decoder_hidden": 16,
        "attribute_encoder_hidden": 8,
        "attribute_decoder_hidden": 8,
        "seen_samples": 10,
        "unseen_samples": 20,
        "classifier_epochs": 2,
    },
    "f-clswgan": {"hidden": 32, "pretrain_epochs": 2, "classifier_epochs": 2, "n_synthetic": 10},
    "dvae": {
        "hidden_scale": 0.05,
        "seen_samples": 20,
        "unseen_samples": 20,
        "classifier_epochs": 3,
    },
}


def tiny(name: str) -> dict[str, object]:
    return dict(TINY.get(name, {}))
