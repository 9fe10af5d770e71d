"""CLIP image towers through ``open_clip``, when it is installed (optional).

Radford et al., "Learning Transferable Visual Models From Natural Language Supervision",
ICML 2021; open_clip (Ilharco et al., 2021) provides the models and their pretrained tags.
open_clip depends on torchvision, whose PyPI builds do not match this toolkit's pinned torch,
so it is not installed by the Makefile; this adapter reports a missing dependency instead.
Weights come from ``--weights FILE`` (an open_clip checkpoint), or open_clip's own cache.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from zsl_images.backbones.base import Backbone
from zsl_toolkit.errors import ConfigError, MissingDependency, one_line

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


def open_clip_module():
    """The ``open_clip`` module, or a one-line error saying how to get it."""
    try:
        import open_clip
    except ImportError as exc:
        raise MissingDependency(
            f"the CLIP backbones need open_clip (pip install open_clip_torch; it needs a "
            f"torchvision matching your torch): {one_line(exc)}"
        ) from None
    return open_clip


class _ImageTower(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.encode_image(x)


class ClipViTB32(Backbone):
    """CLIP ViT-B/32 image tower (OpenAI weights), 512-d image embeddings."""

    name = "clip-vit-b-32"
    citation = (
        "Radford et al. Learning Transferable Visual Models From Natural Language "
        "Supervision. ICML 2021."
    )
    feature_dim = 512
    resize = "shorter-then-crop"
    resize_to = 224
    interpolation = "bicubic"
    mean = OPENAI_MEAN
    std = OPENAI_STD
    architecture = "ViT-B-32"
    pretrained = "openai"

    def build(self, weights: Path | None = None) -> nn.Module:
        open_clip = open_clip_module()
        source = str(weights) if weights is not None else self.pretrained
        try:
            model = open_clip.create_model(self.architecture, pretrained=source)
        except Exception as exc:  # noqa: BLE001 - download or file errors of many kinds
            raise ConfigError(
                f"{self.name}: cannot load weights '{source}' ({one_line(exc)})"
            ) from None
        return _ImageTower(model).eval()
