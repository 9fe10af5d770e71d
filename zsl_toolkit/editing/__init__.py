"""Editing a trained run's class set, and calibrating it, without retraining.

``list_classes``, ``add_classes``, ``remove_classes`` and ``edit_classes``
(:mod:`zsl_toolkit.editing.edit`), ``calibrate_run`` (:mod:`zsl_toolkit.editing.calibrate`);
new classes' descriptions are :class:`NewClass` values (:mod:`.descriptions`). The
``zsl classes`` / ``add-class`` / ``remove-class`` / ``calibrate`` commands call these.
"""

from zsl_toolkit.editing.calibrate import calibrate_run, validation_gamma
from zsl_toolkit.editing.descriptions import (
    NewClass,
    encode_text,
    parse_attributes,
    read_attributes_file,
)
from zsl_toolkit.editing.edit import (
    ClassInfo,
    add_classes,
    edit_classes,
    list_classes,
    remove_classes,
)

__all__ = [
    "ClassInfo",
    "NewClass",
    "add_classes",
    "calibrate_run",
    "edit_classes",
    "encode_text",
    "list_classes",
    "parse_attributes",
    "read_attributes_file",
    "remove_classes",
    "validation_gamma",
]
