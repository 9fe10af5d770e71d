"""One-line live status of a sweep on stderr: done / running / failed, elapsed, time left.

On a terminal the line is redrawn in place; otherwise (logs, CI) one line is written per ended
trial, never on a timer, so logs stay short. That line waits for :meth:`Progress.tick`, which
the runner calls once it has started the trials that take the freed slots: written at the
moment a trial ends, it would count one trial too few as running.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Counts and an estimate of the time left from this invocation's completion rate."""

    def __init__(
        self, name: str, total: int, skipped: int, stream: TextIO | None = None, quiet: bool = False
    ) -> None:
        self.name = name
        self.total = total
        self.skipped = skipped
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.perf_counter()
        self.finished = 0  # ran to completion in this invocation
        self.failed = 0
        self.running = 0
        self._pending = False  # a log line is due at the next tick

    def line(self) -> str:
        done = self.skipped + self.finished
        elapsed = time.perf_counter() - self.start
        left = self.total - done - self.failed
        ended = self.finished + self.failed
        if left == 0:
            eta = "0:00"
        elif ended:
            eta = "~" + _clock(elapsed / ended * left)
        else:
            eta = "--"
        parts = [f"{done}/{self.total} done"]
        if self.skipped:
            parts[0] += f" ({self.skipped} skipped)"
        parts += [f"{self.running} running", f"{self.failed} failed"]
        return (
            f"sweep {self.name}: " + ", ".join(parts) + f" | {_clock(elapsed)} elapsed, {eta} left"
        )

    def _show(self) -> None:
        if self.quiet:
            return
        if self.tty:
            self.stream.write("\r\033[K" + self.line())
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def started(self) -> None:
        self.running += 1
        if self.tty:  # in logs, one line per finished trial is enough
            self._show()

    def ended(self, ok: bool, note: str = "") -> None:
        self.running -= 1
        if ok:
            self.finished += 1
        else:
            self.failed += 1
            if note and not self.quiet:
                self.stream.write(("\r\033[K" if self.tty else "") + f"failed: {note}\n")
        if self.tty:
            self._show()
        else:
            self._pending = True

    def tick(self) -> None:
        """Redraw on a terminal (keeps the elapsed time moving); in a log, write the line due
        since the last trial ended."""
        if self.tty or self._pending:
            self._pending = False
            self._show()

    def close(self) -> None:
        if self._pending:
            self.tick()
        if not self.quiet and self.tty:
            self.stream.write("\n")
            self.stream.flush()
