"""Small settings per known method so tests over every installed method stay fast.

Methods not listed run with their defaults (third-party plugins included).
"""

from __future__ import annotations

TINY: dict[str, dict[str, object]] = {
    "dvae": {
        "hidden_scale": 0.05,
        "seen_samples": 20,
        "unseen_samples": 20,
        "classifier_epochs": 3,
    },
}


def tiny(name: str) -> dict[str, object]:
    return dict(TINY.get(name, {}))
