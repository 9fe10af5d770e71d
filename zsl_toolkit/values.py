"""Text and config-file values converted to a declared type: the one conversion behind
method parameters (``--param``), dataset options (``--dataset-option``) and exporter options.

A declared type is an annotation (``float``, ``int | None``, ``Literal["a", "b"]``) or, without
a usable one, the default value's type. Text converts to the first listed scalar type that
reads it (``int`` before ``float``; booleans as ``true/false/yes/no/1/0``; ``none``/``null``
for an optional value; JSON for a structured one); a value read from a config file must
already be of the type (an integer where a number is expected becomes a float).

Why not pydantic's ``TypeAdapter``: in lax mode it reads ``on``/``off`` as booleans and
``1.0`` as an integer, and has no ``none`` for an optional value, so the spellings the CLI
documents would change; this module keeps them and adds no dependency to the core.
"""

from __future__ import annotations

import inspect
import json
import types as _types
import typing
from dataclasses import dataclass
from typing import Any

_BOOLS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
_SCALARS = (bool, int, float, str)
_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


@dataclass(frozen=True)
class Kind:
    """What a parameter accepts: some of bool/int/float/str, ``None`` when ``optional``, or
    anything (``scalars`` empty: no usable annotation and a ``None`` or structured default)."""

    scalars: tuple[type, ...]
    optional: bool
    literals: tuple[Any, ...] = ()

    def describe(self) -> str:
        if self.literals:
            what = "one of " + ", ".join(str(v) for v in self.literals)
        else:
            what = " or ".join(_NAMES[s] for s in self.scalars)
        return what + (" or none" if self.optional else "")


def kind_of(annotation: Any, default: Any = None) -> Kind:
    """The accepted kind, from the annotation when it names scalar types (``float``,
    ``int | None``, ``Literal["a", "b"]``), else from the default value's type."""
    origin = typing.get_origin(annotation)
    if annotation in _SCALARS:
        return Kind((annotation,), default is None)
    if origin is typing.Literal:
        values = typing.get_args(annotation)
        return Kind(tuple(dict.fromkeys(type(v) for v in values)), False, values)
    if origin is typing.Union or origin is _types.UnionType:
        args = typing.get_args(annotation)
        optional = type(None) in args
        rest = [a for a in args if a is not type(None)]
        if rest and all(a in _SCALARS for a in rest):
            return Kind(tuple(sorted(rest, key=_SCALARS.index)), optional)
        if len(rest) == 1 and typing.get_origin(rest[0]) is typing.Literal:
            inner = kind_of(rest[0], default)
            return Kind(inner.scalars, True, inner.literals)
        return Kind((), True)
    if annotation is inspect.Parameter.empty and type(default) in _SCALARS:
        return Kind((type(default),), False)
    return Kind((), True)


def from_text(raw: str, kind: Kind) -> Any:
    """``raw`` converted to the first of ``kind``'s types that reads it; raises ValueError."""
    if kind.optional and raw.lower() in ("none", "null"):
        return None
    if not kind.scalars:  # structured or unknown: JSON, else the text itself
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    for scalar in kind.scalars:
        if scalar is bool and raw.lower() in _BOOLS:
            value: Any = _BOOLS[raw.lower()]
        elif scalar is int:
            try:
                value = int(raw)
            except ValueError:
                continue
        elif scalar is float:
            try:
                value = float(raw)
            except ValueError:
                continue
        elif scalar is str:
            value = raw
        else:
            continue
        if not kind.literals or value in kind.literals:
            return value
    raise ValueError(kind.describe())


def accept(value: Any, kind: Kind) -> Any:
    """``value`` (read from a config file) converted to ``kind`` (an int where a float is
    expected becomes a float); raises ValueError when it is of another type."""
    if value is None and kind.optional:
        return None
    if not kind.scalars:
        return value
    for scalar in kind.scalars:
        is_bool = isinstance(value, bool)
        if scalar is bool and is_bool:
            ok = True
        elif scalar is int:
            ok = isinstance(value, int) and not is_bool
        elif scalar is float:
            ok = isinstance(value, (int, float)) and not is_bool
        else:
            ok = isinstance(value, scalar)
        if ok and (not kind.literals or value in kind.literals):
            return float(value) if scalar is float and int not in kind.scalars else value
    raise ValueError(kind.describe())


def kinds(valid: dict[str, Any], types: dict[str, Any] | None) -> dict[str, Kind]:
    """Name -> accepted kind, from annotations (``Method.param_types``) and defaults."""
    types = types or {}
    return {k: kind_of(types.get(k, inspect.Parameter.empty), d) for k, d in valid.items()}


def split_values(raw: str) -> list[str]:
    """Split ``v1,v2`` at top-level commas (commas inside [] or {} stay, for JSON values): a
    list of values as one option's text (``--select``, ``zsl sweep --param``)."""
    parts, depth, cur = [], 0, []
    for ch in raw:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts]
