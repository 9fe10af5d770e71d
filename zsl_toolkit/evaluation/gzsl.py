"""Generalized zero-shot evaluation (Xian et al., TPAMI 2018): U, S and their harmonic mean."""

from __future__ import annotations

from typing import Any

from zsl_toolkit.evaluation.base import EvalInput, Evaluator
from zsl_toolkit.evaluation.metrics import harmonic_mean, per_class_accuracy


class GZSLEvaluator(Evaluator):
    """Argmax over all classes; U and S are per-class mean accuracies on test_unseen and
    test_seen, H = 2US/(U+S). Per-class accuracies are reported by class name (by id when
    the caller gave no names), seen classes first, in class order."""

    description = "U, S, H with argmax over all classes"
    headline = ("U", "S", "H")
    fractions = ("U", "S", "H")

    def evaluate(self, data: EvalInput) -> dict[str, Any]:
        pred_s = data.scores_seen.argmax(axis=1)
        pred_u = data.scores_unseen.argmax(axis=1)
        acc_s = per_class_accuracy(pred_s, data.labels_seen, data.seen_classes)
        acc_u = per_class_accuracy(pred_u, data.labels_unseen, data.unseen_classes)
        s = sum(acc_s.values()) / max(len(acc_s), 1)
        u = sum(acc_u.values()) / max(len(acc_u), 1)
        return {
            "U": u,
            "S": s,
            "H": harmonic_mean(u, s),
            "per_class": {
                data.class_key(k): v for k, v in [*sorted(acc_s.items()), *sorted(acc_u.items())]
            },
        }
