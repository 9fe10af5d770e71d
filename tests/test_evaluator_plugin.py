"""A third-party evaluator: its declared fractions are printed in percent and other metrics
as they are, its headline metrics reach ``zsl report`` (md/csv/json) and ``--metric``, and
the conformance kit checks it (and every installed evaluator)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from zsl_toolkit.cli import cli
from zsl_toolkit.evaluation.registry import evaluator_registry
from zsl_toolkit.testing import check_evaluator

PLUGIN = """
from zsl_toolkit.evaluation import Evaluator


class Margin(Evaluator):
    description = "mean top-1 score and top-1 accuracy on test_unseen"
    headline = ("score", "acc")
    fractions = ("acc",)

    def evaluate(self, data):
        top = data.scores_unseen.argmax(axis=1)
        return {
            "score": float(data.scores_unseen.max(axis=1).mean()),
            "acc": float((top == data.labels_unseen).mean()),
        }
"""


@pytest.fixture
def margin(fake_distribution):
    fake_distribution(
        "zsl-margin", {"zsl_toolkit.evaluators": {"margin": "zsl_margin_mod:Margin"}}, PLUGIN
    )


def zsl(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_fractions_in_percent_other_metrics_as_they_are(margin, tmp_path):
    out = tmp_path / "r"
    result = zsl("train", "-m", "eszsl", "-d", "toy", "-e", "gzsl", "-e", "margin", "-q", "-o", out)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())["margin"]
    line = next(x for x in result.output.splitlines() if x.strip().startswith("margin:"))
    assert f"score={metrics['score']:.4g}" in line
    assert f"acc={100 * metrics['acc']:6.2f}%" in line
    gzsl = next(x for x in result.output.splitlines() if x.strip().startswith("gzsl:"))
    assert "%" in gzsl


def test_plugin_metrics_reach_the_report_and_plot(margin, tmp_path):
    out = tmp_path / "s"
    result = zsl(
        "sweep", "-m", "eszsl", "-d", "toy", "-p", "gamma=1,10", "-e", "gzsl", "-e", "margin",
        "-q", "-o", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    header = next(
        x for x in (out / "report.md").read_text().splitlines() if x.startswith("| method")
    )
    assert "| H (%) |" in header and "| margin.score | margin.acc (%) |" in header
    rows = list(csv.DictReader(io.StringIO((out / "report.csv").read_text())))
    assert "margin.score_mean" in rows[0] and "margin.acc_mean (fraction)" in rows[0]
    assert "H_mean (fraction)" in rows[0] and "train_s_mean (s)" in rows[0]
    report = json.loads((out / "report.json").read_text())
    assert report["metric_units"]["margin.acc"] == "fraction"
    trial = report["cells"][0]["trials"][0]
    stored = json.loads((out / "trials" / trial / "metrics.json").read_text())["margin"]["score"]
    assert report["cells"][0]["metrics"]["margin.score"]["mean"] == pytest.approx(stored)
    pytest.importorskip("matplotlib")
    plotted = zsl("report", out, "--plot", "gamma", "--metric", "margin.score")
    assert plotted.exit_code == 0, plotted.output
    assert (out / "plot-margin.score-vs-gamma.png").is_file()
    bad = zsl("report", out, "--plot", "gamma", "--metric", "margin.nope")
    assert bad.exit_code == 2 and "margin.score" in bad.output


def test_conformance_kit_checks_an_evaluator(margin):
    assert set(check_evaluator("margin")) == {"score", "acc"}


@pytest.mark.parametrize("name", evaluator_registry().names())
def test_every_installed_evaluator_passes_the_kit(name):
    check_evaluator(name)


def test_conformance_kit_refuses_a_fraction_out_of_range():
    from zsl_toolkit.evaluation import Evaluator

    class Wrong(Evaluator):
        description = "reports percent where it declares a fraction"
        headline = ("acc",)
        fractions = ("acc",)

        def evaluate(self, data):
            return {"acc": 50.0}

    with pytest.raises(AssertionError, match="'acc' is a fraction but is 50.0"):
        check_evaluator(Wrong)
