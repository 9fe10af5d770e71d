"""Which dataset a run used, resolved once: a registered name first, else a path.

The same rule as :func:`zsl_toolkit.data.resolve.load_dataset` and the sweep planner, so a
folder in the working directory spelled like a registered dataset (``./cub`` beside ``cub``)
never takes the registered name's place when a run is read back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def _registered(name: str) -> bool:
    from zsl_toolkit.registry import plugin_group

    return name in plugin_group("datasets").names()


@dataclass(frozen=True)
class DatasetRef:
    """A dataset as given (``name``) and, when that is not a registered name but an existing
    file or folder, its absolute ``path``."""

    name: str
    path: str | None = None

    @classmethod
    def resolve(cls, spec: str) -> DatasetRef:
        """The reference for a ``--dataset`` value: registered names win over paths."""
        if _registered(spec):
            return cls(spec)
        p = Path(spec).expanduser()
        return cls(spec, str(p.resolve()) if p.exists() else None)

    @classmethod
    def from_record(cls, name: str, path: str | None) -> DatasetRef:
        """The reference of a recorded run (``dataset``, ``dataset_path``). Records written
        before the names-first rule may hold a path for a registered name; the name wins."""
        if path is not None and _registered(name):
            return cls(name)
        return cls(name, path)

    @property
    def spec(self) -> str:
        """What loads the data: the absolute path when there is one, else the name."""
        return self.path or self.name

    @property
    def is_path(self) -> bool:
        return self.path is not None
