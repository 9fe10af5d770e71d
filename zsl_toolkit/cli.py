"""The ``zsl`` command line: parse, call one library function, print.

Heavy imports (torch, the pipeline) happen inside command bodies so ``zsl --help`` and
``zsl list`` stay fast. Every :class:`~zsl_toolkit.errors.ZSLError` becomes a one-line
``error: ...`` on stderr and a non-zero exit.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from zsl_toolkit.errors import ZSLError, one_line


class _OneLineUsageError(click.UsageError):
    """Click's usage error (bad option, missing argument) as the toolkit's one ``error:`` line
    naming the command, instead of click's usage + hint + error lines; exit code stays 2."""

    def show(self, file: Any = None) -> None:
        where = f"{self.ctx.command_path}: " if self.ctx is not None else ""
        hint = f" (see {self.ctx.command_path} --help)" if self.ctx is not None else ""
        click.echo(f"error: {where}{' '.join(self.format_message().split())}{hint}", err=True)


def _one_line_usage(exc: click.UsageError) -> _OneLineUsageError:
    if isinstance(exc, _OneLineUsageError):
        return exc
    return _OneLineUsageError(exc.format_message(), exc.ctx)


class _Group(click.Group):
    """The ``zsl`` group: built-in commands plus those distributions register in the
    ``zsl_toolkit.commands`` entry-point group, imported only when named (or listed by
    ``--help``), so the CLI itself imports no plugin."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from zsl_toolkit.registry import command_registry

        return sorted(set(super().list_commands(ctx)) | set(command_registry().names()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from zsl_toolkit.registry import command_registry

        builtin = super().get_command(ctx, cmd_name)
        registry = command_registry()
        if cmd_name not in registry.names():
            return builtin
        if builtin is not None:
            from zsl_toolkit.errors import PluginConflict

            raise PluginConflict(
                f"command '{cmd_name}' from distribution {registry.info(cmd_name).distribution} "
                "clashes with a built-in zsl command; uninstall that distribution"
            )
        return registry.load_command(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Like click's, except a plugin command that fails to load is listed with its error
        (``zsl --help`` stays usable; running that command prints the same error)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(name) for name in names), default=0)
        rows = []
        for name in names:
            try:
                cmd = self.get_command(ctx, name)
            except ZSLError as exc:
                rows.append((name, f"error: {one_line(exc)}"))
                continue
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            raise _one_line_usage(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _one_line_usage(exc) from None
        except ZSLError as exc:
            click.echo(f"error: {one_line(exc)}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:  # output piped into `head` and the like: not an error
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
            sys.exit(0)
        except OSError as exc:  # disk full, read-only folder, ...: the environment, not a bug
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc}", err=True)
            sys.exit(1)


def _names(kind: str, paths: bool = False) -> Any:
    """Shell completion of a plugin name (``methods``, ``datasets``, ...) from metadata only;
    with ``paths``, also files and folders (a dataset may be a path)."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        from zsl_toolkit.registry import list_registries

        names = list_registries()[kind].names()
        items = [CompletionItem(n) for n in names if n.startswith(incomplete)]
        if paths and not items:
            items.append(CompletionItem(incomplete, type="file"))
        return items

    return complete


def _fmt(value: Any, fraction: bool) -> str:
    if isinstance(value, float) and fraction:
        return f"{100 * value:6.2f}%"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def print_metrics(metrics: dict[str, Any]) -> None:
    """One line per evaluator with its headline numbers: those it declares fractions in
    percent (``H= 45.10%``), any other as it is."""
    from zsl_toolkit.registry import evaluator_registry

    registry = evaluator_registry()
    for name, values in metrics.items():
        if not isinstance(values, dict):
            continue
        cls = registry.load(name) if name in registry.names() else None
        headline = cls.headline if cls is not None else tuple(values)
        fractions = cls.fractions if cls is not None else ()
        parts = [f"{k}={_fmt(values[k], k in fractions)}" for k in headline if k in values]
        click.echo(f"{name:>10}: " + "  ".join(parts))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zsl-toolkit", prog_name="zsl")
def cli() -> None:
    """Generalized zero-shot learning: train, evaluate and export GZSL models."""


@cli.command("list")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Also what each plugin is and an exporter's options (imports every plugin).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the listing as JSON.")
def list_cmd(verbose, as_json) -> None:
    """List installed plugins per group, with their distribution and version."""
    from zsl_toolkit.registry import list_registries

    if as_json:
        listing = {
            kind: [
                {"name": i.name, "distribution": i.distribution, "version": i.version}
                for i in registry.infos()
            ]
            for kind, registry in list_registries().items()
        }
        click.echo(json.dumps(listing, indent=2))
        return
    for kind, registry in list_registries().items():
        click.echo(f"{kind}:")
        infos = registry.infos()
        if not infos:
            click.echo("  (none installed)")
        for info in infos:
            click.echo(f"  {info.name:<16} {info.distribution} {info.version}")
            if verbose:
                from zsl_toolkit.plugin_info import describe

                for line in describe(kind, info.name):
                    click.echo(f"      {line}")


