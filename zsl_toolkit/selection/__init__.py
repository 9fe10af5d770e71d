"""Choosing a method's settings on the validation protocol, for any method and any dataset.

``zsl train --select KEY=v1,v2`` (or ``--select auto``: the method's declared
:attr:`~zsl_toolkit.methods.Method.select_candidates`) trains every candidate under ``--protocol
val``, chooses the best by validation H and trains that choice on the test protocol.
Modules: :mod:`.spec` (what to try), :mod:`.run` (running, choosing, resuming), :mod:`.show`
(printing the record).
"""

from zsl_toolkit.selection.run import (
    CRITERION,
    SELECTION_DIR,
    as_spec,
    choose,
    resume_selection,
    train_selected,
)
from zsl_toolkit.selection.show import selection_lines, selection_markdown
from zsl_toolkit.selection.spec import SelectSpec, parse_select_items, spec_from_config

__all__ = [
    "CRITERION",
    "SELECTION_DIR",
    "SelectSpec",
    "as_spec",
    "choose",
    "parse_select_items",
    "resume_selection",
    "selection_lines",
    "selection_markdown",
    "spec_from_config",
    "train_selected",
]
