"""Fixtures of the zsl-images tests: the tiny backbone in place of the registry, and a small
image folder with its attributes."""

from __future__ import annotations

from pathlib import Path

import pytest
from images_testkit import TinyBackbone, write_attributes, write_folder


@pytest.fixture
def tiny_backbone(monkeypatch) -> TinyBackbone:
    import zsl_images.extract as extract

    monkeypatch.setattr(extract, "get_backbone", lambda name: TinyBackbone())
    return TinyBackbone()


@pytest.fixture
def small(tmp_path) -> dict[str, Path]:
    """4 classes x 6 images, attributes for the 4 plus an image-less class 'e'."""
    images = write_folder(tmp_path / "images", {c: 6 for c in "abcd"})
    attrs = write_attributes(
        tmp_path / "attrs.csv",
        {c: [float(i == j) for j in range(5)] for i, c in enumerate("abcde")},
    )
    unseen = tmp_path / "unseen.txt"
    unseen.write_text("d\n")
    return {"images": images, "attributes": attrs, "unseen": unseen, "root": tmp_path}


@pytest.fixture(scope="session", autouse=True)
def _backbone_graph_cache(tmp_path_factory):
    """Backbone graphs exported by the tests go to a folder of the test session, not to the
    user's cache (shared by the session's tests, so each backbone is exported once)."""
    import os

    folder = tmp_path_factory.mktemp("zsl-cache")
    old = os.environ.get("ZSL_CACHE_DIR")
    os.environ["ZSL_CACHE_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("ZSL_CACHE_DIR", None)
    else:
        os.environ["ZSL_CACHE_DIR"] = old
