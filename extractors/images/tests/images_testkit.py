"""Helpers of the zsl-images tests: a tiny backbone (the real ones cost seconds per image
on a CPU) and small image folders written with Pillow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from zsl_images.backbones.base import Backbone


class _Pool(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.proj = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).mean(dim=(2, 3))


class TinyBackbone(Backbone):
    name = "tiny"
    citation = "test double"
    feature_dim = 8
    input_size = 16
    resize_to = 18

    def build(self, weights: Path | None = None) -> nn.Module:
        return _Pool().eval()


def write_folder(root: Path, per_class: dict[str, int], seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for name, n in per_class.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            pixels = rng.integers(0, 256, (20 + i, 24, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i:03d}.png")
    return root


def write_attributes(path: Path, rows: dict[str, list[float]], header: int | None = None) -> Path:
    width = header if header is not None else len(next(iter(rows.values())))
    lines = ["class," + ",".join(f"a{j}" for j in range(width))]
    lines += [f"{k}," + ",".join(str(v) for v in vals) for k, vals in rows.items()]
    path.write_text("\n".join(lines) + "\n")
    return path
