"""GZSL evaluators: U/S/H, ZSL T1 and calibrated stacking."""

from zsl_toolkit.evaluation.base import DEFAULT_EVALUATORS, EvalInput, Evaluator
from zsl_toolkit.evaluation.metrics import harmonic_mean, per_class_accuracy
from zsl_toolkit.evaluation.scoring import Scorer, evaluate, evaluation_input

__all__ = [
    "DEFAULT_EVALUATORS",
    "EvalInput",
    "Evaluator",
    "Scorer",
    "evaluate",
    "evaluation_input",
    "harmonic_mean",
    "per_class_accuracy",
]
