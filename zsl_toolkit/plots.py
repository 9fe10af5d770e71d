"""PNG plots of a sweep (a metric against a swept parameter) and of one run (training curves).

matplotlib is an optional extra (``pip install 'zsl-toolkit[plot]'``), imported only here and
only inside functions; figures are drawn on the Agg canvas directly, without pyplot's global
state, so plotting works headless and inside worker processes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from zsl_toolkit.errors import ConfigError, MissingDependency, RunDirError
from zsl_toolkit.runs.layout import LOG, LOG_META_KEYS, METRICS_FILE, RUN_FILE


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependency(
            "plotting needs matplotlib, which is not installed: pip install 'zsl-toolkit[plot]'"
        ) from None
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _plotted_cells(sweep_dir: Path, param: str, metric: str) -> tuple[dict[str, Any], list[Any]]:
    from zsl_toolkit.sweep.report import METRICS, collect

    plan, _, cells = collect(sweep_dir)
    columns = cells[0].columns if cells else METRICS
    if metric not in columns:
        raise ConfigError(f"--metric '{metric}': choose one of {', '.join(columns)}")
    swept = sorted({p for c in cells for p in c.swept})
    chosen = [c for c in cells if param in c.swept]
    if not chosen:
        raise ConfigError(
            f"--plot {param}: not a swept parameter of sweep '{plan.get('name')}' "
            f"(swept: {', '.join(swept) or 'none'})"
        )
    return plan, chosen


def check_plot_sweep(sweep_dir: str | Path, param: str, metric: str = "H") -> None:
    """Raise the error :func:`plot_sweep` would (unknown metric or parameter, no matplotlib)
    without drawing, so a command can refuse a bad request before writing anything."""
    _plotted_cells(Path(sweep_dir), param, metric)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        _figure(1, 1)  # raises the MissingDependency error


def plot_sweep(
    sweep_dir: str | Path, param: str, metric: str = "H", out: str | Path | None = None
) -> Path:
    """``metric`` (mean ± sample std over seeds) against swept ``param``; one line per method
    label x dataset (x the other swept parameters' values, when there are any). A cell that
    leaves ``param`` at its default is drawn at the value its trials resolved (run.json)."""
    from zsl_toolkit.sweep.report import unit

    sweep_dir = Path(sweep_dir)
    plan, chosen = _plotted_cells(sweep_dir, param, metric)
    fraction = chosen[0].columns[metric][1]
    lines: dict[str, list[tuple[Any, Any]]] = {}
    for c in chosen:
        x = c.params[param] if param in c.params else _resolved(sweep_dir, c.complete, param)
        if x is None:  # left at a default that no completed trial resolved
            continue
        others = [f"{k}={c.params[k]}" for k in c.swept if k != param and k in c.params]
        name = f"{c.label} / {c.dataset}" + (f" ({', '.join(others)})" if others else "")
        lines.setdefault(name, []).append((x, c.stats[metric]))
    xs_all = [x for pts in lines.values() for x, _ in pts]
    numeric = _numeric(xs_all)
    categories = sorted({json.dumps(x) for x in xs_all}) if not numeric else []
    scale = 100.0 if fraction else 1.0
    fig = _figure(6.4, 4.2)
    ax = fig.add_subplot()
    for name, pts in lines.items():
        pts = [(x, s) for x, s in pts if s.mean is not None]
        if not pts:
            continue
        if numeric:
            pts.sort(key=lambda p: p[0])
            xs = [float(x) for x, _ in pts]
        else:
            xs = [categories.index(json.dumps(x)) for x, _ in pts]
        ys = [scale * s.mean for _, s in pts]
        err = [scale * s.std if s.std is not None else 0.0 for _, s in pts]
        lo, hi = min(s.n for _, s in pts), max(s.n for _, s in pts)
        n = f"n={lo}" if lo == hi else f"n={lo}-{hi}"
        ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=f"{name} ({n})")
    if numeric and min(xs_all) > 0 and max(xs_all) / min(xs_all) >= 100:
        ax.set_xscale("log")
    if not numeric:
        ax.set_xticks(range(len(categories)), [json.loads(c) for c in categories])
    label = unit(metric, fraction, percent=True)
    ax.set_xlabel(param)
    ax.set_ylabel(f"{metric} ({label})" if label else metric)
    ax.set_title(f"{plan.get('name')}: {metric} vs {param} (mean ± std over seeds)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    target = Path(out) if out else sweep_dir / f"plot-{metric}-vs-{param}.png"
    fig.savefig(target, dpi=120)
    return target


def _resolved(sweep_dir: Path, trial_ids: list[str], param: str) -> Any:
    """The value a cell's completed trials resolved for ``param`` (left at a per-dataset
    default in the sweep: DVAE's alpha), from their run records; None when there is none."""
    from zsl_toolkit.runs.record import read_record
    from zsl_toolkit.sweep.runner import trial_dir

    for tid in trial_ids:
        value = (read_record(trial_dir(sweep_dir, tid)).resolved_params or {}).get(param)
        if value is not None:
            return value
    return None


def loss_terms(rows: list[dict[str, Any]]) -> list[str]:
    """The loss terms logged in ``rows`` (every key but the trainer's bookkeeping), sorted."""
    return sorted({k for r in rows for k in r if k not in LOG_META_KEYS})


def _read_log(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / LOG
    if not path.is_file():
        raise RunDirError(f"{run_dir}: no {LOG}; pass a run directory written by `zsl train`")
    records = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                raise RunDirError(f"{path} line {i}: not a JSON record") from None
    return records


def plot_run(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """A run's loss terms per epoch (one panel per stage) and, when the run was evaluated with
    calibrated stacking, its seen-unseen accuracy curve with AUSUC."""
    run_dir = Path(run_dir)
    if not (run_dir / RUN_FILE).is_file():
        raise RunDirError(f"{run_dir} is not a run directory (no {RUN_FILE})")
    records = _read_log(run_dir)
    stages: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        stages.setdefault(str(r.get("stage", "?")), []).append(r)
    curve = None
    metrics_path = run_dir / METRICS_FILE
    if metrics_path.is_file():
        calibrated = json.loads(metrics_path.read_text()).get("calibrated")
        if isinstance(calibrated, dict) and isinstance(calibrated.get("curve"), dict):
            curve = calibrated
    panels = len(stages) + (curve is not None)
    if panels == 0:
        raise RunDirError(f"{run_dir}: {LOG} is empty and there are no calibrated metrics")
    fig = _figure(4.2 * panels, 3.6)
    axes = fig.subplots(1, panels, squeeze=False)[0]
    for ax, (name, rows) in zip(axes, stages.items(), strict=False):
        terms = loss_terms(rows)
        for term in terms:
            pts = [
                (r["epoch"], r[term])
                for r in rows
                if isinstance(r.get(term), (int, float)) and math.isfinite(r[term])
            ]
            if pts:
                ax.plot(*zip(*pts, strict=True), marker="o" if len(pts) < 3 else None, label=term)
        ax.set_title(f"stage {name}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss term (mean per batch)")
        if len(rows) > 1 and _wide_range(rows, terms):
            ax.set_yscale("symlog")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    if curve is not None:
        ax = axes[-1]
        u, s = curve["curve"]["U"], curve["curve"]["S"]
        ax.plot(u, s, label=f"AUSUC = {curve.get('AUSUC', float('nan')):.3f} (fraction)")
        if curve.get("U") is not None and curve.get("S") is not None:
            best = f"best H = {curve.get('H', 0):.3f} (fraction)"
            ax.plot([curve["U"]], [curve["S"]], "o", label=best)
        ax.set_xlabel("unseen accuracy U (fraction)")
        ax.set_ylabel("seen accuracy S (fraction)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title("seen-unseen curve (calibrated stacking)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    target = Path(out) if out else run_dir / "curves.png"
    fig.savefig(target, dpi=110)
    return target


def _wide_range(rows: list[dict[str, Any]], terms: list[str]) -> bool:
    """Whether the terms span three decades or more (then a symlog axis keeps all visible)."""
    values = [
        abs(r[t])
        for r in rows
        for t in terms
        if isinstance(r.get(t), (int, float)) and math.isfinite(r[t]) and r[t] != 0
    ]
    return bool(values) and max(values) / min(values) >= 1000
