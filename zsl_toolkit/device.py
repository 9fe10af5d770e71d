"""Device names: the one rule for what ``--device`` / ``device =`` accept and what they mean.

:func:`check_device` is the syntax check, free of torch, for validating a sweep before any
trial starts; :func:`resolve_device` maps a name onto a ``torch.device`` on this machine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zsl_toolkit.errors import DeviceError

if TYPE_CHECKING:
    import torch

DEVICES = "auto, cpu or cuda[:N]"


def check_device(name: str, where: str | None = None) -> None:
    """Raise :class:`DeviceError` unless ``name`` is ``auto``, ``cpu`` or ``cuda[:N]``."""
    if name not in ("auto", "cpu") and not name.startswith("cuda"):
        what = f"{where}: device" if where else "--device"
        raise DeviceError(f"{what} must be {DEVICES}, got '{name}'")


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` fails clearly when unavailable."""
    import torch

    check_device(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError(
            f"--device {name} was requested but CUDA is not available on this machine "
            f"(torch {torch.__version__}); use --device cpu or auto"
        )
    return torch.device(name)
