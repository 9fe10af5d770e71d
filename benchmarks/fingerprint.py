"""Fingerprints of trained models, to show that a refactoring changed no result bit for bit.

Trains every installed method (each with its small ``quick_params`` settings, plus the DVAE
ablation switches and CADA-VAE's textbook sampling) on small data with a fixed seed through
the public Python API, then prints one line per training: a sha256 over every weight of the
trained model and over its test-split scores, and the metrics. Run it on two trees and
``diff`` the outputs::

    OMP_NUM_THREADS=1 python benchmarks/fingerprint.py > before.txt
    # ... change the code ...
    OMP_NUM_THREADS=1 python benchmarks/fingerprint.py > after.txt
    diff before.txt after.txt

Training time is left out of the output (it differs from run to run); everything else must
be equal.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

SEED = 3


def trainings() -> list[tuple[str, str, dict[str, Any], int | None]]:
    """(method, dataset, parameters, epochs) of every fingerprinted training."""
    from zsl_toolkit.methods.registry import method_registry

    registry = method_registry()
    out: list[tuple[str, str, dict[str, Any], int | None]] = []
    for name in sorted(registry.names()):
        quick = dict(registry.load(name).quick_params)
        out.append((name, "toy", quick, 2))
        out.append((name, "digits", quick, 3))
    if "cada-vae" in registry.names():
        quick = dict(registry.load("cada-vae").quick_params)
        out.append(("cada-vae", "toy", {**quick, "faithful_sampling": False}, 2))
    if "dvae" in registry.names():
        quick = dict(registry.load("dvae").quick_params)
        for extra in (
            {"disentangle": False},
            {"recombine": False},
            {"classifier_latent": "t+p"},
            {"classifier_latent": "p", "attribute_dispersing": True},
            {"faithful_sampling": False},
        ):
            out.append(("dvae", "toy", {**quick, **extra}, 2))
    return out


def fingerprint(method: str, dataset: str, params: dict[str, Any], epochs: int | None) -> str:
    """One line: what was trained, the weights' and scores' sha256, the metrics."""
    import numpy as np
    import torch

    import zsl_toolkit
    from zsl_toolkit.data.resolve import load_dataset

    with tempfile.TemporaryDirectory() as tmp:
        result = zsl_toolkit.train(
            method,
            dataset,
            params=params,
            seed=SEED,
            epochs=epochs,
            device="cpu",
            out=Path(tmp) / "run",
        )
        state = result.method.modules().state_dict()
        weights = hashlib.sha256()
        for key in sorted(state):
            weights.update(key.encode())
            weights.update(state[key].detach().cpu().contiguous().numpy().tobytes())
        data = load_dataset(dataset, None)
        scores = hashlib.sha256()
        with torch.no_grad():
            for split in ("test_seen", "test_unseen"):
                x, _ = data.split(split)
                scores.update(np.ascontiguousarray(result.method.predict_scores(x)).tobytes())
        metrics = {k: v for k, v in result.metrics.items() if k != "train_seconds"}
    setting = json.dumps(params, sort_keys=True)
    return (
        f"{method} {dataset} epochs={epochs} {setting}\n"
        f"  weights {weights.hexdigest()}\n  scores  {scores.hexdigest()}\n"
        f"  metrics {json.dumps(metrics, sort_keys=True)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", action="append", help="only these methods (repeatable)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    for method, dataset, params, epochs in trainings():
        if args.method and method not in args.method:
            continue
        print(fingerprint(method, dataset, params, epochs), flush=True)


if __name__ == "__main__":
    main()
