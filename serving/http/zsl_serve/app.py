"""The HTTP API and page of ``zsl serve`` as a Starlette application.

Every user mistake answers a 4xx JSON body ``{"error": "<one sentence>"}``; the server keeps
serving. Write endpoints (``POST /classes``, ``DELETE /classes/NAME``, ``POST /reload``)
need the API key when one is set (``Authorization: Bearer KEY`` or ``X-API-Key: KEY``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import time
from importlib.resources import files
from typing import Any

import numpy as np
import orjson
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from zsl_onnx.errors import OnnxModelError

from zsl_serve.classes import AddedClass, EditConflict, parse_embedding
from zsl_serve.model import ClassTable, NotEditable, top_k
from zsl_serve.server import ServeConfig, Server
from zsl_toolkit.errors import DataError, ZSLError

MAX_NAME = 200


class UserError(Exception):
    """A request the server refuses: HTTP ``status`` and one sentence."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BodyTooLarge(Exception):
    pass


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


# ---------------------------------------------------------------------- middleware
class Guard:
    """Outermost ASGI layer: the ``--max-body`` limit (by Content-Length, and by counting
    the bytes of a body sent without one), the request metrics, and an ``X-ZSL-Serve-PID``
    header naming the process that answered."""

    def __init__(self, app: Any, server: Server) -> None:
        self.app = app
        self.server = server
        # which process answered: tells replicas and --workers processes apart
        self.pid = (b"x-zsl-serve-pid", str(os.getpid()).encode())

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        limit = self.server.config.max_body
        status = {"code": 500}

        async def send_status(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), self.pid]}
            await send(message)

        try:
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and (not length.isdigit() or int(length) > limit):
                await _too_large(limit)(scope, receive, send_status)
                return
            seen = {"bytes": 0}

            async def counted() -> dict:
                message = await receive()
                if message["type"] == "http.request":
                    seen["bytes"] += len(message.get("body", b""))
                    if seen["bytes"] > limit:
                        raise BodyTooLarge()
                return message

            await self.app(scope, counted, send_status)
        finally:
            self.server.metrics.observe(
                scope["path"], scope["method"], status["code"], time.perf_counter() - start
            )


def _too_large(limit: int) -> JSONResponse:
    return error(413, f"the request body is larger than the server's limit of {limit} bytes")


# ---------------------------------------------------------------------- helpers
def _check_key(request: Request, server: Server) -> None:
    key = server.config.api_key
    if not key:
        return
    given = request.headers.get("x-api-key") or ""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        given = given or auth[7:].strip()
    if not hmac.compare_digest(given.encode(), key.encode()):
        raise UserError(401, "this endpoint needs the server's API key (header X-API-Key)")


async def _json(request: Request) -> Any:
    body = await request.body()
    if not body.strip():
        return {}
    try:
        return orjson.loads(body)  # a tenth of json.loads' time on feature rows
    except orjson.JSONDecodeError as exc:
        raise UserError(400, f"the request body is not valid JSON ({exc})") from None


def _version(server_model: Any, table: ClassTable) -> dict[str, Any]:
    return {
        "file": server_model.path.name,
        "sha256": server_model.sha256[:12],
        "classes_revision": table.revision,
    }


