"""Training loop, configuration and device handling."""

from zsl_toolkit.device import resolve_device
from zsl_toolkit.training.config import TrainConfig
from zsl_toolkit.training.trainer import Trainer, seed_everything

__all__ = ["TrainConfig", "Trainer", "resolve_device", "seed_everything"]