@cli.command("info")
@click.argument("name", shell_complete=_names("methods"))
@click.option(
    "--kind",
    type=click.Choice(["methods", "datasets", "evaluators", "exporters", "commands"]),
    default=None,
    help="Plugin group, when NAME is in several.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the information as JSON.")
def info_cmd(name, kind, as_json) -> None:
    """Everything about one plugin: parameters (defaults, types, allowed values, meaning),
    citation and published numbers, or an evaluator's metrics, an exporter's options."""
    from zsl_toolkit.errors import PluginNotFound
    from zsl_toolkit.plugin_info import info, info_lines
    from zsl_toolkit.registry import closest, list_registries

    registries = list_registries()
    kinds = [kind] if kind else [k for k, r in registries.items() if name in r.names()]
    if not kinds or name not in registries[kinds[0]].names():
        everything = sorted({n for r in registries.values() for n in r.names()})
        hint = f"; did you mean '{close}'?" if (close := closest(name, everything)) else ""
        where = kind or "any plugin group"
        raise PluginNotFound(f"no plugin named '{name}' in {where} (see zsl list){hint}")
    records = [info(k, name) for k in kinds]
    if as_json:
        click.echo(json.dumps(records[0] if len(records) == 1 else records, indent=2))
        return
    for record in records:
        for line in info_lines(record):
            click.echo(line)


dataset_option = click.option(
    "--dataset-option",
    "dataset_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Option of a registered dataset, passed to its constructor (repeatable).",
)


data_root_option = click.option(
    "--data-root",
    default=None,
    help="Folder holding <NAME>/ benchmark folders (else $ZSL_DATA_ROOT).",
)
"""The ``--data-root`` option every dataset-reading command takes (plugin commands too)."""


@cli.command()
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
@click.option(
    "--balance/--no-balance",
    default=None,
    help="Calibrate seen vs unseen on the validation protocol (default: datasets without "
    "published settings).",
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
    balance,
) -> None:
    """Train a method on a dataset, evaluate it and write a run directory.

    Ctrl-C or SIGTERM stops after saving a checkpoint; `--resume RUN_DIR` continues it.
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
    result = run_train(
        settings.method,
        settings.dataset,
        params=settings.params,
        config=settings.config,
        root=settings.data_root,
        out=out,
        evaluators=settings.evaluators,
        protocol=settings.protocol,
        dataset_options=settings.dataset_options,
        balance=balance,
    )
    _print_run(result, as_json)


def _print_run(result: Any, as_json: bool) -> None:
    from zsl_toolkit.notices import imbalance_notice

    if as_json:  # machine-readable: the JSON alone
        click.echo(json.dumps({"run_dir": str(result.run_dir), "metrics": result.metrics}))
        return
    click.echo(f"run directory: {result.run_dir}")
    calibration = result.config.get("calibration") or {}
    if calibration.get("automatic"):
        click.echo(
            f"balanced on the validation protocol: calibration gamma "
            f"{calibration['gamma']:.4g} (validation H "
            f"{100 * calibration['validation_H']:.1f}%; --no-balance to skip)"
        )
    print_metrics({k: v for k, v in result.metrics.items() if k != "uncalibrated"})
    if "uncalibrated" in result.metrics:
        click.echo("uncalibrated:")
        print_metrics(result.metrics["uncalibrated"])
    line = imbalance_notice(result.metrics, result.run_dir, result.config)
    if line:
        click.echo(line, err=True)


def _stop_on_sigterm() -> None:
    """Treat SIGTERM like Ctrl-C so a killed job still leaves a resumable checkpoint."""
    import signal

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


@cli.command()
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
    """Reload a run directory and evaluate it on its dataset (no retraining)."""
    from zsl_toolkit.pipeline import evaluate_run

    metrics = evaluate_run(run_dir, tuple(evaluators) or None, data_root)
    if per_class and not as_json:
        from zsl_toolkit.evaluation.per_class import per_class_lines
        from zsl_toolkit.rundir import read_record

        spec = read_record(Path(run_dir)).get("spec") or {}
        names = spec.get("class_names") or []
        seen = [names[i] for i in spec.get("seen_classes") or [] if i < len(names)]
        print_metrics({k: v for k, v in metrics.items() if k != "uncalibrated"})
        for line in per_class_lines(metrics, seen):
            click.echo(line)
        return
    if as_json:
        click.echo(json.dumps(metrics, indent=2))
    elif "uncalibrated" in metrics:  # a calibrated run: both
        click.echo(f"calibrated (gamma = {metrics['calibration_gamma']:.6g}):")
        print_metrics({k: v for k, v in metrics.items() if k != "uncalibrated"})
        click.echo("uncalibrated:")
        print_metrics(metrics["uncalibrated"])
    else:
        print_metrics(metrics)
    if not as_json:
        from zsl_toolkit.notices import imbalance_notice
        from zsl_toolkit.rundir import read_record

        line = imbalance_notice(metrics, run_dir, read_record(Path(run_dir)))
        if line:
            click.echo(line, err=True)


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
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
    from zsl_toolkit.registry import exporter_registry
    from zsl_toolkit.rundir import load_run

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


def _dataset_options(dataset: str, items: tuple[str, ...]) -> dict[str, Any] | None:
    """``--dataset-option`` items typed by the dataset's constructor (``None`` when none)."""
    if not items:
        return None
    from zsl_toolkit.data.options import parse_dataset_options
    from zsl_toolkit.errors import ConfigError
    from zsl_toolkit.registry import dataset_registry

    if dataset not in dataset_registry().names():
        raise ConfigError(
            f"--dataset-option: only a registered dataset takes options, not '{dataset}'"
        )
    return parse_dataset_options(dataset, dataset_registry().load(dataset), items)


