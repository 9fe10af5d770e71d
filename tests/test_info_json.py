"""``zsl info NAME`` (parameters, constraints, meaning, citation, published numbers) and the
``--json`` forms of ``list``, ``info``, ``data info`` and ``train``."""

from __future__ import annotations

import json

from click.testing import CliRunner

from zsl_toolkit.cli import cli


def zsl(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_info_of_a_method():
    result = zsl("info", "eszsl", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["distribution"] == "zsl-toolkit" and "Romera-Paredes" in record["citation"]
    gamma = next(p for p in record["parameters"] if p["name"] == "gamma")
    assert gamma["default"] == 1000.0 and gamma["type"] == "float"
    assert gamma["allowed"] == "a number > 0" and "Regularises the feature side" in gamma["meaning"]
    assert record["published"]["cub"] == {"U": 12.6, "S": 63.8, "H": 21.0}
    text = zsl("info", "eszsl").output
    assert "--param gamma: float = 1000.0; a number > 0" in text
    assert "published on cub: U 12.6, S 63.8, H 21.0 (%)" in text


def test_info_of_an_evaluator_and_unknown_names():
    record = json.loads(zsl("info", "calibrated", "--json").output)
    assert record["headline"] == ["U", "S", "H", "AUSUC"] and "AUSUC" in record["fractions"]
    result = zsl("info", "ESZL")
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: no plugin named 'ESZL' in any plugin group (see zsl list); did you mean 'eszsl'?"
    )


def test_list_and_data_info_as_json():
    listing = json.loads(zsl("list", "--json").output)
    eszsl = next(i for i in listing["methods"] if i["name"] == "eszsl")
    assert eszsl["distribution"] == "zsl-toolkit"
    assert {"methods", "datasets", "evaluators", "exporters", "commands"} <= set(listing)
    summary = json.loads(zsl("data", "info", "toy", "--json").output)
    assert summary["classes"] == summary["seen_classes"] + summary["unseen_classes"]
    assert set(summary["splits"]) >= {"trainval", "test_seen", "test_unseen"}


def test_train_as_json(tmp_path):
    result = zsl("train", "-m", "eszsl", "-d", "toy", "-q", "--json", "-o", tmp_path / "r")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    stored = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert printed["run_dir"] == str(tmp_path / "r") and printed["metrics"] == stored
