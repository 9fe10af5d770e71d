"""``zsl classes``, ``zsl add-class``, ``zsl remove-class`` and ``zsl calibrate``.

Registered in the ``zsl_toolkit.commands`` entry-point group like any distribution's
commands; click only at module level, the library imported inside each command.
"""

from __future__ import annotations

import click

from zsl_toolkit.cli import data_root_option, print_metrics


def _done(result, what: str) -> None:
    click.echo(f"{what}: {result.run_dir}")
    print_metrics({k: v for k, v in result.metrics.items() if k != "uncalibrated"})


@click.command("classes")
@click.argument("run_dir", type=click.Path())
def classes(run_dir) -> None:
    """List a run's classes: id, seen/unseen, trained or added by an edit."""
    from zsl_toolkit.editing import list_classes

    for c in list_classes(run_dir):
        click.echo(f"{c.index:>5}  {c.role:<6}  {c.origin:<24}  {c.name}")


@click.command("add-class")
@click.argument("run_dir", type=click.Path())
@click.option("--name", default=None, help="Name of the class to add.")
@click.option("--attributes", default=None, help='Its attribute vector: "v1,v2,...".')
@click.option(
    "--attributes-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="CSV: one class per row, name then its attribute values (several classes).",
)
@click.option("--text", default=None, help="A description, for runs on text-encoder semantics.")
@click.option("--out", type=click.Path(), default=None, help="New run directory.")
@data_root_option
def add_class(run_dir, name, attributes, attributes_file, text, out, data_root) -> None:
    """Write a NEW run whose model also knows the given classes (as unseen classes).

    Compatibility methods append the class embedding (nothing retrains); generative methods
    refit only their final classifier. The original run is not modified.
    """
    from zsl_toolkit.editing import (
        add_classes,
        encode_text,
        parse_attributes,
        read_attributes_file,
    )
    from zsl_toolkit.errors import ConfigError
    from zsl_toolkit.runs.load import load_run_data
    from zsl_toolkit.runs.record import read_record

    given = [x is not None for x in (attributes, attributes_file, text)]
    if sum(given) != 1:
        raise ConfigError("give exactly one of --attributes, --attributes-file, --text")
    if attributes_file is not None:
        if name is not None:
            raise ConfigError("--name goes with --attributes or --text; the CSV names its classes")
        new = read_attributes_file(attributes_file)
    else:
        if name is None:
            raise ConfigError("--name is required with --attributes or --text")
        if attributes is not None:
            new = [parse_attributes(name, attributes)]
        else:
            extra = load_run_data(read_record(run_dir), data_root).extra
            new = [encode_text(name, text, extra, str(run_dir))]
    _done(add_classes(run_dir, new, out=out, root=data_root), "new run")


@click.command("remove-class")
@click.argument("run_dir", type=click.Path())
@click.argument("names", nargs=-1, required=True)
@click.option("--out", type=click.Path(), default=None, help="New run directory.")
@data_root_option
def remove_class(run_dir, names, out, data_root) -> None:
    """Write a NEW run whose model no longer knows the named classes (seen or unseen)."""
    from zsl_toolkit.editing import remove_classes

    _done(remove_classes(run_dir, list(names), out=out, root=data_root), "new run")


@click.command("calibrate")
@click.argument("run_dir", type=click.Path())
@click.option("--gamma", type=float, default=None, help="Subtract this from seen-class scores.")
@click.option(
    "--target",
    type=click.Choice(["validation"]),
    default=None,
    help="Choose gamma on the validation protocol (trains the run's configuration once more).",
)
@click.option(
    "--validation-run",
    type=click.Path(),
    default=None,
    help="Choose gamma on this --protocol val run of the same configuration.",
)
@click.option("--out", type=click.Path(), default=None, help="New run directory.")
def calibrate(run_dir, gamma, target, validation_run, out) -> None:
    """Write a NEW run applying calibrated stacking (Chao et al., ECCV 2016) in evaluation
    and export: gamma is subtracted from the seen classes' scores."""
    from zsl_toolkit.editing import calibrate_run

    result = calibrate_run(
        run_dir, gamma=gamma, target=target, validation_run=validation_run, out=out
    )
    click.echo(f"gamma = {result.record.calibration['gamma']:.6g}")
    _done(result, "calibrated run")
    click.echo("uncalibrated:")
    print_metrics(result.metrics.get("uncalibrated", {}))
