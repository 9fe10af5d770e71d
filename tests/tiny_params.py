"""Small settings per installed method so tests over every method stay fast: each method
declares its own (``Method.quick_params``), third-party plugins included."""

from __future__ import annotations

from zsl_toolkit.methods.registry import method_registry


def tiny(name: str) -> dict[str, object]:
    return dict(method_registry().load(name).quick_params)
