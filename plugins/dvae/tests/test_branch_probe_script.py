"""benchmarks/dvae_branch_probe.py: what each visual branch of trained runs carries about
classes (nearest-class-mean probes, between-class share of variance)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from zsl_toolkit.cli import cli

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "benchmarks" / "dvae_branch_probe.py"
QUICK = "hidden_scale = 0.05\nseen_samples = 20\nunseen_samples = 20\nclassifier_epochs = 2\n"


@pytest.fixture(autouse=True)
def _benchmarks_beside():
    if not SCRIPT.is_file():
        pytest.skip("benchmarks/ not beside the plugin (installed from an sdist)")


def _module():
    spec = importlib.util.spec_from_file_location("dvae_branch_probe", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_class_code_and_pure_noise_at_the_two_ends():
    probe = _module()
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(5), 40)
    code = rng.normal(size=(5, 8))[y]  # a function of the class only
    noise = rng.normal(size=(200, 8))
    assert probe.between_share(code, y) == pytest.approx(1.0)
    assert probe.halves_probe(code, y) == 100.0
    assert probe.between_share(noise, y) < 0.1
    assert probe.halves_probe(noise, y) < 45.0  # chance is 20
    mixed = code + 0.3 * noise
    assert 0.5 < probe.between_share(mixed, y) < 1.0


def test_rows_are_recognised_by_their_parameters_only_at_other_defaults():
    probe = _module()
    base = {"disentangle": False, "attribute_dispersing": True, "gamma": None}
    paper = {"disentangle": True, "attribute_dispersing": True, "gamma": None}
    assert probe.row_of(base) == "base" and probe.row_of(paper) == "paper"
    assert probe.row_of({**paper, "gamma": 0.0}) == "paper-g0"
    assert probe.row_of({**paper, "classifier_latent": "t+p"}) is None
    assert probe.row_of({**paper, "sc_anchors": True}) is None


def test_report_from_a_sweep(tmp_path):
    config = tmp_path / "val.toml"
    config.write_text(
        '[sweep]\nname = "p"\nseeds = [0]\nepochs = 2\nprotocol = "val"\n'
        'datasets = ["synthetic"]\n\n'
        f'[methods.base]\nmethod = "dvae"\ndisentangle = false\n{QUICK}\n'
        f'[methods.paper]\nmethod = "dvae"\nattribute_dispersing = true\n{QUICK}'
    )
    out = tmp_path / "sweep"
    ran = CliRunner().invoke(cli, ["sweep", str(config), "-o", str(out), "-j", "1", "-q"])
    assert ran.exit_code == 0, ran.output
    md = tmp_path / "branches.md"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(out), "--output", str(md)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    rows = {
        line.split(" | ")[1]: line.strip("| \n").split(" | ")
        for line in md.read_text().splitlines()
        if line.startswith("| synthetic |")
    }
    assert set(rows) == {"base", "paper"}
    assert rows["base"][4] != "-" and rows["base"][5] == "-"  # one latent: no z_p
    assert all(0.0 <= float(v) <= 100.0 for v in rows["paper"][4:7])
    trial = next(p for p in (out / "trials").iterdir() if "disentangle=false" in p.name)
    h = 100 * json.loads((trial / "metrics.json").read_text())["gzsl"]["H"]
    assert rows["base"][2] == f"{h:.1f}"


def test_no_known_rows_is_an_error(tmp_path):
    (tmp_path / "trials").mkdir()
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path), "--output", str(tmp_path / "x.md")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "no validation-protocol runs" in done.stderr
    assert not (tmp_path / "x.md").exists()
