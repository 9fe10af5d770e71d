"""``zsl sweep``, ``zsl report`` and ``zsl plot``."""

from __future__ import annotations

import click

from zsl_toolkit.cli.common import _names, data_root_option


@click.command()
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
    from zsl_toolkit.errors import TrialsFailed
    from zsl_toolkit.sweep import plan_trials, run_sweep, write_report
    from zsl_toolkit.sweep.config import sweep_settings

    cfg = sweep_settings(
        config_file,
        methods=methods,
        datasets=datasets,
        params=params,
        seeds=seeds,
        protocols=protocols,
        epochs=epochs,
        evaluators=evaluators,
        device=device,
        data_root=data_root,
        name=name,
    )
    if dry_run:
        trials = plan_trials(cfg)
        for t in trials:
            shown = ", ".join(f"{k}={v}" for k, v in t.params.items()) or "defaults"
            if "protocol" in t.config:
                shown += f"  [{t.config['protocol']} protocol]"
            if "select" in t.config:
                shown += f"  [selects {', '.join(t.config['select'])} on validation]"
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


@click.command()
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


@click.command()
@click.argument("run_dir", type=click.Path())
@click.option(
    "--out", "-o", type=click.Path(dir_okay=False), default=None, help="PNG file to write."
)
def plot(run_dir, out) -> None:
    """Plot a run's training curves and its seen-unseen accuracy curve (PNG)."""
    from zsl_toolkit.plots import plot_run

    click.echo(f"plot: {plot_run(run_dir, out)}")
