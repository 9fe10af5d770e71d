"""Choose a generative method's final-classifier settings on validation, then apply them.

Why: in generative GZSL methods the seen/unseen balance is set by the final classifier's
training set (CADA-VAE, Schonfeld et al., CVPR 2019, and Disentangled-VAE, Li et al., AAAI
2021: ``seen_samples`` latents per seen class, ``unseen_samples`` per unseen class;
f-CLSWGAN, Xian et al., CVPR 2018: ``n_synthetic`` generated features per unseen class),
values the papers fixed for the four benchmarks only. Those parameters act on the last stage alone, so
instead of one training per value, :func:`zsl_toolkit.editing.edit.refit_with` re-runs that
stage of a trained run from the random state it started from: the same result as training
with the value, in seconds.

For one or more ``--protocol val`` runs of one method (several datasets: a default meant for
all of them) this refits every cell of the grid and evaluates it on the validation classes;
the cell with the best validation H (mean over the validation runs) is then refitted on each
test run (whose own settings are refitted too, as a check that they reproduce its stored H
exactly). Test numbers are reported, never used to choose. Grid keys: the method's
``refit_stage_params`` (e.g. CADA-VAE's ``seen_samples``, f-CLSWGAN's ``n_synthetic``).

Usage:
    python benchmarks/classifier_stage_study.py VAL_RUN [VAL_RUN2 ...] --test-run RUN \
        --grid seen_samples=50,100,200 --grid unseen_samples=200,400,800,1600 -o OUT.md
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.editing.edit import refit_with
from zsl_toolkit.errors import ZSLError
from zsl_toolkit.methods.registry import method_registry
from zsl_toolkit.pipeline import evaluate
from zsl_toolkit.runs import load_run_data, read_record

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_report  # noqa: E402

EVALUATORS = ("gzsl", "zsl", "calibrated")
#: Parameters named in the report's header (as the run resolved them).
SHOWN = ("disentangle", "gamma", "attribute_dispersing", "alpha", "lr", "cls_weight", "epochs")


def parse_grid(items: list[str], allowed: tuple[str, ...]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, _, values = item.partition("=")
        if key not in allowed or not values:
            raise SystemExit(
                f"error: --grid {item!r}: expected KEY=V1,V2 with KEY one of {', '.join(allowed)}"
            )
        grid[key] = [json.loads(v.strip().lower()) for v in values.split(",")]
    return grid


def scores(run_dir: Path, params: dict[str, Any], data: ZSLData) -> dict[str, float]:
    """U/S/H, T1 and calibrated H (in %) of the run refitted with ``params`` on its ``data``,
    and seconds."""
    start = time.perf_counter()
    method, _ = refit_with(run_dir, params, data=data)
    m = evaluate(method, data, EVALUATORS)
    return {
        "U": 100 * m["gzsl"]["U"],
        "S": 100 * m["gzsl"]["S"],
        "H": 100 * m["gzsl"]["H"],
        "T1": 100 * m["zsl"]["T1"],
        "calH": 100 * m["calibrated"]["H"],
        "seconds": time.perf_counter() - start,
    }


def own(run_dir: Path, keys: list[str]) -> dict[str, Any]:
    resolved = read_record(run_dir).resolved_params or {}
    return {k: resolved.get(k) for k in keys}


def fmt(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def row(label: str, s: dict[str, float]) -> str:
    cells = [f"{s[k]:.2f}" for k in ("U", "S", "H", "T1", "calH")]
    return f"| {label} | " + " | ".join(cells) + f" | {s['seconds']:.0f} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("val_runs", type=Path, nargs="+", help="Completed --protocol val runs.")
    parser.add_argument("--test-run", type=Path, action="append", default=[])
    parser.add_argument("--grid", action="append", default=[], help="KEY=V1,V2 (repeatable)")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--data-root", default=None, help="Where the runs' data now live.")
    args = parser.parse_args(argv)
    records = [read_record(run) for run in args.val_runs]
    for run, record in zip(args.val_runs, records, strict=True):
        if record.protocol != "val":
            print(f"error: {run}: not a --protocol val run", file=sys.stderr)
            return 2
    methods = sorted({r.method for r in records})
    if len(methods) != 1:
        print(f"error: the validation runs use several methods: {methods}", file=sys.stderr)
        return 2
    try:
        allowed = method_registry().load(methods[0]).refit_stage_params
    except ZSLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    grid = parse_grid(args.grid, allowed)
    if not grid:
        print("error: give at least one --grid KEY=V1,V2", file=sys.stderr)
        return 2
    keys = list(grid)
    cells = [dict(zip(keys, v, strict=True)) for v in itertools.product(*grid.values())]
    head = "| cell | U | S | H | T1 | calibrated H | refit (s) |\n|---|---|---|---|---|---|---|"
    lines = [
        "# Final-classifier settings chosen on validation",
        "",
        f"Generated by `python benchmarks/classifier_stage_study.py {' '.join(argv or sys.argv[1:])}`.",
        f"Method `{methods[0]}`; the rest of each run's parameters as its header says.",
        "Each cell re-runs the trained run's final classifier stage with those values from the",
        "random state it started from in training (equal to training with them; the run's own",
        "values reproduce its stored H, checked below). In %; calibrated H is the best over all",
        "calibration constants (reference only).",
    ]
    try:
        val_h: list[list[float]] = []
        for run, record in zip(args.val_runs, records, strict=True):
            params = {**record.params, **(record.resolved_params or {})}
            shown = {k: params[k] for k in SHOWN if k in params}
            lines += [
                "",
                f"## Validation (`{run}`; {record.dataset.name}; {fmt(shown)}; own values "
                f"{fmt(own(run, keys))})",
                "",
                head,
            ]
            val_data = load_run_data(record, args.data_root)
            hs = []
            for cell in cells:
                s = scores(run, cell, val_data)
                hs.append(s["H"])
                lines.append(row(fmt(cell), s))
                print(run.name, fmt(cell), f"H {s['H']:.2f}", flush=True)
            val_h.append(hs)
        means = [sum(col) / len(col) for col in zip(*val_h, strict=True)]
        best_i = max(range(len(cells)), key=lambda i: means[i])
        best = cells[best_i]
        if len(args.val_runs) > 1:
            lines += [
                "",
                "## Mean validation H over the runs above",
                "",
                "| cell | H |",
                "|---|---|",
            ]
            lines += [f"| {fmt(c)} | {m:.2f} |" for c, m in zip(cells, means, strict=True)]
        lines += ["", f"Selected on validation H: **{fmt(best)}** (H {means[best_i]:.2f}).", ""]
        for test_run in args.test_run:
            stored = json.loads((test_run / "metrics.json").read_text())["gzsl"]["H"] * 100
            mine = own(test_run, keys)
            lines += [f"## Test (`{test_run}`; stored H {stored:.2f})", "", head]
            test_data = load_run_data(read_record(test_run), args.data_root)
            same = scores(test_run, {}, test_data)
            check = "reproduced" if abs(same["H"] - stored) < 1e-6 else "NOT reproduced"
            lines.append(row(f"own values ({fmt(mine)}; {check})", same))
            lines.append(row(f"selected ({fmt(best)})", scores(test_run, best, test_data)))
            lines.append("")
            print(test_run, check, flush=True)
    except (ZSLError, OSError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_report(lines, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
