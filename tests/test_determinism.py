"""Same seed, same data, CPU: bitwise-identical metrics and weights across two processes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from tiny_params import tiny

from zsl_toolkit.methods.registry import method_registry


def train(name: str, out, seed: int) -> None:
    args = [
        sys.executable,
        "-m",
        "zsl_toolkit",
        "train",
        "-m",
        name,
        "-d",
        "toy",
        "--device",
        "cpu",
        "--epochs",
        "2",
        "--seed",
        str(seed),
        "-q",
        "-o",
        str(out),
    ]
    for k, v in tiny(name).items():
        args += ["-p", f"{k}={str(v).lower() if isinstance(v, bool) else v}"]
    proc = subprocess.run(args, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def metrics(run) -> dict:
    m = json.loads((run / "metrics.json").read_text())
    m.pop("train_seconds")
    return m


@pytest.mark.parametrize("name", method_registry().names())
def test_two_processes_same_seed_identical(name, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    train(name, a, seed=5)
    train(name, b, seed=5)
    assert metrics(a) == metrics(b)
    wa = torch.load(a / "model.pt", weights_only=True)
    wb = torch.load(b / "model.pt", weights_only=True)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), f"{name}: weight {k} differs between processes"
