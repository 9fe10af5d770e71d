"""Balancing: the calibration chosen on validation class folds during training, by default for
datasets without published settings (--balance / --no-balance); recorded in the run record,
repeated by --config run.json and by --resume; the transfer rules; the imbalance notice;
per-class accuracy by class name."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from zsl_toolkit.balance import (
    BALANCE_KEY,
    DECISION_KEY,
    FOLDS,
    REASON_KEY,
    applies,
    class_folds,
    decide,
    profile,
)
from zsl_toolkit.calibration_transfer import (
    choose_gamma,
    cv_choice,
    h_at,
    margin_scale,
    plateau_on_grid,
)
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


def test_balanced_run_is_calibrated_on_validation_folds(balanced):
    record = balanced.record
    assert record.extra[BALANCE_KEY] is True
    assert record.extra[REASON_KEY] == "asked (--balance)"
    decision = record.extra[DECISION_KEY]
    assert read_record(balanced.run_dir).extra[DECISION_KEY] == decision  # in run.json
    assert decision["rule"] == "cv" and len(decision["folds"]) == FOLDS
    scores = decision["leave_one_fold_out_H"]
    assert decision["transfer"] == max(scores, key=scores.get) != "none"  # measured: z-avg
    cal = record.calibration
    assert cal["automatic"] is True and cal["chosen_on"] == "validation"
    assert cal["gamma"] == decision["gamma"] != 0.0
    val_dir = balanced.run_dir / "validation"
    assert json.loads((val_dir / "run.json").read_text())["protocol"] == "val"
    # The stored run applies it: scores of seen classes lowered by exactly gamma.
    run = load_run(balanced.run_dir)
    data = load_run_data(record)
    x = data.features[data.splits["test_seen"][:5]]
    calibrated = run.method.predict_scores(x)
    run.method.calibration_gamma_ = None
    raw = run.method.predict_scores(x)
    seen = list(run.method.spec_.seen_classes)
    assert np.allclose(raw[:, seen] - calibrated[:, seen], cal["gamma"], atol=1e-5)
    metrics = balanced.metrics
    assert "uncalibrated" in metrics and metrics["calibration_gamma"] == cal["gamma"]
    assert json.loads((balanced.run_dir / "metrics.json").read_text())["gzsl"] == metrics["gzsl"]
    # On this set the folds' choice balances the test split too (64.2 -> 80.4 measured).
    assert metrics["gzsl"]["H"] > metrics["uncalibrated"]["gzsl"]["H"]


def test_off_by_default_and_with_no_balance_and_recorded(tmp_path, balanced):
    from zsl_toolkit import balance

    assert balance.BY_DEFAULT is False  # opt-in except for own-image stores
    off = _train(tmp_path / "off")
    assert off.record.calibration is None and not (off.run_dir / "validation").exists()
    assert off.config[BALANCE_KEY] is False and DECISION_KEY not in off.config
    assert off.config[REASON_KEY] == (
        "default: off (opt-in, --balance; on by default for own-image stores)"
    )
    assert off.metrics["gzsl"]["H"] == balanced.metrics["uncalibrated"]["gzsl"]["H"]
    no = _train(tmp_path / "no", balance=False)
    assert no.config[BALANCE_KEY] is False and not (no.run_dir / "validation").exists()
    assert no.config[REASON_KEY] == "switched off (--no-balance)"


def test_where_it_does_not_apply(tmp_path, balanced):
    from zsl_toolkit.data.synthetic import Toy

    assert applies(load_run_data(balanced.record))
    toy = _train(tmp_path / "toy", "toy", balance=True)  # a single validation class
    assert not applies(Toy().load())
    assert toy.record.calibration is None and not (toy.run_dir / "validation").exists()
    assert toy.config[BALANCE_KEY] is False and toy.config[REASON_KEY].startswith("asked, but")
    with pytest.raises(ConfigError, match="--balance"):
        _train(tmp_path / "val", protocol="val", balance=True)
    assert not (tmp_path / "val").exists()
    val = _train(tmp_path / "val2", protocol="val")  # the default never balances under val
    assert BALANCE_KEY not in val.config and not (val.run_dir / "validation").exists()


def test_default_when_on_skips_benchmarks_with_published_settings(monkeypatch):
    from zsl_toolkit import balance
    from zsl_toolkit.data.resolve import load_dataset

    data = load_dataset("synthetic")
    assert decide(None, data, "test") == (
        False,
        "default: off (opt-in, --balance; on by default for own-image stores)",
    )
    monkeypatch.setattr(balance, "BY_DEFAULT", True)
    assert decide(None, data, "test") == (
        True,
        "default: on for datasets without published settings",
    )
    for name, on in (("cub", False), ("AWA2", False), ("cub-synth", True), ("my_store", True)):
        data.name = name
        assert decide(None, data, "test")[0] is on, name
    data.name = "cub"
    assert decide(None, data, "test")[1] == "default: off for cub, which has published settings"
    assert decide(True, data, "test") == (True, "asked (--balance)")
    assert decide(False, data, "test")[0] is False
    assert decide(None, data, "val") == (False, "validation protocol")


def test_a_store_of_own_images_is_balanced_by_default(tmp_path, balanced):
    """A store that records the backbone that extracted it (what `zsl extract` writes) is
    balanced without asking, and gets what --balance gets; --no-balance turns it off."""
    from zsl_toolkit.data.hdf5 import save_h5
    from zsl_toolkit.data.resolve import load_dataset

    data = load_dataset("synthetic")
    data.extra["backbone"] = "efficientnet-lite0"
    store = tmp_path / "synthetic.h5"
    save_h5(data, store)
    assert decide(None, load_dataset(str(store)), "test") == (
        True,
        "default: on for a store of your own images",
    )
    run = _train(tmp_path / "run", str(store))
    assert run.config[BALANCE_KEY] is True
    assert run.record.calibration["gamma"] == balanced.record.calibration["gamma"]
    assert run.metrics["gzsl"] == balanced.metrics["gzsl"]
    off = _train(tmp_path / "off", str(store), balance=False)
    assert off.config[BALANCE_KEY] is False and off.record.calibration is None
    data.extra.pop("backbone")
    assert decide(None, data, "test")[0] is False


def test_class_folds_validate_on_disjoint_seen_classes_only():
    from zsl_toolkit.data.protocol import apply_protocol, fold_problem, validation_classes
    from zsl_toolkit.data.resolve import load_dataset

    data = load_dataset("synthetic")
    folds = class_folds(data)
    assert len(folds) == FOLDS
    train0, val0, _, _ = validation_classes(data)
    assert np.array_equal(folds[0][0], train0) and np.array_equal(folds[0][1], val0)
    vals = [set(v.tolist()) for _, v in folds]
    assert all(len(v) == val0.size for v in vals)
    assert not (vals[0] & vals[1]) and not (vals[0] & vals[2]) and not (vals[1] & vals[2])
    for train, val in folds:
        assert set(train.tolist()) | set(val.tolist()) == set(data.seen_classes.tolist())
    # The first fold is exactly the validation protocol; a fold holding a test class is refused.
    a, b = apply_protocol(data, "val"), fold_problem(data, *folds[0])
    assert np.array_equal(a.features, b.features) and np.array_equal(a.labels, b.labels)
    with pytest.raises(ConfigError, match="seen classes"):
        fold_problem(data, train0, data.unseen_classes[:2])


def test_run_json_as_config_balances_again(balanced, tmp_path):
    from zsl_toolkit.settings import run_settings

    assert read_record(balanced.run_dir).extra[BALANCE_KEY] is True
    again = run_settings(None, None, config_file=balanced.run_dir / "run.json")
    assert again.balance is True
    off = run_settings(None, None, config_file=balanced.run_dir / "run.json", balance=False)
    assert off.balance is False
    unbalanced = _train(tmp_path / "off", balance=False)
    same = run_settings(None, None, config_file=unbalanced.run_dir / "run.json")
    assert same.balance is False  # --no-balance is repeated too
    assert run_settings("eszsl", "synthetic").balance is None  # the default: decided per dataset


def test_resume_of_a_balanced_run_balances(tmp_path, balanced):
    import shutil
    from dataclasses import replace

    from zsl_toolkit.pipeline import resume
    from zsl_toolkit.runs.record import write_record

    run = tmp_path / "resumed"
    shutil.copytree(balanced.run_dir, run)
    shutil.rmtree(run / "validation")
    record = read_record(run).updated(status="running", calibration=None)
    record = replace(record, extra={k: v for k, v in record.extra.items() if k != DECISION_KEY})
    write_record(run, record)
    result = resume(run, quiet=True)
    assert result.record.calibration["gamma"] == balanced.record.calibration["gamma"]
    assert (run / "validation" / "run.json").is_file()
    assert result.metrics["gzsl"] == balanced.metrics["gzsl"]


def test_interrupted_balancing_resumes_from_its_completed_folds(tmp_path, balanced, monkeypatch):
    """Stopped while training the second fold: the message points at the run itself, the
    finished fold is kept and not retrained on resume, and the result equals an uninterrupted
    balanced run."""
    from zsl_toolkit import pipeline
    from zsl_toolkit.errors import TrainingInterrupted

    real = pipeline._fold_run
    calls: list[str] = []

    def stopping(fold_dir, *args, **kwargs):
        calls.append(fold_dir.name)
        if fold_dir.name == "validation-fold-2" and calls.count(fold_dir.name) == 1:
            raise TrainingInterrupted("stopped")
        return real(fold_dir, *args, **kwargs)

    monkeypatch.setattr(pipeline, "_fold_run", stopping)
    run = tmp_path / "run"
    with pytest.raises(TrainingInterrupted) as stop:
        _train(run, balance=True)
    message = str(stop.value)
    assert "fold 2 of 3" in message and f"zsl train --resume {run}" in message
    assert read_record(run / "validation").complete
    assert DECISION_KEY not in read_record(run).extra
    first = (run / "validation" / "model.pt").stat().st_mtime_ns

    result = pipeline.resume(run, quiet=True)
    assert (run / "validation" / "model.pt").stat().st_mtime_ns == first  # reused
    assert all(
        (run / name / "run.json").is_file() for name in ("validation-fold-2", "validation-fold-3")
    )
    assert result.record.calibration["gamma"] == balanced.record.calibration["gamma"]
    assert result.metrics["gzsl"] == balanced.metrics["gzsl"]
    with pytest.raises(Exception, match="already completed"):
        pipeline.resume(run, quiet=True)


def test_calibrate_target_validation_chooses_as_balancing_does(tmp_path, balanced):
    """`zsl calibrate RUN --target validation` on an unbalanced run gives the gamma and the
    metrics a --balance run of the same configuration gets, with the folds kept."""
    from zsl_toolkit.editing import calibrate_run

    plain = _train(tmp_path / "plain")
    assert plain.record.calibration is None
    result = calibrate_run(plain.run_dir, target="validation", out=tmp_path / "cal")
    info = result.record.calibration
    decision = balanced.record.extra[DECISION_KEY]
    assert info["gamma"] == decision["gamma"] != 0.0
    assert info["chosen_on"] == "validation" and info["automatic"] is False
    assert (
        result.record.extra[DECISION_KEY]["leave_one_fold_out_H"]
        == (decision["leave_one_fold_out_H"])
    )
    for name in ("validation", "validation-fold-2", "validation-fold-3"):
        assert read_record(tmp_path / "cal" / name).complete
    assert result.metrics["gzsl"] == balanced.metrics["gzsl"]


def test_plateau_takes_the_middle_of_the_near_best_gammas():
    grid = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    h = np.array([0.5, 0.80, 0.805, 0.80, 0.2])
    assert plateau_on_grid(grid, h) == 2.0
    assert plateau_on_grid(grid, np.array([0.5, 0.9, 0.5, 0.9, 0.2])) == 2.0  # median of 1, 3


def _inputs(scores_seen, scores_unseen, labels_seen, labels_unseen):
    from zsl_toolkit.evaluation.base import EvalInput

    return EvalInput(
        scores_seen=np.asarray(scores_seen, float),
        labels_seen=np.asarray(labels_seen),
        scores_unseen=np.asarray(scores_unseen, float),
        labels_unseen=np.asarray(labels_unseen),
        seen_classes=np.array([0]),
        unseen_classes=np.array([1]),
        class_names=["a", "b"],
    )


def _profile(switch_u, switch_s, margins):
    """A one-seen, one-unseen validation model: unseen samples turn unseen (right) above gamma
    ``switch_u``, seen samples turn unseen (wrong) above ``switch_s``."""
    from zsl_toolkit.evaluation.calibrated import seen_unseen_curve

    inputs = _inputs([[switch_s, 0.0]], [[switch_u, 0.0]], [0], [1])
    return {"curve": seen_unseen_curve(inputs), "inputs": inputs, "margins": np.asarray(margins)}


def test_h_at_is_gzsl_h_with_gamma_taken_from_seen_scores():
    inputs = _inputs([[1.0, 0.0]], [[0.5, 0.0]], [0], [1])
    assert h_at(inputs, 0.0) == 0.0  # the unseen sample goes to the seen class
    assert h_at(inputs, 0.7) == 1.0  # both right
    assert h_at(inputs, 1.5) == 0.0  # the seen sample goes unseen too


def test_margin_units_carry_a_choice_across_score_scales():
    # Two validation models whose scores live on a 10x different scale choose the same point
    # in margin units (switch between 0 and 1 IQR above the median margin).
    small = _profile(0.5, 2.0, margins=[-1.0, 0.0, 1.0, 2.0, 3.0])  # median 1, IQR 2
    large = _profile(5.0, 20.0, margins=[-10.0, 0.0, 10.0, 20.0, 30.0])  # median 10, IQR 20
    final = np.array([0.0, 100.0, 200.0, 300.0, 400.0])  # median 200, IQR 200
    loc, sc = margin_scale(final)
    assert (loc, sc) == (200.0, 200.0)
    z = choose_gamma("z-avg", [small, large], final)
    assert loc + sc * (0.5 - 1) / 2 < z < loc + sc * (2.0 - 1) / 2  # inside the good interval
    raw = choose_gamma("raw-avg", [small, large], final)
    assert raw < 20.0  # raw gammas know nothing of the final model's scale
    assert choose_gamma("none", [small, large], final) == 0.0


def test_leave_one_fold_out_keeps_no_calibration_when_folds_disagree():
    # Each fold needs a gamma the others rule out: carrying any choice over hurts.
    folds = [_profile(-3.0, -2.0, [0.0, 1.0, 2.0]), _profile(2.0, 3.0, [0.0, 1.0, 2.0])]
    assert cv_choice(folds, ("none", "z-avg", "raw-avg")) == "none"
    assert choose_gamma("cv", folds, np.array([0.0, 1.0, 2.0])) == 0.0
    agree = [_profile(0.5, 2.0, [0.0, 1.0, 2.0]), _profile(0.6, 2.5, [0.0, 1.0, 2.0])]
    assert cv_choice(agree, ("none", "z-avg", "raw-avg")) != "none"
    assert 0.6 < choose_gamma("cv", agree, np.array([0.0, 1.0, 2.0])) < 2.0


def test_profile_of_a_trained_model(balanced):
    from zsl_toolkit.data.protocol import apply_protocol

    run = load_run(balanced.run_dir / "validation")
    data = apply_protocol(load_run_data(balanced.record), "val")
    prof = profile(run.method, data)
    assert prof["margins"].shape == (data.splits["trainval"].size,)
    gammas, u, s = prof["curve"]
    assert gammas.shape == u.shape == s.shape
    assert u[0] == 0.0 and s[-1] == pytest.approx(0.0, abs=1e-9)  # all seen; all unseen


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
    kept_none = _record().with_extra(DECISION_KEY, {"gamma": 0.0})
    line = imbalance_notice({"gzsl": {"U": 0.1, "S": 0.9}}, "r", kept_none)
    assert "balancing kept no calibration" in line and "zsl calibrate r --gamma G" in line


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
    assert "balance: calibration gamma" in result.stdout and "3 validation folds" in result.stdout
    assert "--no-balance turns it off" in result.stdout
    assert "uncalibrated:" in result.stdout and "{" not in result.stdout
    off = CliRunner().invoke(cli, [*args, "-q", "--out", str(tmp_path / "off")])
    assert off.exit_code == 0, off.output
    assert "balance" not in off.stdout and "uncalibrated" not in off.stdout
    toy_args = ["train", "-m", "eszsl", "-d", "toy", "-q", "--balance"]
    toy = CliRunner().invoke(cli, [*toy_args, "--out", str(tmp_path / "toy")])
    assert toy.exit_code == 0, toy.output
    assert "balance: not applied (asked, but fewer than 2 validation classes" in toy.stdout
    assert not (tmp_path / "off" / "validation").exists()


def test_balance_with_select_off_the_test_protocol_is_one_error_line(tmp_path):
    args = ["train", "-m", "eszsl", "-d", "synthetic", "--select", "auto", "--balance"]
    result = CliRunner().invoke(cli, [*args, "--protocol", "val", "-q", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert result.output.startswith("error: --balance chooses the calibration")
    assert len(result.output.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_a_selected_run_of_own_images_is_balanced_as_its_choice_trained_alone(tmp_path):
    """--select chooses on validation, then the chosen configuration is balanced exactly as a
    plain run of it is (the own-image default); the candidates are not; --no-balance is off."""
    from zsl_toolkit.data.hdf5 import save_h5
    from zsl_toolkit.data.resolve import load_dataset
    from zsl_toolkit.pipeline import train
    from zsl_toolkit.selection.record import selection_of
    from zsl_toolkit.sweep.select import train_selected

    data = load_dataset("synthetic")
    data.extra["backbone"] = "efficientnet-lite0"
    store = tmp_path / "own.h5"
    save_h5(data, store)
    config = TrainConfig(device="cpu", quiet=True, seed=1)

    def selected(out, **kw):
        settings = RunSettings("eszsl", str(store), {}, config, select="gamma=1,100", **kw)
        return train_selected(settings, out=out)

    run = selected(tmp_path / "sel")
    sel = selection_of(run.record)
    assert sel["status"] == "complete" and sel["balance"] is None
    assert run.config[BALANCE_KEY] is True and DECISION_KEY in run.record.extra
    assert (tmp_path / "sel" / "validation-fold-3" / "run.json").is_file()
    assert not list((tmp_path / "sel" / "selection").glob("trials/*/validation"))
    alone = train(RunSettings("eszsl", str(store), sel["chosen"], config), out=tmp_path / "one")
    assert run.record.calibration["gamma"] == alone.record.calibration["gamma"]
    assert run.metrics["gzsl"] == alone.metrics["gzsl"]

    off = selected(tmp_path / "off", balance=False)
    assert off.config[BALANCE_KEY] is False and off.record.calibration is None
    assert not (tmp_path / "off" / "validation").exists()
