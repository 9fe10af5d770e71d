"""Parsing ``--param key=value`` and ``--config`` files against a method's parameters, and
checking parameter values."""

from __future__ import annotations

import inspect
import json
import types as _types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zsl_toolkit.errors import ConfigError
from zsl_toolkit.tomlcompat import tomllib

_BOOLS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
_SCALARS = (bool, int, float, str)
_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


@dataclass(frozen=True)
class _Kind:
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


def _kind(annotation: Any, default: Any) -> _Kind:
    """The accepted kind, from the annotation when it names scalar types (``float``,
    ``int | None``, ``Literal["a", "b"]``), else from the default value's type."""
    origin = typing.get_origin(annotation)
    if annotation in _SCALARS:
        return _Kind((annotation,), default is None)
    if origin is typing.Literal:
        values = typing.get_args(annotation)
        return _Kind(tuple(dict.fromkeys(type(v) for v in values)), False, values)
    if origin is typing.Union or origin is _types.UnionType:
        args = typing.get_args(annotation)
        optional = type(None) in args
        rest = [a for a in args if a is not type(None)]
        if rest and all(a in _SCALARS for a in rest):
            return _Kind(tuple(sorted(rest, key=_SCALARS.index)), optional)
        if len(rest) == 1 and typing.get_origin(rest[0]) is typing.Literal:
            inner = _kind(rest[0], default)
            return _Kind(inner.scalars, True, inner.literals)
        return _Kind((), True)
    if annotation is inspect.Parameter.empty and type(default) in _SCALARS:
        return _Kind((type(default),), False)
    return _Kind((), True)


def _from_text(raw: str, kind: _Kind) -> Any:
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


def _accepts(value: Any, kind: _Kind) -> Any:
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


def kinds(valid: dict[str, Any], types: dict[str, Any] | None) -> dict[str, _Kind]:
    """Name -> accepted kind, from annotations (``Method.param_types``) and defaults."""
    types = types or {}
    return {k: _kind(types.get(k, inspect.Parameter.empty), d) for k, d in valid.items()}


def _unknown(key: str, valid: dict[str, Any]) -> str:
    """'KEY' is not a parameter..., with the closest name or where run settings go."""
    from zsl_toolkit.methods.base import parameter_hint

    names = ", ".join(sorted(valid)) or "none"
    hint = parameter_hint(key, valid)
    return (
        f"'{key}' is not a parameter of this method (valid: {names}){'; ' + hint if hint else ''}"
    )


def parse_params(
    items: list[str] | tuple[str, ...],
    valid: dict[str, Any],
    types: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``["alpha=10", ...]`` -> typed dict, checked against ``valid`` (name -> default) and
    converted by each parameter's annotation in ``types`` (name -> annotation, see
    :meth:`Method.param_types`), else by its default's type."""
    out: dict[str, Any] = {}
    names = ", ".join(sorted(valid)) or "none"
    accepted = kinds(valid, types)
    for item in items:
        if "=" not in item:
            raise ConfigError(
                f"--param '{item}' is not of the form key=value (valid keys: {names})"
            )
        key, raw = item.split("=", 1)
        key = key.strip()
        if key not in valid:
            raise ConfigError(f"--param {_unknown(key, valid)}")
        try:
            out[key] = _from_text(raw.strip(), accepted[key])
        except ValueError as exc:
            raise ConfigError(f"--param {key}={raw.strip()}: expected {exc}") from None
    return out


def check_params(
    given: dict[str, Any],
    valid: dict[str, Any],
    where: str,
    types: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Check names and types of parameters read from a config file (types as in
    :func:`parse_params`); an int given for a float parameter becomes a float."""
    accepted = kinds(valid, types)
    out: dict[str, Any] = {}
    for key, value in given.items():
        if key not in valid:
            raise ConfigError(f"{where}: {_unknown(key, valid)}")
        try:
            out[key] = _accepts(value, accepted[key])
        except ValueError as exc:
            raise ConfigError(f"{where}: '{key}' must be {exc}, got {value!r}") from None
    return out


def read_config(path: Path) -> dict[str, Any]:
    """Read a TOML or JSON config file: top-level run keys plus a ``[params]`` table."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror})") from None
    try:
        if path.suffix == ".json":
            return json.loads(text)
        return tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: malformed config: {exc}") from None
