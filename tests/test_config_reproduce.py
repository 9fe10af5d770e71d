"""A ``--config`` file is a complete run spec: it may name the method and dataset, and a run's
own ``run.json`` fed back to ``zsl train --config`` reproduces the run."""

from __future__ import annotations

import json

from click.testing import CliRunner

from zsl_toolkit.cli import cli


def zsl(*args) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args])


def read(path) -> dict:
    return json.loads(path.read_text())


def test_train_from_run_json_reproduces_the_run(tmp_path):
    first, again = tmp_path / "first", tmp_path / "again"
    result = zsl(
        "train", "-m", "devise", "-d", "toy", "-p", "lr=0.01", "--seed", "3", "--epochs", "2",
        "--batch-size", "16", "--protocol", "val", "-e", "gzsl", "-e", "zsl", "-q", "-o", first,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    result = zsl("train", "--config", first / "run.json", "-q", "-o", again)
    assert result.exit_code == 0, result.output
    a, b = read(first / "run.json"), read(again / "run.json")
    for key in ("method", "dataset", "params", "resolved_params", "train", "protocol"):
        assert a[key] == b[key], key
    assert b["evaluators"] == ["gzsl", "zsl"]
    ma, mb = read(first / "metrics.json"), read(again / "metrics.json")
    ma.pop("train_seconds"), mb.pop("train_seconds")
    assert set(ma) == {"gzsl", "zsl"} and ma == mb


def test_toml_config_names_method_and_dataset(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('method = "eszsl"\ndataset = "toy"\nseed = 1\n[params]\ngamma = 10\n')
    out = tmp_path / "r"
    result = zsl("train", "--config", cfg, "-q", "-o", out)
    assert result.exit_code == 0, result.output
    record = read(out / "run.json")
    assert (record["method"], record["dataset"], record["params"]["gamma"]) == (
        "eszsl",
        "toy",
        10.0,
    )
    # Options still override the file.
    result = zsl("train", "--config", cfg, "-d", "digits", "-q", "-o", tmp_path / "r2")
    assert result.exit_code == 0, result.output
    assert read(tmp_path / "r2" / "run.json")["dataset"] == "digits"


def test_config_without_method_is_one_error_line(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("seed = 1\n")
    result = zsl("train", "--config", cfg, "-d", "toy")
    assert result.exit_code == 2
    assert result.output.startswith("error: zsl train needs --method") and "c.toml" in result.output
    cfg.write_text("method = 3\n")
    result = zsl("train", "--config", cfg, "-d", "toy")
    assert result.exit_code == 2 and "'method' must be a name" in result.output
