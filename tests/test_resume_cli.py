"""Interrupting `zsl train` (SIGTERM, SIGINT, kill -9) and resuming it from the CLI.

A slow test method (a sleep per epoch) is installed as a fake distribution on PYTHONPATH so the
real `python -m zsl_toolkit` process can be signalled mid-training.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SLOW_METHOD = """
import time
import torch
from torch import nn
from zsl_toolkit.methods import Method, Stage


class Slow(Method):
    citation = "test double"

    def __init__(self, *, preprocess: str = "minmax") -> None:
        self.preprocess = preprocess

    def build(self, spec):
        return nn.Linear(spec.feature_dim, spec.n_classes)

    def scorer(self):
        return self.model_

    def stage(self, index, ctx):
        if index > 1:
            return None
        x = ctx.features if index == 0 else ctx.features + 0.05 * torch.randn_like(ctx.features)

        def loss(batch, epoch):
            time.sleep(0.01)
            ce = nn.functional.cross_entropy(self.model_(batch[0]), batch[1])
            return {"loss": ce}

        return Stage(name=f"s{index}", epochs=12, batch_size=16, tensors=(x, ctx.labels),
                     parameters=list(self.model_.parameters()),
                     optimizer=lambda p: torch.optim.Adam(p, lr=0.01), loss=loss, primary=index == 0)
"""


@pytest.fixture(scope="module")
def slow_env(tmp_path_factory):
    site = tmp_path_factory.mktemp("plugin") / "site"
    info = site / "zsl_slow-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: zsl-slow\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[zsl_toolkit.methods]\nslow = zsl_slow:Slow\n")
    (site / "zsl_slow.py").write_text(SLOW_METHOD)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    return env


@pytest.fixture(scope="module")
def reference(slow_env, tmp_path_factory):
    """Metrics of an uninterrupted run with the same seed."""
    ref = tmp_path_factory.mktemp("ref") / "run"
    done = zsl(
        slow_env, "train", "-m", "slow", "-d", "toy", "--device", "cpu", "-q", "-o", str(ref)
    )
    assert done.returncode == 0, done.stderr
    return json.loads((ref / "metrics.json").read_text())


def zsl(env, *args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "zsl_toolkit", *args], env=env, capture_output=True, text=True, **kw
    )


def wait_for_epochs(run: Path, n: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    log = run / "log.jsonl"
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise AssertionError(f"training ended early: {proc.communicate()}")
        if log.is_file() and len(log.read_text().splitlines()) >= n:
            return
        time.sleep(0.05)
    raise AssertionError("training did not reach the expected epoch")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_interrupt_then_resume_equals_uninterrupted(slow_env, reference, tmp_path, sig):
    run = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "zsl_toolkit",
        "train",
        "-m",
        "slow",
        "-d",
        "toy",
        "--device",
        "cpu",
        "-q",
        "-o",
        str(run),
    ]
    proc = subprocess.Popen(
        cmd,
        env=slow_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A job started in the background of a non-interactive shell inherits SIGINT ignored,
        # and Python then installs no Ctrl-C handler: give the run the default disposition an
        # interactive user's has, whatever launched the test suite.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    wait_for_epochs(run, 15, proc)  # inside the second stage
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 130, err
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and "zsl train --resume" in lines[0] and "Traceback" not in err
    assert json.loads((run / "run.json").read_text())["status"] == "running"
    assert not (run / "metrics.json").exists()
    # Not loadable until completed.
    bad = zsl(slow_env, "evaluate", str(run))
    assert bad.returncode == 2 and "did not complete" in bad.stderr

    resumed = zsl(slow_env, "train", "--resume", str(run), "-q")
    assert resumed.returncode == 0, resumed.stderr
    got = json.loads((run / "metrics.json").read_text())
    want = reference
    for ev in ("gzsl", "zsl", "calibrated"):
        assert got[ev] == want[ev]
    assert json.loads((run / "run.json").read_text())["status"] == "complete"
    assert not (run / "checkpoint.pt").exists()
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [(r["stage"], r["epoch"]) for r in log] == [
        (f"s{s}", e) for s in (0, 1) for e in range(1, 13)
    ]


def test_resume_refuses_completed_run(slow_env, tmp_path):
    run = tmp_path / "run"
    assert zsl(slow_env, "train", "-m", "slow", "-d", "toy", "-q", "-o", str(run)).returncode == 0
    again = zsl(slow_env, "train", "--resume", str(run))
    assert again.returncode == 2 and "already completed" in again.stderr
