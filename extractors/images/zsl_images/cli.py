"""``zsl extract``, contributed to the ``zsl`` command through ``zsl_toolkit.commands``.
Imports only click at module level so ``zsl --help`` stays fast."""

from __future__ import annotations

import click


@click.command()
@click.argument("image_dir", type=click.Path())
@click.argument("output", type=click.Path())
@click.option("--attributes", type=click.Path(), help="CSV: class, then one column per attribute.")
@click.option("--descriptions", type=click.Path(), help="CSV or JSON: class -> text.")
@click.option(
    "--text-encoder", default=None, help="Text encoder for --descriptions (default wordllama)."
)
@click.option("--unseen", "unseen_file", type=click.Path(), help="File: one unseen class per line.")
@click.option("--unseen-fraction", type=float, default=None, help="Seeded fraction of classes.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every split rule.")
@click.option("--backbone", default=None, help="Backbone (default efficientnet-lite0).")
@click.option("--weights", type=click.Path(), default=None, help="Backbone weights file.")
@click.option("--format", "fmt", type=click.Choice(["h5", "mat"]), default="h5", show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--workers", type=click.IntRange(min=0), default=None, help="Decoding processes.")
@click.option("--strict", is_flag=True, help="Fail on an unreadable image instead of skipping it.")
@click.option("--force", is_flag=True, help="Replace an existing OUTPUT.")
@click.option(
    "--engine",
    type=click.Choice(["auto", "onnxruntime", "torch"]),
    default="auto",
    show_default=True,
    help="Backbone runner: auto = onnxruntime on a CPU (the graph image-in exports use).",
)
def extract(
    image_dir,
    output,
    attributes,
    descriptions,
    text_encoder,
    unseen_file,
    unseen_fraction,
    seed,
    backbone,
    weights,
    fmt,
    device,
    batch_size,
    workers,
    strict,
    force,
    engine,
) -> None:
    """Extract backbone features of IMAGE_DIR (one sub-folder per class) into OUTPUT.

    OUTPUT is an HDF5 store (`zsl train --dataset OUTPUT`), or with --format mat a new
    xlsa17-layout folder; its name (without .h5) is the dataset's name. An existing OUTPUT
    is replaced only with --force. Classes with semantics but no images become unseen
    classes.
    """
    from zsl_images.backbones import DEFAULT
    from zsl_images.extract import extract as run
    from zsl_images.semantics import embed_descriptions, read_attributes
    from zsl_images.splits import read_unseen
    from zsl_images.text import DEFAULT as DEFAULT_TEXT
    from zsl_toolkit.errors import ConfigError

    if (attributes is None) == (descriptions is None):
        raise ConfigError("give exactly one of --attributes FILE and --descriptions FILE")
    if text_encoder and attributes:
        raise ConfigError("--text-encoder applies to --descriptions only")
    if (unseen_file is None) == (unseen_fraction is None):
        raise ConfigError("give exactly one of --unseen FILE and --unseen-fraction F")
    if attributes:
        semantics = read_attributes(attributes)
    else:
        semantics = embed_descriptions(descriptions, text_encoder or DEFAULT_TEXT)
    report = run(
        image_dir,
        output,
        semantics,
        unseen=read_unseen(unseen_file) if unseen_file else None,
        unseen_fraction=unseen_fraction,
        seed=seed,
        backbone=backbone or DEFAULT,
        weights=weights,
        fmt=fmt,
        device=device,
        batch_size=batch_size,
        workers=workers,
        strict=strict,
        force=force,
        engine=engine,
    )
    data = report.data
    if report.skipped:
        shown = ", ".join(report.skipped[:5]) + (" ..." if len(report.skipped) > 5 else "")
        click.echo(f"skipped {len(report.skipped)} unreadable file(s): {shown}", err=True)
    if report.imageless:
        click.echo(
            f"{len(report.imageless)} class(es) without images, unseen with no test "
            f"images: {', '.join(report.imageless[:10])}",
            err=True,
        )
    sizes = ", ".join(f"{k} {v.size}" for k, v in data.splits.items())
    click.echo(
        f"wrote {report.output} ({len(data.labels)} images, {data.n_classes} classes: "
        f"{data.seen_classes.size} seen, {data.n_classes - data.seen_classes.size} unseen; "
        f"{sizes})"
    )
