"""The generated image sets: class folders, attribute rows and unseen names that agree, and
the same images for the same seed."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image
from zsl_images.generated_folders import KINDS, write_generated_folder


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_folder_rows_and_unseen_agree(kind, tmp_path):
    out = write_generated_folder(kind, tmp_path / kind, per_class=2, seed=0)
    folders = sorted(p.name for p in (out / "images").iterdir())
    with open(out / "attributes.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "class" and len(rows[0]) > 2
    assert sorted(r[0] for r in rows[1:]) == folders
    assert len({tuple(r[1:]) for r in rows[1:]}) == len(folders)  # every class distinct
    unseen = (out / "unseen.txt").read_text().split()
    assert unseen and set(unseen) < set(folders)
    image = Image.open(next((out / "images" / folders[0]).iterdir()))
    assert image.size == (96, 96) and image.mode == "RGB"
    again = write_generated_folder(kind, tmp_path / "again", per_class=2, seed=0)
    first = sorted((out / "images" / folders[0]).iterdir())[0]
    twin = again / "images" / folders[0] / first.name
    assert np.array_equal(np.asarray(Image.open(first)), np.asarray(Image.open(twin)))


def test_unknown_kind_is_refused(tmp_path):
    with pytest.raises(ValueError, match="kind 'clouds'"):
        write_generated_folder("clouds", tmp_path)
