"""Decoding and sizing one image, the same way at extraction and at prediction time.

Pillow does the decode, the RGB conversion and the resize/crop; the result is a uint8
[H, W, 3] array at the backbone's input size. Normalisation is not done here: it is part of
the network module (and of the exported graph), see :class:`~zsl_images.backbones.ImageFeatures`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from zsl_toolkit.errors import ConfigError

FILTERS = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC}

DECODE_ERRORS = (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError)
"""What Pillow raises for a file that is not a readable image."""


@dataclass(frozen=True)
class Sizing:
    """How a decoded image becomes ``size`` x ``size`` pixels (see :class:`Backbone`)."""

    size: int
    resize: str = "shorter-then-crop"
    resize_to: int = 256
    interpolation: str = "bilinear"

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> Sizing:
        try:
            sizing = cls(
                size=int(spec["input_size"]),
                resize=str(spec["resize"]),
                resize_to=int(spec["resize_to"]),
                interpolation=str(spec["interpolation"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"preprocessing record is incomplete ({exc})") from None
        if sizing.interpolation not in FILTERS:
            raise ConfigError(f"unknown interpolation '{sizing.interpolation}'")
        return sizing

    def apply(self, image: Image.Image) -> np.ndarray:
        """uint8 [size, size, 3] of ``image`` (any mode, any size)."""
        image = image.convert("RGB")
        flt = FILTERS[self.interpolation]
        if self.resize == "whole":
            image = image.resize((self.size, self.size), flt)
        else:
            w, h = image.size
            scale = self.resize_to / min(w, h)
            nw, nh = max(self.size, round(w * scale)), max(self.size, round(h * scale))
            image = image.resize((nw, nh), flt)
            left, top = (nw - self.size) // 2, (nh - self.size) // 2
            image = image.crop((left, top, left + self.size, top + self.size))
        return np.asarray(image, dtype=np.uint8).copy()

    def load(self, path: str | Path) -> np.ndarray:
        """Decode and size one file; Pillow's errors (see DECODE_ERRORS) propagate."""
        with Image.open(path) as image:
            image.load()
            return self.apply(image)


def sizing_of(backbone: Any) -> Sizing:
    """The :class:`Sizing` a backbone declares."""
    return Sizing(backbone.input_size, backbone.resize, backbone.resize_to, backbone.interpolation)
