"""``zsl predict``, contributed to the ``zsl`` command through the ``zsl_toolkit.commands``
entry-point group. Imports only click at module level: ``zsl --help`` lists this command, and
listing must stay fast; onnxruntime and the data readers load when the command runs."""

from __future__ import annotations

import json

import click

from zsl_toolkit.cli import data_root_option, print_metrics


@click.command()
@click.argument("model", type=click.Path())
@click.argument("features", required=False, type=click.Path())
@click.option(
    "--dataset", "-d", default=None, help="Evaluate on this dataset's test splits instead."
)
@data_root_option
@click.option("--provider", default="auto", show_default=True, help="auto, cuda or cpu.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=4096,
    show_default=True,
    help="Rows per run.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write predictions to a .csv or .json file (else print a summary).",
)
@click.option(
    "--evaluator", "-e", "evaluators", multiple=True, help="With --dataset: evaluators to run."
)
@click.option("--json", "as_json", is_flag=True, help="With --dataset: print metrics as JSON.")
def predict(
    model, features, dataset, data_root, provider, batch_size, output, evaluators, as_json
) -> None:
    """Run an exported ONNX model on FEATURES (.mat/.h5/.npy) or on a dataset's test splits."""
    from zsl_onnx.commands import evaluate_dataset, predict_file
    from zsl_toolkit.errors import ConfigError

    if (features is None) == (dataset is None):
        raise ConfigError("zsl predict needs either a FEATURES file or --dataset (not both)")
    if dataset is None:
        if as_json or evaluators:
            raise ConfigError("--json and --evaluator apply to --dataset only")
        result = predict_file(
            model, features, provider=provider, batch_size=batch_size, output=output
        )
        for line in result.summary():
            click.echo(line)
        return
    if output:
        raise ConfigError("--output applies to a FEATURES file; with --dataset use --json")
    metrics = evaluate_dataset(
        model,
        dataset,
        data_root=data_root,
        provider=provider,
        batch_size=batch_size,
        evaluators=tuple(evaluators) or None,
    )
    if as_json:
        click.echo(json.dumps(metrics, indent=2))
    else:
        print_metrics(metrics)
