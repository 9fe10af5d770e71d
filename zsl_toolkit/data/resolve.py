"""Turn a ``--dataset`` value into :class:`ZSLData`.

Order: a registered dataset name; else an existing ``.h5`` file (the toolkit's store); else a
folder in the xlsa17 layout. The data root comes from the argument, else ``ZSL_DATA_ROOT``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.errors import ConfigError, DataError, PluginNotFound

DATA_ROOT_ENV = "ZSL_DATA_ROOT"


def data_root(explicit: str | Path | None = None) -> Path | None:
    """The data root: ``explicit``, else ``$ZSL_DATA_ROOT``, else ``None``."""
    value = explicit if explicit not in (None, "") else os.environ.get(DATA_ROOT_ENV)
    return Path(value).expanduser() if value else None


def looks_like_path(spec: str) -> bool:
    return os.sep in spec or spec.startswith(".") or spec.endswith(".h5") or Path(spec).exists()


def load_dataset(
    spec: str,
    root: str | Path | None = None,
    semantic: str | None = None,
    options: dict[str, Any] | None = None,
) -> ZSLData:
    """Load a dataset by registered name, ``.h5`` store path, or xlsa17 folder path;
    ``options`` are keyword arguments of a registered dataset's constructor."""
    from zsl_toolkit.data.registry import dataset_registry

    registry = dataset_registry()
    if options and spec not in registry.names():
        raise ConfigError(
            f"--dataset-option: only a registered dataset takes options, not '{spec}'"
        )
    if spec in registry.names():
        cls = registry.load(spec)
        if not options:
            dataset = cls()
        else:
            from zsl_toolkit.data.options import check_dataset_options

            check_dataset_options(spec, cls, options, "--dataset-option")
            try:
                dataset = cls(**options)
            except (TypeError, ValueError) as exc:  # the plugin's own checks of its options
                raise ConfigError(f"dataset '{spec}': invalid options: {exc}") from None
        if semantic is not None:
            if not hasattr(dataset, "semantic"):
                raise DataError(f"dataset '{spec}' has no choice of semantic file")
            dataset.semantic = semantic
        return dataset.load(data_root(root))
    if looks_like_path(spec):
        path = Path(spec).expanduser()
        if path.suffix == ".h5":
            from zsl_toolkit.data.hdf5 import load_h5

            return load_h5(path)
        from zsl_toolkit.data.xlsa17 import load_xlsa17

        return load_xlsa17(path, semantic=semantic or "att_splits.mat")
    try:
        registry.load(spec)  # raises with the installed names and the closest match
    except PluginNotFound as exc:
        raise PluginNotFound(f"{exc}; a dataset may also be a folder path or a .h5 file") from None
    raise AssertionError("unreachable")
