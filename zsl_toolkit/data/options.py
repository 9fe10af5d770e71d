"""Dataset options: ``--dataset-option key=value`` passed to a registered dataset's
constructor as keyword arguments.

A dataset plugin declares its options the way a method declares parameters: keyword-only
``__init__`` arguments with defaults (and annotations, which type the values given as text).
The options are recorded in ``run.json`` (``dataset_options``), so ``zsl evaluate``, exports
and ``zsl train --config run.json`` rebuild the same data.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

from zsl_toolkit.errors import ConfigError


def option_spec(cls: type) -> tuple[dict[str, Any], dict[str, Any]]:
    """(name -> default, name -> annotation) of ``cls.__init__``'s keyword-only arguments."""
    init = cls.__init__
    if init is object.__init__:
        return {}, {}
    try:
        hints = typing.get_type_hints(init)
    except Exception:  # a name only imported for type checkers: types from the defaults
        hints = {}
    params = [p for p in inspect.signature(init).parameters.values() if p.kind is p.KEYWORD_ONLY]
    defaults = {p.name: None if p.default is p.empty else p.default for p in params}
    return defaults, {p.name: hints.get(p.name, p.empty) for p in params}


def parse_dataset_options(name: str, cls: type, items: typing.Sequence[str]) -> dict[str, Any]:
    """``["key=value", ...]`` -> typed keyword arguments for dataset ``name``'s constructor."""
    from zsl_toolkit.values import from_text, kinds

    defaults, types = option_spec(cls)
    accepted = kinds(defaults, types)
    valid = ", ".join(sorted(defaults)) or "none"
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep:
            raise ConfigError(f"--dataset-option '{item}' is not of the form key=value")
        if key not in defaults:
            raise ConfigError(
                f"--dataset-option {key}: dataset '{name}' has no such option (options: {valid})"
            )
        try:
            out[key] = from_text(raw.strip(), accepted[key])
        except ValueError as exc:
            raise ConfigError(f"--dataset-option {key}={raw.strip()}: expected {exc}") from None
    return out


def check_dataset_options(name: str, cls: type, options: dict[str, Any], where: str) -> None:
    """Names of ``options`` (from a config file or ``run.json``) are the dataset's options."""
    defaults, _ = option_spec(cls)
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        valid = ", ".join(sorted(defaults)) or "none"
        raise ConfigError(
            f"{where}: dataset '{name}' has no option(s) {', '.join(unknown)} (options: {valid})"
        )
