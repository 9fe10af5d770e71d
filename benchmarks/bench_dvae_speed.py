"""Training-step time of Disentangled-VAE against CADA-VAE on CUB-shaped data, in one process.

Target: a DVAE step (batch 50, all loss terms active) at most 1.3x a CADA-VAE step on the
same data, and a full 150-epoch DVAE run on ``synthetic-cub`` under 15 minutes on a 2-core
machine. Steps of the two methods are timed in paired blocks on the same batches, alternating
which goes first (the machine is shared and noisy, so a ratio measured side by side is the
reliable figure); the 150-epoch time is projected from the step times plus one timed epoch of the final classifier, and measured end
to end with ``--full``. Writes ``benchmarks/results/dvae_speed.md`` (or ``--out``).

    python benchmarks/bench_dvae_speed.py [--threads 2] [--full]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from _common import cpu_name, fmt_load, load_average, write_report

from zsl_toolkit.data.resolve import load_dataset
from zsl_toolkit.methods import Method
from zsl_toolkit.methods.registry import method_registry
from zsl_toolkit.pipeline import evaluate
from zsl_toolkit.training import TrainConfig, Trainer, seed_everything

TARGET_RATIO = 1.3
TARGET_MINUTES = 15.0


def prepare(name: str, params: dict, data, device: torch.device):
    seed_everything(0)
    method: Method = method_registry().load(name).create(params)
    from zsl_toolkit.methods import ModelSpec

    method.setup(ModelSpec.from_data(data))
    method.to(device)
    ctx = method.context(data, device)
    stage = method.stage(0, ctx)
    optimizer = stage.optimizer(stage.parameters)
    for m in stage.train_modules:
        m.train()
    return method, ctx, stage, optimizer


def time_steps(stage, optimizer, batches, epoch: int) -> float:
    """Wall seconds per step over ``batches`` (a device sync at the end only)."""
    start = time.perf_counter()
    for idx in batches:
        terms = stage.loss(tuple(t[idx] for t in stage.tensors), epoch)
        optimizer.zero_grad(set_to_none=True)
        terms["loss"].backward()
        optimizer.step()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / len(batches)


def classifier_epoch_seconds(method: Method, ctx) -> tuple[float, int]:
    """Time one epoch of the final classifier stage; returns (seconds, its epochs)."""
    stage = method.stage(1, ctx)
    optimizer = stage.optimizer(stage.parameters)
    n = stage.tensors[0].shape[0]
    b = stage.batch_size
    batches = list(torch.randperm(n, device=ctx.device)[: n - n % b].split(b))
    return time_steps(stage, optimizer, batches, 0) * len(batches), stage.epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="synthetic-cub")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=5, help="steps per block")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--full", action="store_true", help="also run a full 150-epoch DVAE fit")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "dvae_speed.md"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    data = load_dataset(args.dataset)
    has_cada = "cada-vae" in method_registry().names()
    base = ("cada-vae", {}) if has_cada else ("dvae", {"disentangle": False})
    methods = {"DVAE": ("dvae", {}), "CADA-VAE": base}
    prepared = {k: prepare(n, p, data, device) for k, (n, p) in methods.items()}
    n = prepared["DVAE"][1].features.shape[0]
    steps_per_epoch = n // 50
    epoch = 60  # every warm-up active, every loss term computed
    times: dict[str, list[float]] = {k: [] for k in methods}
    cpu: dict[str, list[float]] = {k: [] for k in methods}
    for _, _, stage, opt in prepared.values():  # warm-up, untimed
        time_steps(stage, opt, list(torch.randperm(n).split(50))[:3], epoch)
    for r in range(args.rounds):
        batches = [torch.randperm(n, device=device)[:50] for _ in range(args.steps)]
        order = list(prepared.items())
        for k, (_, _, stage, opt) in order if r % 2 == 0 else order[::-1]:  # alternate first
            c0 = time.process_time()
            times[k].append(time_steps(stage, opt, batches, epoch))
            cpu[k].append((time.process_time() - c0) / len(batches))
    step = {k: statistics.median(v) for k, v in times.items()}
    # Process CPU time per step: with one thread, what the step takes on an otherwise idle
    # core, whatever else the shared machine is running.
    step_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    # Paired: each DVAE block against the CADA-VAE block run right after it on the same
    # batches, so load changes on a shared machine cancel out; the median resists outliers.
    ratios = [d / c for d, c in zip(times["DVAE"], times["CADA-VAE"], strict=True)]
    ratio = statistics.median(ratios)
    quartiles = statistics.quantiles(ratios, n=4)
    method, ctx = prepared["DVAE"][0], prepared["DVAE"][1]
    clf_epoch, clf_epochs = classifier_epoch_seconds(method, ctx)
    vae_minutes = step["DVAE"] * steps_per_epoch * 150 / 60
    projected = vae_minutes + clf_epoch * clf_epochs / 60
    clf_minutes = clf_epoch * clf_epochs / 60 * step_cpu["DVAE"] / step["DVAE"]
    projected_cpu = step_cpu["DVAE"] * steps_per_epoch * 150 / 60 + clf_minutes
    full = None
    if args.full:
        fresh = method_registry().load("dvae").create({})
        start = time.perf_counter()
        Trainer(TrainConfig(seed=0, device=args.device, quiet=True)).fit(fresh, data)
        full = (time.perf_counter() - start) / 60
        full_h = evaluate(fresh, data, ("gzsl",))["gzsl"]["H"]
    base_name = "cada-vae" if has_cada else "dvae disentangle=false (CADA-VAE's operations)"
    load = fmt_load(load_average())
    lines = [
        "# Disentangled-VAE training speed",
        "",
        "Generated by `python " + " ".join(sys.argv) + "`.",
        "",
        f"- {dt.date.today().isoformat()}, {cpu_name()}, "
        f"{os.cpu_count()} CPUs, torch {torch.__version__} with {torch.get_num_threads()} "
        f"thread(s), device `{args.device}`; 1-minute load average at the end: {load}.",
        f"- Data `{args.dataset}`: {n} training rows, batch 50, {steps_per_epoch} steps per "
        f"epoch; baseline: {base_name}.",
        f"- {args.rounds} alternating blocks of {args.steps} steps per method, epoch {epoch} "
        "weights (all terms active); step times are medians over blocks.",
        "",
        "| | ms per step (wall) | ms per step (process CPU time) |",
        "|---|---|---|",
        f"| CADA-VAE | {1000 * step['CADA-VAE']:.1f} | {1000 * step_cpu['CADA-VAE']:.1f} |",
        f"| DVAE | {1000 * step['DVAE']:.1f} | {1000 * step_cpu['DVAE']:.1f} |",
        f"| ratio DVAE / CADA-VAE, median of paired blocks | **{ratio:.2f}** (quartiles "
        f"{quartiles[0]:.2f} .. {quartiles[2]:.2f}; target <= {TARGET_RATIO}) | "
        f"{step_cpu['DVAE'] / step_cpu['CADA-VAE']:.2f} (ratio of medians) |",
        "",
        f"Projected 150-epoch DVAE run: {vae_minutes:.1f} min of VAE training + "
        f"{clf_epoch * clf_epochs / 60:.1f} min of final classifier ({clf_epochs} epochs) = "
        f"**{projected:.1f} min** at the measured wall time (target < {TARGET_MINUTES:.0f} "
        f"min); {projected_cpu:.1f} min at the measured process CPU time per step"
        + (
            ", i.e. on one otherwise idle core (classifier scaled by the same CPU/wall ratio)."
            if torch.get_num_threads() == 1
            else " (CPU time summed over threads: not a wall-time estimate)."
        ),
    ]
    if full is not None:
        lines += [
            "",
            f"Measured full 150-epoch DVAE run (`Trainer.fit`, seed 0): **{full:.1f} min**, "
            f"H = {100 * full_h:.1f}.",
        ]
    write_report(lines, args.out)


if __name__ == "__main__":
    main()
