"""The serving state of one process: the active model, its batcher, and how class edits and
reloads are shared with the other processes serving the same model.

A reload loads the new model completely (session, class edits) before it becomes active;
requests that already hold the old model finish on it (its batcher drains), so no request is
lost or answered by a half-loaded model. Sharing is a :class:`Coordinator`: within one
machine, files (the edits file beside the model, and with ``--workers`` a control file
naming the active model); on Ray Serve, one named actor (:mod:`zsl_serve.ray_app`).
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from zsl_serve.batcher import Batcher
from zsl_serve.classes import AddedClass
from zsl_serve.metrics import Metrics
from zsl_serve.model import ClassTable, ServedModel
from zsl_toolkit.io import atomic_write

API_KEY_ENV = "ZSL_SERVE_API_KEY"
"""Environment variable read when ``--api-key`` is not given."""


@dataclass(frozen=True)
class ServeConfig:
    """Settings of a server (the ``zsl serve`` options)."""

    model: str
    provider: str = "auto"
    threads: int | None = None
    max_body: int = 16 * 1024 * 1024
    max_images: int = 64
    max_rows: int = 4096
    batch_rows: int = 256
    max_wait_ms: float = 2.0
    top_k: int = 5
    api_key: str | None = None
    control: str | None = None  # file naming the active model, shared by --workers

    def to_env(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_env(cls, text: str) -> ServeConfig:
        return cls(**json.loads(text))


@dataclass
class Active:
    """A loaded model with its own batcher."""

    model: ServedModel
    batcher: Batcher
    generation: int


class Coordinator(Protocol):
    """How a process learns of and makes changes shared with the other processes."""

    async def sync(self, server: Server) -> Active: ...

    async def add(self, server: Server, new: AddedClass) -> ClassTable: ...

    async def remove(self, server: Server, name: str) -> ClassTable: ...

    async def reload(self, server: Server, path: str) -> Active: ...


class Server:
    """Holds the active model; everything a request needs goes through :meth:`current`."""

    def __init__(self, config: ServeConfig, coordinator: Coordinator | None = None) -> None:
        self.config = config
        self.metrics = Metrics()
        self.coordinator: Coordinator = coordinator or FileCoordinator(config.control)
        self.active: Active | None = None
        self._swap_lock = asyncio.Lock()
        self._encoders: dict[str, Any] = {}

    # ------------------------------------------------------------------ lifecycle
    def load(self, path: str) -> ServedModel:
        """A fully loaded model (blocking: call in a thread from async code)."""
        return ServedModel(path, self.config.provider, self.config.threads)

    def activate(self, model: ServedModel, generation: int = 0) -> Active:
        """Make ``model`` the active one; the old one drains in the background."""
        batcher = Batcher(
            model.run,
            max_rows=self.config.batch_rows,
            max_wait=self.config.max_wait_ms / 1000.0,
            on_batch=self.metrics.batch_rows.observe,
        )
        old, self.active = self.active, Active(model, batcher, generation)
        self.metrics.classes.set(len(model.table.names))
        if old is not None:
            asyncio.get_running_loop().create_task(old.batcher.close())
        return self.active

    async def start(self) -> None:
        if self.active is None:
            model = await asyncio.to_thread(self.load, self.config.model)
            self.activate(model)

    async def stop(self) -> None:
        if self.active is not None:
            await self.active.batcher.close()

    async def current(self) -> Active:
        """The active model with the latest shared state applied."""
        return await self.coordinator.sync(self)

    async def swap(self, path: str, generation: int) -> Active:
        """Load ``path`` and make it active (one swap at a time; a generation already
        active, reached by a concurrent request, is not loaded twice)."""
        async with self._swap_lock:
            if self.active is not None and 0 < generation <= self.active.generation:
                return self.active
            model = await asyncio.to_thread(self.load, path)
            return self.activate(model, generation)

    # ------------------------------------------------------------------ scoring
    async def predict(self, active: Active, rows: np.ndarray) -> tuple[np.ndarray, ClassTable]:
        """Served scores for ``rows`` through the batcher, with the class table they use."""
        table = active.model.table
        outputs = await active.batcher.submit(rows)
        return active.model.scores(outputs, table), table

    def text_encoder(self, name: str) -> Any:
        """The installed text encoder ``name`` (entry-point group
        ``zsl_toolkit.text_encoders``), loaded once."""
        if name not in self._encoders:
            self._encoders[name] = load_text_encoder(name)
        return self._encoders[name]


def load_text_encoder(name: str) -> Any:
    from importlib.metadata import entry_points

    from zsl_toolkit.editing.descriptions import TEXT_ENCODER_GROUP

    found = [ep for ep in entry_points(group=TEXT_ENCODER_GROUP) if ep.name == name]
    if not found:
        raise LookupError(
            f"the model's descriptions need text encoder '{name}', which is not installed"
        )
    return found[0].load()()


class FileCoordinator:
    """Sharing through files on one machine: edits in the file beside the model (one
    ``stat`` per request), and with ``control`` set (``--workers``) the active model's path."""

    def __init__(self, control: str | None = None) -> None:
        self.control = Path(control) if control else None
        self._stamp: tuple[int, int] | None = None
        self._generation = 0

    async def sync(self, server: Server) -> Active:
        assert server.active is not None
        if self.control is not None:
            try:
                st = os.stat(self.control)
                stamp = (st.st_mtime_ns, st.st_size)
            except FileNotFoundError:
                stamp = None
            if stamp is not None and stamp != self._stamp:
                doc = json.loads(self.control.read_text())
                self._stamp = stamp
                if int(doc["generation"]) > server.active.generation:
                    await server.swap(doc["model"], int(doc["generation"]))
        active = server.active
        active.model.refresh()
        server.metrics.classes.set(len(active.model.table.names))
        return active

    async def add(self, server: Server, new: AddedClass) -> ClassTable:
        active = await self.sync(server)
        return await asyncio.to_thread(active.model.add, new)

    async def remove(self, server: Server, name: str) -> ClassTable:
        active = await self.sync(server)
        return await asyncio.to_thread(active.model.remove, name)

    async def reload(self, server: Server, path: str) -> Active:
        assert server.active is not None
        generation = max(self._generation, server.active.generation) + 1
        active = await server.swap(path, generation)
        self._generation = generation
        if self.control is not None:
            data = json.dumps({"model": path, "generation": generation}).encode()
            atomic_write(self.control, lambda fh: fh.write(data))
        return active
