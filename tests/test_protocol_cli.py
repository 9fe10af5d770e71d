"""The validation protocol through the command line: zsl train/evaluate, sweeps with a protocol
axis, and the report's selection on validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from zsl_toolkit.cli import cli
from zsl_toolkit.sweep import plan_trials
from zsl_toolkit.sweep.config import config_from_options, parse_sweep_config


def zsl(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def read(path: Path):
    return json.loads(Path(path).read_text())


def test_train_and_evaluate_under_val(tmp_path):
    out = tmp_path / "run"
    result = zsl("train", "-m", "eszsl", "-d", "synthetic", "--protocol", "val", "-o", out, "-q")
    assert result.exit_code == 0, result.output
    record = read(out / "run.json")
    assert record["protocol"] == "val"
    assert record["dataset"] == "synthetic"
    summary = record["data_summary"]
    # synthetic: 30 seen / 10 unseen; under val: 24 train classes, 6 validation, 10 withheld.
    assert summary["name"] == "synthetic"
    assert (summary["classes"], summary["seen_classes"], summary["unseen_classes"]) == (30, 24, 6)
    assert record["spec"]["n_classes"] == 30  # the model never had the test classes
    # Re-evaluation uses the run's protocol and reproduces the stored metrics exactly.
    again = zsl("evaluate", out, "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["gzsl"] == read(out / "metrics.json")["gzsl"]
    # The same method under the test protocol is a different problem with other numbers.
    test_out = tmp_path / "test"
    assert zsl("train", "-m", "eszsl", "-d", "synthetic", "-o", test_out, "-q").exit_code == 0
    assert read(test_out / "run.json")["protocol"] == "test"
    assert read(test_out / "run.json")["data_summary"]["classes"] == 40
    assert read(test_out / "metrics.json")["gzsl"]["H"] != read(out / "metrics.json")["gzsl"]["H"]


def test_protocol_from_config_file_and_bad_values(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('protocol = "val"\n[params]\ngamma = 1.0\n')
    out = tmp_path / "run"
    result = zsl("train", "-m", "eszsl", "-d", "toy", "--config", cfg, "-o", out, "-q")
    assert result.exit_code == 0, result.output
    assert read(out / "run.json")["protocol"] == "val"
    cfg.write_text('protocol = "dev"\n')
    bad = tmp_path / "bad"
    result = zsl("train", "-m", "eszsl", "-d", "toy", "--config", cfg, "-o", bad, "-q")
    assert result.exit_code != 0
    assert result.output.strip().splitlines() == [
        f"error: {cfg}: protocol: expected one of test, val, inner, got 'dev'"
    ]
    assert not bad.exists()
    result = zsl("train", "-m", "eszsl", "-d", "toy", "--protocol", "dev", "-o", bad)
    assert result.exit_code != 0 and "'dev' is not one of 'test', 'val', 'inner'" in result.output
    assert not bad.exists()


def test_sweep_protocol_key_is_an_axis_and_test_ids_are_unchanged():
    text = (
        '[sweep]\nseeds = [0]\nprotocol = ["val", "test"]\ndatasets = ["toy"]\n'
        "[methods.eszsl]\ngamma = [1.0, 10.0]\n"
    )
    both = plan_trials(parse_sweep_config(text))
    assert len(both) == 4
    assert [t.config.get("protocol", "test") for t in both] == ["val", "val", "test", "test"]
    plain = plan_trials(parse_sweep_config(text.replace('protocol = ["val", "test"]\n', "")))
    assert [t.id for t in plain] == [t.id for t in both[2:]]  # older sweeps still resume
    with pytest.raises(Exception, match=r"\[sweep\] protocol: expected one of test, val"):
        parse_sweep_config(text.replace('"val", "test"', '"val", "holdout"'))
    with pytest.raises(Exception, match="listed more than once"):
        parse_sweep_config(text.replace('"val", "test"', '"val", "val"'))
    quick = config_from_options(["eszsl"], ["toy"], (0,), protocols=("val",))
    assert [t.config["protocol"] for t in plan_trials(quick)] == ["val"]


def test_sweep_report_selects_on_validation(tmp_path):
    out = tmp_path / "sweep"
    gammas = "0.001,1,1000"
    result = zsl(
        "sweep", "-m", "eszsl", "-d", "synthetic", "-p", f"gamma={gammas}",
        "--seeds", "0,1", "--protocol", "val,test", "-o", out, "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = read(out / "report.json")
    cells = report["cells"]
    assert len(cells) == 6 and {c["protocol"] for c in cells} == {"val", "test"}
    val_cells = [c for c in cells if c["protocol"] == "val"]
    best = max(val_cells, key=lambda c: c["metrics"]["H"]["mean"])
    (sel,) = report["selected_on_validation"]
    assert sel["params"] == best["params"] and sel["candidates"] == 3
    assert cells[sel["validation_cell"]] == best
    test_cell = cells[sel["test_cell"]]
    assert test_cell["protocol"] == "test" and test_cell["params"] == best["params"]
    assert sel["test"]["H"] == test_cell["metrics"]["H"] and test_cell["n"] == 2
    # The validation numbers are the validation runs' own: check one against its run files.
    run = out / "trials" / best["trials"][0]
    assert read(run / "run.json")["protocol"] == "val"
    h = [read(out / "trials" / t / "metrics.json")["gzsl"]["H"] for t in best["trials"]]
    assert sel["validation_H"]["mean"] == pytest.approx(sum(h) / len(h))
    md = (out / "report.md").read_text()
    assert "## Selected on validation" in md
    row = next(line for line in md.splitlines() if line.startswith("| eszsl | synthetic | gamma="))
    assert f"gamma={best['params']['gamma']}" in row
    assert f"{100 * test_cell['metrics']['H']['mean']:.2f}" in row
    csv_lines = (out / "report.csv").read_text().splitlines()
    assert "protocol,selected_on_val" in csv_lines[0]
    assert sum(",True," in line for line in csv_lines[1:]) == 2  # the chosen val + test cells
    # zsl report rewrites the same selection.
    again = zsl("report", out)
    assert again.exit_code == 0 and "## Selected on validation" in again.output
