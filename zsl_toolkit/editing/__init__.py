"""Editing a trained run's class set, and calibrating it, without retraining.

``list_classes``, ``add_classes``, ``remove_classes`` and ``edit_classes``
(:mod:`zsl_toolkit.editing.edit`), ``calibrate_run`` (:mod:`zsl_toolkit.editing.calibrate`);
new classes' descriptions are :class:`NewClass` values (:mod:`.descriptions`). The
``zsl classes`` / ``add-class`` / ``remove-class`` / ``calibrate`` commands
(:mod:`.commands`) call these. Names load on first use, so ``zsl --help``, which imports the
commands module, does not import torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "ClassInfo": "edit",
    "add_classes": "edit",
    "edit_classes": "edit",
    "list_classes": "edit",
    "remove_classes": "edit",
    "calibrate_run": "calibrate",
    "validation_gamma": "calibrate",
    "NewClass": "descriptions",
    "encode_text": "descriptions",
    "parse_attributes": "descriptions",
    "read_attributes_file": "descriptions",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
