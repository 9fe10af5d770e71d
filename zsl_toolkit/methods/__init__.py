"""Method interface (the public API for method plugins) and built-in methods."""

from zsl_toolkit.methods.base import (
    FitContext,
    InferenceModule,
    Method,
    ModelSpec,
    Stage,
    seen_positions,
)

__all__ = ["FitContext", "InferenceModule", "Method", "ModelSpec", "Stage", "seen_positions"]
