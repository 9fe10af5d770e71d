"""``zsl evaluate`` and ``zsl export``: a trained run read back and evaluated or exported."""

from __future__ import annotations

import json
from pathlib import Path

import click

from zsl_toolkit.cli.common import (
    _names,
    data_root_option,
    print_metrics,
    print_notices,
    print_selection,
)


@click.command()
@click.argument("run_dir", type=click.Path())
@click.option(
    "--evaluator",
    "-e",
    "evaluators",
    multiple=True,
    shell_complete=_names("evaluators"),
    help="Evaluators to run (default: those the run was trained with).",
)
@data_root_option
@click.option("--json", "as_json", is_flag=True, help="Print the full metrics as JSON.")
@click.option("--per-class", is_flag=True, help="Also print each class's accuracy, worst first.")
def evaluate(run_dir, evaluators, data_root, as_json, per_class) -> None:
    """Reload a run directory and evaluate it on its dataset (no retraining); a run that chose
    its settings on validation also shows its candidates."""
    from zsl_toolkit.pipeline import evaluate_run
    from zsl_toolkit.runs.record import read_record
    from zsl_toolkit.selection.record import selection_of

    metrics = evaluate_run(run_dir, tuple(evaluators) or None, data_root)
    record = read_record(run_dir)
    selection = selection_of(record)
    if as_json:
        click.echo(json.dumps(metrics | ({"selection": selection} if selection else {}), indent=2))
        return
    if per_class:
        from zsl_toolkit.evaluation.per_class import per_class_lines

        spec = record.spec or {}
        names = spec.get("class_names") or []
        seen = [names[i] for i in spec.get("seen_classes") or [] if i < len(names)]
        print_metrics({k: v for k, v in metrics.items() if k != "uncalibrated"})
        for line in per_class_lines(metrics, seen):
            click.echo(line)
        return
    if "uncalibrated" in metrics:  # a calibrated run: both
        click.echo(f"calibrated (gamma = {metrics['calibration_gamma']:.6g}):")
        print_metrics({k: v for k, v in metrics.items() if k != "uncalibrated"})
        click.echo("uncalibrated:")
        print_metrics(metrics["uncalibrated"])
    else:
        print_metrics(metrics)
    print_selection(selection)
    print_notices(metrics, run_dir, record)


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("run_dir", type=click.Path())
@click.option(
    "--format",
    "-f",
    "fmt",
    required=True,
    help="Exporter name (see `zsl list`).",
    shell_complete=_names("exporters"),
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Output file.")
@click.option(
    "--option", "options", multiple=True, metavar="KEY=VALUE", help="Exporter option (repeatable)."
)
@data_root_option
@click.pass_context
def export(ctx, run_dir, fmt, output, options, data_root) -> None:
    """Export a run's inference module (raw features -> class scores).

    Options the chosen exporter declares are given as --NAME VALUE (e.g. --opset 17 for onnx)
    or --option NAME=VALUE; `zsl list --verbose` shows each exporter's options.
    """
    from zsl_toolkit.export.options import parse_exporter_args
    from zsl_toolkit.export.registry import exporter_registry
    from zsl_toolkit.runs.load import load_run

    exporter_cls = exporter_registry().load(fmt)
    opts = parse_exporter_args(exporter_cls, fmt, options, ctx.args)
    if data_root:
        opts["data_root"] = data_root
    opts = exporter_cls.check_options(opts, fmt)
    run = load_run(run_dir)
    exporter = exporter_cls()
    target = Path(output) if output else Path(run_dir) / f"model{exporter.suffix}"
    path = exporter.export(run, target, opts)
    click.echo(f"exported: {path}")