@cli.group()
def data() -> None:
    """Inspect and convert datasets."""


@data.command("info")
@click.argument("dataset", shell_complete=_names("datasets", paths=True))
@dataset_option
@data_root_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def data_info(dataset, dataset_options, data_root, as_json) -> None:
    """Print classes, split sizes, dimensions and source of a dataset."""
    from zsl_toolkit.data.resolve import load_dataset

    d = load_dataset(dataset, data_root, options=_dataset_options(dataset, dataset_options))
    s = d.summary()
    if as_json:
        click.echo(json.dumps(s, indent=2))
        return
    click.echo(f"name:        {s['name']}")
    click.echo(f"source:      {s['source']}")
    click.echo(f"samples:     {s['samples']}")
    click.echo(f"features:    {s['feature_dim']}-d")
    click.echo(f"embeddings:  {s['embedding_dim']}-d")
    click.echo(
        f"classes:     {s['classes']} ({s['seen_classes']} seen, {s['unseen_classes']} unseen)"
    )
    for k, v in s["splits"].items():
        click.echo(f"  {k:<12} {v}")


@data.command("convert")
@click.argument("source", shell_complete=_names("datasets", paths=True))
@click.argument("out", type=click.Path(dir_okay=False))
@dataset_option
@data_root_option
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def data_convert(source, out, dataset_options, data_root, force) -> None:
    """Convert any dataset (name, xlsa17 folder) into the toolkit's HDF5 store."""
    from zsl_toolkit.data.hdf5 import save_h5
    from zsl_toolkit.data.resolve import load_dataset
    from zsl_toolkit.errors import ConfigError

    if Path(out).exists() and not force:
        raise ConfigError(f"{out} already exists; pass --force to replace it")
    d = load_dataset(source, data_root, options=_dataset_options(source, dataset_options))
    save_h5(d, Path(out))
    click.echo(f"wrote {out} ({d.features.shape[0]} samples, {d.n_classes} classes)")


