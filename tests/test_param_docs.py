"""Every method documents every parameter in a numpydoc ``Parameters`` section, which is
what ``zsl info`` shows as the parameter's meaning."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from zsl_toolkit.cli import cli
from zsl_toolkit.methods.registry import method_registry
from zsl_toolkit.plugin_info import numpydoc_parameters, parameter_docs


@pytest.mark.parametrize("name", method_registry().names())
def test_every_parameter_is_documented_once_per_name(name):
    cls = method_registry().load(name)
    docs = parameter_docs(cls)
    params = set(cls.param_defaults())
    assert sorted(p for p in params if not docs.get(p)) == [], f"{name}: undocumented"
    assert sorted(set(docs) - params) == [], f"{name}: documents what is not a parameter"


def test_the_parser_reads_shared_entries_and_stops_at_the_next_section():
    doc = """Summary.

    Parameters
    ----------
    a, b : int
        The first line
        and the second.
    c : {"x", "y"}
        ``c`` itself.

    Notes
    -----
    d : float
        Not a parameter.
    """
    assert numpydoc_parameters(doc) == {
        "a": "The first line and the second.",
        "b": "The first line and the second.",
        "c": "c itself.",
    }
    assert numpydoc_parameters("No sections here.") == {}


def test_zsl_info_shows_the_documented_meaning():
    result = CliRunner().invoke(cli, ["info", "dvae", "--json"])
    assert result.exit_code == 0, result.output
    meaning = {p["name"]: p["meaning"] for p in json.loads(result.output)["parameters"]}
    assert meaning["gamma"].startswith("Weight of the shuffling classification loss")
    assert "posterior means" in meaning["seen_noise"]
    assert "re-combined" in meaning["recombine"]
    assert "warms up" in meaning["kl_start"]  # inherited from CADA-VAE's section
