"""Disentangled-VAE component study: a sweep's report plus the diagnostics that explain it.

For a sweep made from a config in ``benchmarks/configs/dvae_study/`` this writes one markdown
file: the sweep's standard ``zsl report`` tables (U/S/H, T1, AUSUC per cell, and the cell
selected on validation when both protocols ran), then per cell (mean over seeds):

* the last VAE epoch's KL terms and branch diagnostics logged by the method: mean posterior standard
  deviation of each branch of each encoder, and how many dimensions of the visual dispersing
  branch carry information (``active_p_dims``; 0 = collapsed to the prior);
* the transfer margins of unseen test images (:func:`zsl_dvae.diagnostics.transfer_margins`):
  distance of a test image's latent to its own class's attribute latent and to the nearest
  seen class's, and the share of images closer to their own class.

Usage (one command per study step, after the sweep ran):
    python benchmarks/dvae_study.py sweeps/cub_val benchmarks/results/dvae/study_cub_val.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from zsl_toolkit.runs import load_run, load_run_data, read_record
from zsl_toolkit.sweep.report import collect, write_report
from zsl_toolkit.sweep.runner import trial_dir

DIAGNOSTICS = (
    "kl",
    "kl_t",
    "kl_p",
    "sd_visual_t",
    "sd_visual_p",
    "sd_attribute_t",
    "sd_attribute_p",
    "active_p_dims",
)
MARGINS = ("own_distance", "seen_distance", "closer_to_own")


def last_vae_epoch(run_dir: Path) -> dict[str, float]:
    """The diagnostics of the last logged VAE epoch (empty for methods that log none)."""
    last: dict[str, float] = {}
    log = run_dir / "log.jsonl"
    if not log.is_file():
        return last
    for line in log.read_text().splitlines():
        record = json.loads(line)
        if record.get("stage") == "vae":
            last = {k: float(record[k]) for k in DIAGNOSTICS if k in record}
    return last


def margins(run_dir: Path, root: str | None) -> dict[str, float]:
    """Transfer margins of a completed CADA-VAE-family run, on its own protocol's data."""
    from zsl_dvae.diagnostics import transfer_margins

    run = load_run(run_dir)
    data = load_run_data(read_record(run_dir), root)
    return transfer_margins(run.method, data)


def _mean(values: list[float]) -> str:
    return f"{np.mean(values):.3f}" if values else "-"


def diagnostics_table(sweep_dir: Path, root: str | None) -> list[str]:
    _, _, cells = collect(sweep_dir)
    head = ["cell", "protocol", *DIAGNOSTICS, *MARGINS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cell in cells:
        if not cell.complete:
            continue
        diag: dict[str, list[float]] = {}
        for trial in cell.complete:
            d = trial_dir(sweep_dir, trial)
            values = {**last_vae_epoch(d), **margins(d, root)}
            for k, v in values.items():
                diag.setdefault(k, []).append(v)
        name = f"{cell.label} ({cell.shown_params()})" if cell.shown_params() != "-" else cell.label
        row = [name, cell.protocol] + [_mean(diag.get(k, [])) for k in (*DIAGNOSTICS, *MARGINS)]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--data-root", default=None, help="Where the trials' data now live.")
    args = parser.parse_args(argv)
    if not (args.sweep_dir / "sweep.json").is_file():
        print(f"error: {args.sweep_dir} is not a sweep directory (no sweep.json)", file=sys.stderr)
        return 2
    write_report(args.sweep_dir)
    report = (args.sweep_dir / "report.md").read_text()
    lines = [
        report.rstrip(),
        "",
        "## Diagnostics (mean over seeds)",
        "",
        "Last VAE epoch: KL to the prior (batch sums; `kl` for one-branch models, `kl_t`/`kl_p`",
        "per branch: how much information each latent carries), posterior sd per branch and",
        "encoder, active dispersing dimensions of the visual encoder (batch-mean KL > 0.01).",
        "Transfer: mean latent distance of unseen",
        "test images to their own class's attribute latent and to the nearest seen class's, and",
        "the share closer to their own class.",
        "",
        *diagnostics_table(args.sweep_dir, args.data_root),
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
