"""benchmarks/dvae_study.py: a sweep's report plus the branch diagnostics and transfer margins."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from zsl_toolkit.cli import cli

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "benchmarks" / "dvae_study.py"
QUICK = "hidden_scale = 0.05\nseen_samples = 20\nunseen_samples = 20\nclassifier_epochs = 2\n"


@pytest.fixture(autouse=True)
def _benchmarks_beside():
    if not SCRIPT.is_file():
        pytest.skip("benchmarks/ not beside the plugin (installed from an sdist)")


def test_study_report_adds_diagnostics_per_cell(tmp_path):
    config = tmp_path / "study.toml"
    config.write_text(
        '[sweep]\nname = "s"\nseeds = [0]\nepochs = 2\ndatasets = ["toy"]\n\n'
        f'[methods."dvae-base"]\nmethod = "dvae"\ndisentangle = false\n{QUICK}\n'
        f"[methods.dvae]\n{QUICK}variants = [{{ gamma = 0.0 }}, {{ gamma = 1.0 }}]\n"
    )
    sweep = tmp_path / "sweep"
    ran = CliRunner().invoke(cli, ["sweep", str(config), "-o", str(sweep), "-j", "1", "-q"])
    assert ran.exit_code == 0, ran.output
    out = tmp_path / "study.md"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(sweep), str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| dvae")]
    diag = [r for r in rows if "| test |" in r]
    assert len(diag) == 3  # dvae-base and the two gamma cells
    for row in diag:
        cells = [c.strip() for c in row.strip("|").split("|")]
        margins = [float(c) for c in cells[-3:]]  # own, seen distance, share closer to own
        assert margins[0] > 0 and margins[1] > 0 and 0 <= margins[2] <= 1
    two_branch = next(r for r in diag if "gamma=1.0" in r)
    assert "-" not in [c.strip() for c in two_branch.strip("|").split("|")][3:]


def test_not_a_sweep_is_one_error_line(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path), str(tmp_path / "x.md")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error:") and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.md").exists()
