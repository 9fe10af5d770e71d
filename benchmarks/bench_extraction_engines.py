"""``zsl extract`` through onnxruntime vs through torch, and both bare forwards, at batch 32.

Four rates with the default backbone (EfficientNet-Lite0, 224 x 224 uint8 in, 1280-d out):

1. bare torch forward: ``ImageFeatures`` under ``torch.inference_mode``, a batch in memory;
2. bare onnxruntime forward: the backbone's cached ONNX graph
   (``zsl_images.backbone_graph``), the one the image-in export embeds, same batch;
3. ``zsl extract --engine torch`` (the extraction of before) and
4. ``zsl extract --engine onnxruntime`` (the default on a CPU now), on the same folder of
   JPEG photos (random crops of scikit-learn's two bundled photos, so decoding costs what a
   photo's does), default workers; images/s of the extraction loop, as its progress line.

Also the agreement of the two engines' features on the same images (max |difference| over
the features' scale). Rates of 1 and 2 are batch / median call time, measured in interleaved
rounds.

    python benchmarks/bench_extraction_engines.py          # writes results/extraction_speed.md
    python benchmarks/bench_extraction_engines.py --quick
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
from pathlib import Path

import numpy as np
import torch
from _common import cpu_name, fmt_load, load_average, write_report
from bench_images import photo_folder, timed

BATCH = 32
GOAL = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--out", default=str(Path(__file__).parent / "results" / "extraction_speed.md")
    )
    args = parser.parse_args()
    n_images = 64 if args.quick else 192
    calls = 2 if args.quick else 4

    import onnxruntime as ort
    from zsl_images.backbone_graph import OrtFeatures, backbone_graph
    from zsl_images.backbones import get_backbone, image_features
    from zsl_images.extract import extract
    from zsl_images.semantics import Semantics

    torch.set_num_threads(os.cpu_count() or 1)
    load_before = load_average()
    spec = get_backbone("efficientnet-lite0")
    module = image_features(spec)
    graph = OrtFeatures(backbone_graph(spec))
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (BATCH, 224, 224, 3), dtype=np.uint8)
    tbatch = torch.from_numpy(batch)
    bare_torch, bare_ort = [], []
    with torch.inference_mode():
        for _ in range(2):  # interleaved rounds
            bare_torch += timed(lambda: module(tbatch), calls // 2)
            bare_ort += timed(lambda: graph(batch), calls // 2)
        reference = module(tbatch).numpy()
    agreement = float(np.abs(graph(batch) - reference).max() / np.abs(reference).max())
    torch_rate = BATCH / statistics.median(bare_torch)
    ort_rate = BATCH / statistics.median(bare_ort)

    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = photo_folder(Path(tmp) / "images", n_images)
        sem = Semantics(["class0", "class1"], np.eye(2, dtype=np.float32), "attributes", Path("-"))
        stores = {}
        for engine in ("torch", "onnxruntime"):
            out = Path(tmp) / f"{engine}.h5"
            report = extract(folder, out, sem, unseen=["class1"], batch_size=BATCH,
                             progress=io.StringIO(), device="cpu", engine=engine)  # fmt: skip
            rates[engine] = report.images_per_second
            stores[engine] = report.data.features
        workers = min(4, os.cpu_count() or 1)
    store_diff = float(
        np.abs(stores["torch"] - stores["onnxruntime"]).max() / np.abs(stores["torch"]).max()
    )
    load_after = load_average()
    speedup = rates["onnxruntime"] / rates["torch"]
    lines = [
        "# Extraction speed: onnxruntime vs torch (EfficientNet-Lite0, batch 32, CPU)",
        "",
        f"Machine: {cpu_name()}, {os.cpu_count()} cores; torch {torch.__version__}, onnxruntime "
        f"{ort.__version__}. Load average (1 min) {fmt_load(load_before)} before, "
        f"{fmt_load(load_after)} after: the machine was NOT idle (other jobs shared its "
        f"{os.cpu_count()} cores), which slows every row; ratios measured side by side hold "
        f"better than the rates.",
        "",
        "| measurement | images/s | ratio |",
        "|---|---:|---|",
        f"| bare torch forward, batch {BATCH}, in memory | {torch_rate:.1f} |  |",
        f"| bare onnxruntime forward (the cached backbone graph), batch {BATCH} | "
        f"{ort_rate:.1f} | {ort_rate / torch_rate:.2f}x of torch |",
        f"| `zsl extract --engine torch`, {n_images} JPEG photos, {workers} workers | "
        f"{rates['torch']:.1f} | {rates['torch'] / torch_rate:.2f}x of bare torch |",
        f"| `zsl extract` (default: onnxruntime), same photos | {rates['onnxruntime']:.1f} | "
        f"{speedup:.2f}x of `--engine torch` (goal {GOAL:g}x: "
        f"{'met' if speedup >= GOAL else 'NOT met'}); "
        f"{rates['onnxruntime'] / ort_rate:.2f}x of bare onnxruntime |",
        "",
        f"Features of the two engines on the same pixels: max |difference| {agreement:.1e} "
        f"(random batch) and {store_diff:.1e} (the two stores) of the features' scale "
        f"(goal <= 1e-5). The image-in export embeds the same graph file, so deployed features "
        f"equal extracted ones up to batch-size effects.",
        f"Command: `python benchmarks/bench_extraction_engines.py{' --quick' if args.quick else ''}`."
        f" One run.",
    ]
    write_report(lines, args.out)


if __name__ == "__main__":
    main()
