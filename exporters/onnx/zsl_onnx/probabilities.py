"""Class probabilities from a model's scores, and the "unknown" answer below a threshold.

Every method's scores become probabilities the same way: ``p = softmax(scores)`` over all
classes the model scores (seen and unseen), computed in float64 after subtracting each row's
maximum. For methods whose scores are log-probabilities (CADA-VAE, DVAE, f-CLSWGAN: a
log-softmax classifier) this gives back their own probabilities exactly; for compatibility
methods (ESZSL, DeViSE, ALE) it is the softmax of the bilinear score at temperature 1, a
ranking-preserving normalisation whose sharpness depends on the score scale. The raw score
always stays beside it. With ``unknown_below = P``, a sample whose highest probability is
below ``P`` is answered ``unknown`` (class id -1) instead of its best class.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

UNKNOWN = "unknown"
UNKNOWN_ID = -1


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``scores`` [N, C] in float64; each row sums to one."""
    x = np.asarray(scores, dtype=np.float64)
    x = x - x.max(axis=1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def check_threshold(unknown_below: float | None) -> None:
    """A probability threshold must lie in (0, 1]."""
    from zsl_toolkit.errors import ConfigError

    if unknown_below is not None and not 0.0 < unknown_below <= 1.0:
        raise ConfigError(f"--unknown-below {unknown_below}: expected a probability in (0, 1]")


def decide(
    probabilities: np.ndarray, class_ids: np.ndarray, unknown_below: float | None
) -> np.ndarray:
    """The answered class ids: ``class_ids``, or :data:`UNKNOWN_ID` where the best
    probability is below ``unknown_below``."""
    if unknown_below is None or len(class_ids) == 0:
        return np.asarray(class_ids, dtype=np.int64)
    best = probabilities[np.arange(len(class_ids)), class_ids]
    return np.where(best < unknown_below, UNKNOWN_ID, class_ids).astype(np.int64)


def answer_name(class_id: int, names: Sequence[str]) -> str:
    return UNKNOWN if class_id == UNKNOWN_ID else str(names[class_id])


def split_of(class_id: int, seen: set[int]) -> str:
    """ "seen", "unseen", or "" for an unknown answer."""
    if class_id == UNKNOWN_ID:
        return ""
    return "seen" if class_id in seen else "unseen"


class Answered:
    """The probabilities and answers of a prediction result with ``scores``, ``class_ids``
    and ``unknown_below`` (features-in and image-in results share them)."""

    scores: np.ndarray
    class_ids: np.ndarray
    unknown_below: float | None

    @property
    def probabilities(self) -> np.ndarray:
        return softmax(self.scores)

    @property
    def answers(self) -> np.ndarray:
        """Class ids answered: the argmax, or -1 (unknown) below ``unknown_below``."""
        return decide(self.probabilities, self.class_ids, self.unknown_below)
