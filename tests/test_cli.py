"""The CLI through Click's runner: help, list, train/evaluate round trip, user errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from zsl_toolkit.cli import cli

COMMANDS = [
    [],
    ["list"],
    ["train"],
    ["evaluate"],
    ["export"],
    ["data"],
    ["data", "info"],
    ["data", "convert"],
]


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def assert_user_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    for f in fragments:
        assert f in lines[0], (f, lines[0])


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "zsl")
def test_help_for_every_command(cmd):
    result = run(*cmd, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output


def test_list_shows_groups_distribution_and_version():
    out = run("list").output
    for group in ("methods:", "datasets:", "evaluators:", "exporters:"):
        assert group in out
    assert "eszsl" in out and "zsl-toolkit 0.1.0" in out


def test_verbose_list_shows_descriptions_and_exporter_options():
    out = run("list", "--verbose").output
    assert "sklearn 8x8 handwritten digits" in out  # a dataset's description
    assert "U, S, H with argmax over all classes" in out  # an evaluator's
    assert "Romera-Paredes" in out  # a method's citation
    assert "--opset INT" in out  # an exporter's declared option


def test_train_then_evaluate_reproduces_metrics(tmp_path):
    out = tmp_path / "run"
    result = run("train", "-m", "eszsl", "-d", "toy", "--seed", "3", "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    for key in ("U=", "S=", "H=", "T1=", "AUSUC="):
        assert key in result.output
    stored = json.loads((out / "metrics.json").read_text())
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "complete" and record["method"] == "eszsl"
    assert record["train"]["seed"] == 3 and "torch" in record["versions"]
    for ev in ("gzsl", "zsl", "calibrated"):
        assert isinstance(stored[ev]["T1" if ev == "zsl" else "H"], float)
    again = run("evaluate", str(out), "--json")
    assert again.exit_code == 0, again.output
    fresh = json.loads(again.output)
    for ev in ("gzsl", "zsl", "calibrated"):
        assert fresh[ev] == stored[ev]


def test_param_and_config_file(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("seed = 1\n[params]\ngamma = 10\n")
    out = tmp_path / "run"
    result = run(
        "train", "-m", "eszsl", "-d", "toy", "--config", str(cfg), "-p", "lam=0.5", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    record = json.loads((out / "run.json").read_text())
    assert record["params"]["gamma"] == 10.0 and record["params"]["lam"] == 0.5
    assert record["train"]["seed"] == 1


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["train", "-m", "nope", "-d", "toy"], ["unknown method 'nope'", "eszsl"]),
        (["train", "-m", "eszsl", "-d", "nope"], ["unknown dataset 'nope'", "toy"]),
        (["train", "-m", "eszsl", "-d", "toy", "-e", "nope"], ["unknown evaluator 'nope'", "gzsl"]),
        (["train", "-m", "eszsl", "-d", "toy", "-p", "gamma"], ["not of the form key=value"]),
        (
            ["train", "-m", "eszsl", "-d", "toy", "-p", "gama=1"],
            ["'gama'", "valid: gamma, lam, preprocess"],
        ),
        (
            ["train", "-m", "eszsl", "-d", "toy", "-p", "gamma=abc"],
            ["gamma=abc", "expected a number"],
        ),
        (
            ["train", "-m", "eszsl", "-d", "toy", "-p", "preprocess=zscore"],
            ["preprocess must be one of"],
        ),
        (["train", "-m", "eszsl", "-d", "toy", "--device", "tpu"], ["--device must be"]),
        (["train", "-m", "eszsl", "-d", "cub"], ["needs a data root", "res101.mat", "xlsa17"]),
    ],
)
def test_user_errors_are_one_line_and_leave_nothing(tmp_path, args, fragments):
    out = tmp_path / "run"
    result = run(*args, "--out", str(out), "-q")
    assert_user_error(result, *fragments)
    assert not out.exists()


def test_cuda_requested_without_gpu(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    out = tmp_path / "run"
    assert_user_error(
        run("train", "-m", "eszsl", "-d", "toy", "--device", "cuda", "-o", str(out)),
        "CUDA is not available",
    )
    assert not out.exists()


def test_bad_config_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("seed = = 1\n")
    assert_user_error(
        run("train", "-m", "eszsl", "-d", "toy", "--config", str(bad)), "bad.toml", "malformed"
    )
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[params]\nalpha = 1\n")
    assert_user_error(run("train", "-m", "eszsl", "-d", "toy", "--config", str(unknown)), "'alpha'")
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[params]\ngamma = "big"\n')
    assert_user_error(
        run("train", "-m", "eszsl", "-d", "toy", "--config", str(wrong)), "'gamma' must be a number"
    )


def test_evaluate_rejects_a_folder_that_is_not_a_run(tmp_path):
    assert_user_error(run("evaluate", str(tmp_path)), "is not a run directory")
    (tmp_path / "run.json").write_text("{not json")
    assert_user_error(run("evaluate", str(tmp_path)), "unreadable run record")


def test_evaluate_rejects_incomplete_run(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"status": "running", "method": "eszsl"}))
    assert_user_error(run("evaluate", str(tmp_path)), "did not complete")


def test_existing_output_directory_is_refused(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    assert_user_error(
        run("train", "-m", "eszsl", "-d", "toy", "-o", str(tmp_path)), "already exists"
    )
    assert (tmp_path / "keep.txt").read_text() == "x"


def test_export_with_unknown_format(tmp_path):
    out = tmp_path / "run"
    assert run("train", "-m", "eszsl", "-d", "toy", "-o", str(out), "-q").exit_code == 0
    assert_user_error(run("export", str(out), "--format", "nope"), "unknown exporter 'nope'")


def test_data_info_on_builtin():
    result = run("data", "info", "synthetic")
    assert result.exit_code == 0, result.output
    assert "40 (30 seen, 10 unseen)" in result.output and "256-d" in result.output


def test_module_entry_point():
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "zsl_toolkit", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "Usage:" in proc.stdout


@pytest.mark.parametrize("args", [["--help"], ["list"]])
def test_startup_commands_do_not_import_heavy_modules(args):
    import subprocess
    import sys

    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom zsl_toolkit.cli import cli\n"
        f"r = CliRunner().invoke(cli, {args!r})\nassert r.exit_code == 0, r.output\n"
        "heavy = sorted(m for m in ('torch', 'scipy', 'h5py', 'numpy', 'sklearn') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"imported at start-up: {proc.stdout.strip()}"
