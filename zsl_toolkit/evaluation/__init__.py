"""GZSL evaluators: U/S/H, ZSL T1 and calibrated stacking."""

from zsl_toolkit.evaluation.base import DEFAULT_EVALUATORS, EvalInput, Evaluator
from zsl_toolkit.evaluation.metrics import harmonic_mean, per_class_accuracy

__all__ = ["DEFAULT_EVALUATORS", "EvalInput", "Evaluator", "harmonic_mean", "per_class_accuracy"]
