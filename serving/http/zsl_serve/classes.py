"""Classes added to or removed from a served model, kept in a file next to the model.

The model file is never modified: edits live in ``<model stem>.classes.json`` beside it,
which records the model's SHA-256 so the edits cannot be applied to another model by
mistake. Every write holds an exclusive ``flock`` and re-reads the file first, so server
processes sharing one model (``--workers N``) never lose each other's edits; readers notice a
change by the file's revision number.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zsl_toolkit.errors import DataError
from zsl_toolkit.io import atomic_write

SIDECAR_VERSION = "zsl-serve-classes/1"


class EditConflict(Exception):
    """An edit the model's state refuses (a name that exists, an unknown name)."""


@dataclass(frozen=True)
class AddedClass:
    """A class added to the served model: its embedding and where it came from."""

    name: str
    embedding: tuple[float, ...]
    source: str = "attributes"
    text: str | None = None

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "embedding": list(self.embedding),
            "source": self.source,
        }
        if self.text is not None:
            out["text"] = self.text
        return out

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> AddedClass:
        return cls(
            str(record["name"]),
            tuple(float(v) for v in record["embedding"]),
            str(record.get("source", "attributes")),
            record.get("text"),
        )


@dataclass(frozen=True)
class ClassEdits:
    """The cumulative change to a model's class set, with a revision counting writes."""

    revision: int = 0
    added: tuple[AddedClass, ...] = ()
    removed: tuple[str, ...] = ()

    def with_added(self, new: AddedClass, names: list[str]) -> ClassEdits:
        if new.name in names:
            raise EditConflict(f"class '{new.name}' already exists; delete it first or pick a name")
        return ClassEdits(self.revision + 1, (*self.added, new), self.removed)

    def without(self, name: str, names: list[str]) -> ClassEdits:
        if name not in names:
            raise LookupError(f"the model has no class '{name}'")
        if len(names) == 1:
            raise EditConflict(f"class '{name}' is the model's last class and cannot be deleted")
        if any(c.name == name for c in self.added):
            added = tuple(c for c in self.added if c.name != name)
            return ClassEdits(self.revision + 1, added, self.removed)
        return ClassEdits(self.revision + 1, self.added, (*self.removed, name))


def sidecar_path(model: Path) -> Path:
    """``model``'s edits file: ``<stem>.classes.json`` in the model's folder."""
    return model.with_name(model.stem + ".classes.json")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_embedding(values: Any, width: int, where: str) -> tuple[float, ...]:
    """A list of ``width`` finite numbers, or a DataError naming ``where``."""
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    ):
        raise DataError(f"{where} must be a list of {width} numbers")
    if len(values) != width:
        raise DataError(f"{where} has {len(values)} values but the model's classes have {width}")
    if not all(math.isfinite(float(v)) for v in values):
        raise DataError(f"{where} must be finite numbers (no NaN or Infinity)")
    return tuple(float(v) for v in values)


class ClassFile:
    """The edits file of one model file (see the module docstring)."""

    def __init__(self, model: Path, sha256: str) -> None:
        self.model = model
        self.path = sidecar_path(model)
        self.sha256 = sha256
        self._stamp: tuple[int, int] | None = None
        self._edits = ClassEdits()

    def current(self) -> ClassEdits:
        """The edits on disk; re-read only when the file changed (one ``stat`` otherwise)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._stamp, self._edits = None, ClassEdits()
            return self._edits
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            self._edits = self._read()
            self._stamp = stamp
        return self._edits

    def update(self, change: Callable[[ClassEdits], ClassEdits]) -> ClassEdits:
        """Apply ``change`` to the latest edits under an exclusive lock and write them."""
        with self._locked():
            self._stamp = None
            edits = change(self.current())
            doc = {
                "format": SIDECAR_VERSION,
                "model": self.model.name,
                "model_sha256": self.sha256,
                "revision": edits.revision,
                "added": [c.record() for c in edits.added],
                "removed": list(edits.removed),
            }
            data = (json.dumps(doc, indent=1) + "\n").encode()
            atomic_write(self.path, lambda fh: fh.write(data))
            self._stamp = None
            return self.current()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self.path.with_name(self.path.name + ".lock")
        with open(lock, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _read(self) -> ClassEdits:
        try:
            doc = json.loads(self.path.read_text())
            if doc.get("format") != SIDECAR_VERSION:
                raise DataError(f"{self.path}: not a {SIDECAR_VERSION} file")
            if doc.get("model_sha256") != self.sha256:
                raise DataError(
                    f"{self.path}: written for another model file than {self.model.name} "
                    f"(its SHA-256 differs); move it away to serve this model"
                )
            return ClassEdits(
                int(doc["revision"]),
                tuple(AddedClass.from_record(c) for c in doc["added"]),
                tuple(str(n) for n in doc["removed"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{self.path}: unreadable class edits ({exc})") from None
