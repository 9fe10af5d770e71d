"""The README's "Writing a method plugin" section, followed literally.

The three files (pyproject, module, conformance test) are cut out of README.md into one
folder, as the README lays them out, installed with pip (into a temporary target, so the test
environment is left as it was), the plugin is trained through the CLI on `digits` and the
README's own test file is run with pytest.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from zsl_toolkit.cli import cli

REPO = Path(__file__).resolve().parents[1]
FILES = ("pyproject.toml", "zsl_cosine.py", "test_cosine.py")


def _readme_file(name: str) -> str:
    text = (REPO / "README.md").read_text()
    match = re.search(rf"`zsl-cosine/{re.escape(name)}`:\n\n```\w+\n(.*?)```", text, re.S)
    assert match, f"README has no code block for zsl-cosine/{name}"
    return match.group(1)


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    src = tmp_path / "zsl-cosine"
    src.mkdir()
    for name in FILES:
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
    assert (target / "zsl_cosine.py").is_file()
    assert not (target / "test_cosine.py").exists(), "the plugin installs its tests"
    monkeypatch.syspath_prepend(str(target))
    importlib.invalidate_caches()
    yield src, target
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


def test_readme_plugin_passes_its_own_conformance_test(installed_plugin, tmp_path):
    """`pytest zsl-cosine`, as the README says, with the installed plugin importable."""
    src, target = installed_plugin
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), *sys.path])}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", src.name],
        cwd=src.parent,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout, proc.stdout
