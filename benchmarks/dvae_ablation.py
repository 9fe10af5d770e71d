"""Disentangled-VAE ablations: the paper's Table 3 (base / +dis / +dis+re), Table 4 (final
classifier on z_p / z_p + z_t / z_t) and Fig. 3 (H against alpha), with CADA-VAE in the same
run, mean and standard deviation over seeds.

Each (dataset, row, seed) is one full training run, executed as a trial of the toolkit's
sweep runner (``zsl_toolkit.sweep.run_sweep``, local executor) in ``<sweep-dir>/<label>/``: an
interrupted run resumes, and every run is an ordinary run directory (``zsl evaluate``, ``zsl
export``). Records go to ``<out>/<label>.jsonl`` (one line per run; runs recorded there are
not repeated) and the report to ``<out>/<label>.md`` with ``<out>/<label>_alpha.png``. On
CUB, AWA1, AWA2 and SUN the paper's numbers are printed beside the measured ones.

Examples::

    python benchmarks/dvae_ablation.py --dataset synthetic
    python benchmarks/dvae_ablation.py --dataset cub --data-root ~/xlsa17 --workers 1
    python benchmarks/dvae_ablation.py --dataset /path/to/SNU36 --epochs 60 --alphas 1 5 10 20
    python benchmarks/dvae_ablation.py --dataset synthetic --variant g3:gamma=3 --variant \
        mean:seen_noise=false
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import statistics
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zsl_dvae.defaults import default_alpha
from zsl_dvae.published import ALPHA_PEAK as PAPER_ALPHA_PEAK
from zsl_dvae.published import TABLE3 as PAPER_TABLE3
from zsl_dvae.published import TABLE4 as PAPER_TABLE4

DEFAULT_ALPHAS = (1.0, 3.0, 6.0, 10.0, 20.0)

TABLE3_ROWS = {  # row -> (method, params)
    "CADA-VAE": ("cada-vae", {}),
    "base": ("dvae", {"disentangle": False}),
    "+dis": ("dvae", {"recombine": False}),
    "+dis+re": ("dvae", {}),
}
TABLE4_ROWS = {
    "z_p": ("dvae", {"classifier_latent": "p"}),
    "z_p + z_t": ("dvae", {"classifier_latent": "t+p"}),
    "z_t": ("dvae", {}),
}


@dataclass
class Job:
    label: str
    dataset: str
    method: str
    params: dict[str, Any]
    seed: int
    epochs: int | None
    device: str
    root: str | None
    key: str = field(init=False)

    def __post_init__(self) -> None:
        self.key = json.dumps([self.method, self.params, self.seed, self.epochs], sort_keys=True)


# ---------------------------------------------------------------------- running
RESOLVED_SHOWN = ("alpha", "seen_samples", "unseen_samples", "seen_noise", "classifier_epochs")


def run_with_sweep(
    label: str, jobs: list[Job], args: argparse.Namespace, command: str
) -> list[dict[str, Any]]:
    """Run ``jobs`` (one dataset) as a toolkit sweep and return one record per job.

    Every run is an ordinary trial of ``zsl sweep`` in ``<sweep-dir>/<label>/``: resumable
    (completed trials are skipped when the script is run again), re-evaluable and exportable
    like any run directory. Jobs are grouped by their seed set, one sweep per group.
    """
    from zsl_toolkit.sweep import run_sweep
    from zsl_toolkit.sweep.config import DatasetEntry, MethodEntry, SweepConfig

    records: list[dict[str, Any]] = []
    for index, points in enumerate(_split_by_seed_set(jobs)):
        seeds = tuple(sorted({j.seed for js in points.values() for j in js}))
        entries = []
        owner: dict[tuple[str, int], Job] = {}
        for point_jobs in points.values():
            first = point_jobs[0]
            name = entry_label(first)
            owner.update({(name, j.seed): j for j in point_jobs})
            entries.append(
                MethodEntry(
                    label=name,
                    method=first.method,
                    grids=({k: [v] for k, v in first.params.items()},),
                    epochs=first.epochs,
                    table=f"row '{name}' (--params / --variant)",
                    where={k: f"row '{name}' (--params / --variant): {k}" for k in first.params},
                )
            )
        first = jobs[0]
        config = SweepConfig(
            name=f"dvae-ablation-{label}",
            seeds=seeds,
            datasets=(
                DatasetEntry(
                    first.dataset, first.root, where="--dataset", root_where="--data-root"
                ),
            ),
            methods=tuple(entries),
            evaluators=("gzsl",),
            device=first.device,
        )
        out = Path(args.sweep_dir) / (label if index == 0 else f"{label}-{index}")
        outcome = run_sweep(config, out, jobs=args.workers, threads=args.threads)
        if outcome.failed:
            raise SystemExit(f"{len(outcome.failed)} runs failed; see {out}/state.json")
        records += [
            _record(out, trial, owner[(trial.label, trial.seed)], command)
            for trial in outcome.trials
        ]
    return records


def entry_label(job: Job) -> str:
    """A readable, unique label for a (method, params, epochs) point in ``zsl report``."""
    shown = [f"{k}={v}" for k, v in sorted(job.params.items())]
    if job.epochs is not None:
        shown.append(f"epochs={job.epochs}")
    return job.method + (f" {','.join(shown)}" if shown else "")


def _split_by_seed_set(jobs: list[Job]) -> list[dict[str, list[Job]]]:
    """Jobs grouped by (method, params, epochs), those groups grouped by their seed sets: a
    sweep runs every point on every seed, so points with different seed sets go apart."""
    points: dict[str, list[Job]] = {}
    for job in jobs:
        points.setdefault(
            json.dumps([job.method, job.params, job.epochs], sort_keys=True), []
        ).append(job)
    sets: dict[tuple[int, ...], dict[str, list[Job]]] = {}
    for key, point_jobs in points.items():
        sets.setdefault(tuple(sorted(j.seed for j in point_jobs)), {})[key] = point_jobs
    return list(sets.values())


def _record(sweep_dir: Path, trial: Any, job: Job, command: str) -> dict[str, Any]:
    """The report's record of ``job``, read from its completed trial's run directory."""
    from zsl_toolkit.rundir import METRICS_FILE, RUN_FILE
    from zsl_toolkit.sweep.runner import trial_dir

    run_dir = trial_dir(sweep_dir, trial.id)
    run = json.loads((run_dir / RUN_FILE).read_text())
    metrics = json.loads((run_dir / METRICS_FILE).read_text())
    gzsl = metrics["gzsl"]
    return {
        **asdict(job),
        "U": gzsl["U"],
        "S": gzsl["S"],
        "H": gzsl["H"],
        "seconds": round(metrics["train_seconds"], 2),
        "command": command,
        "host": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {run['versions']['torch']}",
        "trial": os.path.relpath(run_dir),
        "resolved": {k: v for k, v in run["resolved_params"].items() if k in RESOLVED_SHOWN},
    }


# ---------------------------------------------------------------------- planning
def dataset_label(dataset: str) -> str:
    return Path(dataset).name.lower() if dataset else "data"


def plan(args: argparse.Namespace, dataset: str, has_cada: bool) -> list[tuple[str, str, Job]]:
    """(table, row, job) for every run; rows shared by several tables share their jobs."""
    label = dataset_label(dataset)
    rows: list[tuple[str, str, str, dict[str, Any]]] = []
    if "table3" in args.experiments:
        for row, (method, params) in TABLE3_ROWS.items():
            if method == "cada-vae" and not has_cada:
                continue
            rows.append(("table3", row, method, params))
    if "table4" in args.experiments:
        rows += [("table4", row, m, p) for row, (m, p) in TABLE4_ROWS.items()]
    if "alpha" in args.experiments:
        default = default_alpha(label)  # the full method's own runs serve that point
        rows += [
            ("alpha", f"{a:g}", "dvae", {} if float(a) == default else {"alpha": float(a)})
            for a in args.alphas
        ]
    for spec in args.variant:
        name, _, assignments = spec.partition(":")
        rows.append(("variants", name, "dvae", parse_assignments(assignments)))
    out = []
    for table, row, method, params in rows:
        merged = {**(args.base_params if method == "dvae" else {}), **params}
        for seed in args.seeds:
            epochs = args.epochs
            job = Job(label, dataset, method, merged, seed, epochs, args.device, args.data_root)
            out.append((table, row, job))
    return out


def parse_assignments(text: str) -> dict[str, Any]:
    """``"gamma=3,seen_noise=false"`` -> ``{"gamma": 3.0, "seen_noise": False}``."""
    out: dict[str, Any] = {}
    for item in filter(None, text.split(",")):
        key, _, raw = item.partition("=")
        low = raw.strip().lower()
        if low in ("true", "false"):
            out[key.strip()] = low == "true"
            continue
        try:
            value: Any = int(raw)
        except ValueError:
            try:
                value = float(raw)
            except ValueError:
                value = raw.strip()
        out[key.strip()] = value
    return out


# ---------------------------------------------------------------------- reporting
def stats(results: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    out = {}
    for k in ("U", "S", "H"):
        values = [100 * r[k] for r in results]
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        out[k] = (statistics.fmean(values), sd)
    return out


def fmt(ms: tuple[float, float], n: int = 2) -> str:
    """Mean ± standard deviation; the mean alone for a single run (no spread to show)."""
    return f"{ms[0]:.1f} ± {ms[1]:.1f}" if n > 1 else f"{ms[0]:.1f}"


def table_lines(
    title: str, rows: dict[str, list[dict[str, Any]]], paper: dict[str, tuple] | None
) -> list[str]:
    head = "| row | U | S | H | runs |"
    sep = "|---|---|---|---|---|"
    if paper:
        head += " paper U / S / H |"
        sep += "---|"
    lines = [f"### {title}", "", head, sep]
    for row, results in rows.items():
        if not results:
            continue
        s = stats(results)
        n = len(results)
        line = f"| {row} | {fmt(s['U'], n)} | {fmt(s['S'], n)} | {fmt(s['H'], n)} | {n} |"
        if paper:
            key = "base" if row == "CADA-VAE" else row
            p = paper.get(key)
            line += f" {p[0]} / {p[1]} / {p[2]} |" if p else " - |"
        lines.append(line)
    return lines + [""]


def plot_alpha(
    path: Path,
    label: str,
    points: list[tuple[float, tuple[float, float]]],
    refs: dict[str, tuple[float, float]],
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.4))
    xs = [a for a, _ in points]
    ax.errorbar(
        xs, [m for _, (m, _) in points], yerr=[s for _, (_, s) in points], marker="o", capsize=3
    )
    for (name, (mean, sd)), color in zip(refs.items(), ("grey", "tab:green"), strict=False):
        ax.axhline(mean, color=color, linestyle="--", label=f"{name} {mean:.1f}")
        ax.axhspan(mean - sd, mean + sd, color=color, alpha=0.15)
    if refs:
        ax.legend(loc="lower right", fontsize=8)
    peak = PAPER_ALPHA_PEAK.get(label)
    if peak is not None:
        ax.axvline(peak, color="tab:red", linestyle=":", linewidth=1)
    ax.set_xlabel("alpha (weight of the dispersing branch's KL)")
    ax.set_ylabel("H (%)")
    ax.set_title(f"Disentangled-VAE on {label}: H against alpha")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def report(
    args: argparse.Namespace,
    label: str,
    planned: list[tuple[str, str, Job]],
    results: dict[str, dict[str, Any]],
) -> str:
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for table, row, job in planned:
        bucket = grouped.setdefault(table, {}).setdefault(row, [])
        if job.key in results and results[job.key] not in bucket:
            bucket.append(results[job.key])
    runs = list(results.values())
    epochs = sorted({str(r["epochs"]) for r in runs}) or ["-"]
    epochs_text = ", ".join("method defaults" if e == "None" else e for e in epochs)
    commands = sorted({r.get("command", "") for r in runs})
    hosts = sorted({f"{r.get('host', '?')}, device {r['device']}" for r in runs})
    seeds = sorted({r["seed"] for r in runs})
    full = [r for r in runs if r["method"] == "dvae" and r["params"] == args.base_params]
    resolved = full[0]["resolved"] if full else {}
    lines = [
        f"# Disentangled-VAE ablations on `{label}`",
        "",
        "Generated from the runs of",
        "",
        "```",
        *commands,
        "```",
        "",
        f"- Report written {dt.date.today().isoformat()}; runs on: {'; '.join(hosts)}.",
        f"- Primary-stage epochs: {epochs_text} (the defaults: CADA-VAE 100, DVAE 150); "
        f"seeds {', '.join(map(str, seeds))}; mean ± sample standard deviation over seeds; "
        "U, S, H in %.",
        f"- DVAE parameters common to all rows: {args.base_params or 'defaults'}; resolved "
        f"for this dataset: {resolved}.",
        "- Rows: `CADA-VAE` is the built-in `cada-vae` with its defaults; `base` is `dvae` with "
        "`disentangle=false` (CADA-VAE operation for operation, at DVAE's epochs); `+dis` "
        "has two branches without the re-combined term (`recombine=false`); `+dis+re` is the "
        "full method.",
        *[f"- {note}" for note in args.note],
        "",
    ]
    paper3 = PAPER_TABLE3.get(label)
    paper4 = PAPER_TABLE4.get(label)
    if "table3" in grouped:
        lines += table_lines("Table 3: disentanglement and re-combining", grouped["table3"], paper3)
    if "table4" in grouped:
        lines += table_lines("Table 4: latent of the final classifier", grouped["table4"], paper4)
    refs = {
        name: stats(runs)["H"]
        for row, name in (("CADA-VAE", "CADA-VAE"), ("base", "base (DVAE's epochs)"))
        if (runs := grouped.get("table3", {}).get(row))
    }
    if "alpha" in grouped:
        title = "Fig. 3: H against alpha"
        if label in PAPER_ALPHA_PEAK:
            title += f" (paper's peak: alpha = {PAPER_ALPHA_PEAK[label]})"
        lines += table_lines(title, grouped["alpha"], None)
        points = [(float(row), stats(runs)["H"]) for row, runs in grouped["alpha"].items() if runs]
        if points:
            png = Path(args.out) / f"{label}_alpha.png"
            plot_alpha(png, label, sorted(points), refs)
            lines += [f"![H against alpha]({png.name})", ""]
    if "variants" in grouped:
        lines += table_lines(
            "Other settings tried (full method + the change)", grouped["variants"], None
        )
        lines += [
            "Variants: " + "; ".join(f"`{v}`" for v in args.variant),
            "",
        ]
    full = grouped.get("table3", {}).get("+dis+re") or grouped.get("table4", {}).get("z_t")
    comparisons = [
        (row, runs)
        for row, runs in grouped.get("table3", {}).items()
        if row in ("CADA-VAE", "base", "+dis") and runs
    ]
    if full and comparisons:
        h = stats(full)["H"]
        for row, runs in comparisons:
            other = stats(runs)["H"]
            diff = h[0] - other[0]
            spread = max(h[1], other[1])
            verdict = "above" if diff > spread else ("below" if diff < -spread else "within")
            text = f"- H(+dis+re) - H({row}) = {diff:+.1f} points; "
            if min(len(full), len(runs)) < 2:
                text += "one run on a side: no seed spread to compare with."
            else:
                text += f"the larger seed spread is {spread:.1f}: {verdict} the spread."
            lines.append(text)
        lines.append("")
    seconds = [r["seconds"] for r in results.values()]
    if seconds:
        lines.append(
            f"Training time per run: median {statistics.median(seconds):.0f} s "
            f"(max {max(seconds):.0f} s)."
        )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    """Run the ablations; a user mistake (unknown dataset or parameter) ends in one line."""
    from zsl_toolkit.errors import ZSLError

    try:
        _main(argv)
    except ZSLError as exc:
        raise SystemExit(f"error: {exc}") from None


def _main(argv: list[str] | None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dataset",
        action="append",
        required=True,
        help="registered name or xlsa17 folder; repeatable",
    )
    parser.add_argument("--data-root", default=None, help="root of <NAME>/ benchmark folders")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="primary-stage epochs for every method (default: each method's)",
    )
    parser.add_argument("--alphas", type=float, nargs="+", default=list(DEFAULT_ALPHAS))
    parser.add_argument(
        "--experiments",
        nargs="*",
        default=["table3", "table4", "alpha"],
        choices=["table3", "table4", "alpha"],
        help="tables to run (none: only the --variant rows)",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="NAME:key=value,... extra DVAE row (repeatable)",
    )
    parser.add_argument("--params", default="", help="key=value,... applied to every DVAE row")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=2, help="concurrent trials")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads per trial (1: how the committed tables were made)",
    )
    parser.add_argument(
        "--sweep-dir",
        default="sweeps/dvae-ablation",
        help="where the runs' sweep directories go (one per dataset; re-running resumes)",
    )
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "dvae"))
    parser.add_argument(
        "--report-only", action="store_true", help="only rewrite reports from <out>/*.jsonl"
    )
    parser.add_argument("--note", action="append", default=[], help="a line for the report")
    args = parser.parse_args(argv)
    args.base_params = parse_assignments(args.params)

    from zsl_toolkit.registry import method_registry

    has_cada = "cada-vae" in method_registry().names()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plans = {dataset_label(d): plan(args, d, has_cada) for d in args.dataset}
    done: dict[str, dict[str, dict[str, Any]]] = {}
    todo: list[Job] = []
    for label, planned in plans.items():
        log = out / f"{label}.jsonl"
        cached = {}
        if log.exists():
            for line in log.read_text().splitlines():
                r = json.loads(line)
                cached[r["key"]] = r
        done[label] = cached
        seen_keys = set(cached)
        for _, _, job in planned:
            if job.key not in seen_keys:
                seen_keys.add(job.key)
                todo.append(job)
    print(f"{len(todo)} runs to do ({sum(len(p) for p in plans.values())} planned)", flush=True)
    if todo and not args.report_only:
        command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
        for label in plans:
            jobs = [job for job in todo if job.label == label]
            if not jobs:
                continue
            records = run_with_sweep(label, jobs, args, command)
            with open(out / f"{label}.jsonl", "a") as fh:
                for r in records:
                    done[label][r["key"]] = r
                    fh.write(json.dumps(r) + "\n")
    for label, planned in plans.items():
        text = report(args, label, planned, done[label])
        (out / f"{label}.md").write_text(text)
        print(text)


if __name__ == "__main__":
    main()
