"""Parsing ``--param key=value`` and ``--config`` files against a method's parameters, and
checking parameter values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zsl_toolkit.errors import ConfigError
from zsl_toolkit.tomlcompat import tomllib

_BOOLS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def _coerce(name: str, raw: str, default: Any, valid: dict[str, Any]) -> Any:
    def bad(expected: str) -> ConfigError:
        return ConfigError(f"--param {name}={raw}: expected {expected}")

    if isinstance(default, bool):
        if raw.lower() not in _BOOLS:
            raise bad("true or false")
        return _BOOLS[raw.lower()]
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise bad("an integer") from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise bad("a number") from None
    if isinstance(default, str):
        return raw
    # Default None (dataset-dependent) or a structured default: accept JSON, else a string.
    if raw.lower() in ("none", "null"):
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _unknown(key: str, valid: dict[str, Any]) -> str:
    """'KEY' is not a parameter..., with the closest name and where run settings go."""
    import difflib

    names = ", ".join(sorted(valid)) or "none"
    from zsl_toolkit.methods.base import RUN_SETTINGS

    close = [] if key in RUN_SETTINGS else difflib.get_close_matches(key, list(valid), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    if key in RUN_SETTINGS:
        hint += f"; {key} is a run setting: use --{key.replace('_', '-')}"
    return f"'{key}' is not a parameter of this method (valid: {names}){hint}"


def parse_params(items: list[str] | tuple[str, ...], valid: dict[str, Any]) -> dict[str, Any]:
    """``["alpha=10", ...]`` -> typed dict, checked against ``valid`` (name -> default)."""
    out: dict[str, Any] = {}
    names = ", ".join(sorted(valid)) or "none"
    for item in items:
        if "=" not in item:
            raise ConfigError(
                f"--param '{item}' is not of the form key=value (valid keys: {names})"
            )
        key, raw = item.split("=", 1)
        key = key.strip()
        if key not in valid:
            raise ConfigError(f"--param {_unknown(key, valid)}")
        out[key] = _coerce(key, raw.strip(), valid[key], valid)
    return out


def check_params(given: dict[str, Any], valid: dict[str, Any], where: str) -> dict[str, Any]:
    """Check names and types of parameters read from a config file."""
    for key, value in given.items():
        if key not in valid:
            raise ConfigError(f"{where}: {_unknown(key, valid)}")
        default = valid[key]
        ok = (
            default is None
            or isinstance(value, type(default))
            or (
                isinstance(default, float)
                and isinstance(value, int)
                and not isinstance(value, bool)
            )
        )
        if not ok:
            raise ConfigError(f"{where}: '{key}' must be {type(default).__name__}, got {value!r}")
    return {k: float(v) if isinstance(valid[k], float) else v for k, v in given.items()}


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
