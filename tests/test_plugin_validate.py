"""A plugin's own parameter checks: a ``ValueError``/``TypeError`` raised by its ``validate``
(or ``__init__``) reaches ``zsl train`` and ``zsl sweep`` as one ``error:`` line, and no run
or sweep directory is created for it."""

from __future__ import annotations

from click.testing import CliRunner

from zsl_toolkit.cli import cli

PLUGIN = """
from torch import nn
from zsl_toolkit.methods import Interval, Method


class Strict(Method):
    citation = "test"
    param_constraints = {"width": Interval(int, 1)}

    def __init__(self, *, width: int = 4, depth: int = 2, preprocess: str = "none") -> None:
        self.width = width
        self.depth = depth
        self.preprocess = preprocess

    def validate(self) -> None:
        super().validate()
        if self.depth > self.width:
            raise ValueError(f"depth ({self.depth}) may not exceed width ({self.width})")

    def build(self, spec):
        return nn.Identity()

    def stage(self, index, ctx):
        return None

    def scorer(self):
        return nn.Identity()
"""


def _one_error_line(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def test_plugin_value_error_is_one_line_in_train_and_sweep(fake_distribution, tmp_path):
    fake_distribution(
        "zsl-strict", {"zsl_toolkit.methods": {"strict": "zsl_strict_mod:Strict"}}, PLUGIN
    )
    run = tmp_path / "run"
    result = CliRunner().invoke(
        cli, ["train", "-m", "strict", "-d", "toy", "-p", "depth=9", "-o", str(run), "-q"]
    )
    _one_error_line(result, "depth (9) may not exceed width (4)")
    assert not run.exists()

    sweep_dir = tmp_path / "sweep"
    result = CliRunner().invoke(
        cli,
        ["sweep", "-m", "strict", "-d", "toy", "-p", "depth=1,9", "-o", str(sweep_dir), "-q"],
    )
    _one_error_line(result, "depth=9", "depth (9) may not exceed width (4)")
    assert not sweep_dir.exists()


def test_declared_constraint_is_one_line_in_sweep(fake_distribution, tmp_path):
    fake_distribution(
        "zsl-strict", {"zsl_toolkit.methods": {"strict": "zsl_strict_mod:Strict"}}, PLUGIN
    )
    result = CliRunner().invoke(
        cli, ["sweep", "-m", "strict", "-d", "toy", "-p", "width=0", "-o", str(tmp_path / "s")]
    )
    _one_error_line(result, "parameter width must be an integer >= 1, got 0")
