"""Evaluator plugins: the ``evaluators`` group's registry, beside the interface it checks against."""

from __future__ import annotations

from zsl_toolkit.evaluation.base import Evaluator
from zsl_toolkit.registry import GROUPS, Registry


def evaluator_registry() -> Registry[Evaluator]:
    """Name -> :class:`~zsl_toolkit.evaluation.base.Evaluator` subclass, from installed distributions' entry
    points (listing reads metadata only; ``load`` imports and checks the type)."""
    return Registry(GROUPS["evaluators"], Evaluator, "evaluators")
