"""Choosing a method's settings on the validation protocol, for any method and any dataset.

``zsl train --select KEY=v1,v2`` (or ``--select auto``: the method's declared
:attr:`~zsl_toolkit.methods.Method.select_candidates`) trains every candidate under ``--protocol
val``, chooses the best by validation H and trains that choice on the test protocol.
This package is what that needs below the sweep and the pipeline: :mod:`.spec` (what to try),
:mod:`.record` (the run record's ``selection`` key and the rule that chooses), :mod:`.show`
(printing it). Running a selection, whose candidates are a sweep, is
:mod:`zsl_toolkit.sweep.select`.
"""

from zsl_toolkit.selection.record import (
    CRITERION,
    SELECTING,
    SELECTION_DIR,
    SELECTION_KEY,
    choose,
    selection_of,
)
from zsl_toolkit.selection.show import selection_lines, selection_markdown
from zsl_toolkit.selection.spec import SelectSpec, as_spec, parse_select_items, spec_from_config

__all__ = [
    "CRITERION",
    "SELECTING",
    "SELECTION_DIR",
    "SELECTION_KEY",
    "SelectSpec",
    "as_spec",
    "choose",
    "parse_select_items",
    "selection_lines",
    "selection_markdown",
    "selection_of",
    "spec_from_config",
]
