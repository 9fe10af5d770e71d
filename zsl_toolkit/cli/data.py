"""``zsl data info`` and ``zsl data convert``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from zsl_toolkit.cli.common import _names, data_root_option, dataset_option


def _dataset_options(dataset: str, items: tuple[str, ...]) -> dict[str, Any] | None:
    """``--dataset-option`` items typed by the dataset's constructor (``None`` when none)."""
    if not items:
        return None
    from zsl_toolkit.data.options import parse_dataset_options
    from zsl_toolkit.data.registry import dataset_registry
    from zsl_toolkit.errors import ConfigError

    if dataset not in dataset_registry().names():
        raise ConfigError(
            f"--dataset-option: only a registered dataset takes options, not '{dataset}'"
        )
    return parse_dataset_options(dataset, dataset_registry().load(dataset), items)


@click.group()
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
