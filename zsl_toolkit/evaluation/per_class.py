"""Per-class accuracy as a table a person reads: which classes a model gets right.

The ``gzsl`` evaluator stores each class's accuracy under the class's name; this module
lays those out, one line per class, seen classes then unseen ones, worst first within each,
so the classes that pull U or S down are at the top.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def per_class_rows(
    metrics: dict[str, Any], seen_names: Iterable[str]
) -> list[tuple[str, str, float]]:
    """(class name, "seen"/"unseen", accuracy fraction) from ``metrics['gzsl']``."""
    per_class = (metrics.get("gzsl") or {}).get("per_class") or {}
    seen = set(seen_names)
    rows = [
        (name, "seen" if name in seen else "unseen", float(acc)) for name, acc in per_class.items()
    ]
    return sorted(rows, key=lambda r: (r[1] != "seen", r[2], r[0]))


def per_class_lines(metrics: dict[str, Any], seen_names: Iterable[str]) -> list[str]:
    """The table of :func:`per_class_rows` as text lines (accuracy in percent)."""
    rows = per_class_rows(metrics, seen_names)
    if not rows:
        return ["no per-class accuracies (the gzsl evaluator did not run)"]
    width = max(12, *(len(r[0]) for r in rows))
    lines = [f"{'class':<{width}}  {'split':<6}  accuracy"]
    lines += [f"{name:<{width}}  {split:<6}  {100 * acc:7.2f}%" for name, split, acc in rows]
    return lines
