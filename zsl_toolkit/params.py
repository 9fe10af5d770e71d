"""Parsing ``--param key=value`` and ``--config`` files against a method's parameters, and
checking parameter values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zsl_toolkit.errors import ConfigError
from zsl_toolkit.tomlcompat import tomllib
from zsl_toolkit.values import accept, from_text, kinds

RUN_SETTINGS = ("epochs", "batch_size", "seed", "device")
"""Run-level settings: options of ``zsl train``, never method parameters."""


def parameter_hint(name: str, valid: dict[str, Any]) -> str:
    """What to tell a user who gave parameter ``name``, not among ``valid``: where a run setting
    goes, else the closest valid name (``""`` when neither applies)."""
    import difflib

    if name in RUN_SETTINGS:
        return f"{name} is a run setting: use --{name.replace('_', '-')}"
    close = difflib.get_close_matches(name, list(valid), n=1)
    return f"did you mean '{close[0]}'?" if close else ""


def unknown_parameters(owner: str, unknown: list[str], valid: dict[str, Any]) -> str:
    """The message for parameter names ``owner`` does not have, each with its hint."""
    hints = [
        f"{name} ({hint})" if (hint := parameter_hint(name, valid)) else name for name in unknown
    ]
    return (
        f"unknown parameter(s) {', '.join(hints)} for method {owner}; "
        f"valid: {', '.join(sorted(valid))}"
    )


def _unknown(key: str, valid: dict[str, Any]) -> str:
    """'KEY' is not a parameter..., with the closest name or where run settings go."""
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
            out[key] = from_text(raw.strip(), accepted[key])
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
            out[key] = accept(value, accepted[key])
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
