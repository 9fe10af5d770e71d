"""Shared fixtures: the real-data folder beside the repository, fake plugin distributions."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "xlsa17"


@pytest.fixture
def shared_data() -> Path:
    """The real xlsa17 files shipped beside the repository; skip when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} not present")
    return SHARED_DATA


@pytest.fixture
def fake_distribution(tmp_path, monkeypatch):
    """Install a fake distribution (metadata + module) on sys.path for registry tests."""
    import importlib.metadata

    def make(name: str, entry_points: dict[str, dict[str, str]], module_source: str = "") -> None:
        root = tmp_path / "site"
        root.mkdir(exist_ok=True)
        info = root / f"{name.replace('-', '_')}-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n")
        lines = []
        for group, eps in entry_points.items():
            lines.append(f"[{group}]")
            lines += [f"{k} = {v}" for k, v in eps.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        if module_source:
            (root / f"{name.replace('-', '_')}_mod.py").write_text(module_source)
        monkeypatch.syspath_prepend(str(root))
        importlib.invalidate_caches()

    yield make
    import sys

    for mod in [m for m in sys.modules if m.endswith("_mod")]:
        del sys.modules[mod]
