"""The README's "Writing a method plugin" section, followed literally.

The two files are cut out of README.md, installed with pip (into a temporary target, so the
test environment is left as it was) and the plugin is trained through the CLI on `digits`
and run through the conformance kit.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from zsl_toolkit.cli import cli
from zsl_toolkit.testing import check_method

REPO = Path(__file__).resolve().parents[1]


def _readme_file(name: str) -> str:
    text = (REPO / "README.md").read_text()
    match = re.search(rf"`zsl-cosine/{re.escape(name)}`:\n\n```\w+\n(.*?)```", text, re.S)
    assert match, f"README has no code block for zsl-cosine/{name}"
    return match.group(1)


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    src = tmp_path / "zsl-cosine"
    src.mkdir()
    for name in ("pyproject.toml", "zsl_cosine.py"):
        (src / name).write_text(_readme_file(name))
    target = tmp_path / "site"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(src),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    monkeypatch.syspath_prepend(str(target))
    importlib.invalidate_caches()
    yield
    sys.modules.pop("zsl_cosine", None)


def test_readme_plugin_trains_on_digits(installed_plugin, tmp_path):
    listing = CliRunner().invoke(cli, ["list"]).output
    assert re.search(r"cosine\s+zsl-cosine 0\.1\.0", listing), listing
    out = tmp_path / "run"
    result = CliRunner().invoke(
        cli, ["train", "--method", "cosine", "--dataset", "digits", "-q", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "H=" in result.output and (out / "metrics.json").is_file()


def test_readme_plugin_passes_conformance(installed_plugin, tmp_path):
    check_method("cosine", tmp_path)
