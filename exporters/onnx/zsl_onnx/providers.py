"""Opening onnxruntime sessions on the requested execution provider.

"Usable" means the session actually runs on the provider: onnxruntime-gpu lists
CUDAExecutionProvider even on machines without a GPU or CUDA libraries and then quietly
falls back to CPU, so the providers a session reports are the only trustworthy answer.
"""

from __future__ import annotations

import contextlib
import io
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

    ``auto`` uses CUDA when a session really gets it and otherwise runs on CPU after one
    ``notice`` line saying why; ``cuda`` raises :class:`DeviceError` instead of falling back.
    ``on_load_error`` maps a failure to load the model to the caller's error.
    """
    import onnxruntime as ort

    check_provider(provider)
    options = session_options(threads)

    def make(providers: list[str]) -> Any:
        try:
            return ort.InferenceSession(str(path), options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types per failure
            if on_load_error is None:
                raise
            raise on_load_error(exc) from None

    if provider == "cpu":
        return make([CPU])
    reason = ""
    if CUDA not in ort.get_available_providers():
        reason = f"this onnxruntime build ({_build()}) has no {CUDA}"
        session = make([CPU])
    else:
        missing = _preload_cuda_libraries()
        with _quiet_ort_logger():  # provider-load failures are reported by us, once
            session = make([CUDA, CPU])
        if session.get_providers()[0] != CUDA:
            reason = f"{CUDA} could not start ({missing or 'no usable GPU, CUDA or cuDNN'})"
    if not reason:
        return session
    if provider == "cuda":
        raise DeviceError(
            f"--provider cuda: {reason}; install onnxruntime-gpu with CUDA and cuDNN on a "
            f"machine with an NVIDIA GPU, or use --provider cpu"
        )
    if notice is not None:
        notice(f"notice: CUDA is not usable ({reason}); running on {CPU}")
    return session


def _build() -> str:
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("onnxruntime-gpu", "onnxruntime"):
        with contextlib.suppress(PackageNotFoundError):
            return f"{dist} {version(dist)}"
    return "onnxruntime"


def _preload_cuda_libraries() -> str:
    """Load CUDA/cuDNN from pip-installed NVIDIA wheels where onnxruntime offers it.

    Returns the first failure onnxruntime printed ("" when none), so a fallback can say
    which library was missing instead of letting the raw messages through.
    """
    import onnxruntime as ort

    preload = getattr(ort, "preload_dlls", None)
    if preload is None:  # onnxruntime < 1.21
        return ""
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
        try:
            preload()
        except Exception as exc:  # a failed preload only means CUDA will not start
            return f"{type(exc).__name__}: {exc}"
    lines = [line.strip() for line in captured.getvalue().splitlines() if "ailed" in line]
    return lines[0].split(": ", 1)[-1] if lines else ""


@contextlib.contextmanager
def _quiet_ort_logger():
    import onnxruntime as ort

    ort.set_default_logger_severity(4)
    try:
        yield
    finally:
        ort.set_default_logger_severity(_ORT_DEFAULT_LOG_SEVERITY)
