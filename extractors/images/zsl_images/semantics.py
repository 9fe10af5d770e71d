"""Class semantics from a user's file: an attribute table, or text embedded by an encoder.

Attributes: CSV with a header row; first column the class name, then one numeric column per
attribute. Descriptions: CSV (header row; class name, text) or JSON (an object mapping class
name to text), embedded by a text encoder plugin. Every problem is one
:class:`~zsl_toolkit.errors.DataError` naming the file and the row (1-based line numbers, the
header being line 1) or key.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zsl_toolkit.errors import DataError


@dataclass
class Semantics:
    """Class names (file order), their vectors, and what produced them (stored with the data:
    ``kind`` is "attributes" or "text", ``encoder`` the text encoder's name)."""

    names: list[str]
    vectors: np.ndarray
    kind: str
    source: Path
    encoder: str = ""
    texts: dict[str, str] = field(default_factory=dict)

    def record(self) -> dict[str, str]:
        out = {"semantics": self.kind, "semantics_file": str(self.source)}
        if self.encoder:
            out["text_encoder"] = self.encoder
        return out


def _rows(path: Path) -> list[list[str]]:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            return [row for row in csv.reader(fh)]
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text (expected a CSV file)") from None
    except csv.Error as exc:
        raise DataError(f"{path}: malformed CSV ({exc})") from None


def _check_name(path: Path, line: int, name: str, seen: dict[str, int]) -> str:
    name = name.strip()
    if not name:
        raise DataError(f"{path}: line {line}: empty class name")
    if name in seen:
        raise DataError(
            f"{path}: line {line}: duplicate class name '{name}' (first on line {seen[name]})"
        )
    seen[name] = line
    return name


def _looks_like_data(cells: list[str]) -> bool:
    """Every cell a number and one of them fractional: no header names columns so."""
    try:
        values = [float(c) for c in cells]
    except ValueError:
        return False
    return any(v != int(v) for v in values if math.isfinite(v))


def first_row(path: str | Path) -> list[str]:
    """The first row of a CSV file, stripped (empty for a JSON file or an empty file)."""
    path = Path(path).expanduser()
    if path.suffix.lower() == ".json":
        return []
    rows = _rows(path)
    return [c.strip() for c in rows[0]] if rows else []


def read_attributes(path: str | Path) -> Semantics:
    """The attribute table of ``path`` (see the module docstring)."""
    path = Path(path).expanduser()
    rows = _rows(path)
    if not rows:
        raise DataError(f"{path}: empty file (expected a header row: class, attribute, ...)")
    width = len(rows[0])
    if width >= 2 and _looks_like_data(rows[0][1:]):
        raise DataError(
            f"{path}: line 1 looks like data ({', '.join(rows[0][:3])}, ...): the header row "
            f"is missing (expected: class, then one name per attribute column)"
        )
    if width < 2:
        raise DataError(
            f"{path}: line 1: header has {width} column(s); expected the class "
            f"name column and at least one attribute column"
        )
    names: list[str] = []
    seen: dict[str, int] = {}
    values = []
    for line, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != width:
            raise DataError(f"{path}: line {line}: {len(row)} columns, the header has {width}")
        names.append(_check_name(path, line, row[0], seen))
        vec = []
        for col, cell in zip(rows[0][1:], row[1:], strict=True):
            try:
                v = float(cell)
            except ValueError:
                raise DataError(
                    f"{path}: line {line}: attribute '{col}' is '{cell}', expected a number"
                ) from None
            if not math.isfinite(v):
                raise DataError(f"{path}: line {line}: attribute '{col}' is {cell} (not finite)")
            vec.append(v)
        values.append(vec)
    if not names:
        raise DataError(f"{path}: no class rows after the header")
    return Semantics(names, np.asarray(values, np.float32), "attributes", path)


def read_descriptions(path: str | Path) -> dict[str, str]:
    """Class name -> description text from a CSV or JSON file."""
    path = Path(path).expanduser()
    if path.suffix.lower() == ".json":
        if not path.is_file():
            raise DataError(f"{path}: no such file")

        def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
            keys = [k.strip() for k, _ in pairs]
            dup = next((k for k in keys if keys.count(k) > 1), None)
            if dup is not None:
                raise DataError(f"{path}: duplicate class name '{dup}'")
            return dict(pairs)

        try:
            doc = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=no_duplicates)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(doc, dict) or not doc:
            raise DataError(f"{path}: expected a non-empty JSON object of class name -> text")
        out = {}
        for key, text in doc.items():
            if not str(key).strip():
                raise DataError(f"{path}: empty class name")
            if not isinstance(text, str) or not text.strip():
                raise DataError(f"{path}: class '{key}': expected a non-empty text")
            if key.strip() in out:
                raise DataError(f"{path}: duplicate class name '{key.strip()}'")
            out[key.strip()] = text.strip()
        return out
    rows = _rows(path)
    if len(rows) < 2:
        raise DataError(f"{path}: expected a header row (class,description) and class rows")
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 2:
            raise DataError(
                f"{path}: line {line}: {len(row)} columns, expected 2 "
                f"(class, description; quote a text holding commas)"
            )
        name = _check_name(path, line, row[0], seen)
        if not row[1].strip():
            raise DataError(f"{path}: line {line}: empty description for '{name}'")
        out[name] = row[1].strip()
    return out


def embed_descriptions(path: str | Path, encoder_name: str) -> Semantics:
    """Read descriptions and embed them with the text encoder ``encoder_name``."""
    from zsl_images.text import get_text_encoder

    path = Path(path).expanduser()
    texts = read_descriptions(path)
    encoder = get_text_encoder(encoder_name)
    names = list(texts)
    vectors = np.asarray(encoder.encode([texts[n] for n in names]), np.float32)
    if vectors.shape != (len(names), encoder.dim) or not np.isfinite(vectors).all():
        raise DataError(
            f"{path}: text encoder '{encoder_name}' gave no finite {encoder.dim}-d vector per class"
        )
    return Semantics(names, vectors, "text", path, encoder=encoder_name, texts=texts)
