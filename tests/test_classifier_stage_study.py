"""benchmarks/classifier_stage_study.py: chooses a refit-stage setting by validation H alone
(mean over validation runs), reproduces each test run's stored H, refuses other parameters."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from zsl_toolkit.methods.f_clswgan import FCLSWGAN

REPO = Path(__file__).resolve().parents[1]
QUICK = {**FCLSWGAN.quick_params, "classifier_epochs": 3}


def _script():
    spec = importlib.util.spec_from_file_location(
        "classifier_stage_study", REPO / "benchmarks" / "classifier_stage_study.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _train(out: Path, protocol: str, seed: int):
    from zsl_toolkit.pipeline import train
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.training import TrainConfig

    config = TrainConfig(device="cpu", quiet=True, epochs=2, seed=seed)
    settings = RunSettings("f-clswgan", "toy", params=QUICK, config=config, protocol=protocol)
    return train(settings, out=out)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("stage")
    return (
        _train(root / "val0", "val", 0).run_dir,
        _train(root / "val1", "val", 1).run_dir,
        _train(root / "test", "test", 0).run_dir,
    )


def test_selects_by_mean_validation_h_and_reproduces_test_runs(runs, tmp_path, capsys):
    val0, val1, test = runs
    out = tmp_path / "report.md"
    argv = [str(val0), str(val1), "--test-run", str(test), "--grid", "n_synthetic=5,20"]
    assert _script().main([*argv, "-o", str(out)]) == 0
    text = out.read_text()
    mean = dict(re.findall(r"^\| n_synthetic=(\d+) \| ([\d.]+) \|$", text, re.M))
    assert set(mean) == {"5", "20"}
    chosen = re.search(r"Selected on validation H: \*\*n_synthetic=(\d+)\*\* \(H ([\d.]+)\)", text)
    assert chosen and chosen.group(1) == max(mean, key=lambda k: float(mean[k]))
    assert chosen.group(2) == mean[chosen.group(1)]
    assert "reproduced" in text and "NOT reproduced" not in text
    assert f"| selected (n_synthetic={chosen.group(1)}) |" in text


def test_refuses_parameters_outside_the_refit_stage_and_test_runs_as_validation(runs, tmp_path):
    val0, _, test = runs
    with pytest.raises(SystemExit, match="KEY one of n_synthetic, classifier_epochs"):
        _script().main([str(val0), "--grid", "cls_weight=0.1", "-o", str(tmp_path / "a.md")])
    assert _script().main([str(test), "--grid", "n_synthetic=5", "-o", str(tmp_path / "b.md")])
    assert not (tmp_path / "a.md").exists() and not (tmp_path / "b.md").exists()