def _top_k(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        k = int(value)
    except (TypeError, ValueError):
        raise UserError(400, f"top_k must be a positive integer, got '{value}'") from None
    if k < 1:
        raise UserError(400, f"top_k must be a positive integer, got {k}")
    return k


def _classes_doc(active: Any) -> dict[str, Any]:
    model, table = active.model, active.model.table
    try:
        model.check_editable()
        editable, why = True, None
    except NotEditable as exc:
        editable, why = False, str(exc)
    return {
        "model": _version(model, table),
        "method": model.method,
        "input": "images" if model.takes_images else "features",
        "feature_dim": model.predictor.feature_dim,
        "embedding_dim": model.embedding_dim,
        "editable": editable,
        "not_editable_because": why,
        "descriptions": model.text_encoder,
        "classes": [{"name": n, "kind": k} for n, k in zip(table.names, table.kinds, strict=True)],
    }


# ---------------------------------------------------------------------- endpoints
def create_app(config: ServeConfig, server: Server | None = None) -> Any:
    """The ASGI application serving ``config.model``."""
    server = server or Server(config)

    html = files("zsl_serve").joinpath("page/index.html").read_text()

    async def page(request: Request) -> Response:
        return HTMLResponse(html)

    async def health(request: Request) -> Response:
        active = await server.current()
        return JSONResponse(
            {
                "status": "ok",
                "model": _version(active.model, active.model.table),
                "classes": len(active.model.table.names),
                "providers": active.model.predictor.providers,
            }
        )

    async def metrics(request: Request) -> Response:
        await server.current()
        return Response(server.metrics.render(), media_type=server.metrics.content_type)

    async def classes(request: Request) -> Response:
        return JSONResponse(_classes_doc(await server.current()))

    async def add_class(request: Request) -> Response:
        _check_key(request, server)
        body = await _json(request)
        active = await server.current()
        model = active.model
        try:
            model.check_editable()
        except NotEditable as exc:
            raise UserError(409, str(exc)) from None
        if not isinstance(body, dict):
            raise UserError(
                400, 'the body must be a JSON object {"name": ..., "attributes": [...]}'
            )
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            raise UserError(
                422, f"name must be a non-empty string of at most {MAX_NAME} characters"
            )
        name = name.strip()
        if "/" in name:
            raise UserError(422, "name must not contain '/'")
        has_attr, has_text = "attributes" in body, "description" in body
        if has_attr == has_text:
            raise UserError(422, "give exactly one of attributes (numbers) or description (text)")
        if has_attr:
            vector = parse_embedding(body["attributes"], model.embedding_dim or 0, "attributes")
            new = AddedClass(name, vector, "attributes")
        else:
            new = await _described(server, model, name, body["description"])
        table = await server.coordinator.add(server, new)
        server.metrics.classes.set(len(table.names))
        return JSONResponse(
            {"added": name, "kind": "added", "classes": len(table.names)}, status_code=201
        )

    async def delete_class(request: Request) -> Response:
        _check_key(request, server)
        name = request.path_params["name"]
        active = await server.current()
        try:
            active.model.check_editable()
        except NotEditable as exc:
            raise UserError(409, str(exc)) from None
        try:
            table = await server.coordinator.remove(server, name)
        except LookupError as exc:
            raise UserError(404, str(exc).strip("'\"")) from None
        server.metrics.classes.set(len(table.names))
        return JSONResponse({"deleted": name, "classes": len(table.names)})

    async def reload(request: Request) -> Response:
        _check_key(request, server)
        body = await _json(request)
        active = await server.current()
        if not isinstance(body, dict):
            raise UserError(400, 'the body must be a JSON object {"model": "PATH.onnx"}')
        path = body.get("model", str(active.model.path))
        if not isinstance(path, str) or not path:
            raise UserError(422, "model must be the path of an exported .onnx file")
        path = os.path.abspath(os.path.expanduser(path))
        try:
            new = await server.coordinator.reload(server, path)
        except (OnnxModelError, ZSLError, OSError) as exc:
            reason = _sentence(exc)
            reason = reason if path in reason else f"{path}: {reason}"
            raise UserError(422, f"cannot load {reason}; still serving the old model") from None
        return JSONResponse({"reloaded": True, "model": _version(new.model, new.model.table)})

    async def predict(request: Request) -> Response:
        active = await server.current()
        model = active.model
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "multipart/form-data":
            rows, k = await _images(request, server, model)
        elif kind == "application/json":
            body = await _json(request)
            if model.takes_images:
                raise UserError(
                    415, "this model takes images: send them as multipart/form-data files"
                )
            if not isinstance(body, dict) or "features" not in body:
                raise UserError(422, 'the body must be a JSON object {"features": [[...], ...]}')
            k = _top_k(body.get("top_k"), server.config.top_k)
            rows = _feature_rows(model, body["features"], server.config.max_rows)
        else:
            raise UserError(
                415, "send images as multipart/form-data or features as application/json"
            )
        scores, table = await server.predict(active, rows)
        return JSONResponse(
            {"model": _version(model, table), "predictions": top_k(scores, table, k)}
        )

    async def user_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, UserError)
        return error(exc.status, exc.message)

    async def data_error(request: Request, exc: Exception) -> Response:
        return error(422, _sentence(exc))

    async def conflict(request: Request, exc: Exception) -> Response:
        return error(409, _sentence(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        messages = {404: f"no such endpoint: {request.url.path}", 405: "method not allowed here"}
        return error(exc.status_code, messages.get(exc.status_code, str(exc.detail)))

    async def too_large(request: Request, exc: Exception) -> Response:
        return _too_large(server.config.max_body)

    async def internal(request: Request, exc: Exception) -> Response:
        return error(500, f"internal error: {type(exc).__name__}")

    @contextlib.asynccontextmanager
    async def lifespan(app: Any):
        await server.start()
        yield
        await server.stop()

    app = Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/classes", classes, methods=["GET"]),
            Route("/classes", add_class, methods=["POST"]),
            Route("/classes/{name:path}", delete_class, methods=["DELETE"]),
            Route("/predict", predict, methods=["POST"]),
            Route("/reload", reload, methods=["POST"]),
        ],
        exception_handlers={
            UserError: user_error,
            DataError: data_error,
            EditConflict: conflict,
            HTTPException: http_error,
            BodyTooLarge: too_large,
            Exception: internal,
        },
        lifespan=lifespan,
    )
    app.state.server = server
    return Guard(app, server)


