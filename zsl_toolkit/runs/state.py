"""Reading tensor files of a run (weights, checkpoints, refit starts) safely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zsl_toolkit.errors import RunDirError, UnsafeFileError, one_line


def load_state(path: Path) -> dict[str, Any]:
    """Load a model or checkpoint file as tensors and plain containers only.

    ``weights_only=True`` makes torch refuse any pickled object other than tensors and
    builtin containers, so a crafted file cannot run code; such a file is reported, not loaded.
    """
    import pickle

    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        refused = str(exc).split("Trying to load unsupported")[-1].split("\n")[0].strip()
        raise UnsafeFileError(
            f"{path}: holds pickled Python objects, not only tensors; refused to load it "
            f"({' '.join(refused.split())[:160]})"
        ) from None
    except (OSError, RuntimeError, EOFError, ValueError) as exc:
        raise RunDirError(
            f"{path}: unreadable or truncated tensor file ({one_line(exc)[:200]})"
        ) from None
