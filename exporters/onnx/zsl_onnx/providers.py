"""Opening onnxruntime sessions on the requested execution provider.

"Usable" means the session actually runs on the provider: onnxruntime-gpu lists
CUDAExecutionProvider even on machines without a GPU or CUDA libraries and then quietly
falls back to CPU, so the providers a session reports are the only trustworthy answer. What
decides whether CUDA is tried and why it failed lives in :mod:`zsl_onnx.cuda`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zsl_toolkit.errors import ConfigError, DeviceError

PROVIDERS = ("auto", "cuda", "cpu")
CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
_ORT_DEFAULT_LOG_SEVERITY = 2  # onnxruntime's documented default (warning)

Notice = Callable[[str], None]


def stderr_notice(message: str) -> None:
    print(message, file=sys.stderr)


def check_provider(provider: str) -> str:
    if provider not in PROVIDERS:
        raise ConfigError(f"unknown provider '{provider}'; choose one of {', '.join(PROVIDERS)}")
    return provider


def session_options(threads: int | None = None) -> Any:
    """Full graph optimisation; ``threads`` intra-op threads (onnxruntime's choice if None)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: no per-session warnings on stderr
    if threads:
        options.intra_op_num_threads = threads
    return options


def open_session(
    path: Path,
    provider: str = "auto",
    *,
    threads: int | None = None,
    notice: Notice | None = stderr_notice,
    on_load_error: Callable[[Exception], Exception] | None = None,
) -> Any:
    """An ``InferenceSession`` for ``path`` on ``provider`` (auto, cuda or cpu).

    ``auto`` tries CUDA only when an NVIDIA GPU is visible (:func:`zsl_onnx.cuda.gpu_visible`):
    a CPU-only machine gets a CPU session silently; with a GPU it uses CUDA when the session
    really gets it, else the CPU after one ``notice`` line saying why. ``cuda`` raises
    :class:`DeviceError` with the reason (no device, a library missing, driver too old)
    instead of falling back. ``on_load_error`` maps a failure to load the model to the
    caller's error.
    """
    import onnxruntime as ort

    from zsl_onnx import cuda

    check_provider(provider)
    options = session_options(threads)

    def make(providers: list[str]) -> Any:
        try:
            return ort.InferenceSession(str(path), options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types per failure
            if on_load_error is None:
                raise
            raise on_load_error(exc) from None

    if provider == "cpu" or (provider == "auto" and not cuda.gpu_visible()):
        return make([CPU])
    if CUDA not in ort.get_available_providers():
        reason = f"this onnxruntime build ({_build()}) has no {CUDA}"
        session = make([CPU])
    else:
        cuda.preload_libraries()
        with _quiet_ort_logger():  # provider-load failures are reported by us, once
            session = make([CUDA, CPU])
        if session.get_providers()[0] == CUDA:
            return session
        reason = cuda.diagnose()
    if provider == "cuda":
        raise DeviceError(f"--provider cuda: {CUDA} cannot start: {reason}; use --provider cpu")
    if notice is not None:
        notice(f"notice: a GPU is visible but CUDA is not usable ({reason}); running on {CPU}")
    return session


def _build() -> str:
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("onnxruntime-gpu", "onnxruntime"):
        with contextlib.suppress(PackageNotFoundError):
            return f"{dist} {version(dist)}"
    return "onnxruntime"


@contextlib.contextmanager
def _quiet_ort_logger():
    import onnxruntime as ort

    ort.set_default_logger_severity(4)
    try:
        yield
    finally:
        ort.set_default_logger_severity(_ORT_DEFAULT_LOG_SEVERITY)
