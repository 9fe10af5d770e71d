"""``zsl serve``, contributed to the ``zsl`` command through the ``zsl_toolkit.commands``
entry-point group. Imports only click at module level so ``zsl --help`` stays fast."""

from __future__ import annotations

import os
import re

import click

SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b?)?\s*$", re.IGNORECASE)
UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def parse_size(text: str) -> int:
    """``"16MB"``, ``"512k"``, ``"1048576"`` -> bytes (binary units)."""
    from zsl_toolkit.errors import ConfigError

    match = SIZE.match(text)
    if not match:
        raise ConfigError(f"--max-body: '{text}' is not a size (e.g. 16MB, 512KB, 1048576)")
    unit = (match.group(2) or "").lower()[:1]
    size = int(float(match.group(1)) * UNITS[unit])
    if size < 1024:
        raise ConfigError(f"--max-body: {size} bytes is too small (at least 1KB)")
    return size


@click.command()
@click.argument("model", type=click.Path())
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Server processes (each with its own onnxruntime session).",
)
@click.option("--provider", default="auto", show_default=True, help="auto, cuda or cpu.")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="onnxruntime threads.")
@click.option("--max-body", default="16MB", show_default=True, help="Largest request body.")
@click.option(
    "--max-images", type=click.IntRange(min=1), default=64, show_default=True, help="Per request."
)
@click.option(
    "--max-wait-ms",
    type=click.FloatRange(min=0),
    default=2.0,
    show_default=True,
    help="Longest wait of the dynamic batcher for more requests.",
)
@click.option(
    "--api-key",
    default=None,
    help="Key the write endpoints require (default: $ZSL_SERVE_API_KEY; none: open).",
)
@click.option(
    "--replicas",
    type=click.IntRange(min=1),
    default=None,
    help="Deploy as this many Ray Serve replicas instead of one uvicorn server.",
)
@click.option("--ray-address", default=None, help="Ray cluster to deploy on (default: local).")
def serve(
    model,
    host,
    port,
    workers,
    provider,
    threads,
    max_body,
    max_images,
    max_wait_ms,
    api_key,
    replicas,
    ray_address,
) -> None:
    """Serve an exported ONNX MODEL over HTTP: POST /predict, GET/POST /classes,
    DELETE /classes/NAME, POST /reload, GET /health, GET /metrics and a page at /.

    Classes added or deleted live are kept in MODEL's folder as <stem>.classes.json (the
    model file is never changed) and are served again after a restart.
    """
    from zsl_serve.server import API_KEY_ENV, ServeConfig
    from zsl_toolkit.errors import ConfigError

    if ray_address and replicas is None:
        raise ConfigError("--ray-address goes with --replicas N")
    if replicas is not None and workers != 1:
        raise ConfigError("--workers applies to the uvicorn server; with --replicas give one")
    config = ServeConfig(
        model=os.path.abspath(model),
        provider=provider,
        threads=threads,
        max_body=parse_size(max_body),
        max_images=max_images,
        max_wait_ms=max_wait_ms,
        api_key=api_key or os.environ.get(API_KEY_ENV) or None,
    )
    _check_model(config)
    _check_port(host, port)
    if host not in LOCAL_HOSTS and not config.api_key:
        click.echo(
            f"notice: serving on {host} without --api-key: anyone who reaches it can edit "
            f"classes and reload models",
            err=True,
        )
    if replicas is not None:
        from zsl_serve.ray_app import run_ray

        run_ray(config, replicas, host, port, ray_address)
        return
    _run_uvicorn(config, host, port, workers)


def _check_model(config) -> None:
    """Open the model once so a bad file is one error line, before any server starts."""
    from zsl_serve.model import ServedModel

    ServedModel(config.model, config.provider, config.threads)


def _check_port(host: str, port: int) -> None:
    """A port that cannot be bound is one error line, not the server's log and traceback."""
    import socket

    from zsl_toolkit.errors import ConfigError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(f"--host {host}: not an address of this machine ({exc})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigError(
                f"--port {port}: cannot listen on {host}:{port} ({exc.strerror or exc})"
            ) from None


def _run_uvicorn(config, host: str, port: int, workers: int) -> None:
    import tempfile
    from dataclasses import replace

    import uvicorn

    from zsl_serve.app import create_app

    if workers == 1:
        uvicorn.run(create_app(config), host=host, port=port, log_level="warning")
        return
    with tempfile.TemporaryDirectory(prefix="zsl-serve-") as tmp:
        shared = replace(config, control=os.path.join(tmp, "active-model.json"))
        os.environ[ENV] = shared.to_env()
        uvicorn.run(
            "zsl_serve.cli:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
        )


ENV = "ZSL_SERVE_CONFIG"


def app_from_env():
    """The app of a ``--workers`` process, from the settings its parent put in the
    environment."""
    from zsl_serve.app import create_app
    from zsl_serve.server import ServeConfig

    return create_app(ServeConfig.from_env(os.environ[ENV]))
