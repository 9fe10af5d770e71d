"""New classes' descriptions from the command line: attribute vectors typed in, read from a
CSV file, or text embedded by the text encoder the run's semantics came from.

Only the format is checked here (numbers, finite, one width per file, names present and
distinct); the width is checked against the model when the edit is made.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zsl_toolkit.errors import ConfigError, DataError

#: Entry-point group of text encoders (name -> class with ``encode(texts) -> [N, d]``).
TEXT_ENCODER_GROUP = "zsl_toolkit.text_encoders"


@dataclass(frozen=True)
class NewClass:
    """A class to add: its name, its class embedding and where the embedding came from
    (``attributes``, ``attributes-file`` or ``text``; ``text`` keeps the description)."""

    name: str
    embedding: tuple[float, ...]
    source: str = "attributes"
    details: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "embedding": list(self.embedding),
            "source": self.source,
            **self.details,
        }


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise DataError(f"{where}: {text.strip()!r} is not a finite number (NaN/Inf)")
    return value


def _name(name: str, where: str) -> str:
    name = name.strip()
    if not name:
        raise DataError(f"{where}: empty class name")
    return name


def parse_attributes(name: str, values: str) -> NewClass:
    """``--name NAME --attributes "v1,v2,..."``."""
    name = _name(name, "--name")
    cells = [c for c in values.split(",")]
    if not values.strip():
        raise DataError("--attributes: no values; expected comma-separated numbers")
    vector = tuple(_number(c, f"--attributes value {i + 1}") for i, c in enumerate(cells))
    return NewClass(name, vector, "attributes")


def read_attributes_file(path: str | Path) -> list[NewClass]:
    """A CSV file: one class per row, its name then one column per attribute. A first row
    whose first cell is ``name`` or ``class`` is a header and skipped."""
    path = Path(path)
    try:
        with open(path, newline="") as fh:
            rows = [r for r in csv.reader(fh)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read attribute CSV ({exc})") from None
    start = 1 if rows and rows[0] and rows[0][0].strip().lower() in ("name", "class") else 0
    out: list[NewClass] = []
    width = None
    for line, row in enumerate(rows[start:], start=start + 1):
        if not row or all(not c.strip() for c in row):
            continue
        where = f"{path}: line {line}"
        if len(row) < 2:
            raise DataError(f"{where}: expected a class name then its attribute values")
        values = tuple(_number(c, f"{where}, column {i + 2}") for i, c in enumerate(row[1:]))
        if width is not None and len(values) != width:
            raise DataError(f"{where}: {len(values)} attribute values, earlier rows have {width}")
        width = len(values)
        out.append(NewClass(_name(row[0], where), values, "attributes-file", {"file": str(path)}))
    if not out:
        raise DataError(f"{path}: no class rows (expected: name,v1,v2,...)")
    return out


def text_semantics(extra: dict[str, str]) -> str | None:
    """The text encoder a dataset's class embeddings came from (its store records
    ``semantics`` = ``text`` and ``text_encoder``), or None for attribute vectors."""
    if extra.get("semantics") == "text" and extra.get("text_encoder"):
        return str(extra["text_encoder"])
    return None


def encode_text(name: str, text: str, extra: dict[str, str], run: str) -> NewClass:
    """``--text``: embed ``text`` with the encoder the run's semantics came from; refused for
    runs whose class embeddings are attribute vectors (a text embedding would not live in
    their space)."""
    from importlib.metadata import entry_points

    name = _name(name, "--name")
    if not text.strip():
        raise DataError("--text: empty description")
    encoder_name = text_semantics(extra)
    if encoder_name is None:
        raise ConfigError(
            f"{run}: --text needs a run whose class embeddings came from a text encoder; this "
            f"run's are attribute vectors: give --attributes or --attributes-file"
        )
    found = [ep for ep in entry_points(group=TEXT_ENCODER_GROUP) if ep.name == encoder_name]
    if not found:
        raise ConfigError(
            f"{run}: its semantics came from text encoder '{encoder_name}', which is not "
            f"installed (entry-point group {TEXT_ENCODER_GROUP})"
        )
    encoder = found[0].load()()
    vector = [float(v) for v in list(encoder.encode([text])[0])]
    if not all(math.isfinite(v) for v in vector):
        raise DataError(f"--text: encoder '{encoder_name}' returned non-finite values")
    return NewClass(name, tuple(vector), "text", {"text": text, "text_encoder": encoder_name})
