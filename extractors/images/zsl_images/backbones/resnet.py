"""ResNet-101, the backbone of the xlsa17 benchmark features, written in plain torch.

He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition", CVPR 2016. The
module's parameter and buffer names are those of torchvision's ``resnet101`` (bottleneck
with the stride on the 3x3 convolution), so torchvision's ImageNet checkpoints
(``resnet101-63fe2227.pth``, ``resnet101-cd907fc2.pth``) load strictly; torchvision itself
is not needed. Features are the 2048-d global average pool before the classifier.

Preprocessing: Xian et al. (TPAMI 2018) describe the xlsa17 features as the 2048-d
top-layer pooling units of the original ImageNet-1K ResNet-101, computed on the whole image
without cropping; the exact resize is not published. Here the whole image is resized to
224 x 224 (bilinear, aspect ratio not kept, nothing cut) and normalised with the ImageNet
mean/std torchvision's weights expect. Features from these weights are therefore of the
same kind as res101.mat but not bit-identical to it.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from zsl_images.backbones.base import Backbone
from zsl_images.backbones.weights import load_into
from zsl_toolkit.errors import ConfigError

CHECKPOINTS = ("resnet101-63fe2227.pth", "resnet101-cd907fc2.pth")
"""torchvision's file names (ImageNet V1, V2), looked for in torch hub's checkpoints dir."""


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        width = planes
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample: nn.Module | None = None
        if stride != 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """ResNet with bottleneck blocks; ``forward`` returns the pooled features (fc kept only
    so that a classifier checkpoint loads strictly)."""

    def __init__(self, layers: tuple[int, int, int, int] = (3, 4, 23, 3)) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = 64
        for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers, strict=True)):
            stride = 1 if i == 0 else 2
            seq = [Bottleneck(inplanes, planes, stride)]
            inplanes = planes * 4
            seq += [Bottleneck(inplanes, planes) for _ in range(blocks - 1)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*seq))
        self.fc = nn.Linear(2048, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(x.mean(dim=(2, 3)), 1)


def hub_checkpoint() -> Path | None:
    """torchvision's ResNet-101 file in torch hub's cache, if one was downloaded before."""
    folder = Path(torch.hub.get_dir()) / "checkpoints"
    for name in CHECKPOINTS:
        if (folder / name).is_file():
            return folder / name
    return None


class ResNet101(Backbone):
    """ImageNet ResNet-101, 2048-d average-pooled features (the xlsa17 backbone)."""

    name = "resnet101"
    citation = "He et al. Deep Residual Learning for Image Recognition. CVPR 2016."
    feature_dim = 2048
    resize = "whole"
    resize_to = 224
    interpolation = "bilinear"

    def build(self, weights: Path | None = None) -> nn.Module:
        model = ResNet()
        path = weights if weights is not None else hub_checkpoint()
        if path is None:
            folder = Path(torch.hub.get_dir()) / "checkpoints"
            raise ConfigError(
                f"resnet101: no weights; put torchvision's {CHECKPOINTS[0]} in {folder} "
                f"or pass --weights FILE"
            )
        load_into(model, Path(path), "torchvision's ResNet-101")
        return model.eval()


def random_resnet101(seed: int = 0) -> nn.Module:
    """The architecture with seeded random weights (tests: no download on this machine)."""
    torch.manual_seed(seed)
    return ResNet().eval()
