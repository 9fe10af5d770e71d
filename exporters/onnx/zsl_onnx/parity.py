"""Parity of an onnxruntime session against the PyTorch module it was exported from.

An export is only as good as the agreement of the two runtimes on real inputs: the check runs
both over the run's own test features, with onnxruntime at batch sizes other than the one the
graph was traced with, so a batch axis that was silently fixed during tracing fails here.

The score limit is relative to the scores' own scale: float32 rounding is relative to the
magnitude of the values, and scores differ in scale by method (a log-softmax reaches -50
where a bilinear score stays near 1). ``MAX_ABS_DIFF x max(1, max |score|)`` keeps the
limit of scores of order one and grows with larger ones.

An image-in graph is checked in two parts, each against what it must reproduce exactly:
the backbone's ``features`` output against PyTorch's backbone on the same pixels (relative to
the features' scale, :data:`MAX_FEATURE_DIFF`), and the graph's scores against PyTorch's
head applied to the graph's own features. Comparing the scores of the two whole pipelines
instead would mix the backbone's tiny float differences, amplified by the head (by a
log-softmax, for one), with a head that is wrong: the first is no fault, the second is.
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
"""Largest |onnxruntime score - PyTorch score| / max(1, max |PyTorch score|)."""
MIN_ARGMAX_AGREEMENT = 0.999
MAX_FEATURE_DIFF = 1e-4
"""Image-in graphs: largest |graph feature - PyTorch feature| / max |PyTorch feature|. Float
differences of a correct backbone graph are about 1e-6 of the scale; other weights or a
different normalisation move features by more than 1e-2."""


@dataclass(frozen=True)
class ParityReport:
    """Agreement of onnxruntime with PyTorch on ``samples`` rows."""

    samples: int
    batch_sizes: tuple[int, ...]
    max_abs_diff: float
    argmax_agreement: float
    prediction_matches_argmax: bool
    provider: str
    score_scale: float = 0.0
    """max |PyTorch score|; the score limit is MAX_ABS_DIFF x max(1, score_scale)."""
    feature_diff: float | None = None
    """Image-in graphs: the relative backbone feature difference (None: no features)."""

    @property
    def score_limit(self) -> float:
        return MAX_ABS_DIFF * max(1.0, self.score_scale)

    @property
    def passed(self) -> bool:
        return (
            self.max_abs_diff <= self.score_limit
            and self.argmax_agreement >= MIN_ARGMAX_AGREEMENT
            and self.prediction_matches_argmax
            and (self.feature_diff is None or self.feature_diff <= MAX_FEATURE_DIFF)
        )

    def summary(self) -> str:
        sizes = [str(b) for b in self.batch_sizes]
        listed = " and ".join([", ".join(sizes[:-1]), sizes[-1]] if len(sizes) > 1 else sizes)
        return (
            f"parity ({self.provider}, {self.samples} test samples, "
            f"onnxruntime at batch size{'s' if len(sizes) > 1 else ''} {listed}): "
            f"max |score diff| {self.max_abs_diff:.2e} (limit {self.score_limit:.2e}: "
            f"{MAX_ABS_DIFF:.0e} x max(1, max |score| {self.score_scale:.3g})), "
            + (
                ""
                if self.feature_diff is None
                else f"backbone features {self.feature_diff:.2e} of their scale "
                f"(limit {MAX_FEATURE_DIFF:.0e}), "
            )
            + f"argmax agreement {100 * self.argmax_agreement:.2f}% "
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
        score_scale=_scale(reference),
    )


@torch.inference_mode()
def check_image_parity(
    session: Any, model: nn.Module, images: np.ndarray, batch_sizes: tuple[int, ...]
) -> ParityReport:
    """Compare an image-in ``session`` with ``model`` (an ``ImageScores``: ``features`` then
    ``inference``) on uint8 ``images``: features with PyTorch's backbone, scores with
    PyTorch's head on the graph's own features (see the module docstring)."""
    from zsl_onnx.format import FEATURES, IMAGES, PREDICTION, SCORES

    model = model.eval()
    x = torch.from_numpy(np.ascontiguousarray(images))
    torch_features = torch.cat([model.features(x[i : i + 4]) for i in range(0, len(x), 4)])
    feature_scale = max(float(torch_features.abs().max()), 1e-12)
    worst_diff, worst_feature, worst_agreement, consistent = 0.0, 0.0, 1.0, True
    scale = 0.0
    for batch_size in batch_sizes:
        parts = [
            session.run([SCORES, PREDICTION, FEATURES], {IMAGES: images[i : i + batch_size]})
            for i in range(0, len(images), batch_size)
        ]
        scores, prediction, features = (np.concatenate(p) for p in zip(*parts, strict=True))
        if features.shape != tuple(torch_features.shape):
            return ParityReport(
                len(images), batch_sizes, float("inf"), 0.0, False, _ep(session), 0.0, np.inf
            )
        head = model.inference(torch.from_numpy(features)).numpy()
        if scores.shape != head.shape:
            return ParityReport(len(images), batch_sizes, float("inf"), 0.0, False, _ep(session))
        scale = max(scale, _scale(head))
        diff = float(np.abs(scores - head).max(initial=0.0))
        worst_diff = float(np.max([worst_diff, diff]))  # NaN propagates and fails the check
        fdiff = float(np.abs(features - torch_features.numpy()).max(initial=0.0)) / feature_scale
        worst_feature = float(np.max([worst_feature, fdiff]))
        agreement = float((scores.argmax(axis=1) == head.argmax(axis=1)).mean())
        worst_agreement = min(worst_agreement, agreement)
        consistent &= bool(np.array_equal(prediction, scores.argmax(axis=1)))
    return ParityReport(
        samples=len(images),
        batch_sizes=tuple(batch_sizes),
        max_abs_diff=worst_diff,
        argmax_agreement=worst_agreement,
        prediction_matches_argmax=consistent,
        provider=_ep(session),
        score_scale=scale,
        feature_diff=worst_feature,
    )


def _scale(scores: np.ndarray) -> float:
    finite = scores[np.isfinite(scores)]
    return float(np.abs(finite).max(initial=0.0))


def _ep(session: Any) -> str:
    return session.get_providers()[0]
