"""``zsl train``: settings merged by :func:`zsl_toolkit.settings.run_settings`, then
:func:`zsl_toolkit.pipeline.train`."""

from __future__ import annotations

import json
from typing import Any

import click

from zsl_toolkit.cli.common import _names, data_root_option, dataset_option, print_metrics


@click.command()
@click.option(
    "--method", "-m", help="Method name (see `zsl list`).", shell_complete=_names("methods")
)
@click.option(
    "--dataset",
    "-d",
    help="Dataset name, xlsa17 folder or .h5 file.",
    shell_complete=_names("datasets", paths=True),
)
@dataset_option
@data_root_option
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Method parameter (repeatable).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="TOML/JSON file: method, dataset, run keys and a [params] table; or a run.json.",
)
@click.option("--seed", type=int, default=None, help="Random seed (default 0).")
@click.option(
    "--epochs", type=click.IntRange(min=0), default=None, help="Override the main stage's epochs."
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="Override the main stage's batch size.",
)
@click.option("--device", default=None, help="auto, cpu or cuda (default auto).")
@click.option(
    "--protocol",
    type=click.Choice(["test", "val"]),
    default=None,
    help="test: the dataset's test classes (default); val: validation classes play unseen.",
)
@click.option(
    "--evaluator",
    "-e",
    "evaluators",
    multiple=True,
    shell_complete=_names("evaluators"),
    help="Evaluators to run (default gzsl, zsl, calibrated).",
)
@click.option(
    "--out", "-o", type=click.Path(file_okay=False), default=None, help="Run directory to create."
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print run directory and metrics as JSON.")
@click.option(
    "--resume",
    type=click.Path(file_okay=False),
    default=None,
    help="Continue an interrupted run directory from its last checkpoint.",
)
def train(
    method,
    dataset,
    dataset_options,
    data_root,
    params,
    config_file,
    seed,
    epochs,
    batch_size,
    device,
    protocol,
    evaluators,
    out,
    quiet,
    as_json,
    resume,
) -> None:
    """Train a method on a dataset, evaluate it and write a run directory.

    Ctrl-C or SIGTERM stops after saving a checkpoint; `--resume RUN_DIR` continues it.
    """
    from zsl_toolkit.errors import ConfigError

    _stop_on_sigterm()
    if resume:
        if method or dataset or params or config_file or out or protocol or dataset_options:
            raise ConfigError("--resume takes only the run directory (and --data-root, --quiet)")
        from zsl_toolkit.pipeline import resume as run_resume

        result = run_resume(resume, root=data_root, quiet=quiet)
        _print_run(result, as_json)
        return
    from zsl_toolkit.pipeline import train as run_train
    from zsl_toolkit.settings import run_settings

    settings = run_settings(
        method,
        dataset,
        config_file=config_file,
        param_items=params,
        seed=seed,
        epochs=epochs,
        batch_size=batch_size,
        device=device,
        evaluators=evaluators,
        data_root=data_root,
        protocol=protocol,
        quiet=quiet,
        dataset_option_items=dataset_options,
    )
    result = run_train(settings, out=out)
    _print_run(result, as_json)


def _print_run(result: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"run_dir": str(result.run_dir), "metrics": result.metrics}))
        return
    click.echo(f"run directory: {result.run_dir}")
    print_metrics(result.metrics)


def _stop_on_sigterm() -> None:
    """Treat SIGTERM like Ctrl-C so a killed job still leaves a resumable checkpoint."""
    import signal

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
