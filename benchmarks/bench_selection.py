"""`zsl train --select auto` against the plain default run, per method and dataset.

For each method and dataset (seed 0, CPU, one torch thread): the default run's test-protocol
U/S/H, then a `--select auto` run (every declared candidate trained under the validation
protocol, the best by validation H trained on the test protocol): its choice, the validation H
of the default candidate and of the chosen one, and the chosen configuration's test U/S/H.
The test numbers of the default candidate are the default run's (same seed and settings), so
"test H change" is what selecting on validation did on test data it never saw. Writes
benchmarks/results/selection.md.

    python benchmarks/bench_selection.py [--methods eszsl ale devise] [--datasets digits ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from _common import cpu_name, fmt_load, load_average, write_report

from zsl_toolkit.pipeline import train
from zsl_toolkit.selection.show import point_text
from zsl_toolkit.settings import RunSettings
from zsl_toolkit.sweep.select import train_selected
from zsl_toolkit.training import TrainConfig

REPO = Path(__file__).resolve().parents[1]
SNU36 = REPO / ".." / "shared" / "data" / "xlsa17" / "SNU36"
METHODS = ("eszsl", "ale", "devise")


def default_datasets() -> list[str]:
    found = [str(SNU36.resolve())] if (SNU36 / "res101.mat").is_file() else []
    return ["digits", "synthetic", *found]


def _pct(m: dict, key: str) -> str:
    return f"{100 * m['gzsl'][key]:.1f}"


def measure(method: str, dataset: str, seed: int) -> list[str]:
    config = TrainConfig(seed=seed, device="cpu", quiet=True)
    with tempfile.TemporaryDirectory() as tmp:
        plain = train(RunSettings(method, dataset, config=config), out=Path(tmp) / "plain")
        start = time.perf_counter()
        chosen = train_selected(
            RunSettings(method, dataset, config=config, select="auto"),
            out=Path(tmp) / "selected",
        )
        wall = time.perf_counter() - start
    sel = chosen.config["selection"]
    by_id = {c["id"]: c for c in sel["candidates"]}
    default = next(c for c in sel["candidates"] if c["default"])
    best = by_id[sel["chosen_id"]]
    change = 100 * (chosen.metrics["gzsl"]["H"] - plain.metrics["gzsl"]["H"])
    return [
        method,
        Path(dataset).name,
        str(len(sel["candidates"])),
        point_text(sel["chosen"]),
        f"{100 * default['metrics']['gzsl']['H']:.1f}",
        f"{100 * best['metrics']['gzsl']['H']:.1f}",
        f"{_pct(plain.metrics, 'U')} / {_pct(plain.metrics, 'S')} / {_pct(plain.metrics, 'H')}",
        f"{_pct(chosen.metrics, 'U')} / {_pct(chosen.metrics, 'S')} / {_pct(chosen.metrics, 'H')}",
        f"{change:+.1f}",
        f"{wall:.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--datasets", nargs="+", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "selection.md"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    load_before = load_average()
    head = [
        "method",
        "dataset",
        "candidates",
        "chosen",
        "val H default",
        "val H chosen",
        "test U / S / H default",
        "test U / S / H selected",
        "test H change",
        "select wall s",
    ]
    lines = [
        "# `--select auto` vs the default run",
        "",
        f"Seed {args.seed}, CPU ({cpu_name()}), one torch thread, candidates one after "
        f"another; load average {fmt_load(load_before)} before, "
        f"{{after}} after. Command: `python benchmarks/bench_selection.py "
        f"--methods {' '.join(args.methods)}`. Accuracies in %; the choice is made on the "
        "validation protocol only (val H columns), test numbers are reported after it.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for dataset in args.datasets or default_datasets():
        for method in args.methods:
            lines.append("| " + " | ".join(measure(method, dataset, args.seed)) + " |")
    lines[2] = lines[2].replace("{after}", fmt_load(load_average()))
    write_report(lines, args.out)


if __name__ == "__main__":
    main()
