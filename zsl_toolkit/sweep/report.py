"""Aggregate a sweep's completed trials: mean, sample standard deviation and n per cell.

A cell is one method label x dataset x parameter combination; its trials differ only by seed.
The spread is the sample standard deviation (ddof=1) over the seeds that completed, and n is
always shown beside it: with three seeds it is a rough figure, and with one there is none
(no spread is invented). Failed or missing trials are not averaged in; they are counted and
listed, so a cell with fewer seeds than planned is visible as such.

A sweep whose trials run under both protocols (``protocol = ["val", "test"]``) also gets a
*selected on validation* section: for each method label x dataset, the parameter cell with the
highest mean H under the validation protocol, and the test-protocol numbers of that same cell.
Test numbers take no part in the choice, so they are an honest estimate for the selected
setting.

Markdown shows accuracies in percent; CSV and JSON keep the units of ``metrics.json``
(fractions, seconds) for further processing; every column header names its unit. Besides the
built-in columns, each headline metric of a plugin evaluator the trials ran gets a column
``EVALUATOR.METRIC``, in percent when the evaluator declares it a fraction.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zsl_toolkit.io import atomic_write
from zsl_toolkit.runs.layout import METRICS_FILE
from zsl_toolkit.sweep.plan import Trial
from zsl_toolkit.sweep.runner import ERROR_FILE, is_complete, load_plan, read_json, trial_dir

#: Built-in report column -> (path into metrics.json, a fraction shown in percent).
METRICS: dict[str, tuple[tuple[str, ...], bool]] = {
    "U": (("gzsl", "U"), True),
    "S": (("gzsl", "S"), True),
    "H": (("gzsl", "H"), True),
    "T1": (("zsl", "T1"), True),
    "AUSUC": (("calibrated", "AUSUC"), True),
    "train_s": (("train_seconds",), False),
}
PUBLISHED = ("U", "S", "H")
_BUILT_IN_EVALUATORS = ("gzsl", "zsl", "calibrated")


def report_columns(trials: list[Trial]) -> dict[str, tuple[tuple[str, ...], bool]]:
    """:data:`METRICS` plus ``EVALUATOR.METRIC`` for each headline metric of every other
    evaluator the trials ran (an evaluator that is no longer installed is left out)."""
    from zsl_toolkit.errors import ZSLError
    from zsl_toolkit.evaluation.registry import evaluator_registry

    columns = dict(METRICS)
    names = dict.fromkeys(n for t in trials for n in t.config.get("evaluators", ()))
    registry = evaluator_registry()
    for name in names:
        if name in _BUILT_IN_EVALUATORS:
            continue
        try:
            cls = registry.load(name)
        except ZSLError:
            continue
        for metric in cls.headline:
            columns[f"{name}.{metric}"] = ((name, metric), metric in cls.fractions)
    return columns


def unit(column: str, fraction: bool, percent: bool) -> str:
    """The unit label of a column: ``%`` or ``fraction`` for fractions (as shown in percent
    or stored), ``s`` for train time, else none (a plugin metric in its own unit)."""
    if fraction:
        return "%" if percent else "fraction"
    return "s" if column == "train_s" else ""


def _labelled(name: str, unit_label: str) -> str:
    return f"{name} ({unit_label})" if unit_label else name


@dataclass
class Stat:
    """Mean, sample standard deviation (None below two values) and count."""

    mean: float | None
    std: float | None
    n: int

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "std": self.std, "n": self.n}


def summarize(values: list[float]) -> Stat:
    """Mean and sample standard deviation (ddof=1) of ``values`` (None entries are missing)."""
    values = [float(v) for v in values if v is not None]
    n = len(values)
    if n == 0:
        return Stat(None, None, 0)
    if all(v == values[0] for v in values):  # exact: no rounding noise in mean or spread
        return Stat(values[0], 0.0 if n > 1 else None, n)
    mean = math.fsum(values) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return Stat(mean, std, n)


@dataclass
class Cell:
    """Trials of one label x dataset x parameter combination, over seeds."""

    label: str
    method: str
    dataset: str
    params: dict[str, Any]
    swept: tuple[str, ...]
    trials: list[str] = field(default_factory=list)
    complete: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=dict)
    published: dict[str, float] | None = None
    protocol: str = "test"
    columns: dict[str, tuple[tuple[str, ...], bool]] = field(default_factory=lambda: METRICS)

    @property
    def stats(self) -> dict[str, Stat]:
        return {m: summarize(self.values.get(m, [])) for m in self.columns}

    def shown_params(self) -> str:
        shown = [f"{k}={_value(self.params[k])}" for k in self.swept if k in self.params]
        return ", ".join(shown) if shown else "-"


def _value(v: Any) -> str:
    return json.dumps(v) if isinstance(v, (list, dict, bool)) or v is None else str(v)


def _lookup(metrics: dict[str, Any], path: tuple[str, ...]) -> float | None:
    node: Any = metrics
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return float(node) if isinstance(node, (int, float)) and not isinstance(node, bool) else None


def _published(method: str, dataset_spec: str, params: dict[str, Any]) -> dict[str, float] | None:
    """The method's published U/S/H for this dataset (by registered name or folder name) and
    configuration (an ablation row where the method's paper reports one)."""
    from zsl_toolkit.errors import ZSLError
    from zsl_toolkit.methods.registry import method_registry

    try:
        cls = method_registry().load(method)
    except ZSLError:
        return None
    finder = getattr(cls, "published_for", None)
    table = finder(dict(params)) if finder else getattr(cls, "published", {})
    key = Path(dataset_spec).name.lower().removesuffix(".h5")
    values = (table or {}).get(key)
    return {k: float(values[k]) for k in PUBLISHED if k in values} if values else None


def collect(sweep_dir: str | Path) -> tuple[dict[str, Any], list[Trial], list[Cell]]:
    """Read the plan and every completed trial's metrics, grouped into cells in plan order."""
    sweep_dir = Path(sweep_dir)
    plan, trials = load_plan(sweep_dir)
    columns = report_columns(trials)
    cells: dict[tuple[str, str, str], Cell] = {}
    for t in trials:
        protocol = t.config.get("protocol", "test")
        key = (t.label, t.dataset, json.dumps(t.params, sort_keys=True), protocol)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = Cell(
                t.label,
                t.config["method"],
                t.dataset,
                t.params,
                t.swept,
                published=_published(t.config["method"], t.config["dataset"], t.params),
                protocol=protocol,
                columns=columns,
            )
        cell.trials.append(t.id)
        d = trial_dir(sweep_dir, t.id)
        metrics = read_json(d / METRICS_FILE) if is_complete(d, t) else None
        if not isinstance(metrics, dict):
            if (d / ERROR_FILE).is_file():
                cell.failed.append(t.id)
            continue
        cell.complete.append(t.id)
        cell.seeds.append(t.seed)
        for name, (path, _) in columns.items():
            v = _lookup(metrics, path)
            if v is not None:
                cell.values.setdefault(name, []).append(v)
    return plan, trials, list(cells.values())


@dataclass
class Selection:
    """The validation choice for one method label x dataset and its test-protocol cell."""

    chosen: Cell
    candidates: int
    test: Cell | None


def select_on_validation(cells: list[Cell]) -> list[Selection]:
    """Per label x dataset, the validation cell with the highest mean H (the first in plan
    order on a tie), paired with the test cell of the same parameters when the sweep has one."""
    groups: dict[tuple[str, str], list[Cell]] = {}
    for c in cells:
        if c.protocol == "val" and c.stats["H"].mean is not None:
            groups.setdefault((c.label, c.dataset), []).append(c)
    tests = {
        (c.label, c.dataset, json.dumps(c.params, sort_keys=True)): c
        for c in cells
        if c.protocol == "test"
    }
    out = []
    for (label, dataset), group in groups.items():
        best = max(group, key=lambda c: c.stats["H"].mean)  # max keeps the first of equals
        test = tests.get((label, dataset, json.dumps(best.params, sort_keys=True)))
        out.append(Selection(best, len(group), test))
    return out


def _columns(cells: list[Cell]) -> dict[str, tuple[tuple[str, ...], bool]]:
    return cells[0].columns if cells else METRICS


def _has_val(cells: list[Cell]) -> bool:
    return any(c.protocol == "val" for c in cells)


# ---------------------------------------------------------------------------- formats
def _fmt(stat: Stat, percent: bool) -> str:
    if stat.mean is None:
        return "-"
    scale = 100.0 if percent else 1.0
    text = f"{scale * stat.mean:.2f}"
    return text + (f" ± {scale * stat.std:.2f}" if stat.std is not None else "")


def to_markdown(
    sweep_dir: Path,
    plan: dict[str, Any],
    trials: list[Trial],
    cells: list[Cell],
    published: bool = False,
) -> str:
    n_complete = sum(len(c.complete) for c in cells)
    n_failed = sum(len(c.failed) for c in cells)
    lines = [
        f"# Sweep `{plan.get('name', '')}`",
        "",
        f"{len(trials)} trials planned: {n_complete} complete, {n_failed} failed, "
        f"{len(trials) - n_complete - n_failed} not run.",
        "Each cell: mean ± sample standard deviation (ddof=1) over seeds; n = seeds completed "
        "of planned. U, S, H: GZSL (argmax over all classes); T1: ZSL top-1 over unseen "
        "classes; AUSUC: area under the calibrated-stacking seen-unseen curve. Accuracies in %, "
        "train time in seconds.",
        "",
    ]
    show_pub = published and any(c.published for c in cells)
    show_protocol = _has_val(cells)
    columns = _columns(cells)
    head = ["method", "dataset", *(["protocol"] if show_protocol else []), "params", "n"]
    head += [_labelled(m, unit(m, frac, percent=True)) for m, (_, frac) in columns.items()]
    if show_pub:
        head += [f"published {m} (%)" for m in PUBLISHED]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in cells:
        stats = c.stats
        row = [c.label, c.dataset, *([c.protocol] if show_protocol else [])]
        row += [c.shown_params(), f"{len(c.complete)}/{len(c.trials)}"]
        row += [_fmt(stats[m], frac) for m, (_, frac) in columns.items()]
        if show_pub:
            row += [
                f"{c.published[m]:.1f}" if c.published and m in c.published else "-"
                for m in PUBLISHED
            ]
        lines.append("| " + " | ".join(row) + " |")
    if published and not show_pub:
        lines += ["", "No published values are recorded for these method/dataset pairs."]
    elif show_pub:
        lines += ["", "Published: the numbers the method's paper reports (percent), for reference."]
    if show_protocol:
        lines += _selection_markdown(select_on_validation(cells))
    lines += _trial_selections(sweep_dir, trials)
    fixed = _fixed_params(cells)
    if fixed:
        lines += ["", "Fixed parameters: " + "; ".join(fixed) + "."]
    failed = [t for t in trials if any(t.id in c.failed for c in cells)]
    if failed:
        lines += ["", "Failed trials:", ""]
        for t in failed:
            error = _first_line(trial_dir(sweep_dir, t.id) / ERROR_FILE)
            shown = ", ".join(f"{k}={_value(v)}" for k, v in t.params.items())
            what = f"{t.label} ({shown})" if shown else t.label
            lines.append(f"- `{t.id}` {what} on {t.dataset}, seed {t.seed}: {error}")
    return "\n".join(lines) + "\n"


def _trial_selections(sweep_dir: Path, trials: list[Trial]) -> list[str]:
    """What each trial that carried a ``select`` chose on validation (its run record)."""
    from zsl_toolkit.errors import ZSLError
    from zsl_toolkit.runs.record import read_record
    from zsl_toolkit.selection.record import selection_of
    from zsl_toolkit.selection.show import selection_markdown

    rows = []
    for t in (t for t in trials if "select" in t.config):
        try:
            selection = selection_of(read_record(trial_dir(sweep_dir, t.id)))
        except ZSLError:  # not run yet, or failed before its record was written
            continue
        if selection is not None:
            rows.append((f"`{t.id}`", selection))
    text = selection_markdown(rows)
    return ["", *text.rstrip("\n").split("\n")] if text else []


def _selection_markdown(selections: list[Selection]) -> list[str]:
    lines = [
        "",
        "## Selected on validation",
        "",
        "Per method and dataset: the parameter cell with the highest mean H under the "
        "validation protocol (validation classes play unseen; test classes withheld), and "
        "that same cell's numbers under the test protocol, which played no part in the choice.",
        "",
    ]
    if not selections:
        return [*lines, "No validation trial has completed yet."]
    head = ["method", "dataset", "selected params", "of", "val n", "val H (%)", "test n"]
    head += [f"test {m} (%)" for m in ("U", "S", "H")]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for sel in selections:
        c, t = sel.chosen, sel.test
        row = [c.label, c.dataset, c.shown_params(), str(sel.candidates)]
        row += [f"{len(c.complete)}/{len(c.trials)}", _fmt(c.stats["H"], True)]
        if t is None:
            row += ["not in sweep", "-", "-", "-"]
        else:
            row += [f"{len(t.complete)}/{len(t.trials)}"]
            row += [_fmt(t.stats[m], True) for m in ("U", "S", "H")]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _fixed_params(cells: list[Cell]) -> list[str]:
    out: dict[str, str] = {}
    for c in cells:
        fixed = [f"{k}={_value(v)}" for k, v in c.params.items() if k not in c.swept]
        if fixed:
            out.setdefault(c.label, f"{c.label}: " + ", ".join(fixed))
    return list(out.values())


def _first_line(path: Path) -> str:
    try:
        return path.read_text().splitlines()[0]
    except (OSError, IndexError):
        return "(no error recorded)"


def to_csv(cells: list[Cell], published: bool = False) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    show_protocol = _has_val(cells)
    selected = {
        id(cell)
        for sel in select_on_validation(cells)
        for cell in (sel.chosen, sel.test)
        if cell is not None
    }
    head = ["method", "method_plugin", "dataset", "params", "n", "planned", "failed"]
    if show_protocol:
        head += ["protocol", "selected_on_val"]
    for m, (_, frac) in _columns(cells).items():
        label = unit(m, frac, percent=False)
        head += [_labelled(f"{m}_mean", label), _labelled(f"{m}_std", label)]
    if published:
        head += [f"published_{m} (fraction)" for m in PUBLISHED]
    writer.writerow(head)
    for c in cells:
        row: list[Any] = [
            c.label,
            c.method,
            c.dataset,
            json.dumps(c.params, sort_keys=True),
            len(c.complete),
            len(c.trials),
            len(c.failed),
        ]
        if show_protocol:
            row += [c.protocol, id(c) in selected]
        for stat in c.stats.values():
            row += ["" if stat.mean is None else repr(stat.mean)]
            row += ["" if stat.std is None else repr(stat.std)]
        if published:
            row += [
                repr(c.published[m] / 100.0) if c.published and m in c.published else ""
                for m in PUBLISHED
            ]
        writer.writerow(row)
    return buf.getvalue()


def to_json(plan: dict[str, Any], trials: list[Trial], cells: list[Cell]) -> dict[str, Any]:
    index = {id(c): i for i, c in enumerate(cells)}
    selections = [
        {
            "method": sel.chosen.label,
            "dataset": sel.chosen.dataset,
            "params": sel.chosen.params,
            "candidates": sel.candidates,
            "validation_cell": index[id(sel.chosen)],
            "validation_H": sel.chosen.stats["H"].to_dict(),
            "test_cell": index[id(sel.test)] if sel.test is not None else None,
            "test": (
                {m: sel.test.stats[m].to_dict() for m in _columns(cells)}
                if sel.test is not None
                else None
            ),
        }
        for sel in select_on_validation(cells)
    ]
    return {
        "name": plan.get("name"),
        "planned": len(trials),
        "complete": sum(len(c.complete) for c in cells),
        "failed": sum(len(c.failed) for c in cells),
        "units": "fractions (accuracies, AUSUC), seconds (train_s); std is ddof=1",
        "metric_units": {
            m: unit(m, frac, percent=False) or "as the evaluator reports it"
            for m, (_, frac) in _columns(cells).items()
        },
        "cells": [
            {
                "method": c.label,
                "method_plugin": c.method,
                "dataset": c.dataset,
                "protocol": c.protocol,
                "params": c.params,
                "swept": list(c.swept),
                "n": len(c.complete),
                "planned": len(c.trials),
                "seeds": c.seeds,
                "trials": c.trials,
                "failed_trials": c.failed,
                "metrics": {m: s.to_dict() for m, s in c.stats.items()},
                "published": (
                    {k: v / 100.0 for k, v in c.published.items()} if c.published else None
                ),
            }
            for c in cells
        ],
        "selected_on_validation": selections,
    }


@dataclass
class Report:
    markdown: str
    paths: list[Path]


def write_report(sweep_dir: str | Path, published: bool = False) -> Report:
    """Write ``report.md``, ``report.csv`` and ``report.json`` into the sweep directory."""
    sweep_dir = Path(sweep_dir)
    plan, trials, cells = collect(sweep_dir)
    md = to_markdown(sweep_dir, plan, trials, cells, published)
    outputs = {
        sweep_dir / "report.md": md,
        sweep_dir / "report.csv": to_csv(cells, published),
        sweep_dir / "report.json": json.dumps(to_json(plan, trials, cells), indent=2) + "\n",
    }
    for path, text in outputs.items():
        data = text.encode()
        atomic_write(path, lambda fh, data=data: fh.write(data))
    return Report(md, list(outputs))