def _sentence(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.removeprefix("error: ")


def _feature_rows(model: Any, rows: Any, max_rows: int) -> np.ndarray:
    if not isinstance(rows, list) or not rows:
        raise UserError(422, "features must be a non-empty list of rows of numbers")
    if len(rows) > max_rows:
        raise UserError(
            413, f"{len(rows)} feature rows; the server takes at most {max_rows} per request"
        )
    try:
        array = np.asarray(rows, dtype=np.float32)
    except (ValueError, TypeError):
        raise UserError(422, "features must be rows of numbers, all of one length") from None
    return model.features(array)


async def _images(request: Request, server: Server, model: Any) -> tuple[np.ndarray, int]:
    if not model.takes_images:
        raise UserError(415, 'this model takes features: send JSON {"features": [[...]]}')
    limit = server.config.max_images
    too_many = UserError(413, f"too many images; the server takes at most {limit} per request")
    try:
        form = await request.form(max_files=limit + 1, max_fields=16)
    except HTTPException as exc:
        if "too many files" in str(exc.detail).lower():
            raise too_many from None
        raise UserError(400, f"unreadable multipart body ({exc.detail})") from None
    uploads = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
    k = _top_k(
        form.get("top_k") if isinstance(form.get("top_k"), str) else None, server.config.top_k
    )
    if not uploads:
        raise UserError(422, "no image files in the form; send one or more files")
    if len(uploads) > limit:
        raise too_many
    blobs = [(await u.read(), u.filename or f"#{i + 1}") for i, u in enumerate(uploads)]
    await form.close()
    pixels = await asyncio.to_thread(lambda: [model.image(data, name) for data, name in blobs])
    return np.stack(pixels), k


async def _described(server: Server, model: Any, name: str, text: Any) -> AddedClass:
    if not isinstance(text, str) or not text.strip():
        raise UserError(422, "description must be a non-empty string")
    if model.text_encoder is None:
        raise UserError(
            422,
            "this model's classes are attribute vectors, not text embeddings: give attributes",
        )
    try:
        encoder = server.text_encoder(model.text_encoder)
    except LookupError as exc:
        raise UserError(409, str(exc)) from None
    vector = await asyncio.to_thread(lambda: list(encoder.encode([text])[0]))
    values = parse_embedding(
        [float(v) for v in vector], model.embedding_dim or 0, "the description's embedding"
    )
    return AddedClass(name, values, "text", text)
