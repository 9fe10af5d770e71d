"""Command-line options of an exporter: ``zsl export`` knows no format, so the flags after
the core ones (``--opset 17``, ``--backbone resnet101``) are matched here against the options
the chosen exporter declares (:attr:`Exporter.options`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zsl_toolkit.errors import ConfigError
from zsl_toolkit.export.base import Exporter


def parse_exporter_args(
    exporter: type[Exporter], name: str, items: Sequence[str], extra: Sequence[str]
) -> dict[str, Any]:
    """Raw values of ``--option KEY=VALUE`` ``items`` and of the leftover ``extra`` arguments
    (``--NAME VALUE``, ``--NAME=VALUE``; a ``bool`` option may stand alone as a flag), checked
    by name against the exporter's declared options; values are converted later, by
    :meth:`Exporter.check_options`."""
    opts: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--option '{item}' is not of the form key=value")
        key, value = item.split("=", 1)
        opts[key] = value
    declared = {opt.flag: opt for opt in exporter.options}
    valid = ", ".join(["--option KEY=VALUE", *declared]) if declared else "--option KEY=VALUE"
    args = list(extra)
    i = 0
    while i < len(args):
        token = args[i]
        flag, eq, value = token.partition("=")
        if flag not in declared:
            what = f"option {flag}" if token.startswith("-") else f"argument '{token}'"
            raise ConfigError(f"zsl export --format {name}: unexpected {what} (valid: {valid})")
        option = declared[flag]
        if not eq:
            nxt = args[i + 1] if i + 1 < len(args) else None
            if option.type is bool and (nxt is None or nxt.startswith("--")):
                value = "true"
            elif nxt is None:
                raise ConfigError(
                    f"zsl export: {flag} needs a value ({option.help or option.type.__name__})"
                )
            else:
                value = nxt
                i += 1
        opts[option.name] = value
        i += 1
    return opts
