"""Helpers shared by the benchmark scripts: describing the machine and writing a report.

Every timing table states the CPU and the load average, because this project's figures are
ratios measured on shared machines where another process can halve a core's speed.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_name() -> str:
    """The CPU model as the OS names it (``/proc/cpuinfo`` on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> float | None:
    """The 1-minute load average, or None where the OS has none (Windows)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def fmt_load(value: float | None) -> str:
    """A load average for a report line: one decimal, or "n/a" where the OS has none."""
    return "n/a" if value is None else f"{value:.1f}"


def write_report(lines: list[str], out: str | Path) -> str:
    """Join ``lines`` into markdown, print it and write it to ``out`` (parents created)."""
    text = "\n".join(lines).rstrip("\n") + "\n"
    print(text)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text
