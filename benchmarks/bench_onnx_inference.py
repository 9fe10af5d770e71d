"""onnxruntime (CPU) vs PyTorch eager inference on a DVAE-shaped model, against a FLOP floor.

The default model has the shape of DVAE's (and CADA-VAE's) inference path on CUB: a fitted
min-max scaler, the visual encoder 2048 -> 1560 (ReLU) -> 64 (mean head of the distilling
branch), then the final classifier Linear 64 -> 200 with log-softmax, plus the exported
argmax. It is built here from torch layers with random weights (speed does not depend on
weight values), because neither method is in the core; ``--method NAME`` builds a registered
method's own inference module for a CUB-shaped spec instead, and ``--run-dir DIR`` uses a
trained run's. Both runtimes compute the same graph: scores and the argmax.

Tuning, applied to both runtimes alike: intra-op threads in {1, all cores} for each batch
size (torch.set_num_threads / intra_op_num_threads), and for onnxruntime the graph
optimisation level in {basic, all}; PyTorch runs under torch.inference_mode in eval mode.
The best setting per runtime and batch size is then re-measured in interleaved rounds.

The FLOP floor is the graph's multiply-add FLOPs (torch's FlopCounterMode) divided by the
rate of a 2048^3 float32 matmul measured in the same process with all cores.

    python benchmarks/bench_onnx_inference.py                  # writes results/onnx_inference.md
    python benchmarks/bench_onnx_inference.py --quick          # shorter, for a smoke test
    python benchmarks/bench_onnx_inference.py --device cuda    # results/onnx_inference_cuda.md
    python benchmarks/bench_onnx_inference.py --device cuda --cpu-dry-run --output -

``--device cuda`` measures instead, from host features to host results: onnxruntime's CUDA
provider (through zsl-onnx's reused I/O binding), onnxruntime on CPU and PyTorch eager on
CUDA, at batches 1, 256 and 4096, after a parity check of the three. ``--cpu-dry-run`` runs
those same steps with CPU standing in for CUDA and short budgets, to check the code without
a GPU (its numbers mean nothing).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from _common import cpu_name, fmt_load, load_average, write_report
from torch import nn

BATCHES = (1, 64, 4096)
DEVICE_BATCHES = (1, 256, 4096)
TARGETS = {1: 1.5, 4096: 1.0}  # required onnxruntime / PyTorch throughput ratios
FEATURE_DIM, HIDDEN, LATENT, CLASSES = 2048, 1560, 64, 200


class DVAEShapedScorer(nn.Module):
    """Visual encoder hidden layer and mean head, then the latent classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(FEATURE_DIM, HIDDEN)
        self.mu = nn.Linear(HIDDEN, LATENT)
        self.classifier = nn.Linear(LATENT, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.mu(torch.relu(self.hidden(x)))
        return torch.log_softmax(self.classifier(z), dim=1)


def build_module(args: argparse.Namespace) -> tuple[nn.Module, str]:
    """(inference module [B, d1] -> scores [B, C], description)."""
    from zsl_toolkit.data.preprocessing import FeatureScaler
    from zsl_toolkit.methods.base import InferenceModule, ModelSpec

    if args.run_dir:
        from zsl_toolkit.runs import load_run

        run = load_run(args.run_dir)
        return run.method.inference_module(), f"run {args.run_dir} ({run.record.method})"
    if args.method:
        from zsl_toolkit.methods.registry import method_registry

        seen = tuple(range(150))
        spec = ModelSpec(FEATURE_DIM, 312, CLASSES, seen, tuple(range(150, CLASSES)),
                         tuple(f"c{i}" for i in range(CLASSES)), "cub")  # fmt: skip
        method = method_registry().load(args.method).create({})
        method.setup(spec)
        method.scaler_.fit(torch.rand(256, FEATURE_DIM) * 4)
        return method.inference_module(), f"method '{args.method}' at init, CUB-shaped spec"
    torch.manual_seed(0)
    scaler = FeatureScaler("minmax", FEATURE_DIM).fit(torch.rand(256, FEATURE_DIM) * 4)
    desc = (
        f"DVAE-shaped module built in the benchmark: minmax scaler, Linear {FEATURE_DIM}->"
        f"{HIDDEN} + ReLU, Linear {HIDDEN}->{LATENT} (mu), Linear {LATENT}->{CLASSES} + "
        f"log-softmax, argmax"
    )
    return InferenceModule(scaler, DVAEShapedScorer()), desc


# ---------------------------------------------------------------------- measurement
@dataclass
class Timing:
    latencies: list[float]  # seconds per call

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p99(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(np.ceil(0.99 * len(ordered))) - 1)]

    def throughput(self, batch: int) -> float:
        """Median samples/s (batch / p50): robust to the preemptions of a shared machine."""
        return batch / self.p50

    def mean_throughput(self, batch: int) -> float:
        return batch * len(self.latencies) / sum(self.latencies)


