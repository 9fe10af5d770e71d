"""``zsl train``: settings merged by :func:`zsl_toolkit.settings.run_settings`, then
:func:`zsl_toolkit.pipeline.train`, or with ``--select``
:func:`zsl_toolkit.sweep.select.train_selected`."""

from __future__ import annotations

import json
from typing import Any

import click

from zsl_toolkit.cli.common import (
    _names,
    data_root_option,
    dataset_option,
    print_metrics,
    print_notices,
    print_selection,
)


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
    type=click.Choice(["test", "val", "inner"]),
    default=None,
    help="test: the dataset's test classes (default); val: validation classes play unseen; "
    "inner: the validation problem's own train classes split again.",
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
@click.option(
    "--select",
    "select",
    multiple=True,
    metavar="KEY=V1,V2|auto",
    help="Choose these parameter values on the validation protocol first (repeatable; auto: "
    "the method's declared candidates).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="--select: concurrent candidates.",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default=None,
    help="--select: run candidates in local worker processes (default) or as Ray tasks.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="--select: torch threads per candidate (default: cores // jobs).",
)
@click.option(
    "--balance/--no-balance",
    default=None,
    help="Choose the seen/unseen calibration on three validation class folds as part of "
    "training (three more, smaller trainings). Default: on for a store made by zsl extract, "
    "else off, or the --config file's balance.",
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
    select,
    jobs,
    executor,
    threads,
    balance,
) -> None:
    """Train a method on a dataset, evaluate it and write a run directory.

    Ctrl-C or SIGTERM stops after saving a checkpoint; `--resume RUN_DIR` continues it.
    With --select, every candidate is trained on the validation protocol first and the one
    with the best validation H is trained on the test protocol (see README).
    """
    from zsl_toolkit.errors import ConfigError

    _stop_on_sigterm()
    if resume:
        if (
            method
            or dataset
            or params
            or config_file
            or out
            or protocol
            or dataset_options
            or balance is not None
        ):
            raise ConfigError("--resume takes only the run directory (and --data-root, --quiet)")
        if select or jobs or executor or threads:
            raise ConfigError("--resume continues a selection with the settings it started with")
        from zsl_toolkit.sweep.select import resume as run_resume

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
        select=list(select) or None,
        balance=balance,
    )
    if settings.select:
        from zsl_toolkit.sweep.select import train_selected

        result = train_selected(
            settings, out=out, executor=executor or "local", jobs=jobs, threads=threads
        )
        _print_run(result, as_json)
        return
    if jobs or executor or threads:
        raise ConfigError(
            "-j/--jobs, --executor and --threads run --select candidates; no --select given"
        )
    result = run_train(settings, out=out)
    _print_run(result, as_json)


def _print_run(result: Any, as_json: bool) -> None:
    from zsl_toolkit.selection.record import selection_of

    selection = selection_of(result.record)
    if as_json:
        out = {"run_dir": str(result.run_dir), "metrics": result.metrics}
        click.echo(json.dumps(out | ({"selection": selection} if selection else {})))
        return
    print_selection(selection)
    click.echo(f"run directory: {result.run_dir}")
    line = balance_line(result.record)
    if line:
        click.echo(line)
    print_metrics({k: v for k, v in result.metrics.items() if k != "uncalibrated"})
    if "uncalibrated" in result.metrics:
        click.echo("uncalibrated:")
        print_metrics(result.metrics["uncalibrated"])
    print_notices(result.metrics, result.run_dir, result.record)


def balance_line(record: Any) -> str | None:
    """One line on what the balancing did for a run that asked for it (None otherwise)."""
    from zsl_toolkit.balance import BALANCE_KEY, DECISION_KEY, REASON_KEY

    if BALANCE_KEY not in record.extra:
        return None
    reason = record.extra.get(REASON_KEY, "")
    decision = record.extra.get(DECISION_KEY)
    if not decision:
        return f"balance: not applied ({reason})" if reason.startswith("asked") else None
    folds = len(decision["folds"])
    if decision["gamma"] == 0.0:
        return (
            f"balance: on {folds} validation folds no calibration carried over better than "
            f"none; left uncalibrated ({reason}; --no-balance skips the folds)"
        )
    return (
        f"balance: calibration gamma {decision['gamma']:.4g} chosen on {folds} validation "
        f"folds ({reason}; --no-balance turns it off)"
    )


def _stop_on_sigterm() -> None:
    """Treat SIGTERM like Ctrl-C so a killed job still leaves a resumable checkpoint."""
    import signal

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
