"""Evaluator plugin interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

#: What ``zsl train``, ``zsl evaluate``, sweeps and ``zsl predict --dataset`` run by default.
DEFAULT_EVALUATORS = ("gzsl", "zsl", "calibrated")


@dataclass
class EvalInput:
    """Scores over all C classes for the two GZSL test splits, with their true labels."""

    scores_seen: np.ndarray
    labels_seen: np.ndarray
    scores_unseen: np.ndarray
    labels_unseen: np.ndarray
    seen_classes: np.ndarray
    unseen_classes: np.ndarray
    class_names: list[str] | None = None
    """Names by class id, when known: per-class results are keyed by them."""

    def class_key(self, class_id: int) -> str:
        """A class's name when known, else its id as text (a JSON object key)."""
        if self.class_names is not None and 0 <= class_id < len(self.class_names):
            return str(self.class_names[class_id])
        return str(class_id)


class Evaluator(ABC):
    """Turns test-split scores into metrics: a JSON-serialisable dict of plain values."""

    description: ClassVar[str] = ""
    """One line shown by ``zsl list --verbose``."""
    headline: ClassVar[tuple[str, ...]] = ()
    """Metrics printed by ``zsl train``/``zsl evaluate`` and reported by ``zsl report``."""
    fractions: ClassVar[tuple[str, ...]] = ()
    """Which ``headline`` metrics are fractions in [0, 1] (accuracies): stored as fractions,
    shown in percent. Any other metric (a loss, a count, seconds) is shown as it is."""

    @abstractmethod
    def evaluate(self, data: EvalInput) -> dict[str, Any]:
        """Return metrics; the names in ``headline`` must map to plain numbers."""
