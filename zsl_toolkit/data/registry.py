"""Dataset plugins: the ``datasets`` group's registry, beside the interface it checks against."""

from __future__ import annotations

from zsl_toolkit.data.base import Dataset
from zsl_toolkit.registry import GROUPS, Registry


def dataset_registry() -> Registry[Dataset]:
    """Name -> :class:`~zsl_toolkit.data.base.Dataset` subclass, from installed distributions' entry
    points (listing reads metadata only; ``load`` imports and checks the type)."""
    return Registry(GROUPS["datasets"], Dataset, "datasets")
