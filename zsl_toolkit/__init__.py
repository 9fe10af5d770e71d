"""zsl-toolkit: generalized zero-shot learning with pluggable datasets, methods, evaluators
and exporters.

``zsl_toolkit.train``, ``zsl_toolkit.evaluate`` and ``zsl_toolkit.load_run`` (see
:mod:`zsl_toolkit.api`) are imported on first use, so ``import zsl_toolkit`` loads no torch.
"""

from __future__ import annotations

from typing import Any

from zsl_toolkit.version import __version__

_API = ("evaluate", "load_run", "train")
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        from zsl_toolkit import api

        return getattr(api, name)
    raise AttributeError(f"module 'zsl_toolkit' has no attribute {name!r}")
