"""Metric primitives shared by the evaluators."""

from __future__ import annotations

import numpy as np


def per_class_accuracy(
    predictions: np.ndarray, labels: np.ndarray, classes: np.ndarray
) -> dict[int, float]:
    """Top-1 accuracy of each class in ``classes`` that has at least one sample."""
    out = {}
    for c in classes:
        mask = labels == c
        if mask.any():
            out[int(c)] = float((predictions[mask] == c).mean())
    return out


def harmonic_mean(u: float, s: float) -> float:
    """H = 2US / (U + S), 0 when both are 0."""
    return 2.0 * u * s / (u + s) if (u + s) > 0 else 0.0


def harmonic_means(u: np.ndarray, s: np.ndarray) -> np.ndarray:
    """:func:`harmonic_mean` of each pair of a seen-unseen curve's points."""
    return np.where(u + s > 0, 2 * u * s / np.where(u + s > 0, u + s, 1), 0.0)