# ---------------------------------------------------------------------------- sweeps
@cli.command()
@click.argument("config_file", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--method",
    "-m",
    "methods",
    multiple=True,
    help="Method (repeatable; no CONFIG).",
    shell_complete=_names("methods"),
)
@click.option(
    "--dataset",
    "-d",
    "datasets",
    multiple=True,
    help="Dataset (repeatable; no CONFIG).",
    shell_complete=_names("datasets", paths=True),
)
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="KEY=V1,V2",
    help="Grid axis: parameter and its values (repeatable; no CONFIG).",
)
@click.option("--seeds", default=None, help="Comma-separated seeds (default 0; overrides CONFIG).")
@click.option(
    "--protocol",
    "protocols",
    default=None,
    metavar="P1,P2",
    help="test, val or val,test (a grid axis; default test; overrides CONFIG).",
)
@click.option(
    "--epochs", type=click.IntRange(min=0), default=None, help="Override the main stage's epochs."
)
@click.option("--evaluator", "-e", "evaluators", multiple=True, help="Evaluators to run.")
@click.option("--device", default=None, help="auto, cpu or cuda (default auto).")
@data_root_option
@click.option("--name", default=None, help="Sweep name (default: from CONFIG or the options).")
@click.option(
    "--out", "-o", type=click.Path(file_okay=False), default=None, help="Sweep directory."
)
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Worker processes on this machine, or Ray tasks.",
)
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Concurrent trials.")
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Torch threads per trial (default: cores // jobs).",
)
@click.option("--ray-address", default=None, help="Connect to this Ray cluster (else start one).")
@click.option("--dry-run", is_flag=True, help="Validate and list the trials; run nothing.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
def sweep(
    config_file,
    methods,
    datasets,
    params,
    seeds,
    protocols,
    epochs,
    evaluators,
    device,
    data_root,
    name,
    out,
    executor,
    jobs,
    threads,
    ray_address,
    dry_run,
    quiet,
) -> None:
    """Run methods x datasets x seeds x parameter grids; resumable, parallel, one run dir each.

    Either a TOML CONFIG ([sweep] name, seeds, epochs; [[sweep.datasets]] name, root;
    [methods.NAME] params, lists being grid axes) or --method/--dataset/--param options.
    """
    import dataclasses

    from zsl_toolkit.errors import ConfigError, TrialsFailed
    from zsl_toolkit.evaluation.base import DEFAULT_EVALUATORS
    from zsl_toolkit.sweep import (
        config_from_options,
        load_sweep_config,
        plan_trials,
        run_sweep,
        write_report,
    )
    from zsl_toolkit.sweep.config import check_protocols, parse_seeds, split_values

    seed_list = parse_seeds(seeds) if seeds is not None else None
    protocol_list = (
        check_protocols(split_values(protocols), "--protocol") if protocols is not None else None
    )
    if config_file:
        if methods or datasets or params:
            raise ConfigError("give either a sweep CONFIG file or --method/--dataset/--param")
        cfg = load_sweep_config(config_file)
        overrides = {
            "seeds": seed_list,
            "epochs": epochs,
            "evaluators": tuple(evaluators) or None,
            "device": device,
            "data_root": data_root,
            "name": name,
            "protocols": protocol_list,
        }
        cfg = dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    else:
        cfg = config_from_options(
            methods,
            datasets,
            seed_list or (0,),
            params,
            name=name,
            epochs=epochs,
            evaluators=tuple(evaluators) or DEFAULT_EVALUATORS,
            device=device or "auto",
            data_root=data_root,
            protocols=protocol_list or ("test",),
        )
    if dry_run:
        trials = plan_trials(cfg)
        for t in trials:
            shown = ", ".join(f"{k}={v}" for k, v in t.params.items()) or "defaults"
            if "protocol" in t.config:
                shown += f"  [{t.config['protocol']} protocol]"
            click.echo(f"{t.id}  {t.label:<14} {t.dataset:<14} seed {t.seed:<4} {shown}")
        click.echo(f"{len(trials)} trials (dry run: nothing started)")
        return
    outcome = run_sweep(
        cfg,
        out,
        executor=executor,
        jobs=jobs,
        threads=threads,
        ray_address=ray_address,
        quiet=quiet,
    )
    report = write_report(outcome.sweep_dir)
    click.echo(report.markdown)
    click.echo(
        f"sweep directory: {outcome.sweep_dir} (ran {len(outcome.ran)}, "
        f"skipped {len(outcome.skipped)} already complete, failed {len(outcome.failed)})"
    )
    if outcome.failed:
        raise TrialsFailed(
            f"{len(outcome.failed)} of {len(outcome.trials)} trials failed; errors in "
            f"{outcome.sweep_dir}/trials/<id>/error.txt and state.json; re-run to retry them"
        )


@cli.command()
@click.argument("sweep_dir", type=click.Path())
@click.option("--published", is_flag=True, help="Add the methods' published U/S/H columns.")
@click.option("--plot", "plot_param", default=None, help="Also plot METRIC against this parameter.")
@click.option("--metric", default="H", show_default=True, help="Metric for --plot.")
def report(sweep_dir, published, plot_param, metric) -> None:
    """Aggregate a sweep over seeds into report.md/csv/json (mean, sample std, n per cell)."""
    from zsl_toolkit.sweep import write_report

    if plot_param:  # refuse a bad --plot/--metric before writing any report file
        from zsl_toolkit.plots import check_plot_sweep

        check_plot_sweep(sweep_dir, plot_param, metric)
    result = write_report(sweep_dir, published=published)
    click.echo(result.markdown)
    if plot_param:
        from zsl_toolkit.plots import plot_sweep

        click.echo(f"plot: {plot_sweep(sweep_dir, plot_param, metric)}")


@cli.command()
@click.argument("run_dir", type=click.Path())
@click.option(
    "--out", "-o", type=click.Path(dir_okay=False), default=None, help="PNG file to write."
)
def plot(run_dir, out) -> None:
    """Plot a run's training curves and its seen-unseen accuracy curve (PNG)."""
    from zsl_toolkit.plots import plot_run

    click.echo(f"plot: {plot_run(run_dir, out)}")


def main() -> None:
    cli(prog_name="zsl")


if __name__ == "__main__":
    main()
