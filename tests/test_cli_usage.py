"""What a new user trips over on the command line: click's usage errors as the one documented
``error:`` line, a silent overwrite, silently ignored options, a late-validated option and a
sweep ``--param`` that does not say which method lacks it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from zsl_toolkit.cli import cli
from zsl_toolkit.errors import ConfigError
from zsl_toolkit.sweep import config_from_options, plan_trials


def zsl(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--bogus"], ["No such option", "--bogus", "--help)"]),
        (["train", "--bogus"], [" train: ", "--bogus", "train --help)"]),
        (["train", "--epochs", "-1"], [" train: ", "--epochs"]),
        (["export", "somewhere"], [" export: ", "--format"]),
        (["data", "info"], [" data info: ", "DATASET"]),
        (["sweep", "--executor", "slurm"], [" sweep: ", "slurm"]),
    ],
)
def test_usage_errors_are_one_error_line_with_exit_code_2(args, fragments):
    result = zsl(*args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def test_convert_refuses_an_existing_file_unless_forced(tmp_path):
    store = tmp_path / "toy.h5"
    store.write_bytes(b"keep me")
    result = zsl("data", "convert", "toy", store)
    assert result.exit_code == 2 and result.output.startswith("error: "), result.output
    assert "already exists" in result.output and "--force" in result.output
    assert store.read_bytes() == b"keep me"
    result = zsl("data", "convert", "toy", store, "--force")
    assert result.exit_code == 0, result.output
    assert store.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"


def test_epochs_on_a_closed_form_method_gets_a_notice(tmp_path):
    result = zsl("train", "-m", "eszsl", "-d", "toy", "--epochs", "3", "-q", "-o", tmp_path / "r")
    assert result.exit_code == 0, result.output
    assert "notice: --epochs had no effect: ESZSL has no mini-batch training stage" in (
        result.output
    )
    plain = zsl("train", "-m", "eszsl", "-d", "toy", "-q", "-o", tmp_path / "r2")
    assert "--epochs had no effect" not in plain.output


def test_sweep_param_names_the_method_that_lacks_it():
    with pytest.raises(ConfigError, match=r"--method devise: .*'gamma' is not a parameter"):
        config_from_options(["eszsl", "devise"], ["toy"], (0,), ["gamma=1,10"])
    with pytest.raises(ConfigError, match="'ale' is not one of the sweep's methods"):
        config_from_options(["eszsl", "devise"], ["toy"], (0,), ["ale.lr=1"])


def test_sweep_method_dot_param_applies_to_that_method_only():
    cfg = config_from_options(["eszsl", "devise"], ["toy"], (0,), ["eszsl.gamma=1,10"])
    trials = plan_trials(cfg)
    by_method = sorted((t.label, t.params.get("gamma")) for t in trials)
    assert by_method == [("devise", None), ("eszsl", 1.0), ("eszsl", 10.0)]
