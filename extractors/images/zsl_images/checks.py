"""Checks of a user's class files against the class folders, made before any image is
decoded: a typo found after minutes of extraction costs those minutes again.

Each failure is one :class:`~zsl_toolkit.errors.DataError` naming the file (or option) and
the class; a name that differs from a folder only in letter case names the right spelling,
and a CSV whose first row is a class row says that its header row is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from zsl_images.semantics import Semantics, first_row
from zsl_toolkit.errors import DataError


def _spelling(name: str, candidates: Sequence[str]) -> str:
    """`` (did you mean 'Cat'?)`` when ``name`` matches a candidate but for letter case."""
    folded = {c.casefold(): c for c in candidates}
    match = folded.get(name.casefold())
    return f" (did you mean '{match}'?)" if match is not None and match != name else ""


def check_semantics(classes: Sequence[str], semantics: Semantics) -> None:
    """Every class folder has a semantics row, and the file has its header row."""
    source = semantics.source
    head = first_row(source) if Path(source).is_file() else []  # in-memory semantics: none
    if head and head[0] in classes and head[0] not in semantics.names:
        what = "class, attribute names" if semantics.kind == "attributes" else "class, text"
        raise DataError(
            f"{source}: line 1 is the row of class '{head[0]}': the header row is missing "
            f"(expected: {what})"
        )
    known = set(semantics.names)
    missing = [c for c in classes if c not in known]
    if missing:
        hint = _spelling(missing[0], semantics.names)
        raise DataError(
            f"{source}: no row for class folder(s) {', '.join(missing[:5])}"
            f"{' ...' if len(missing) > 5 else ''}{hint} (every class with images needs "
            f"semantics)"
        )


def check_unseen(unseen: Sequence[str], classes: Sequence[str], semantics: Semantics) -> None:
    """Every ``--unseen`` name is a class of the semantics file (a folder or not)."""
    known = set(semantics.names)
    unknown = [u for u in unseen if u not in known]
    if unknown:
        hint = _spelling(unknown[0], [*classes, *semantics.names])
        raise DataError(
            f"--unseen: class(es) {', '.join(unknown[:5])} have no row in {semantics.source}{hint}"
        )
