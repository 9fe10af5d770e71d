"""Plugin registries fed only by Python entry points.

Built-in datasets, methods and evaluators are declared in the toolkit's own ``pyproject.toml``
under the same groups a third party uses, so there is a single discovery path. Listing reads
distribution metadata only; :meth:`Registry.load` imports the object and checks its type.
This module knows the groups and the mechanism, not the interfaces: each interface's module
builds its own typed :class:`Registry`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar

from zsl_toolkit.errors import PluginConflict, PluginLoadError, PluginNotFound

T = TypeVar("T")

GROUPS = {
    "methods": "zsl_toolkit.methods",
    "datasets": "zsl_toolkit.datasets",
    "evaluators": "zsl_toolkit.evaluators",
    "exporters": "zsl_toolkit.exporters",
    "commands": "zsl_toolkit.commands",
    "backbones": "zsl_toolkit.backbones",
    "text-encoders": "zsl_toolkit.text_encoders",
}
"""Every plugin group, declared once: its plural noun (as ``zsl list`` shows it) and its
entry-point group. The typed registry of each group lives beside its interface
(:func:`zsl_toolkit.methods.registry.method_registry`, ``zsl_images.backbones``, ...), so this
module imports none of them."""


@dataclass(frozen=True)
class PluginInfo:
    """What metadata says about one plugin, without importing it."""

    name: str
    value: str
    distribution: str
    version: str


def _info(ep: EntryPoint) -> PluginInfo:
    dist = ep.dist
    return PluginInfo(
        name=ep.name,
        value=ep.value,
        distribution=dist.metadata["Name"] if dist is not None else "<unknown>",
        version=dist.version if dist is not None else "?",
    )


def closest(name: str, names: list[str]) -> str | None:
    """The installed name ``name`` most likely meant, case ignored (``ESZSL`` -> ``eszsl``)."""
    lowered = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1)
    return lowered[close[0]] if close else None


class Registry(Generic[T]):
    """Name -> plugin class for one entry-point group.

    ``kind`` is the plural noun used in messages ("methods"); ``base`` is the class every
    loaded plugin must subclass.
    """

    def __init__(self, group: str, base: type[T], kind: str) -> None:
        self.group = group
        self.base = base
        self.kind = kind

    def _entries(self) -> dict[str, list[EntryPoint]]:
        found: dict[str, list[EntryPoint]] = {}
        seen: set[tuple[str, str, str]] = set()
        for ep in entry_points(group=self.group):
            dist = ep.dist.metadata["Name"] if ep.dist is not None else ""
            key = (ep.name, ep.value, dist)
            if key in seen:  # the same distribution visible twice on sys.path
                continue
            seen.add(key)
            found.setdefault(ep.name, []).append(ep)
        return found

    def infos(self) -> list[PluginInfo]:
        """All registered plugins, sorted by name (metadata only)."""
        return sorted(
            (_info(ep) for eps in self._entries().values() for ep in eps),
            key=lambda i: (i.name, i.distribution),
        )

    def names(self) -> list[str]:
        """Registered names, sorted (metadata only)."""
        return sorted(self._entries())

    def _entry(self, name: str) -> EntryPoint:
        entries = self._entries()
        if name not in entries:
            installed = sorted(entries)
            hint = f"; did you mean '{close}'?" if (close := closest(name, installed)) else ""
            listing = ", ".join(installed) if installed else "none"
            raise PluginNotFound(
                f"unknown {self.kind[:-1]} '{name}' (installed {self.kind}: {listing}){hint}"
            )
        eps = entries[name]
        if len(eps) > 1:
            owners = " and ".join(f"{_info(ep).distribution} ({ep.value})" for ep in eps)
            raise PluginConflict(
                f"{self.kind[:-1]} name '{name}' is registered by more than one distribution: "
                f"{owners}; uninstall one of them"
            )
        return eps[0]

    def info(self, name: str) -> PluginInfo:
        return _info(self._entry(name))

    def _import(self, name: str) -> tuple[EntryPoint, object]:
        ep = self._entry(name)
        try:
            return ep, ep.load()
        except Exception as exc:  # any import-time failure is the plugin's fault
            raise PluginLoadError(
                f"{self.kind[:-1]} '{name}' from distribution {_info(ep).distribution} "
                f"failed to import ({ep.value}): {type(exc).__name__}: {exc}"
            ) from exc

    def load(self, name: str) -> type[T]:
        """Import plugin ``name`` and check that it is a subclass of ``base``."""
        ep, obj = self._import(name)
        if not (isinstance(obj, type) and issubclass(obj, self.base)):
            raise PluginLoadError(
                f"{self.kind[:-1]} '{name}' from distribution {_info(ep).distribution} "
                f"({ep.value}) is not a subclass of {self.base.__module__}."
                f"{self.base.__qualname__}"
            )
        return obj


class CommandRegistry(Registry):
    """``zsl`` sub-commands contributed by distributions: each entry point is a click command
    or group *object* (not a class), added to the ``zsl`` group under its entry-point name."""

    def load_command(self, name: str) -> Any:
        """Import command ``name`` and check that it is a ``click.Command``."""
        import click

        ep, obj = self._import(name)
        if not isinstance(obj, click.Command):
            raise PluginLoadError(
                f"command '{name}' from distribution {_info(ep).distribution} ({ep.value}) "
                "is not a click command"
            )
        return obj


def command_registry() -> CommandRegistry:
    return CommandRegistry(GROUPS["commands"], object, "commands")


def plugin_group(kind: str) -> Registry:
    """Group ``kind`` (a key of :data:`GROUPS`) for reading metadata (names, distributions);
    its :meth:`Registry.load` checks no type, so load through the interface's own registry."""
    return Registry(GROUPS[kind], object, kind)


def list_registries() -> dict[str, Registry]:
    """Every group, in display order, without importing any plugin."""
    return {kind: plugin_group(kind) for kind in GROUPS}
