"""Method interface (the public API for method plugins) and built-in methods."""

from zsl_toolkit.methods.base import (
    FitContext,
    InferenceModule,
    Method,
    ModelSpec,
    Stage,
    Update,
    seen_positions,
)
from zsl_toolkit.methods.constraints import Boolean, Constraint, Interval, Options

__all__ = [
    "Boolean",
    "Constraint",
    "FitContext",
    "InferenceModule",
    "Interval",
    "Method",
    "ModelSpec",
    "Options",
    "Stage",
    "Update",
    "seen_positions",
]
