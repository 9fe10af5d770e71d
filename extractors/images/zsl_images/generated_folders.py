"""Small generated image folders of two kinds, for trying and benchmarking ``zsl extract``
and ``zsl train`` offline (Pillow and numpy only, seeded, a few seconds to write):

- ``shapes``: colour x shape. 5 colours x 4 shapes = 20 classes (4 unseen, chosen so every
  colour and every shape is also seen in other combinations), drawn at a random position,
  size and rotation on a noisy light background; attributes: one column per colour and per
  shape (one-hot), plus the shape's corner count / 4 and the colour's hue.
- ``textures``: pattern x scale x palette. stripes, checks, dots and waves, fine or coarse,
  in a warm or a cool two-colour palette = 16 classes (4 unseen), with random phase,
  orientation jitter and noise; attributes: one-hot pattern, scale, palette, and whether the
  pattern is periodic in one or two directions.

Each writes ``<out>/images/<class>/*.png``, ``<out>/attributes.csv`` and ``<out>/unseen.txt``,
as :mod:`zsl_images.digits_folder` does:

    python -m zsl_images.generated_folders shapes my_shapes --per-class 30
"""

from __future__ import annotations

import argparse
import colorsys
import csv
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SIZE = 96

COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (230, 200, 30),
    "purple": (150, 50, 180),
}
SHAPES = {"circle": 0, "triangle": 3, "square": 4, "star": 10}
SHAPES_UNSEEN = ("red-star", "green-square", "blue-circle", "yellow-triangle")


def _polygon(cx: float, cy: float, r: float, corners: int, angle: float) -> list[tuple]:
    if corners == 10:  # a five-pointed star: alternate outer and inner radius
        radii = [r if k % 2 == 0 else 0.45 * r for k in range(10)]
    else:
        radii = [r] * corners
    n = len(radii)
    return [
        (
            cx + radii[k] * math.cos(angle + 2 * math.pi * k / n),
            cy + radii[k] * math.sin(angle + 2 * math.pi * k / n),
        )
        for k in range(n)
    ]


def _shape_image(colour: str, shape: str, rng: np.random.Generator) -> Image.Image:
    base = rng.integers(200, 245)
    noise = rng.normal(0, 8, (SIZE, SIZE, 3))
    pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(image)
    r = rng.uniform(0.22, 0.36) * SIZE
    cx, cy = rng.uniform(r, SIZE - r, size=2)
    shade = np.clip(np.asarray(COLOURS[colour]) * rng.uniform(0.85, 1.1), 0, 255)
    fill = tuple(int(v) for v in shade)
    if SHAPES[shape] == 0:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    else:
        draw.polygon(_polygon(cx, cy, r, SHAPES[shape], rng.uniform(0, 2 * math.pi)), fill=fill)
    return image


def _shape_attributes() -> tuple[list[str], dict[str, list[float]]]:
    header = [*COLOURS, *SHAPES, "corners", "hue"]
    rows = {}
    for colour, rgb in COLOURS.items():
        hue = colorsys.rgb_to_hsv(*(v / 255 for v in rgb))[0]
        for shape, corners in SHAPES.items():
            onehot = [float(c == colour) for c in COLOURS] + [float(s == shape) for s in SHAPES]
            rows[f"{colour}-{shape}"] = [*onehot, min(corners, 10) / 10, hue]
    return header, rows


PATTERNS = ("stripes", "checks", "dots", "waves")
SCALES = {"fine": 6.0, "coarse": 16.0}
PALETTES = {"warm": ((200, 60, 30), (250, 210, 120)), "cool": ((30, 60, 160), (150, 220, 210))}
TEXTURES_UNSEEN = ("stripes-coarse-cool", "checks-fine-warm", "dots-coarse-warm", "waves-fine-cool")


def _texture_image(pattern: str, scale: str, palette: str, rng: np.random.Generator) -> Image.Image:
    period = SCALES[scale] * rng.uniform(0.85, 1.15)
    angle = rng.uniform(-0.3, 0.3) + (
        math.pi / 4 if pattern == "stripes" and rng.random() < 0.5 else 0
    )
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    u = (xx * math.cos(angle) + yy * math.sin(angle)) / period + rng.uniform(0, 1)
    v = (-xx * math.sin(angle) + yy * math.cos(angle)) / period + rng.uniform(0, 1)
    if pattern == "stripes":
        mask = (u % 1.0) < 0.5
    elif pattern == "checks":
        mask = ((np.floor(u) + np.floor(v)) % 2) == 0
    elif pattern == "dots":
        mask = ((u % 1.0 - 0.5) ** 2 + (v % 1.0 - 0.5) ** 2) < 0.09
    else:  # waves
        mask = ((u + 0.25 * np.sin(2 * math.pi * v / 2.0)) % 1.0) < 0.5
    dark, light = (np.asarray(c, np.float64) for c in PALETTES[palette])
    pixels = np.where(mask[..., None], dark, light) + rng.normal(0, 10, (SIZE, SIZE, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def _texture_attributes() -> tuple[list[str], dict[str, list[float]]]:
    header = [*PATTERNS, "coarse", "warm", "two_directions"]
    rows = {}
    for pattern in PATTERNS:
        for scale in SCALES:
            for palette in PALETTES:
                onehot = [float(p == pattern) for p in PATTERNS]
                two = float(pattern in ("checks", "dots"))
                rows[f"{pattern}-{scale}-{palette}"] = [
                    *onehot,
                    float(scale == "coarse"),
                    float(palette == "warm"),
                    two,
                ]
    return header, rows


def _draw_texture(name: str, rng: np.random.Generator) -> Image.Image:
    pattern, scale, palette = name.split("-")
    return _texture_image(pattern, scale, palette, rng)


def _draw_shape(name: str, rng: np.random.Generator) -> Image.Image:
    colour, shape = name.split("-")
    return _shape_image(colour, shape, rng)


KINDS: dict[str, tuple[Callable, Callable, tuple[str, ...]]] = {
    "shapes": (_shape_attributes, _draw_shape, SHAPES_UNSEEN),
    "textures": (_texture_attributes, _draw_texture, TEXTURES_UNSEEN),
}


def write_generated_folder(kind: str, out: Path, per_class: int = 30, seed: int = 0) -> Path:
    """Write the ``kind`` folder (see the module docstring) into ``out``; seeded by ``seed``
    and the class, so a class's images do not depend on the other classes."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: expected one of {', '.join(KINDS)}")
    attributes, draw, unseen = KINDS[kind]
    header, rows = attributes()
    out.mkdir(parents=True, exist_ok=True)
    for k, name in enumerate(rows):
        folder = out / "images" / name
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng([seed, k])
        for i in range(per_class):
            draw(name, rng).save(folder / f"{i:03d}.png")
    with open(out / "attributes.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["class", *header])
        for name, values in rows.items():
            writer.writerow([name, *(f"{v:.6f}" for v in values)])
    (out / "unseen.txt").write_text("".join(f"{u}\n" for u in unseen))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(KINDS))
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-class", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    out = write_generated_folder(args.kind, args.out, args.per_class, args.seed)
    print(f"wrote {out}/images, {out}/attributes.csv, {out}/unseen.txt")


if __name__ == "__main__":
    main()
