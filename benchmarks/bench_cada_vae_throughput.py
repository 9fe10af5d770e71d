"""Throughput of CADA-VAE's VAE training step against a plain float32 matmul.

Counts the FLOPs of one VAE step analytically, times full training steps (batch gather,
loss, backward, optimizer) on CUB-shaped data (``synthetic-cub``: 2048-d features, 312-d
attributes, batch 50) with every loss term active, times a 2048^3 float32 ``torch.matmul`` in
the same process (interleaved, so machine load hits both alike), and profiles one epoch.

FLOP model: for each ``nn.Linear`` ``y = x W^T`` applied to ``rows`` rows, forward
``2 * rows * in * out``; backward ``4 * rows * in * out`` (input and weight gradients), except
for a first layer, whose input needs no gradient (``2 * rows * in * out``). Each decoder runs
on both latents stacked, so its ``rows`` are ``2 * batch``.

Usage: ``python benchmarks/bench_cada_vae_throughput.py [--steps 60] [--out PATH]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch
from _common import cpu_name, fmt_load, load_average, write_report

from zsl_toolkit.data.synthetic import SyntheticCUB
from zsl_toolkit.methods.base import ModelSpec
from zsl_toolkit.methods.cada_vae import CADAVAE

TARGET = 0.45
BATCH = 50
MATMUL_N = 2048


def step_flops(method: CADAVAE, d1: int, d2: int, batch: int) -> int:
    """Analytic forward + backward matmul FLOPs of one VAE step."""
    lat = method.latent_size
    # (in, out, rows, is_first_layer)
    layers = [
        (d1, method.visual_encoder_hidden, batch, True),
        (method.visual_encoder_hidden, lat, batch, False),  # mu head
        (method.visual_encoder_hidden, lat, batch, False),  # logvar head
        (d2, method.attribute_encoder_hidden, batch, True),
        (method.attribute_encoder_hidden, lat, batch, False),
        (method.attribute_encoder_hidden, lat, batch, False),
        (lat, method.visual_decoder_hidden, 2 * batch, False),
        (method.visual_decoder_hidden, d1, 2 * batch, False),
        (lat, method.attribute_decoder_hidden, 2 * batch, False),
        (method.attribute_decoder_hidden, d2, 2 * batch, False),
    ]
    total = 0
    for fan_in, fan_out, rows, first in layers:
        mac = rows * fan_in * fan_out
        total += 2 * mac + (2 * mac if first else 4 * mac)
    return total


def matmul_seconds(reps: int = 3) -> float:
    a = torch.randn(MATMUL_N, MATMUL_N)
    b = torch.randn(MATMUL_N, MATMUL_N)
    torch.matmul(a, b)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        torch.matmul(a, b)
        times.append(time.perf_counter() - start)
    return min(times)


class StepRunner:
    """One CADA-VAE training step exactly as the trainer runs it."""

    def __init__(self, method: CADAVAE, ctx, epoch: int, fused: bool = True) -> None:
        self.stage = method.stage(0, ctx)
        if fused:
            self.optimizer = self.stage.optimizer(self.stage.parameters)
        else:  # torch's default multi-tensor Adam, for comparison
            self.optimizer = torch.optim.Adam(
                self.stage.parameters,
                lr=method.lr,
                betas=(method.adam_beta1, method.adam_beta2),
                amsgrad=method.amsgrad,
                foreach=True,
            )
        self.epoch = epoch
        self.n = self.stage.tensors[0].shape[0]
        for m in self.stage.train_modules:
            m.train()

    def epoch_batches(self) -> list[torch.Tensor]:
        perm = torch.randperm(self.n)
        stop = self.n - self.n % BATCH
        return [perm[b : b + BATCH] for b in range(0, stop, BATCH)]

    def step(self, idx: torch.Tensor, sums: dict[str, torch.Tensor]) -> None:
        terms = self.stage.loss(tuple(t[idx] for t in self.stage.tensors), self.epoch)
        self.optimizer.zero_grad(set_to_none=True)
        terms["loss"].backward()
        self.optimizer.step()
        for k, v in terms.items():
            v = v.detach()
            sums[k] = sums[k] + v if k in sums else v


def build(seed: int = 0):
    torch.manual_seed(seed)
    data = SyntheticCUB().load()
    method = CADAVAE.create({})
    method.setup(ModelSpec.from_data(data))
    ctx = method.context(data, torch.device("cpu"))
    return method, ctx, data


def measure(runner: StepRunner, steps: int, blocks: int) -> tuple[list[float], list[float]]:
    """Interleave blocks of timed steps with matmul timings; return both lists."""
    step_times, mm_times = [], []
    batches = runner.epoch_batches()
    sums: dict[str, torch.Tensor] = {}
    for i in range(5):  # warm up (allocator, optimizer state, kernels)
        runner.step(batches[i], sums)
    per_block = max(1, steps // blocks)
    k = 5
    for _ in range(blocks):
        mm_times.append(matmul_seconds())
        for _ in range(per_block):
            if k >= len(batches):
                batches, k = runner.epoch_batches(), 0
            start = time.perf_counter()
            runner.step(batches[k], sums)
            step_times.append(time.perf_counter() - start)
            k += 1
    mm_times.append(matmul_seconds())
    return step_times, mm_times


def profile_epoch(runner: StepRunner, rows: int = 18) -> tuple[str, float]:
    from torch.profiler import ProfilerActivity, profile

    batches = runner.epoch_batches()
    sums: dict[str, torch.Tensor] = {}
    start = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for idx in batches:
            runner.step(idx, sums)
    seconds = time.perf_counter() - start
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)
    return table, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--unfused-adam", action="store_true", help="compare: foreach Adam")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "results" / "cada_vae_throughput.md",
    )
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    load_before = load_average()
    method, ctx, data = build()
    d1, d2 = data.feature_dim, data.embedding_dim
    flops = step_flops(method, d1, d2, BATCH)
    runner = StepRunner(
        method, ctx, epoch=99, fused=not args.unfused_adam
    )  # every warm-up weight > 0
    step_times, mm_times = measure(runner, args.steps, args.blocks)

    step_s = statistics.median(step_times)
    mm_s = statistics.median(mm_times)
    mm_rate = 2 * MATMUL_N**3 / mm_s
    step_rate = flops / step_s
    ratio = step_rate / mm_rate
    steps_per_epoch = ctx.features.shape[0] // BATCH
    cub_steps = 7057 // BATCH
    lines = [
        "# CADA-VAE VAE-step throughput (CPU)",
        "",
        f"- machine: {cpu_name()}, {os.cpu_count()} CPUs, {torch.get_num_threads()} torch "
        f"threads, torch {torch.__version__}; 1-min load average {fmt_load(load_before)} before, "
        f"{fmt_load(load_average())} after the timed steps (other processes share the CPUs "
        "when it exceeds the thread count)",
        f"- data: synthetic-cub (d1={d1}, d2={d2}), batch {BATCH}, "
        f"{ctx.features.shape[0]} trainval rows, all loss terms active (epoch 99)",
        f"- optimizer: {type(runner.optimizer).__name__} "
        f"(fused={bool(runner.optimizer.defaults.get('fused'))}, "
        f"amsgrad={runner.optimizer.defaults.get('amsgrad')})",
        f"- analytic FLOPs per step: {flops / 1e9:.3f} GFLOP",
        f"- step time: median {step_s * 1e3:.1f} ms over {len(step_times)} steps "
        f"(min {min(step_times) * 1e3:.1f}, max {max(step_times) * 1e3:.1f})",
        f"- step rate: {step_rate / 1e9:.1f} GFLOP/s",
        f"- 2048^3 float32 matmul: median {mm_s * 1e3:.1f} ms -> {mm_rate / 1e9:.1f} GFLOP/s "
        f"({len(mm_times)} samples, interleaved with the steps)",
        f"- **ratio: {ratio:.1%} of matmul rate (target {TARGET:.0%}: "
        f"{'met' if ratio >= TARGET else 'NOT met'})**",
        f"- seconds per epoch (from median step): {steps_per_epoch * step_s:.2f} s on "
        f"synthetic-cub ({steps_per_epoch} steps), {cub_steps * step_s:.2f} s for CUB's "
        f"7057 rows ({cub_steps} steps); 100 epochs of CUB: {100 * cub_steps * step_s / 60:.1f} min",
    ]
    if not args.no_profile:
        table, seconds = profile_epoch(runner)
        lines += [
            "",
            f"## Profile of one epoch ({steps_per_epoch} steps, {seconds:.2f} s under the "
            "profiler), top ops by self CPU time",
            "",
            "```",
            table.rstrip(),
            "```",
        ]
    write_report(lines, args.out)


if __name__ == "__main__":
    main()
