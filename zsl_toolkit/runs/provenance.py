"""What produced a run: package versions and the distributions that provided its plugins."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from typing import Any


def versions() -> dict[str, str]:
    """Versions recorded in ``run.json``: what produced the run."""
    from importlib.metadata import version

    import h5py
    import numpy as np
    import torch

    from zsl_toolkit.version import __version__

    return {
        "zsl-toolkit": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "h5py": h5py.__version__,
        "click": version("click"),
    }


def plugin_sources(method: str, dataset: str, evaluators: Sequence[str]) -> dict[str, Any]:
    """Which distribution, at which version, provided the run's method, dataset and each
    evaluator (``None`` for a dataset given as a path): ``versions`` names only the toolkit
    and its frameworks, while a plugin's own release decides what a run computed."""
    from zsl_toolkit.registry import plugin_group

    def source(registry: Any, name: str) -> dict[str, str] | None:
        if name not in registry.names():
            return None
        info = registry.info(name)
        return {"name": name, "distribution": info.distribution, "version": info.version}

    evaluator_reg = plugin_group("evaluators")
    return {
        "method": source(plugin_group("methods"), method),
        "dataset": source(plugin_group("datasets"), dataset),
        "evaluators": [source(evaluator_reg, name) for name in evaluators],
    }
