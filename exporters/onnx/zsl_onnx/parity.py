"""Parity of an onnxruntime session against the PyTorch module it was exported from.

An export is only as good as the agreement of the two runtimes on real inputs: the check runs
both over the run's own test features, with onnxruntime at batch sizes other than the one the
graph was traced with, so a batch axis that was silently fixed during tracing fails here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from zsl_onnx.format import INPUT
from zsl_onnx.predictor import run_session

MAX_ABS_DIFF = 1e-4
MIN_ARGMAX_AGREEMENT = 0.999


@dataclass(frozen=True)
class ParityReport:
    """Agreement of onnxruntime with PyTorch on ``samples`` rows."""

    samples: int
    batch_sizes: tuple[int, ...]
    max_abs_diff: float
    argmax_agreement: float
    prediction_matches_argmax: bool
    provider: str

    @property
    def passed(self) -> bool:
        return (
            self.max_abs_diff <= MAX_ABS_DIFF
            and self.argmax_agreement >= MIN_ARGMAX_AGREEMENT
            and self.prediction_matches_argmax
        )

    def summary(self) -> str:
        sizes = [str(b) for b in self.batch_sizes]
        listed = " and ".join([", ".join(sizes[:-1]), sizes[-1]] if len(sizes) > 1 else sizes)
        return (
            f"parity ({self.provider}, {self.samples} test samples, "
            f"onnxruntime at batch size{'s' if len(sizes) > 1 else ''} {listed}): "
            f"max |score diff| {self.max_abs_diff:.2e} (limit {MAX_ABS_DIFF:.0e}), "
            f"argmax agreement {100 * self.argmax_agreement:.2f}% "
            f"(limit {100 * MIN_ARGMAX_AGREEMENT:.1f}%)"
        )


@torch.inference_mode()
def torch_reference(module: nn.Module, features: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Scores of the PyTorch inference module (eval mode, CPU) for ``features``."""
    module = module.eval()
    x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
    out = [module(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy()


def check_parity(
    session: Any,
    module: nn.Module,
    features: np.ndarray,
    batch_sizes: tuple[int, ...],
    input_name: str = INPUT,
) -> ParityReport:
    """Compare ``session`` with ``module`` on ``features`` at each of ``batch_sizes``.

    ``features`` keep their dtype for onnxruntime (uint8 for an image-in graph) and are
    given to PyTorch as float32, which an image-in module converts to anyway.
    """
    if features.dtype != np.uint8:
        features = np.ascontiguousarray(features, dtype=np.float32)
    reference = torch_reference(module, features)
    worst_diff, worst_agreement, consistent = 0.0, 1.0, True
    for batch_size in batch_sizes:
        scores, prediction = run_session(session, features, batch_size, input_name)
        if scores.shape != reference.shape:  # a fixed batch axis or a wrong class count
            return ParityReport(len(features), batch_sizes, float("inf"), 0.0, False, _ep(session))
        diff = float(np.abs(scores - reference).max(initial=0.0))
        worst_diff = float(np.max([worst_diff, diff]))  # NaN propagates and fails the check
        agreement = float((scores.argmax(axis=1) == reference.argmax(axis=1)).mean())
        worst_agreement = min(worst_agreement, agreement)
        consistent &= bool(np.array_equal(prediction, scores.argmax(axis=1)))
    return ParityReport(
        samples=len(features),
        batch_sizes=tuple(batch_sizes),
        max_abs_diff=worst_diff,
        argmax_agreement=worst_agreement,
        prediction_matches_argmax=consistent,
        provider=_ep(session),
    )


def _ep(session: Any) -> str:
    return session.get_providers()[0]
