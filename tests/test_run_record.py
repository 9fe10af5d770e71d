"""``run.json`` names the distribution and version of every plugin a run used."""

from __future__ import annotations

import json

from click.testing import CliRunner

from zsl_toolkit.cli import cli


def test_run_json_records_plugin_distributions(fake_distribution, tmp_path):
    # A third-party distribution providing a dataset (the toolkit's toy generator).
    fake_distribution(
        "zsl-extra", {"zsl_toolkit.datasets": {"toy2": "zsl_toolkit.data.synthetic:Toy"}}
    )
    out = tmp_path / "run"
    result = CliRunner().invoke(
        cli, ["train", "-m", "eszsl", "-d", "toy2", "-e", "gzsl", "-e", "zsl", "-q", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    plugins = json.loads((out / "run.json").read_text())["plugins"]
    from zsl_toolkit import __version__

    assert plugins["method"] == {
        "name": "eszsl",
        "distribution": "zsl-toolkit",
        "version": __version__,
    }
    assert plugins["dataset"] == {"name": "toy2", "distribution": "zsl-extra", "version": "1.2.3"}
    assert [e["name"] for e in plugins["evaluators"]] == ["gzsl", "zsl"]
    assert {e["distribution"] for e in plugins["evaluators"]} == {"zsl-toolkit"}


def test_dataset_given_as_a_path_has_no_distribution(tmp_path):
    store = tmp_path / "toy.h5"
    assert CliRunner().invoke(cli, ["data", "convert", "toy", str(store)]).exit_code == 0
    out = tmp_path / "run"
    result = CliRunner().invoke(
        cli, ["train", "-m", "eszsl", "-d", str(store), "-q", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text())["plugins"]["dataset"] is None
