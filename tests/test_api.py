"""The top-level Python API (``zsl_toolkit.train/evaluate/load_run``), shell completion of
plugin names, and ``zsl evaluate`` re-running the evaluators a run was trained with."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

import zsl_toolkit
from zsl_toolkit.cli import cli
from zsl_toolkit.data.synthetic import Toy
from zsl_toolkit.errors import ConfigError
from zsl_toolkit.methods.eszsl import ESZSL


def test_import_is_light():
    code = "import sys, zsl_toolkit; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_name_class_and_instance_give_the_same_run(tmp_path):
    data = Toy().load()
    by_name = zsl_toolkit.train("eszsl", "toy", params={"gamma": 10.0}, out=tmp_path / "a")
    by_class = zsl_toolkit.train(ESZSL, data, params={"gamma": 10.0}, out=tmp_path / "b")
    by_instance = zsl_toolkit.train(ESZSL(gamma=10.0), "toy", out=tmp_path / "c")
    for result in (by_class, by_instance):
        assert result.config["method"] == "eszsl"
        assert result.config["params"] == by_name.config["params"]
        assert result.metrics["gzsl"] == by_name.metrics["gzsl"]
    reloaded = zsl_toolkit.load_run(tmp_path / "c")
    assert zsl_toolkit.evaluate(reloaded)["gzsl"] == by_name.metrics["gzsl"]
    assert zsl_toolkit.evaluate(tmp_path / "a", data)["gzsl"] == by_name.metrics["gzsl"]
    assert zsl_toolkit.evaluate(by_name.method, "toy")["gzsl"] == by_name.metrics["gzsl"]


def test_unregistered_class_is_a_clear_error(tmp_path):
    class Local(ESZSL):
        pass

    with pytest.raises(ConfigError, match="is not registered in the zsl_toolkit.methods"):
        zsl_toolkit.train(Local, "toy", out=tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_evaluate_reruns_the_runs_own_evaluators(tmp_path):
    out = tmp_path / "r"
    trained = CliRunner().invoke(
        cli, ["train", "-m", "eszsl", "-d", "toy", "-e", "zsl", "-q", "-o", str(out)]
    )
    assert trained.exit_code == 0, trained.output
    result = CliRunner().invoke(cli, ["evaluate", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)) == {"zsl"}
    assert zsl_toolkit.evaluate(out).keys() == {"zsl"}


@pytest.mark.parametrize(
    ("words", "expected"),
    [("zsl train --method es", "plain,eszsl"), ("zsl sweep -d dig", "plain,digits"),
     ("zsl data info ./my", "file,./my"), ("zsl export r -f on", "plain,onnx")],
)  # fmt: skip
def test_shell_completion_of_plugin_names(words, expected):
    if "onnx" in expected and "onnx" not in CliRunner().invoke(cli, ["list"]).output:
        pytest.skip("zsl-onnx not installed")
    env = {**os.environ, "_ZSL_COMPLETE": "bash_complete", "COMP_WORDS": words}
    env["COMP_CWORD"] = str(len(words.split()) - 1)
    code = "from zsl_toolkit.cli import main; main()"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == [expected], out.stdout + out.stderr
