"""--balance: calibration chosen on the validation protocol during training, off by default;
recorded in the run record, repeated by --config run.json and by --resume; the imbalance
notice; per-class accuracy by class name."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from zsl_toolkit.balance import BALANCE_KEY, applies, plateau_gamma, validation_calibration
from zsl_toolkit.cli import cli
from zsl_toolkit.errors import ConfigError
from zsl_toolkit.notices import imbalance_notice
from zsl_toolkit.runs.dataset import DatasetRef
from zsl_toolkit.runs.load import load_run, load_run_data
from zsl_toolkit.runs.record import RunRecord, read_record
from zsl_toolkit.settings import RunSettings
from zsl_toolkit.training import TrainConfig

ESZSL = {"gamma": 100.0}


def _settings(dataset="synthetic", **kw):
    config = TrainConfig(device="cpu", quiet=True, seed=1)
    return RunSettings("eszsl", dataset, dict(ESZSL), config, **kw)


def _train(out, dataset="synthetic", **kw):
    from zsl_toolkit.pipeline import train

    return train(_settings(dataset, **kw), out=out)


def _record(**kw):
    return RunRecord("eszsl", {}, DatasetRef("toy"), **kw)


@pytest.fixture(scope="module")
def balanced(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("bal") / "run", balance=True)


def test_balanced_run_is_calibrated_on_its_validation_run(balanced):
    cal = balanced.record.calibration
    assert read_record(balanced.run_dir).calibration == cal  # recorded in run.json
    assert cal["automatic"] is True and cal["chosen_on"] == "validation"
    val_dir = balanced.run_dir / "validation"
    assert json.loads((val_dir / "run.json").read_text())["protocol"] == "val"
    assert validation_calibration(val_dir)["gamma"] == cal["gamma"]  # chosen there, not on test
    # The stored run applies it: scores of seen classes lowered by exactly gamma.
    run = load_run(balanced.run_dir)
    data = load_run_data(balanced.record)
    x = data.features[data.splits["test_seen"][:5]]
    calibrated = run.method.predict_scores(x)
    run.method.calibration_gamma_ = None
    raw = run.method.predict_scores(x)
    seen = list(run.method.spec_.seen_classes)
    assert np.allclose(raw[:, seen] - calibrated[:, seen], cal["gamma"], atol=1e-5)
    metrics = balanced.metrics
    assert "uncalibrated" in metrics and metrics["calibration_gamma"] == cal["gamma"]
    # On this set the validation gamma balances the test split too (64.2 -> 78.2 measured).
    assert metrics["gzsl"]["H"] > metrics["uncalibrated"]["gzsl"]["H"]


def test_off_by_default_and_where_it_does_not_apply(tmp_path, balanced):
    off = _train(tmp_path / "off")
    assert off.record.calibration is None and not (off.run_dir / "validation").exists()
    assert BALANCE_KEY not in off.config
    assert off.metrics["gzsl"]["H"] == balanced.metrics["uncalibrated"]["gzsl"]["H"]
    assert applies(load_run_data(balanced.record))
    from zsl_toolkit.data.synthetic import Toy

    toy = _train(tmp_path / "toy", "toy", balance=True)  # a single validation class
    assert not applies(Toy().load())
    assert toy.record.calibration is None and not (toy.run_dir / "validation").exists()
    with pytest.raises(ConfigError, match="--balance"):
        _train(tmp_path / "val", protocol="val", balance=True)
    assert not (tmp_path / "val").exists()


def test_run_json_as_config_balances_again(balanced):
    from zsl_toolkit.settings import run_settings

    assert read_record(balanced.run_dir).extra[BALANCE_KEY] is True
    again = run_settings(None, None, config_file=balanced.run_dir / "run.json")
    assert again.balance is True
    off = run_settings(None, None, config_file=balanced.run_dir / "run.json", balance=False)
    assert off.balance is False


def test_resume_of_a_balanced_run_balances(tmp_path, balanced):
    import shutil

    from zsl_toolkit.pipeline import resume
    from zsl_toolkit.runs.record import write_record

    run = tmp_path / "resumed"
    shutil.copytree(balanced.run_dir, run)
    shutil.rmtree(run / "validation")
    record = read_record(run).updated(status="running", calibration=None)
    write_record(run, record)
    result = resume(run, quiet=True)
    assert result.record.calibration["gamma"] == balanced.record.calibration["gamma"]
    assert (run / "validation" / "run.json").is_file()
    assert result.metrics["gzsl"] == balanced.metrics["gzsl"]


def test_plateau_gamma_takes_the_middle_of_the_near_best_gammas():
    gammas = np.array([-np.inf, 0.0, 1.0, 2.0, 3.0, 4.0])
    u = np.array([0.0, 0.5, 0.80, 0.81, 0.80, 0.9])
    s = np.array([1.0, 0.9, 0.80, 0.80, 0.81, 0.1])
    gamma, h = plateau_gamma(gammas, u, s)
    assert gamma == 2.0 and h == pytest.approx(2 * 0.81 * 0.8 / 1.61)


def test_calibrate_replaces_an_automatic_gamma(balanced, tmp_path):
    from zsl_toolkit.editing import calibrate_run

    new = calibrate_run(balanced.run_dir, gamma=0.05, out=tmp_path / "cal")
    assert new.record.calibration == {"gamma": 0.05, "chosen_on": "given"}


def test_imbalance_notice():
    line = imbalance_notice({"gzsl": {"U": 0.138, "S": 0.906}}, "runs/r", _record())
    assert line.startswith("notice: U 13.8% and S 90.6% differ by more than 2x")
    assert "favour seen classes" in line and "zsl calibrate runs/r --target validation" in line
    assert "--balance" in line
    assert imbalance_notice({"gzsl": {"U": 0.5, "S": 0.9}}, "r", _record()) is None
    auto = _record(calibration={"automatic": True, "chosen_on": "validation", "gamma": 1.0})
    line = imbalance_notice({"gzsl": {"U": 0.9, "S": 0.3}}, "r", auto)
    assert "favour unseen classes" in line and "zsl evaluate r --per-class" in line


def test_per_class_accuracy_by_name_in_metrics_and_evaluate(balanced):
    data = load_run_data(balanced.record)
    per_class = balanced.metrics["gzsl"]["per_class"]
    assert set(per_class) == {data.class_names[int(c)] for c in np.unique(data.labels)}
    result = CliRunner().invoke(cli, ["evaluate", str(balanced.run_dir), "--per-class"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("class "))
    table = lines[header + 1 :]
    assert len(table) == len(per_class)
    for row in table:
        name, split, acc = row.split()
        assert float(acc.rstrip("%")) == pytest.approx(100 * per_class[name], abs=0.006)
        assert split == ("seen" if data.class_names.index(name) in data.seen_classes else "unseen")


def test_zsl_train_prints_the_balance_and_both_sets_of_numbers(tmp_path):
    out = tmp_path / "cli"
    args = ["train", "-m", "eszsl", "-d", "synthetic", "-p", "gamma=100", "--seed", "1"]
    result = CliRunner().invoke(cli, [*args, "-q", "--balance", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "balanced on the validation protocol: calibration gamma" in result.stdout
    assert "uncalibrated:" in result.stdout and "{" not in result.stdout
    off = CliRunner().invoke(cli, [*args, "-q", "--out", str(tmp_path / "off")])
    assert off.exit_code == 0 and "balanced" not in off.stdout and "uncalibrated" not in off.stdout
    assert not (tmp_path / "off" / "validation").exists()


def test_balance_with_select_is_one_error_line(tmp_path):
    args = ["train", "-m", "eszsl", "-d", "synthetic", "--select", "auto", "--balance"]
    result = CliRunner().invoke(cli, [*args, "-q", "--out", str(tmp_path / "s")])
    assert result.exit_code != 0
    assert result.output.startswith("error: --select with --balance")
    assert not (tmp_path / "s").exists()
