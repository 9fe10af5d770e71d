"""Run-level settings, separate from method hyperparameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class TrainConfig:
    """Seed, device and loop overrides of one training run.

    ``epochs`` and ``batch_size`` replace those of the method's primary stage when set;
    ``None`` keeps the method's (published) defaults. ``checkpoint_every`` is in epochs
    (0 disables checkpoints).
    """

    seed: int = 0
    device: str = "auto"
    epochs: int | None = None
    batch_size: int | None = None
    quiet: bool = False
    checkpoint_every: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], quiet: bool = False) -> TrainConfig:
        """The settings :meth:`to_dict` wrote (a run record's ``train``), with ``quiet`` as
        asked now: how a run is resumed or repeated exactly."""
        return cls(**{**values, "quiet": quiet})
