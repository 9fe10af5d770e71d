"""The ``zsl`` command line: parse, call one library function, print.

Heavy imports (torch, scipy, the pipeline) happen inside command bodies so ``zsl --help`` and
``zsl list`` stay fast. Every :class:`~zsl_toolkit.errors.ZSLError` becomes a one-line
``error: ...`` on stderr and a non-zero exit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from zsl_toolkit.errors import ZSLError


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ZSLError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


def _fmt(value: Any) -> str:
    return f"{100 * value:6.2f}" if isinstance(value, float) else str(value)


def print_metrics(metrics: dict[str, Any]) -> None:
    """One line per evaluator with its headline numbers (accuracies in percent)."""
    from zsl_toolkit.registry import evaluator_registry

    registry = evaluator_registry()
    for name, values in metrics.items():
        if not isinstance(values, dict):
            continue
        headline = registry.load(name).headline if name in registry.names() else tuple(values)
        parts = [f"{k}={_fmt(values[k])}" for k in headline if k in values]
        click.echo(f"{name:>10}: " + "  ".join(parts))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zsl-toolkit", prog_name="zsl")
def cli() -> None:
    """Generalized zero-shot learning: train, evaluate and export GZSL models."""


@cli.command("list")
def list_cmd() -> None:
    """List installed plugins per group, with their distribution and version."""
    from zsl_toolkit.registry import list_registries

    for kind, registry in list_registries().items():
        click.echo(f"{kind}:")
        infos = registry.infos()
        if not infos:
            click.echo("  (none installed)")
        for info in infos:
            click.echo(f"  {info.name:<16} {info.distribution} {info.version}")


_dataset_opts = [
    click.option(
        "--data-root",
        default=None,
        help="Folder holding <NAME>/ benchmark folders (else $ZSL_DATA_ROOT).",
    ),
]


def _with(options):
    def deco(f):
        for opt in reversed(options):
            f = opt(f)
        return f

    return deco


@cli.command()
@click.option("--method", "-m", help="Method name (see `zsl list`).")
@click.option("--dataset", "-d", help="Dataset name, xlsa17 folder or .h5 file.")
@_with(_dataset_opts)
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
    help="TOML/JSON file: run keys and a [params] table.",
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
    "--evaluator",
    "-e",
    "evaluators",
    multiple=True,
    help="Evaluators to run (default gzsl, zsl, calibrated).",
)
@click.option(
    "--out", "-o", type=click.Path(file_okay=False), default=None, help="Run directory to create."
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option(
    "--resume",
    type=click.Path(file_okay=False),
    default=None,
    help="Continue an interrupted run directory from its last checkpoint.",
)
def train(
    method,
    dataset,
    data_root,
    params,
    config_file,
    seed,
    epochs,
    batch_size,
    device,
    evaluators,
    out,
    quiet,
    resume,
) -> None:
    """Train a method on a dataset, evaluate it and write a run directory.

    Ctrl-C or SIGTERM stops after saving a checkpoint; `--resume RUN_DIR` continues it.
    """
    from zsl_toolkit.errors import ConfigError

    _stop_on_sigterm()
    if resume:
        if method or dataset or params or config_file or out:
            raise ConfigError("--resume takes only the run directory (and --data-root, --quiet)")
        from zsl_toolkit.pipeline import resume as run_resume

        result = run_resume(resume, root=data_root, quiet=quiet)
        click.echo(f"run directory: {result.run_dir}")
        print_metrics(result.metrics)
        return
    if not method or not dataset:
        raise ConfigError("zsl train needs --method and --dataset (or --resume RUN_DIR)")
    from zsl_toolkit.params import check_params, parse_params, read_config
    from zsl_toolkit.pipeline import DEFAULT_EVALUATORS
    from zsl_toolkit.pipeline import train as run_train
    from zsl_toolkit.registry import method_registry
    from zsl_toolkit.training import TrainConfig

    valid = method_registry().load(method).param_defaults()
    file_cfg: dict[str, Any] = {}
    merged: dict[str, Any] = {}
    if config_file:
        file_cfg = read_config(Path(config_file))
        allowed = {"params", "seed", "epochs", "batch_size", "device", "data_root", "evaluators"}
        unknown = sorted(set(file_cfg) - allowed)
        if unknown:
            raise _config_error(
                f"{config_file}: unknown key(s) {', '.join(unknown)} (valid: {', '.join(sorted(allowed))})"
            )
        merged.update(
            check_params(dict(file_cfg.get("params", {})), valid, f"{config_file} [params]")
        )
    merged.update(parse_params(params, valid))
    cfg = TrainConfig(
        seed=seed if seed is not None else int(file_cfg.get("seed", 0)),
        device=device or file_cfg.get("device", "auto"),
        epochs=epochs if epochs is not None else file_cfg.get("epochs"),
        batch_size=batch_size if batch_size is not None else file_cfg.get("batch_size"),
        quiet=quiet,
    )
    result = run_train(
        method,
        dataset,
        params=merged,
        config=cfg,
        root=data_root or file_cfg.get("data_root"),
        out=out,
        evaluators=tuple(evaluators or file_cfg.get("evaluators", DEFAULT_EVALUATORS)),
    )
    click.echo(f"run directory: {result.run_dir}")
    print_metrics(result.metrics)


def _stop_on_sigterm() -> None:
    """Treat SIGTERM like Ctrl-C so a killed job still leaves a resumable checkpoint."""
    import signal

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _config_error(msg: str) -> ZSLError:
    from zsl_toolkit.errors import ConfigError

    return ConfigError(msg)


@cli.command()
@click.argument("run_dir", type=click.Path())
@click.option(
    "--evaluator",
    "-e",
    "evaluators",
    multiple=True,
    help="Evaluators to run (default: all built-in).",
)
@_with(_dataset_opts)
@click.option("--json", "as_json", is_flag=True, help="Print the full metrics as JSON.")
def evaluate(run_dir, evaluators, data_root, as_json) -> None:
    """Reload a run directory and evaluate it on its dataset (no retraining)."""
    from zsl_toolkit.pipeline import DEFAULT_EVALUATORS, evaluate_run

    metrics = evaluate_run(run_dir, tuple(evaluators) or DEFAULT_EVALUATORS, data_root)
    if as_json:
        click.echo(json.dumps(metrics, indent=2))
    else:
        print_metrics(metrics)


@cli.command()
@click.argument("run_dir", type=click.Path())
@click.option("--format", "-f", "fmt", required=True, help="Exporter name (see `zsl list`).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Output file.")
@click.option(
    "--option", "options", multiple=True, metavar="KEY=VALUE", help="Exporter option (repeatable)."
)
@click.option("--opset", type=int, default=None, help="ONNX opset (exporters that use one).")
@_with(_dataset_opts)
def export(run_dir, fmt, output, options, opset, data_root) -> None:
    """Export a run's inference module (raw features -> class scores)."""
    from zsl_toolkit.errors import ConfigError
    from zsl_toolkit.pipeline import load_run
    from zsl_toolkit.registry import exporter_registry

    exporter = exporter_registry().load(fmt)()
    run = load_run(run_dir)
    opts: dict[str, Any] = {}
    for item in options:
        if "=" not in item:
            raise ConfigError(f"--option '{item}' is not of the form key=value")
        k, v = item.split("=", 1)
        opts[k] = v
    if opset is not None:
        opts["opset"] = opset
    if data_root:
        opts["data_root"] = data_root
    target = Path(output) if output else Path(run_dir) / f"model{exporter.suffix}"
    path = exporter.export(run, target, opts)
    click.echo(f"exported: {path}")


@cli.group()
def data() -> None:
    """Inspect and convert datasets."""


@data.command("info")
@click.argument("dataset")
@_with(_dataset_opts)
def data_info(dataset, data_root) -> None:
    """Print classes, split sizes, dimensions and source of a dataset."""
    from zsl_toolkit.data.resolve import load_dataset

    d = load_dataset(dataset, data_root)
    s = d.summary()
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
@click.argument("source")
@click.argument("out", type=click.Path(dir_okay=False))
@_with(_dataset_opts)
def data_convert(source, out, data_root) -> None:
    """Convert any dataset (name, xlsa17 folder) into the toolkit's HDF5 store."""
    from zsl_toolkit.data.hdf5 import save_h5
    from zsl_toolkit.data.resolve import load_dataset

    d = load_dataset(source, data_root)
    save_h5(d, Path(out))
    click.echo(f"wrote {out} ({d.features.shape[0]} samples, {d.n_classes} classes)")


def main() -> None:
    cli(prog_name="zsl")


if __name__ == "__main__":
    main()
