"""A progress line with images/s on stderr: redrawn in place on a terminal, otherwise one
line every ``interval`` seconds (logs stay readable)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(
        self, total: int, done: int = 0, *, stream: TextIO | None = None, interval: float = 10.0
    ) -> None:
        self.total, self.done, self.start_done = total, done, done
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = 0.2 if self.tty else interval
        self.t0 = self.last = time.perf_counter()

    @property
    def rate(self) -> float:
        elapsed = time.perf_counter() - self.t0
        return (self.done - self.start_done) / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        return f"extract: {self.done}/{self.total} images, {self.rate:.1f} images/s"

    def update(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self.last >= self.interval:
            self.last = now
            self._emit()

    def close(self) -> None:
        self._emit()
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()

    def _emit(self) -> None:
        self.stream.write(("\r" + self.line()) if self.tty else self.line() + "\n")
        self.stream.flush()
