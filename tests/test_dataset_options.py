"""``--dataset-option key=value``: keyword arguments of a registered dataset's constructor,
typed by its annotations, recorded in run.json and used again by ``zsl evaluate`` and
``zsl train --config run.json``."""

from __future__ import annotations

import json

from click.testing import CliRunner

from zsl_toolkit.cli import cli

PLUGIN = """
import dataclasses

from zsl_toolkit.data.synthetic import Toy, generate


class Sized(Toy):
    description = "toy with a choice of samples per class"

    def __init__(self, *, per_class: int = 20, seed_name: str = "sized") -> None:
        if per_class < 2:
            raise ValueError(f"per_class must be at least 2, got {per_class}")
        self.per_class = per_class
        self.seed_name = seed_name

    def load(self, data_root=None):
        spec = dataclasses.replace(self.spec, samples_per_class=self.per_class)
        return generate(spec, self.seed_name)
"""


def zsl(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_error(result, *fragments):
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (
        result.output
    )
    for f in fragments:
        assert f in lines[0], (f, lines[0])


def test_dataset_options_reach_the_constructor_and_the_run(fake_distribution, tmp_path):
    fake_distribution(
        "zsl-sized", {"zsl_toolkit.datasets": {"sized": "zsl_sized_mod:Sized"}}, PLUGIN
    )
    info = json.loads(
        zsl("data", "info", "sized", "--dataset-option", "per_class=30", "--json").output
    )
    assert info["samples"] == 10 * 30
    run = tmp_path / "r"
    result = zsl(
        "train", "-m", "eszsl", "-d", "sized", "--dataset-option", "per_class=30", "-q", "-o", run
    )
    assert result.exit_code == 0, result.output
    record = json.loads((run / "run.json").read_text())
    assert record["dataset_options"] == {"per_class": 30}
    assert record["data_summary"]["samples"] == 300
    stored = json.loads((run / "metrics.json").read_text())
    evaluated = json.loads(zsl("evaluate", run, "--json").output)
    assert evaluated["gzsl"] == stored["gzsl"]
    again = tmp_path / "again"
    assert zsl("train", "--config", run / "run.json", "-q", "-o", again).exit_code == 0
    assert json.loads((again / "run.json").read_text())["data_summary"]["samples"] == 300


def test_bad_dataset_options_are_one_line(fake_distribution, tmp_path):
    fake_distribution(
        "zsl-sized", {"zsl_toolkit.datasets": {"sized": "zsl_sized_mod:Sized"}}, PLUGIN
    )
    base = ("train", "-m", "eszsl", "-d")
    one_error(
        zsl(*base, "sized", "--dataset-option", "size=3"), "no such option", "per_class, seed_name"
    )
    one_error(zsl(*base, "sized", "--dataset-option", "per_class=x"), "expected an integer")
    one_error(zsl(*base, "sized", "--dataset-option", "per_class=1"), "at least 2")
    one_error(zsl(*base, "toy", "--dataset-option", "a=1"), "toy' has no such option", "none")
    store = tmp_path / "toy.h5"
    assert zsl("data", "convert", "toy", store).exit_code == 0
    one_error(
        zsl(*base, store, "--dataset-option", "a=1"), "only a registered dataset takes options"
    )
    assert not list(tmp_path.glob("runs"))
