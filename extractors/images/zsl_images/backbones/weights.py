"""Reading a user's weights file as tensors only, with errors that name the file."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from zsl_toolkit.errors import ConfigError, one_line


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A checkpoint's tensors (``weights_only=True``: no pickled code runs)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"{path}: no such weights file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a bad file
        raise ConfigError(f"{path}: not a readable weights file ({one_line(exc)[:200]})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConfigError(f"{path}: expected a state dict of tensors")
    return state


def load_into(module: nn.Module, path: Path, what: str) -> None:
    """Load ``path`` into ``module`` strictly: every key and shape must match."""
    state = load_state_dict(path)
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        raise ConfigError(
            f"{path}: keys do not match {what} (missing {len(missing)}: "
            f"{', '.join(missing[:3]) or '-'}; unexpected {len(unexpected)}: "
            f"{', '.join(unexpected[:3]) or '-'})"
        )
    for key, value in state.items():
        if tuple(value.shape) != tuple(own[key].shape):
            raise ConfigError(
                f"{path}: '{key}' has shape {tuple(value.shape)}, {what} expects "
                f"{tuple(own[key].shape)}"
            )
    module.load_state_dict(state)
