"""Exporter plugins: the ``exporters`` group's registry, beside the interface it checks against."""

from __future__ import annotations

from zsl_toolkit.export.base import Exporter
from zsl_toolkit.registry import GROUPS, Registry


def exporter_registry() -> Registry[Exporter]:
    """Name -> :class:`~zsl_toolkit.export.base.Exporter` subclass, from installed distributions' entry
    points (listing reads metadata only; ``load`` imports and checks the type)."""
    return Registry(GROUPS["exporters"], Exporter, "exporters")
