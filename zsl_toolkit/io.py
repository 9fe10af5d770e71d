"""Atomic file writes: a crash never leaves a truncated file that later reads as valid.

Temporary files from :func:`tempfile.mkstemp` are created private (mode 0600); renamed into
place as they are, every run file, store and export would be unreadable to the user's group
(a shared results folder, a serving account). :func:`publish_mode` gives them the mode a plain
``open(path, "w")`` would have, i.e. 0666 less the process umask.

Ctrl-C or SIGTERM arriving mid-write is held until the write has finished and is then
delivered: an exception raised inside a writer (``torch.save``'s zip writer in particular)
can leave it raising a second, unrelated error that hides the interrupt, and the interrupted
run would then exit as failed instead of stopped with its checkpoint.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

_UMASK: int | None = None


def _umask() -> int:
    """The process umask, read once (setting it is the only portable way to read it)."""
    global _UMASK
    if _UMASK is None:
        current = os.umask(0o022)
        os.umask(current)
        _UMASK = current
    return _UMASK


def publish_mode(fd_or_path: int | str | Path) -> None:
    """Give a temporary file (descriptor or path) the permissions of a normally created one."""
    mode = 0o666 & ~_umask()
    if isinstance(fd_or_path, int):
        if hasattr(os, "fchmod"):
            os.fchmod(fd_or_path, mode)
        return
    os.chmod(fd_or_path, mode)


_HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM for the duration; re-deliver them afterwards to the handlers then set.

    Only the main thread can set handlers; elsewhere this does nothing (signals reach the main
    thread anyway).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        pending.append(signum)

    previous = {}
    for sig in _HELD_SIGNALS:
        handler = signal.getsignal(sig)
        if handler in (signal.SIG_IGN, None):
            continue  # ignored (or set outside Python): leave it so
        previous[sig] = signal.signal(sig, hold)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(pending):
            signal.raise_signal(sig)


def atomic_write(
    path: Path,
    write: Callable[[IO[bytes]], None],
    verify: Callable[[Path], None] | None = None,
) -> None:
    """Write via ``write(fileobj)`` to a temporary file beside ``path``, fsync, then rename.

    ``verify(temporary_path)``, when given, runs on the complete file before the rename; if it
    raises, ``path`` is left as it was (e.g. an export whose checks fail is never published).
    An interrupt during the write is delivered once the file is in place (module docstring).
    """
    path = Path(path)
    with interrupts_held():
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            publish_mode(fd)
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            if verify is not None:
                verify(Path(tmp))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def write_json(path: Path, obj: Any) -> None:
    data = (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode()
    atomic_write(path, lambda fh: fh.write(data))
