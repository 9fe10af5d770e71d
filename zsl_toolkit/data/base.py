"""Dataset plugin interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from zsl_toolkit.data.container import ZSLData


class Dataset(ABC):
    """A named source of :class:`ZSLData`.

    Plugins register a subclass under ``zsl_toolkit.datasets``. ``load`` receives the data
    root (from ``--data-root`` or ``ZSL_DATA_ROOT``; ``None`` when neither is set), which
    built-in generators ignore.
    """

    description: ClassVar[str] = ""
    """One line shown by ``zsl list --verbose``."""

    @abstractmethod
    def load(self, data_root: Path | None = None) -> ZSLData:
        """Return the dataset, raising :class:`~zsl_toolkit.errors.DataError` on bad input."""
