"""The same app as Ray Serve replicas (``zsl serve MODEL --replicas N [--ray-address A]``).

Ray Serve runs the Starlette app in every replica (``serve.ingress`` with a builder, so each
replica builds its own app, session and batcher) and balances HTTP requests over them.
Class edits and reloads are shared through one Ray actor that owns the edits file beside
the model: a replica asks it for the current state (model generation, edits revision) before
each request, so an edit made through one replica is served by every replica from the next
request on. The model file must be readable at the same path on every node.
"""

from __future__ import annotations

import time
from typing import Any

from zsl_serve.classes import AddedClass, ClassEdits, ClassFile, EditConflict, file_sha256
from zsl_serve.model import ClassTable, served_names
from zsl_serve.server import Active, ServeConfig, Server

APP_NAME = "zsl-serve"


class SharedState:
    """The state every replica follows: the active model's path and generation, and each
    model's class edits (persisted as by a single server, in the file beside the model)."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.generation = 0
        self.files: dict[str, ClassFile] = {}

    def _file(self, model: str) -> ClassFile:
        if model not in self.files:
            from pathlib import Path

            path = Path(model)
            self.files[model] = ClassFile(path, file_sha256(path))
        return self.files[model]

    def state(self) -> tuple[str, int, ClassEdits]:
        return self.model, self.generation, self._file(self.model).current()

    def add(self, model: str, original: list[str], record: dict[str, Any]) -> Any:
        new = AddedClass.from_record(record)
        return self._edit(model, lambda e: e.with_added(new, served_names(original, e)))

    def remove(self, model: str, original: list[str], name: str) -> Any:
        return self._edit(model, lambda e: e.without(name, served_names(original, e)))

    def _edit(self, model: str, change: Any) -> Any:
        try:
            return ("ok", self._file(model).update(change))
        except EditConflict as exc:
            return ("conflict", str(exc))
        except LookupError as exc:
            return ("missing", str(exc).strip("'\""))

    def reload(self, model: str) -> int:
        self.files.pop(model, None)  # the file may have been replaced: hash it again
        self._file(model)
        self.model = model
        self.generation += 1
        return self.generation


class RayCoordinator:
    """A replica's side of :class:`SharedState` (see the module docstring)."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    async def sync(self, server: Server) -> Active:
        model, generation, edits = await self.actor.state.remote()
        assert server.active is not None
        if generation > server.active.generation:
            await server.swap(model, generation)
        active = server.active
        active.model.adopt(edits)
        server.metrics.classes.set(len(active.model.table.names))
        return active

    async def add(self, server: Server, new: AddedClass) -> ClassTable:
        active = await self.sync(server)
        model = active.model
        return self._apply(
            model, await self.actor.add.remote(str(model.path), model.original, new.record())
        )

    async def remove(self, server: Server, name: str) -> ClassTable:
        active = await self.sync(server)
        model = active.model
        return self._apply(
            model, await self.actor.remove.remote(str(model.path), model.original, name)
        )

    async def reload(self, server: Server, path: str) -> Active:
        await server.swap(path, -1)  # load here first: a bad file is refused before sharing
        generation = await self.actor.reload.remote(path)
        assert server.active is not None
        server.active.generation = generation
        return await self.sync(server)

    @staticmethod
    def _apply(model: Any, answer: Any) -> ClassTable:
        status, value = answer
        if status == "conflict":
            raise EditConflict(value)
        if status == "missing":
            raise LookupError(value)
        return model.adopt(value)


def deployment(config: ServeConfig, replicas: int) -> Any:
    """The Ray Serve application (bound deployment) serving ``config.model``."""
    import ray
    from ray import serve

    actor = ray.remote(SharedState).options(num_cpus=0).remote(config.model)

    def build() -> Any:
        from zsl_serve.app import create_app

        return create_app(config, Server(config, RayCoordinator(actor)))

    ingress = serve.ingress(build)()
    # Ray hides GPUs from actors that do not reserve one: --provider cuda reserves one per
    # replica; auto and cpu replicas reserve nothing (the batcher's thread does the work).
    gpus = 1 if config.provider == "cuda" else 0
    options = {"num_cpus": 0, "num_gpus": gpus}
    return serve.deployment(
        ingress, name=APP_NAME, num_replicas=replicas, ray_actor_options=options
    ).bind()


def start(config: ServeConfig, replicas: int, host: str, port: int, address: str | None) -> None:
    """Connect to (or start) Ray, start Serve's HTTP proxy on ``host:port``, deploy."""
    import ray
    from ray import serve

    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    serve.start(http_options={"host": host, "port": port})
    serve.run(deployment(config, replicas), name=APP_NAME, route_prefix="/")


def run_ray(config: ServeConfig, replicas: int, host: str, port: int, address: str | None) -> None:
    """``zsl serve --replicas``: deploy and serve until interrupted."""
    try:
        from ray import serve
    except ModuleNotFoundError:
        from zsl_toolkit.errors import MissingDependency

        raise MissingDependency(
            "--replicas needs Ray Serve: pip install -c constraints.txt './serving/http[ray]'"
        ) from None

    start(config, replicas, host, port, address)
    print(f"serving {config.model} on http://{host}:{port} with {replicas} Ray Serve replicas")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        serve.shutdown()
