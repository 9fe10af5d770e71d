"""A selection as ``run.json`` records it, and the rule that picks the winner.

The record is the run's top-level ``selection`` key, kept through
:meth:`~zsl_toolkit.runs.record.RunRecord.with_extra` (the run record's extension mechanism):
the grid (``axes``), the fixed parameters (``given_params``), each candidate's validation
metrics, the choice and the rule. While candidates train the run's status is
:data:`SELECTING`. This module is the one reader of that key (:func:`selection_of`); it
imports neither the sweep nor the pipeline, so both may use it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from zsl_toolkit.errors import ConfigError

if TYPE_CHECKING:
    from zsl_toolkit.runs.record import RunRecord

#: The run record's top-level key holding the selection.
SELECTION_KEY = "selection"
#: The run's status while its candidates train.
SELECTING = "selecting"
#: The folder inside the run directory that holds the candidates (a sweep).
SELECTION_DIR = "selection"
#: Fewer validation classes than this on the selection's protocol leave nothing to choose on
#: (H would be one class's accuracy against the seen ones): the default is trained instead.
MIN_SELECTION_CLASSES = 2
#: The evaluator and metric candidates are ranked by (the harmonic mean of U and S).
CRITERION = ("gzsl", "H")


def selection_of(record: RunRecord) -> dict[str, Any] | None:
    """The selection a run recorded (a copy), or None for a run that chose nothing."""
    value = record.extra.get(SELECTION_KEY)
    return dict(value) if isinstance(value, Mapping) else None


def default_point(
    method_cls: Any, fixed: Mapping[str, Any], axes: Mapping[str, list[Any]]
) -> dict[str, Any]:
    """The configuration a plain run would train, restricted to the selected keys."""
    defaults = method_cls.param_defaults()
    return {k: fixed.get(k, defaults[k]) for k in axes}


def choose(candidates: Sequence[Mapping[str, Any]]) -> int:
    """Index of the candidate with the highest validation H; a tie goes to the candidate marked
    ``default``, else to the first listed. A candidate without a finite H never wins."""
    scores = []
    for c in candidates:
        value = c.get("metrics", {}).get(CRITERION[0], {}).get(CRITERION[1])
        ok = isinstance(value, (int, float)) and math.isfinite(value)
        scores.append(float(value) if ok else -math.inf)
    best = max(scores)
    if best == -math.inf:
        raise ConfigError(f"selection: no candidate has a finite validation {CRITERION[1]}")
    tied = [i for i, s in enumerate(scores) if s == best]
    defaults = [i for i in tied if candidates[i].get("default")]
    return defaults[0] if defaults else tied[0]
