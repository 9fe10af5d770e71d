"""Evaluating anything that scores features, without torch.

A trained method, an ONNX session or a lookup table of precomputed scores all satisfy
:class:`Scorer`, so ``zsl evaluate``, ``zsl predict --dataset`` and the Python API share one
evaluation and none of them needs the training code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from zsl_toolkit.evaluation.base import DEFAULT_EVALUATORS, EvalInput

if TYPE_CHECKING:
    from zsl_toolkit.data.container import ZSLData


class Scorer(Protocol):
    """Scores of every class for each row of ``features`` ([n, C] for [n, d])."""

    def predict_scores(self, features: np.ndarray) -> np.ndarray: ...


def evaluation_input(
    scorer: Scorer,
    data: ZSLData,
    classes: tuple[Sequence[int], Sequence[int]] | None = None,
) -> EvalInput:
    """Scores of ``scorer`` on both test splits of ``data``. ``classes`` (seen, unseen) are
    the scorer's own class sets when they differ from the data's: a class added to a model
    without test images still competes among the unseen classes."""
    xs, ys = data.split("test_seen")
    xu, yu = data.split("test_unseen")
    seen, unseen = data.seen_classes, data.unseen_classes
    if classes is not None:
        seen = np.asarray(classes[0], dtype=np.int64)
        unseen = np.asarray(classes[1], dtype=np.int64)
    return EvalInput(
        scores_seen=scorer.predict_scores(xs),
        labels_seen=ys,
        scores_unseen=scorer.predict_scores(xu),
        labels_unseen=yu,
        seen_classes=seen,
        unseen_classes=unseen,
        class_names=[str(n) for n in data.class_names],
    )


def evaluate(
    scorer: Scorer,
    data: ZSLData,
    evaluators: Sequence[str] = DEFAULT_EVALUATORS,
    classes: tuple[Sequence[int], Sequence[int]] | None = None,
) -> dict[str, Any]:
    """Run the named evaluators on ``scorer``'s scores for ``data``'s test splits (every
    evaluator is loaded before any scoring, so a typo fails first)."""
    from zsl_toolkit.evaluation.registry import evaluator_registry

    registry = evaluator_registry()
    loaded = [registry.load(name) for name in evaluators]
    inputs = evaluation_input(scorer, data, classes)
    return {name: cls().evaluate(inputs) for name, cls in zip(evaluators, loaded, strict=True)}
