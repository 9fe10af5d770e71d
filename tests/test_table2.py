"""The Table 2 benchmark: its sweep configs plan every installed method, and the layout script
turns zsl report's report.json into the paper's rows and columns."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from zsl_toolkit.cli import cli
from zsl_toolkit.methods.registry import method_registry

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "benchmarks" / "configs" / "table2"


@pytest.mark.parametrize(
    ("config", "trials"),
    [("generated.toml", 6 * 3), ("real.toml", 4 * 3), ("reduced_digits.toml", 3)],
)
def test_configs_plan_every_method(config, trials, tmp_path):
    result = CliRunner().invoke(
        cli,
        ["sweep", str(CONFIGS / config), "--data-root", str(tmp_path), "-o", str(tmp_path / "o")]
        + ["--dry-run"],
    )
    assert result.exit_code == 0, result.output
    methods = len(method_registry().names())
    assert f"{methods * trials} trials" in result.output


def _cell(method, dataset, h, n=3):
    stat = {"mean": h, "std": 0.01, "n": n}
    return {
        "method": method,
        "method_plugin": method,
        "dataset": dataset,
        "protocol": "test",
        "params": {},
        "n": n,
        "planned": 3,
        "metrics": {"U": stat, "S": stat, "H": stat},
    }


def test_layout_has_one_row_per_method_and_the_published_numbers(tmp_path):
    report = {
        "name": "t",
        "planned": 6,
        "complete": 5,
        "failed": 0,
        "cells": [
            _cell("tf-vaegan", "digits", 0.5),
            _cell("tf-vaegan", "../x/SNU36", 0.25, n=2),
            _cell("eszsl", "digits", 0.125),
            _cell("eszsl", "digits", 0.0, n=0),  # planned in another sweep, not run there
        ],
    }
    (tmp_path / "report.json").write_text(json.dumps(report))
    out = tmp_path / "t2.md"
    subprocess.run(
        [sys.executable, str(REPO / "benchmarks/table2.py"), str(tmp_path), "-o", str(out)],
        check=True,
        capture_output=True,
    )
    lines = out.read_text().splitlines()
    assert "| method | digits U | digits S | digits H | SNU36 U | SNU36 S | SNU36 H |" in lines
    assert (
        "| tf-vaegan | 50.0 ± 1.0 | 50.0 ± 1.0 | 50.0 ± 1.0 | 25.0 ± 1.0 | 25.0 ± 1.0 | 25.0 ± 1.0 (n=2) |"
        in lines
    )
    assert "| eszsl | 12.5 ± 1.0 | 12.5 ± 1.0 | 12.5 ± 1.0 | - | - | - |" in lines
    published = next(line for line in lines if line.startswith("| tf-vaegan (published)"))
    assert "52.8 | 64.7 | 58.1" in published  # CUB, from the method's table
    assert "| eszsl (published) | 12.6 | 63.8 | 21.0 |" in "\n".join(lines)


def test_layout_refuses_a_sweep_without_report(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks/table2.py"),
            str(tmp_path),
            "-o",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and result.stderr.startswith("error:")
    assert not (tmp_path / "x").exists()
