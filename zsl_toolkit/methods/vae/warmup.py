"""Linear warm-up of a loss weight over epochs, and CADA-VAE's three schedules.

Epochs are 0-based: the authors' loop is ``for epoch in range(0, nepoch)`` and sets
``current_epoch = epoch`` before the first batch, and the toolkit's trainer passes the same
0-based index to a stage's loss. So with ``start = 0`` the first epoch's weight is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BETA_WARMUP", "CROSS_RECONSTRUCTION_WARMUP", "DISTANCE_WARMUP", "Warmup"]


@dataclass(frozen=True)
class Warmup:
    """``w(epoch) = clip((epoch - start) / (end - start) * factor, 0, factor)``.

    Plain Python floats (no tensors), so evaluating it per batch costs no device work.
    ``end <= start`` gives a step: 0 before ``start``, ``factor`` from ``start`` on.
    """

    start: int
    end: int
    factor: float

    def __call__(self, epoch: int) -> float:
        if self.end <= self.start:
            return float(self.factor) if epoch >= self.start else 0.0
        ramp = (epoch - self.start) / (self.end - self.start) * self.factor
        return float(min(max(ramp, 0.0), self.factor))


#: KL weight beta: 0 -> 0.25 over epochs 0..93.
BETA_WARMUP = Warmup(start=0, end=93, factor=0.25)
#: Cross-reconstruction weight: 0 -> 2.37 over epochs 21..75.
CROSS_RECONSTRUCTION_WARMUP = Warmup(start=21, end=75, factor=2.37)
#: Distribution-alignment weight: 0 -> 8.13 over epochs 6..22.
DISTANCE_WARMUP = Warmup(start=6, end=22, factor=8.13)
