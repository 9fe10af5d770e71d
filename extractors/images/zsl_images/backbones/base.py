"""What a backbone plugin declares, and the one module every consumer runs.

A backbone is named in the ``zsl_toolkit.backbones`` entry-point group. It states its input
size, its resize rule, its normalisation and its feature dimension, and builds an
``nn.Module`` from normalised float images to features. :class:`ImageFeatures` wraps that
module with the uint8-to-normalised step, so extraction, export and the exported graph run
the very same arithmetic on the very same pixels.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn

RESIZE_MODES = ("shorter-then-crop", "whole")


class Backbone(ABC):
    """An image -> feature network and the preprocessing it was trained with.

    ``resize`` says how a decoded image becomes ``input_size`` x ``input_size`` pixels:
    ``"shorter-then-crop"`` scales the shorter side to ``resize_to`` and crops the centre,
    ``"whole"`` scales the whole image to the square (aspect ratio not kept, nothing cut).
    ``interpolation`` is a Pillow filter name (``bilinear`` or ``bicubic``).
    """

    name: ClassVar[str]
    citation: ClassVar[str]
    feature_dim: ClassVar[int]
    input_size: ClassVar[int] = 224
    resize: ClassVar[str] = "shorter-then-crop"
    resize_to: ClassVar[int] = 256
    interpolation: ClassVar[str] = "bilinear"
    mean: ClassVar[tuple[float, float, float]] = (0.485, 0.456, 0.406)
    std: ClassVar[tuple[float, float, float]] = (0.229, 0.224, 0.225)

    @abstractmethod
    def build(self, weights: Path | None = None) -> nn.Module:
        """The network, float [N, 3, H, W] normalised images -> [N, feature_dim], eval mode.

        ``weights`` is a file the user gave; ``None`` means the backbone's default source.
        Raises :class:`~zsl_toolkit.errors.ConfigError` naming the file when it cannot load.
        """

    def preprocessing(self) -> dict[str, object]:
        """The preprocessing as plain data (recorded in stores and model metadata)."""
        return {
            "input_size": self.input_size,
            "resize": self.resize,
            "resize_to": self.resize_to,
            "interpolation": self.interpolation,
            "mean": list(self.mean),
            "std": list(self.std),
            "input": "uint8 RGB [batch, input_size, input_size, 3]",
        }


class ImageFeatures(nn.Module):
    """uint8 RGB images [N, H, W, 3] -> backbone features [N, d].

    Scaling to [0, 1], the mean/std normalisation and the NHWC -> NCHW transpose happen here,
    inside the module (and so inside an exported graph), leaving only the resize/crop to the
    caller: that step runs in Pillow, identically at extraction and at prediction time.
    """

    def __init__(self, network: nn.Module, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        self.network = network
        scale = torch.tensor(std, dtype=torch.float32) * 255.0
        self.register_buffer("offset", torch.tensor(mean, dtype=torch.float32) * 255.0)
        self.register_buffer("scale", scale)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = (images.to(torch.float32) - self.offset) / self.scale
        # The transpose is a view with channels-last strides, the layout the network is kept
        # in (about 1.5-2x faster convolutions on CPU than contiguous NCHW).
        return self.network(x.permute(0, 3, 1, 2))


def image_features(backbone: Backbone, weights: Path | None = None) -> ImageFeatures:
    """The backbone's network behind its normalisation, in eval mode."""
    network = backbone.build(weights).to(memory_format=torch.channels_last)
    return ImageFeatures(network, backbone.mean, backbone.std).eval()
