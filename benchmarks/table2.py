"""Lay a sweep's report out as the Disentangled-VAE paper's Table 2: one row per method, U / S /
H (mean +- sd over seeds, %) per dataset, then the methods' published numbers on the real
ResNet-101 features (CUB, AWA1, AWA2, SUN), marked as published.

Reads ``report.json`` as ``zsl report SWEEP_DIR`` writes it (run that first; this script only
rearranges its cells; several sweeps are put side by side) and writes markdown:

    python benchmarks/table2.py SWEEP_DIR [SWEEP_DIR ...] -o OUT.md [--note "header text"]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from zsl_toolkit.methods.registry import method_registry

METRICS = ("U", "S", "H")
PAPER_DATASETS = ("cub", "awa1", "awa2", "sun")


def _cell(stat: dict | None) -> str:
    if not stat or stat.get("mean") is None:
        return "-"
    text = f"{100 * stat['mean']:.1f}"
    return text + (f" ± {100 * stat['std']:.1f}" if stat.get("std") is not None else "")


def _short(dataset: str) -> str:
    return Path(dataset).name


def chosen_cells(cells: list[dict]) -> list[dict]:
    """One cell per (method, dataset) on the test protocol: of a cell run in several sweeps,
    the one with the most completed seeds."""
    by_key: dict[tuple[str, str], dict] = {}
    for c in cells:
        if c.get("protocol", "test") != "test":
            continue
        key = (c["method"], c["dataset"])
        if key not in by_key or c["n"] > by_key[key]["n"]:
            by_key[key] = c
    return list(by_key.values())


def table2(report: dict) -> list[str]:
    cells = [c for c in report["cells"] if c.get("protocol", "test") == "test"]
    methods = list(dict.fromkeys(c["method"] for c in cells))
    datasets = list(dict.fromkeys(c["dataset"] for c in cells))
    by_key = {(c["method"], c["dataset"]): c for c in chosen_cells(cells)}
    head = ["method", *(f"{_short(d)} {m}" for d in datasets for m in METRICS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for method in methods:
        row = [method]
        for d in datasets:
            cell = by_key.get((method, d))
            n = f" (n={cell['n']})" if cell and cell["n"] not in (cell["planned"], 0) else ""
            for m in METRICS:
                stat = cell["metrics"].get(m) if cell and cell["n"] else None
                row.append(_cell(stat) + (n if m == "H" else ""))
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Published (each method's paper, real ResNet-101 features, %):", ""]
    head = ["method", *(f"{d.upper()} {m}" for d in PAPER_DATASETS for m in METRICS)]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    registry = method_registry()
    for method in methods:
        cell = next(c for c in cells if c["method"] == method)
        cls = registry.load(cell["method_plugin"])
        table = cls.published_for(dict(cell["params"]))
        row = [f"{method} (published)"]
        for d in PAPER_DATASETS:
            values = table.get(d, {})
            row += [f"{values[m]:.1f}" if m in values else "-" for m in METRICS]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweep_dirs", type=Path, nargs="+")
    parser.add_argument("-o", "--out", type=Path, required=True)
    parser.add_argument("--note", action="append", default=[], help="a header line (repeatable)")
    args = parser.parse_args()
    reports = []
    for sweep_dir in args.sweep_dirs:
        path = sweep_dir / "report.json"
        if not path.is_file():
            sys.exit(f"error: {path} not found: run `zsl report {sweep_dir}` first")
        reports.append(json.loads(path.read_text()))
    report = {
        "name": " + ".join(str(r.get("name")) for r in reports),
        "cells": [c for r in reports for c in r["cells"]],
    }
    shown = chosen_cells(report["cells"])
    complete = sum(c["n"] for c in shown)
    planned = sum(c["planned"] for c in shown)
    failed = sum(len(c.get("failed_trials", [])) for c in shown)
    command = ["python", "benchmarks/table2.py", *map(str, args.sweep_dirs), "-o", str(args.out)]
    lines = [
        f"# Table 2 layout: sweep `{report['name']}`",
        "",
        f"{complete} of {planned} trials complete, {failed} failed. GZSL U / S / H in %, mean "
        "± sample sd over seeds (n = seeds where fewer than planned completed). Made by `"
        + " ".join(command)
        + "` (with the header notes below) from `zsl report`'s report.json.",
        *(["", *args.note] if args.note else []),
        "",
        *table2(report),
    ]
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
