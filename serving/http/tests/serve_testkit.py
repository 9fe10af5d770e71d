"""Helpers of the zsl-serve tests: models to serve and a real server process."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def copy_model(model: Path, folder: Path) -> Path:
    """A private copy of ``model`` (class edits are written beside it)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / model.name
    shutil.copyfile(model, target)
    return target


def set_metadata(model: Path, out: Path, **changes: str | None) -> Path:
    """``model`` with metadata entries changed (None removes one), written to ``out``."""
    import onnx

    proto = onnx.load(str(model))
    kept = {p.key: p.value for p in proto.metadata_props}
    for key, value in changes.items():
        if value is None:
            kept.pop(key, None)
        else:
            kept[key] = value
    del proto.metadata_props[:]
    for key, value in kept.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(out))
    return out


@contextlib.contextmanager
def running_server(*args: str, timeout: float = 120.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """``zsl serve *args`` in a child process on a free port; yields (base URL, process)."""
    port = free_port()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "zsl_toolkit", "serve", *args, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode() if proc.stdout else ""
                raise RuntimeError(f"zsl serve exited with {proc.returncode}: {out}")
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("zsl serve did not answer /health in time")
            time.sleep(0.2)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_kib(pid: int) -> int:
    """Resident memory of process ``pid`` in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")
