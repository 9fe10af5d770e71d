"""Method plugins: the ``methods`` group's registry, beside the interface it checks against."""

from __future__ import annotations

from zsl_toolkit.methods.base import Method
from zsl_toolkit.registry import GROUPS, Registry


def method_registry() -> Registry[Method]:
    """Name -> :class:`~zsl_toolkit.methods.base.Method` subclass, from installed distributions' entry
    points (listing reads metadata only; ``load`` imports and checks the type)."""
    return Registry(GROUPS["methods"], Method, "methods")
