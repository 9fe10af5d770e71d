"""Small settings per known method so tests over every installed method stay fast.

Methods not listed run with their defaults (third-party plugins included).
"""

from __future__ import annotations

TINY: dict[str, dict[str, object]] = {}


def tiny(name: str) -> dict[str, object]:
    return dict(TINY.get(name, {}))
