"""Speed-up of the local sweep executor: each grid run with --jobs 1, then with --jobs N.

All runs happen in this one process invocation, each into a fresh sweep directory (nothing
is skipped), and are timed end to end as a user sees them: worker start-up, dataset loading
and every trial. With --jobs 1 a trial gets all cores as torch threads; with --jobs N each
of N concurrent trials gets cores // N. The headline ratio compares those two, the choice the
runner makes for the user; a third run, --jobs 1 with the parallel run's thread count,
separates the runner's own parallel efficiency (ideal 1/N) from how well the workload
already used every core through intra-op threads.

Two grids by default, because the answer depends on the workload:
- ``training``: CADA-VAE on ``synthetic`` (mini-batch training loops of small matmuls, the
  shape of the toolkit's VAE, GAN and ranking methods), where a second torch thread gains
  little and a second process nearly doubles throughput;
- ``blas``: ESZSL on ``synthetic-cub`` (a few large closed-form solves per trial, 1-2 s
  each), which already keeps both cores busy through BLAS, so process parallelism has
  nothing to gain and only start-up costs show.

Usage:
    python benchmarks/bench_sweep_parallel.py [--grid training] [--grid blas] [--jobs 2]
    python benchmarks/bench_sweep_parallel.py --method M --dataset D --param k=v1,v2 \\
        --seeds 0,1 [--epochs E]   # any other grid
Writes benchmarks/results/sweep_parallel.md and prints it.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import cpu_name, fmt_load, load_average, write_report

from zsl_toolkit.runs import METRICS_FILE
from zsl_toolkit.sweep import config_from_options, run_sweep
from zsl_toolkit.sweep.config import parse_seeds
from zsl_toolkit.sweep.executors import available_cores, default_threads
from zsl_toolkit.sweep.runner import trial_dir

TARGET = 0.65
RESULTS = Path(__file__).resolve().parent / "results" / "sweep_parallel.md"


GRIDS: dict[str, dict[str, Any]] = {
    "training": {
        "method": "cada-vae",
        "dataset": "synthetic",
        "param": ["latent_size=32,64"],
        "seeds": "0,1,2,3",
        "epochs": 10,
    },
    "blas": {
        "method": "eszsl",
        "dataset": "synthetic-cub",
        "param": ["gamma=1,10,100,1000"],
        "seeds": "0,1",
        "epochs": None,
    },
}


def timed_sweep(
    grid: dict[str, Any], jobs: int, out: Path, threads: int | None = None
) -> tuple[float, float, dict]:
    cfg = config_from_options(
        [grid["method"]],
        [grid["dataset"]],
        parse_seeds(grid["seeds"]),
        grid["param"],
        name=f"bench-jobs{jobs}",
        epochs=grid["epochs"],
        device="cpu",
    )
    cpu_before = _cpu_seconds()
    start = time.perf_counter()
    outcome = run_sweep(cfg, out, jobs=jobs, threads=threads, quiet=True)
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu_before
    if outcome.failed:
        raise SystemExit(f"benchmark trials failed: {outcome.failed}")
    metrics = {}
    for tid in outcome.ran:
        m = json.loads((trial_dir(out, tid) / METRICS_FILE).read_text())
        metrics[tid] = (m["gzsl"]["H"], m["train_seconds"])
    return seconds, cpu, metrics


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the pool's workers)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def grid_command(grid: dict[str, Any], jobs: int) -> str:
    return "python benchmarks/bench_sweep_parallel.py " + " ".join(
        [f"--method {grid['method']}", f"--dataset {grid['dataset']}"]
        + [f"--param {p}" for p in grid["param"]]
        + [f"--seeds {grid['seeds']}", f"--jobs {jobs}"]
        + ([f"--epochs {grid['epochs']}"] if grid["epochs"] is not None else [])
    )


def measure(name: str, grid: dict[str, Any], jobs: int) -> tuple[list[str], float]:
    """Three timed sweeps of ``grid``; the report section and the headline ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        t1, c1, m1 = timed_sweep(grid, 1, Path(tmp) / "jobs1")
        tn, cn, mn = timed_sweep(grid, jobs, Path(tmp) / f"jobs{jobs}")
        threads_n = default_threads(jobs)
        t1n, c1n, m1n = timed_sweep(grid, 1, Path(tmp) / "jobs1-same-threads", threads_n)
    ratio = tn / t1
    n = len(m1)
    max_dh = max(abs(m1[k][0] - mn[k][0]) for k in m1)
    same_threads_equal = all(m1n[k][0] == mn[k][0] for k in mn)

    def train(m: dict) -> float:
        return sum(v[1] for v in m.values()) / n

    verdict = "meets" if ratio <= TARGET else "misses"
    lines = [
        f"## Grid `{name}`: {n} trials",
        "",
        f"Equivalent command: `{grid_command(grid, jobs)}`",
        "",
        "| run | trials | torch threads per trial | wall time (s) | mean train time per trial (s) "
        "| CPU time (s) | cores obtained (CPU / wall) |",
        "|---|---|---|---|---|---|---|",
        _row("--jobs 1", n, default_threads(1), t1, train(m1), c1),
        _row(f"--jobs {jobs}", n, threads_n, tn, train(mn), cn),
        _row(f"--jobs 1 --threads {threads_n}", n, threads_n, t1n, train(m1n), c1n),
        "",
        f"Ratio jobs {jobs} / jobs 1: **{ratio:.2f}x** (target <= {TARGET}x: {verdict} it).",
        f"Ratio jobs {jobs} / jobs 1 at equal threads per trial: {tn / t1n:.2f}x "
        f"(ideal {1 / jobs:.2f}x).",
        f"Largest |H difference| between jobs 1 and jobs {jobs} (different thread counts): "
        f"{max_dh:.2e}; at equal thread counts identical: {same_threads_equal}.",
        "",
    ]
    return lines, ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--grid", action="append", choices=sorted(GRIDS), help="preset grid (repeatable)"
    )
    parser.add_argument("--method", help="a custom grid instead of the presets")
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--param", action="append", default=[], help="key=v1,v2 (repeatable)")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    if args.method:
        grids = {
            "custom": {
                "method": args.method,
                "dataset": args.dataset,
                "param": args.param,
                "seeds": args.seeds,
                "epochs": args.epochs,
            }
        }
    else:
        grids = {name: GRIDS[name] for name in (args.grid or list(GRIDS))}
    load_before = load_average()
    sections: list[str] = []
    ratios = {}
    for name, grid in grids.items():
        lines, ratios[name] = measure(name, grid, args.jobs)
        sections += lines
    load_after = load_average()
    summary = ", ".join(f"`{name}` {r:.2f}x" for name, r in ratios.items())
    lines = [
        "# Sweep executor: parallel speed-up",
        "",
        "Generated by `python benchmarks/bench_sweep_parallel.py"
        + "".join(f" --grid {g}" for g in (args.grid or []))
        + (" (custom grid)" if args.method else "")
        + (f" --jobs {args.jobs}" if args.jobs != 2 else "")
        + "`.",
        "",
        f"Machine: {available_cores()} cores ({cpu_name()}), Python "
        f"{platform.python_version()}; load average before/after: {fmt_load(load_before)} / "
        f"{fmt_load(load_after)}. Cores obtained well below the machine's core count mean other "
        "processes held the CPU during the run; no executor can then run faster in parallel.",
        "",
        f"Jobs {args.jobs} / jobs 1 wall time: {summary} (target <= {TARGET}x).",
        "",
        *sections,
    ]
    write_report(lines, RESULTS)


def _row(name: str, n: int, threads: int, wall: float, train: float, cpu: float) -> str:
    return f"| {name} | {n} | {threads} | {wall:.1f} | {train:.2f} | {cpu:.1f} | {cpu / wall:.2f} |"


if __name__ == "__main__":
    main()
