"""Exporters declare their options; ``zsl export`` parses and checks them without knowing the
format, so a new exporter option needs no change to the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from zsl_toolkit.cli import cli
from zsl_toolkit.errors import ConfigError
from zsl_toolkit.export import Exporter, ExporterOption

RECORDING_EXPORTER = """import json
from pathlib import Path
from typing import ClassVar

from zsl_toolkit.export import Exporter, ExporterOption


class Recording(Exporter):
    suffix: ClassVar[str] = ".json"
    options: ClassVar[tuple] = (
        ExporterOption("backbone", str, "image backbone", "resnet101"),
        ExporterOption("weights", str, "weights file"),
        ExporterOption("batch", int, "rows per step", 8),
        ExporterOption("half", bool, "float16", False),
    )

    def export(self, run, output, options):
        Path(output).write_text(json.dumps({"method": run.config["method"], **options}))
        return Path(output)
"""


class Declared(Exporter):
    options = (ExporterOption("opset", int), ExporterOption("scale", float, default=1.0))

    def export(self, run, output, options):  # pragma: no cover - not called
        raise NotImplementedError


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "run"
    result = run("train", "-m", "eszsl", "-d", "toy", "-o", out, "-q")
    assert result.exit_code == 0, result.output
    return out


def test_check_options_converts_fills_defaults_and_names_the_valid_ones():
    assert Declared.check_options({"opset": "17"}) == {"opset": 17, "scale": 1.0}
    assert Declared.check_options({"scale": 2, "data_root": "/d"})["scale"] == 2.0
    with pytest.raises(ConfigError, match="opset must be an integer, got 'x'"):
        Declared.check_options({"opset": "x"})
    with pytest.raises(ConfigError, match=r"unknown fmt exporter option\(s\) colour; valid: "):
        Declared.check_options({"colour": "red"}, "fmt")


def test_declared_options_reach_the_exporter_from_flags(fake_distribution, run_dir, tmp_path):
    fake_distribution(
        "zsl-rec", {"zsl_toolkit.exporters": {"rec": "zsl_rec_mod:Recording"}}, RECORDING_EXPORTER
    )
    target = tmp_path / "out.json"
    result = run(
        "export", run_dir, "--format", "rec", "-o", target,
        "--backbone", "vit", "--weights=w.pt", "--half", "--option", "batch=3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    got = json.loads(target.read_text())
    assert got == {
        "method": "eszsl",
        "backbone": "vit",
        "weights": "w.pt",
        "batch": 3,
        "half": True,
    }


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--colour", "red"], "unexpected option --colour (valid: --option KEY=VALUE, --backbone"),
        (["stray"], "unexpected argument 'stray'"),
        (["--batch", "many"], "batch must be an integer, got 'many'"),
        (["--weights"], "--weights needs a value"),
        (["--option", "depth=3"], "unknown rec exporter option(s) depth; valid: backbone,"),
    ],
)
def test_bad_exporter_options_are_one_line_errors(
    fake_distribution, run_dir, tmp_path, extra, fragment
):
    fake_distribution(
        "zsl-rec", {"zsl_toolkit.exporters": {"rec": "zsl_rec_mod:Recording"}}, RECORDING_EXPORTER
    )
    result = run("export", run_dir, "--format", "rec", "-o", tmp_path / "out.json", *extra)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert lines[0].startswith("error: ") and fragment in lines[0], lines[0]
    assert not (tmp_path / "out.json").exists()
