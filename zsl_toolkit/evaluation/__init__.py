"""GZSL evaluators: U/S/H, ZSL T1 and calibrated stacking."""

from zsl_toolkit.evaluation.base import EvalInput, Evaluator
from zsl_toolkit.evaluation.metrics import harmonic_mean, per_class_accuracy

__all__ = ["EvalInput", "Evaluator", "harmonic_mean", "per_class_accuracy"]
