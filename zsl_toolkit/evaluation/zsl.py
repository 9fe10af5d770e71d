"""Conventional zero-shot evaluation: T1 on unseen classes only."""

from __future__ import annotations

from typing import Any

import numpy as np

from zsl_toolkit.evaluation.base import EvalInput, Evaluator
from zsl_toolkit.evaluation.metrics import per_class_accuracy


class ZSLEvaluator(Evaluator):
    """T1: per-class mean top-1 accuracy on test_unseen with argmax over unseen classes only."""

    description = "T1 on test_unseen, argmax over unseen classes only"
    headline = ("T1",)
    fractions = ("T1",)

    def evaluate(self, data: EvalInput) -> dict[str, Any]:
        unseen = np.asarray(data.unseen_classes)
        pred = unseen[data.scores_unseen[:, unseen].argmax(axis=1)]
        acc = per_class_accuracy(pred, data.labels_unseen, unseen)
        return {"T1": sum(acc.values()) / max(len(acc), 1)}
