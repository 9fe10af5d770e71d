"""``zsl predict``, contributed to the ``zsl`` command through the ``zsl_toolkit.commands``
entry-point group. Imports only click at module level: ``zsl --help`` lists this command, and
listing must stay fast; onnxruntime and the data readers load when the command runs."""

from __future__ import annotations

import json

import click

from zsl_toolkit.cli import data_root_option, print_metrics


@click.command()
@click.argument("model", type=click.Path())
@click.argument("inputs", nargs=-1, type=click.Path())
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
    help="Rows per run (images: at most 32).",
)
@click.option(
    "--top-k",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Image-in models: classes listed per image.",
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
@click.option(
    "--unknown-below",
    type=float,
    default=None,
    metavar="P",
    help="Answer 'unknown' when the best class's probability is below P.",
)
@click.option("--all-classes", is_flag=True, help="--output carries every class's probability too.")
@click.option(
    "--truth",
    type=click.Choice(["folders"]),
    default=None,
    help="Image-in models: the true class is each image's sub-folder; report accuracy.",
)
@click.option(
    "--report",
    type=click.Path(file_okay=False),
    default=None,
    help="With --truth: report folder (default: <TREE>-report here).",
)
def predict(
    model,
    inputs,
    dataset,
    data_root,
    provider,
    batch_size,
    top_k,
    output,
    evaluators,
    as_json,
    unknown_below,
    all_classes,
    truth,
    report,
) -> None:
    """Run an exported ONNX model on FEATURES (.mat/.h5/.npy) or on a dataset's test splits.

    An image-in model (exported with --option backbone=NAME) takes image files and folders
    instead of FEATURES; with --dataset STORE.h5 (a `zsl extract` store) it is evaluated on
    the images of the store's test splits, found under the folder given (default: the one
    the store was extracted from).

    Each answer comes with its probability, the softmax of the model's scores over all
    classes (the raw score stays a column), and whether the class is seen or unseen;
    --unknown-below P answers 'unknown' below P. --truth folders measures an image tree
    whose sub-folders are class names: per-class accuracy, U/S/H, a confusion matrix (CSV,
    PNG) and an HTML page of the mistakes, written to --report.
    """
    from zsl_onnx.commands import check_inputs_fit, evaluate_dataset, predict_file
    from zsl_onnx.images import evaluate_images, predict_images
    from zsl_onnx.predictor import OnnxPredictor
    from zsl_toolkit.errors import ConfigError

    probe = OnnxPredictor(model, "cpu", notice=None)
    takes_images = probe.takes_images
    check_inputs_fit(model, probe.metadata, list(inputs))
    if (truth or report) and not (takes_images and inputs and dataset is None):
        raise ConfigError("--truth and --report apply to image files/folders of an image-in model")
    if dataset is not None and (unknown_below is not None or all_classes):
        raise ConfigError("--unknown-below and --all-classes apply to predictions, not --dataset")
    if takes_images:
        if (not inputs) and dataset is None:
            raise ConfigError("zsl predict needs IMAGES (files or folders) or --dataset STORE")
        if dataset is None:
            if as_json or evaluators:
                raise ConfigError("--json and --evaluator apply to --dataset only")
            report_dir = None
            if truth:
                from pathlib import Path

                from zsl_onnx.images import image_files
                from zsl_onnx.truth import check_report_dir, check_truth_classes, truth_of

                report_dir = Path(report or f"{Path(inputs[0]).resolve().name}-report")
                check_report_dir(report_dir)
                files = image_files(list(inputs))
                check_truth_classes(truth_of(list(inputs), files), probe.class_names)
            elif report:
                raise ConfigError("--report applies to --truth folders")
            result = predict_images(
                model,
                list(inputs),
                provider=provider,
                batch_size=batch_size,
                output=output,
                top_k=top_k,
                unknown_below=unknown_below,
                all_classes=all_classes,
            )
            for line in result.summary():
                click.echo(line)
            if report_dir is not None:
                from zsl_onnx.truth import measure, truth_of

                measured = measure(
                    truth_of(list(inputs), result.files),
                    result.answers,
                    result.probabilities,
                    result.files,
                    result.class_names,
                    result.seen_classes,
                    report_dir,
                )
                for line in measured.lines():
                    click.echo(line)
            return
        if output:
            raise ConfigError("--output applies to images; with --dataset use --json")
        if len(inputs) > 1:
            raise ConfigError("with --dataset give at most one folder: the images' root")
        metrics = evaluate_images(
            model,
            dataset,
            inputs[0] if inputs else None,
            provider=provider,
            batch_size=batch_size,
            evaluators=tuple(evaluators) or None,
        )
        if as_json:
            click.echo(json.dumps(metrics, indent=2))
        else:
            print_metrics(metrics)
        return
    if len(inputs) > 1:
        raise ConfigError(f"{model} takes features: give one FEATURES file")
    features = inputs[0] if inputs else None
    if (features is None) == (dataset is None):
        raise ConfigError("zsl predict needs either a FEATURES file or --dataset (not both)")
    if dataset is None:
        if as_json or evaluators:
            raise ConfigError("--json and --evaluator apply to --dataset only")
        result = predict_file(
            model,
            features,
            provider=provider,
            batch_size=batch_size,
            output=output,
            unknown_below=unknown_below,
            all_classes=all_classes,
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