def measure(call: Callable[[], object], budget: float, min_calls: int) -> list[float]:
    """Per-call wall times over ``budget`` seconds (at least ``min_calls`` calls)."""
    for _ in range(3):
        call()
    out: list[float] = []
    end = time.perf_counter() + budget
    while len(out) < min_calls or time.perf_counter() < end:
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def matmul_rates(threads: list[int], seconds: float) -> dict[str, float]:
    """Best FLOP/s of a float32 2048^3 matmul over ``threads``, in PyTorch and onnxruntime.

    Each runtime's own GEMM is measured because they differ (MKL vs MLAS); the floor uses
    the faster, i.e. the best matmul speed this machine showed in this process.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    flop = 2 * 2048**3
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    rates = {"torch": 0.0, "onnxruntime": 0.0}
    for t in threads:
        torch.set_num_threads(t)
        rates["torch"] = max(rates["torch"], flop / statistics.median(
            measure(lambda: torch.mm(a, b), seconds, 5)))  # fmt: skip
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])],
        "matmul",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2048, 2048])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [2048, 2048])],
        [numpy_helper.from_array(b.numpy(), "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "matmul.onnx"
        onnx.save(model, path)
        for t in threads:
            session = ort_session(path, t, "all")
            feed = {"a": a.numpy()}
            rates["onnxruntime"] = max(rates["onnxruntime"], flop / statistics.median(
                measure(lambda s=session, f=feed: s.run(None, f), seconds, 5)))  # fmt: skip
    return rates


def graph_flops_per_sample(module: nn.Module) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.rand(8, FEATURE_DIM)
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        module(x)
    return counter.get_total_flops() / 8


def ort_session(path: Path, threads: int, level: str):
    import onnxruntime as ort
    from zsl_onnx.providers import session_options

    options = session_options(threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--method", help="registered method: its inference module at init")
    source.add_argument("--run-dir", help="a trained run directory")
    parser.add_argument("--quick", action="store_true", help="short budgets (smoke test)")
    parser.add_argument(
        "--output",
        default=parser_default_output(),
        help="markdown file to write ('-' for stdout only)",
    )
    parser.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        default="cpu",
        help="cpu: ORT vs PyTorch on CPU (default); cuda: ORT CUDA vs ORT CPU vs PyTorch CUDA",
    )
    parser.add_argument(
        "--cpu-dry-run",
        action="store_true",
        help="with --device cuda: the same steps on CPU, short budgets (checks the code only)",
    )
    args = parser.parse_args(argv)
    if args.device == "cuda":
        return device_main(args)

    import onnxruntime as ort
    from zsl_onnx.exporter import ScoresAndPrediction, to_onnx_model

    cores = os.cpu_count() or 1
    load_before = load_average()
    thread_choices = sorted({1, cores})
    tune_budget, final_budget, rounds = (0.2, 0.4, 2) if args.quick else (0.6, 1.5, 3)
    inner, description = build_module(args)
    inner = inner.eval()
    if args.run_dir or args.method:
        global FEATURE_DIM
        FEATURE_DIM = int(next(b for n, b in inner.named_buffers() if n.endswith("offset")).numel())
    module = ScoresAndPrediction(inner).eval()
    rng = np.random.default_rng(0)
    inputs = {b: np.abs(rng.standard_normal((b, FEATURE_DIM))).astype(np.float32) for b in BATCHES}

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.onnx"
        path.write_bytes(to_onnx_model(module, inputs[64][:2]).SerializeToString())
        check = ort_session(path, cores, "all").run(["scores"], {"features": inputs[64]})[0]
        with torch.inference_mode():
            ref = module(torch.from_numpy(inputs[64]))[0].numpy()
        diff = float(np.abs(check - ref).max())
        assert diff <= 1e-4, f"onnxruntime and PyTorch disagree by {diff}"

        def torch_call(batch: int, threads: int) -> Callable[[], object]:
            x = torch.from_numpy(inputs[batch])
            torch.set_num_threads(threads)  # measured right after, so it holds for the calls

            def call():
                with torch.inference_mode():
                    return module(x)

            return call

        sessions = {
            (t, lv): ort_session(path, t, lv) for t in thread_choices for lv in ("basic", "all")
        }

        def ort_call(batch: int, threads: int, level: str) -> Callable[[], object]:
            session, feed = sessions[(threads, level)], {"features": inputs[batch]}
            return lambda: session.run(None, feed)

        flops = graph_flops_per_sample(inner)
        rates = matmul_rates(thread_choices, 1.0 if args.quick else 2.0)
        rate = max(rates.values())
        rows = []
        for batch in BATCHES:
            min_calls = 5 if batch >= 4096 else 20
            # Tuning: shortest median latency per runtime.
            torch_cfg = min(
                thread_choices,
                key=lambda t: statistics.median(
                    measure(torch_call(batch, t), tune_budget, min_calls)
                ),
            )
            ort_cfg = min(
                ((t, lv) for t in thread_choices for lv in ("basic", "all")),
                key=lambda c: statistics.median(
                    measure(ort_call(batch, *c), tune_budget, min_calls)
                ),
            )
            # Final: interleaved rounds of the chosen settings.
            t_lat: list[float] = []
            o_lat: list[float] = []
            for _ in range(rounds + (2 if batch <= 64 else 0)):  # cheap ones: more rounds
                t_lat += measure(torch_call(batch, torch_cfg), final_budget, min_calls)
                time.sleep(0.05)
                o_lat += measure(ort_call(batch, *ort_cfg), final_budget, min_calls)
                time.sleep(0.05)
            rows.append((batch, Timing(t_lat), Timing(o_lat), torch_cfg, ort_cfg))
            print(f"batch {batch}: done", file=sys.stderr)

    floor = {b: b * flops / rate for b in BATCHES}
    lines = [
        "# onnxruntime vs PyTorch eager: inference latency and throughput",
        "",
        f"Model: {description}.",
        f"Graph FLOPs per sample: {flops / 1e6:.2f} MFLOP. 2048^3 float32 matmul, best over "
        f"{thread_choices} threads, same process: PyTorch {rates['torch'] / 1e9:.1f} GFLOP/s, "
        f"onnxruntime {rates['onnxruntime'] / 1e9:.1f} GFLOP/s; floor = batch x FLOPs / "
        f"{rate / 1e9:.1f} GFLOP/s (the faster). Parity before timing: max |diff| {diff:.1e}.",
        f"Machine: {cpu_name()}, {cores} cores; torch "
        f"{torch.__version__}, onnxruntime {ort.__version__} (CPUExecutionProvider); "
        f"python {platform.python_version()}. Load average (1 min) {fmt_load(load_before)} "
        f"before, {fmt_load(load_average())} after: other processes shared the cores when it exceeded "
        f"{cores}.",
        "",
        "| batch | runtime | setting | p50 ms | p99 ms | samples/s (median) | samples/s (mean) "
        "| floor ms | floor / p50 | ORT / torch | target |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    verdicts = []
    for batch, tt, oo, t_cfg, o_cfg in rows:
        ratio = oo.throughput(batch) / tt.throughput(batch)
        target = TARGETS.get(batch)
        ok = "" if target is None else ("met" if ratio >= target else "MISSED") + f" (>= {target}x)"
        if target is not None:
            verdicts.append(ratio >= target)
        for name, tm, setting, r in (
            ("PyTorch eager", tt, f"{t_cfg} thr", ""),
            ("onnxruntime", oo, f"{o_cfg[0]} thr, opt {o_cfg[1]}", f"{ratio:.2f}x"),
        ):
            lines.append(
                f"| {batch} | {name} | {setting} | {1e3 * tm.p50:.3f} | {1e3 * tm.p99:.3f} | "
                f"{tm.throughput(batch):,.0f} | {tm.mean_throughput(batch):,.0f} | "
                f"{1e3 * floor[batch]:.3f} | "
                f"{floor[batch] / tm.p50:.2f} | {r} | {ok if r else ''} |"
            )
    lines += [
        "",
        "floor / p50 is the fraction of the matmul-bound speed reached (1.0 = at the floor). "
        "ORT / torch is the ratio of median throughputs (= inverse ratio of p50 latencies), "
        "which the targets apply to; mean throughput is shown for comparison and is dominated "
        "by preemptions when the machine is loaded. At batch 1 the work is a matrix-vector "
        "product, bound by reading the weights (Linear 2048->1560: 12.8 MB) more than by FLOPs, "
        "so the FLOP floor is optimistic there.",
        f"Command: `python benchmarks/bench_onnx_inference.py{' --quick' if args.quick else ''}"
        f"{' --method ' + args.method if args.method else ''}"
        f"{' --run-dir ' + args.run_dir if args.run_dir else ''}`. Timings from one run (the "
        "load average above says whether other processes shared the cores); rerun for a noise "
        "estimate.",
    ]
    if args.output != "-":
        write_report(lines, args.output)
    else:
        print("\n".join(lines))
    return 0 if all(verdicts) else 1


def device_main(args: argparse.Namespace) -> int:
    """ORT CUDA vs ORT CPU vs PyTorch CUDA, host arrays in and out (``--device cuda``)."""
    import onnxruntime as ort
    from zsl_onnx.exporter import ScoresAndPrediction, to_onnx_model
    from zsl_onnx.predictor import DeviceBinding, run_session
    from zsl_onnx.providers import open_session

    dry = args.cpu_dry_run
    device = "cpu" if dry else "cuda"
    if not dry and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda: torch sees no CUDA device (or use --cpu-dry-run)")
    budget, rounds = (0.05, 1) if dry else (1.0, 3)
    inner, description = build_module(args)
    if args.run_dir or args.method:
        global FEATURE_DIM
        FEATURE_DIM = int(next(b for n, b in inner.named_buffers() if n.endswith("offset")).numel())
    module = ScoresAndPrediction(inner.eval()).eval()
    rng = np.random.default_rng(0)
    inputs = {
        b: np.abs(rng.standard_normal((b, FEATURE_DIM))).astype(np.float32) for b in DEVICE_BATCHES
    }
    gpu = "CPU (dry run)" if dry else torch.cuda.get_device_name(0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.onnx"
        path.write_bytes(to_onnx_model(module, inputs[256][:2]).SerializeToString())
        ort_dev = DeviceBinding(open_session(path, device, notice=None), device)
        ort_cpu = open_session(path, "cpu", notice=None)
        n_classes = int(ort_cpu.get_outputs()[0].shape[1] or CLASSES)
        on_device = module.to(device)

        def torch_call(x: np.ndarray):
            with torch.inference_mode():
                scores, pred = on_device(torch.from_numpy(x).to(device))
                return scores.cpu().numpy(), pred.cpu().numpy()

        calls: dict[str, Callable[[np.ndarray], tuple[np.ndarray, ...]]] = {
            f"onnxruntime {'CPU (standing in for CUDA)' if dry else 'CUDA'}, I/O binding": (
                lambda x: ort_dev.run(x, len(x), n_classes)
            ),
            "onnxruntime CPU": lambda x: run_session(ort_cpu, x, len(x)),
            f"PyTorch eager {'CPU (standing in for CUDA)' if dry else 'CUDA'}": torch_call,
        }
        x = inputs[4096]
        outs = {name: call(x) for name, call in calls.items()}
        ref_scores, ref_pred = outs["onnxruntime CPU"]
        parity = []
        for name, (scores, pred) in outs.items():
            diff = float(np.abs(scores - ref_scores).max())
            agree = float((pred == ref_pred).mean())
            parity.append(
                f"{name}: max |score diff| vs ORT CPU {diff:.2e}, argmax agree {agree:.4f}"
            )
            if agree < 0.99:
                raise SystemExit(f"error: {name} disagrees with ORT CPU on {1 - agree:.2%} of rows")
        rows = []
        for batch in DEVICE_BATCHES:
            lat = {name: [] for name in calls}
            for _ in range(rounds):  # interleaved rounds
                for name, call in calls.items():
                    lat[name] += measure(lambda c=call, b=batch: c(inputs[b]), budget, 5)
            rows.append((batch, {name: Timing(v) for name, v in lat.items()}))
            print(f"batch {batch}: done", file=sys.stderr)
    lines = [
        "# ORT CUDA vs ORT CPU vs PyTorch CUDA: inference from host features to host results",
        "",
        f"Model: {description}.",
        f"GPU: {gpu}. CPU: {cpu_name()}, {os.cpu_count()} cores. torch {torch.__version__} "
        f"(CUDA {torch.version.cuda}), onnxruntime {ort.__version__}; python "
        f"{platform.python_version()}.",
        "Parity on 4096 rows before timing: " + "; ".join(parity) + ".",
        "",
        "| batch | runtime | p50 ms | p99 ms | samples/s (median) | vs ORT CPU |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for batch, timings in rows:
        base = timings["onnxruntime CPU"].throughput(batch)
        for name, tm in timings.items():
            lines.append(
                f"| {batch} | {name} | {1e3 * tm.p50:.3f} | {1e3 * tm.p99:.3f} | "
                f"{tm.throughput(batch):,.0f} | {tm.throughput(batch) / base:.2f}x |"
            )
    lines += [
        "",
        "Each call copies the batch from host memory to the device and the scores and argmax "
        "back (what `zsl predict` does), so at batch 1 it is dominated by launch and copy "
        "latency. Timings from one run; rerun for a noise estimate.",
        f"Command: `python benchmarks/bench_onnx_inference.py --device cuda"
        f"{' --cpu-dry-run' if dry else ''}`"
        + (" (a CPU dry run: these numbers say nothing about a GPU)." if dry else "."),
    ]
    out = args.output
    if out == parser_default_output() and not dry:
        out = str(Path(out).with_name("onnx_inference_cuda.md"))
    if out != "-" and not (dry and out == parser_default_output()):
        write_report(lines, out)
    else:
        print("\n".join(lines))
    return 0


def parser_default_output() -> str:
    return str(Path(__file__).resolve().parent / "results" / "onnx_inference.md")


if __name__ == "__main__":
    sys.exit(main())
