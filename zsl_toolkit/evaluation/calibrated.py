"""Calibrated stacking (Chao, Changpinyo, Gong and Sha, ECCV 2016).

Prediction is ``argmax_c (score_c - gamma * [c is seen])``. Sweeping gamma trades seen for
unseen accuracy; the area under the resulting seen-unseen accuracy curve (AUSUC) summarises a
model independently of any one calibration.

The sweep here is exact, not a grid: a sample's prediction can change only at
``gamma = max seen score - max unseen score`` of that sample, so sorting those values gives
every distinct operating point in O(N log N). Best H is an oracle figure (gamma chosen on
the test data) and is reported as such, beside the gamma that achieves it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zsl_toolkit.evaluation.base import EvalInput, Evaluator
from zsl_toolkit.evaluation.metrics import harmonic_mean, harmonic_means

MAX_CURVE_POINTS = 201


def _split_terms(scores: np.ndarray, labels: np.ndarray, seen: np.ndarray, unseen: np.ndarray):
    """Per sample: switch point delta, weight, and correctness before/after switching."""
    ms = scores[:, seen]
    mu = scores[:, unseen]
    best_s = seen[ms.argmax(axis=1)]
    best_u = unseen[mu.argmax(axis=1)]
    delta = ms.max(axis=1) - mu.max(axis=1)
    classes, counts = np.unique(labels, return_counts=True)
    per_sample_count = counts[np.searchsorted(classes, labels)]
    weight = 1.0 / (per_sample_count * classes.size)  # per-class mean as a weighted sum
    return delta, weight, (best_s == labels).astype(float), (best_u == labels).astype(float)


def seen_unseen_curve(data: EvalInput) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact (gammas, U, S) over every distinct operating point, gamma increasing.

    The first point is gamma = -inf (everything predicted among seen classes), the last lies
    above every switch point (everything among unseen classes).
    """
    seen = np.asarray(data.seen_classes)
    unseen = np.asarray(data.unseen_classes)
    d_u, w_u, cs_u, cu_u = _split_terms(data.scores_unseen, data.labels_unseen, seen, unseen)
    d_s, w_s, cs_s, cu_s = _split_terms(data.scores_seen, data.labels_seen, seen, unseen)
    delta = np.concatenate([d_u, d_s])
    # Change of U and S when each sample switches from its best seen to its best unseen class.
    du = np.concatenate([w_u * (cu_u - cs_u), np.zeros_like(d_s)])
    ds = np.concatenate([np.zeros_like(d_u), w_s * (cu_s - cs_s)])
    order = np.argsort(delta, kind="stable")
    delta, du, ds = delta[order], du[order], ds[order]
    # Samples with equal delta switch together: keep the cumulative sum at each group's end.
    ends = np.flatnonzero(np.r_[delta[1:] != delta[:-1], True])
    u = float(np.sum(w_u * cs_u)) + np.r_[0.0, np.cumsum(du)[ends]]
    s = float(np.sum(w_s * cs_s)) + np.r_[0.0, np.cumsum(ds)[ends]]
    points = delta[ends]
    # A gamma strictly inside each interval between consecutive switch points.
    upper = np.r_[points[1:], points[-1] + 1.0]
    gammas = np.r_[-np.inf, (points + upper) / 2.0]
    return gammas, np.clip(u, 0.0, 1.0), np.clip(s, 0.0, 1.0)


class CalibratedStackingEvaluator(Evaluator):
    """AUSUC, and the best H over all calibrations with the gamma that gives it."""

    description = "calibrated stacking sweep: AUSUC, best H and its gamma"
    headline = ("U", "S", "H", "AUSUC")
    fractions = ("U", "S", "H", "AUSUC")

    def evaluate(self, data: EvalInput) -> dict[str, Any]:
        gammas, u, s = seen_unseen_curve(data)
        h = harmonic_means(u, s)
        best = int(np.argmax(h))
        ausuc = float(np.trapezoid(s, u)) if hasattr(np, "trapezoid") else float(np.trapz(s, u))
        keep = np.unique(np.linspace(0, len(u) - 1, min(len(u), MAX_CURVE_POINTS)).astype(int))
        return {
            "U": float(u[best]),
            "S": float(s[best]),
            "H": harmonic_mean(float(u[best]), float(s[best])),
            "AUSUC": ausuc,
            "gamma": float(gammas[best]) if np.isfinite(gammas[best]) else None,
            "curve": {"U": u[keep].tolist(), "S": s[keep].tolist()},
        }
