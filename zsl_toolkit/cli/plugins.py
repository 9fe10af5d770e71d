"""``zsl list`` and ``zsl info``: what is installed, and everything about one plugin (or one
run directory)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from zsl_toolkit.cli.common import _names, print_metrics, print_selection
from zsl_toolkit.registry import GROUPS


@click.command("list")
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


@click.command("info")
@click.argument("name", shell_complete=_names("methods"))
@click.option(
    "--kind",
    type=click.Choice(list(GROUPS)),
    default=None,
    help="Plugin group, when NAME is in several.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the information as JSON.")
def info_cmd(name, kind, as_json) -> None:
    """Everything about one plugin: parameters (defaults, types, allowed values, meaning),
    citation and published numbers, or an evaluator's metrics, an exporter's options.
    NAME may also be a run directory: its settings, metrics and any selection."""
    from zsl_toolkit.runs.layout import RUN_FILE

    if (Path(name) / RUN_FILE).is_file() and kind is None:
        _run_info(name, as_json)
        return
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


def _run_info(run_dir: str, as_json: bool) -> None:
    from zsl_toolkit.runs.load import read_metrics
    from zsl_toolkit.runs.record import read_record
    from zsl_toolkit.selection.record import selection_of
    from zsl_toolkit.selection.show import run_lines

    record, metrics = read_record(run_dir), read_metrics(Path(run_dir))
    if as_json:
        shown = {"run_dir": run_dir, "run": record.to_dict(), "metrics": metrics}
        click.echo(json.dumps(shown, indent=2))
        return
    for line in run_lines(record):
        click.echo(line)
    print_metrics(metrics)
    print_selection(selection_of(record))
