"""The committed benchmark sweep configs stay valid (dry run: validated, nothing started)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from zsl_toolkit.cli import cli

REPO = Path(__file__).resolve().parents[1]


def test_paper_config_plans_the_papers_protocol(tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            "sweep",
            str(REPO / "benchmarks/configs/paper.toml"),
            "--data-root",
            str(tmp_path),
            "-o",
            str(tmp_path / "out"),
            "--dry-run",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "72 trials" in result.output  # 6 method rows x 4 datasets x 3 seeds
    assert not (tmp_path / "out").exists()


def test_baselines_config_is_valid(tmp_path, monkeypatch):
    if not (REPO.parent / "shared" / "data" / "xlsa17" / "SNU36").is_dir():
        pytest.skip("SNU36 not present beside the repository")
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(
        cli,
        ["sweep", "benchmarks/configs/baselines.toml", "-o", str(tmp_path / "out"), "--dry-run"],
    )
    assert result.exit_code == 0, result.output
    assert "trials (dry run" in result.output


FAMILY = sorted((REPO / "benchmarks/configs/dvae_family").glob("*.toml"))


@pytest.mark.parametrize("config", FAMILY, ids=[p.stem for p in FAMILY])
def test_dvae_family_configs_are_valid_and_each_in_the_study_script(config, tmp_path, monkeypatch):
    """Every family sweep validates, and ``run_dvae_family.sh`` runs it (a config left out of
    the script would be a study nobody regenerates)."""
    if not (REPO.parent / "shared" / "data" / "xlsa17" / "SNU36").is_dir():
        pytest.skip("../shared/data/xlsa17 not present beside the repository")
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(cli, ["sweep", str(config), "-o", str(tmp_path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "trials (dry run: nothing started)" in result.output
    script = (REPO / "benchmarks/run_dvae_family.sh").read_text()
    listed = "(" + script.split("configs=(", 1)[1].split("done", 1)[0]
    assert re.search(rf"[( ]{config.stem}[ )\n]", listed), f"{config.stem} not in the script"
