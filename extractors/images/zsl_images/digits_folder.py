"""A real image folder to try ``zsl extract`` on, from data installed with scikit-learn.

Writes scikit-learn's 8x8 handwritten digits as PNG files, one sub-folder per digit (pixel
values 0..16 scaled to 0..255, enlarged with nearest-neighbour to ``--scale`` times 8
pixels), the toolkit's seven-segment descriptors as ``attributes.csv`` and its unseen digits
as ``unseen.txt``, so the README's commands run from a fresh clone:

    python -m zsl_images.digits_folder digits_images --per-class 40
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from PIL import Image

from zsl_toolkit.data.digits import SEGMENTS, UNSEEN, descriptors


def write_digits_folder(out: Path, per_class: int | None = None, scale: int = 4) -> Path:
    """Write the folder; ``per_class`` keeps the first N images of each digit."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    out.mkdir(parents=True, exist_ok=True)
    counts = {k: 0 for k in range(10)}
    for i, (image, label) in enumerate(zip(bunch.images, bunch.target, strict=True)):
        label = int(label)
        if per_class is not None and counts[label] >= per_class:
            continue
        counts[label] += 1
        folder = out / "images" / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        pixels = np.clip(image * (255.0 / 16.0), 0, 255).astype(np.uint8)
        img = Image.fromarray(pixels, mode="L").resize((8 * scale, 8 * scale), Image.NEAREST)
        img.save(folder / f"{i:04d}.png")
    with open(out / "attributes.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["class", *SEGMENTS, "loops"])
        for k, row in enumerate(descriptors()):
            writer.writerow([str(k), *(f"{v:.6f}" for v in row)])
    (out / "unseen.txt").write_text("".join(f"{k}\n" for k in UNSEEN))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-class", type=int, default=None)
    parser.add_argument("--scale", type=int, default=4)
    args = parser.parse_args()
    out = write_digits_folder(args.out, args.per_class, args.scale)
    print(f"wrote {out}/images, {out}/attributes.csv, {out}/unseen.txt")


if __name__ == "__main__":
    main()
