"""What several commands share: shell completion of plugin names, shared options, printing
metrics and a run's selection."""

from __future__ import annotations

from typing import Any

import click


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
    from zsl_toolkit.evaluation.registry import evaluator_registry

    registry = evaluator_registry()
    for name, values in metrics.items():
        if not isinstance(values, dict):
            continue
        cls = registry.load(name) if name in registry.names() else None
        headline = cls.headline if cls is not None else tuple(values)
        fractions = cls.fractions if cls is not None else ()
        parts = [f"{k}={_fmt(values[k], k in fractions)}" for k in headline if k in values]
        click.echo(f"{name:>10}: " + "  ".join(parts))


def print_notices(metrics: dict[str, Any], run_dir: Any, record: Any) -> None:
    """The :mod:`zsl_toolkit.notices` lines for a run's metrics, on stderr."""
    from zsl_toolkit.notices import imbalance_notice

    line = imbalance_notice(metrics, run_dir, record)
    if line:
        click.echo(line, err=True)


def print_selection(selection: Any) -> None:
    """The candidates of a run that chose its settings on validation (else nothing)."""
    if isinstance(selection, dict):
        from zsl_toolkit.selection.show import selection_lines

        for line in selection_lines(selection):
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
