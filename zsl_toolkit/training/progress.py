"""Per-epoch progress as plain lines, for output that is not a terminal.

A progress bar redraws one line with carriage returns, which a log file (batch jobs,
``nohup``, CI) shows as nothing until the stage ends. There the trainer writes one line per
epoch instead, or fewer: at most one every :data:`LINE_SECONDS` seconds, and always the
stage's last epoch, with the stage, epoch/total, the loss and the estimated time left.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

#: Least number of seconds between two progress lines (the last epoch is always written).
LINE_SECONDS = 10.0


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class LineProgress:
    """The trainer's progress display (``update``/``render_finish``, as click's bar) as
    lines ``stage cosine: epoch 3/30, loss 0.8123, 0:41 left``."""

    def __init__(
        self,
        stage: str,
        total: int,
        done: int = 0,
        stream: TextIO | None = None,
        min_seconds: float | None = None,
    ) -> None:
        self.stage = stage
        self.total = total
        self.epoch = done
        self.first = done
        self.stream = stream if stream is not None else sys.stderr
        self.min_seconds = LINE_SECONDS if min_seconds is None else min_seconds
        self.start = self.last = time.monotonic()

    def update(self, n: int, record: dict[str, Any] | None = None) -> None:
        self.epoch += n
        now = time.monotonic()
        if self.epoch < self.total and now - self.last < self.min_seconds:
            return
        self.last = now
        ran = self.epoch - self.first
        left = (now - self.start) / ran * (self.total - self.epoch) if ran else 0.0
        # The total loss, or each optimizer's in a stage that alternates several.
        shown = "".join(
            f", {k} {v:.4g}"
            for k, v in (record or {}).items()
            if (k == "loss" or k.endswith(".loss")) and isinstance(v, (int, float))
        )
        print(
            f"stage {self.stage}: epoch {self.epoch}/{self.total}{shown}, {_clock(left)} left",
            file=self.stream,
            flush=True,
        )

    def render_finish(self) -> None:
        """Nothing to close (each line is complete)."""
