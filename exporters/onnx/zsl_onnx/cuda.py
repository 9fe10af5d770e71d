"""Whether onnxruntime's CUDA provider can start here, and if not, why, in one phrase.

Three separate questions, answered without importing torch or running nvidia-smi:

* :func:`gpu_visible`: is an NVIDIA GPU exposed to this process at all (driver files,
  device nodes, ``CUDA_VISIBLE_DEVICES``)? ``--provider auto`` tries CUDA only then, so a
  CPU-only machine pays nothing and prints nothing.
* :func:`preload_libraries`: make the CUDA/cuBLAS/cuDNN libraries of NVIDIA's pip wheels
  (``zsl-onnx[gpu]``) findable by ``onnxruntime.preload_dlls``, which loads them into the
  process so the provider library's dependencies resolve without ``LD_LIBRARY_PATH``.
* :func:`diagnose`: after a session did not get the provider, the reason: a library missing
  (named), no device, or a driver older than the CUDA the onnxruntime build needs. It loads
  the provider library itself (the loader names the first missing dependency) and asks the
  driver API (``cuInit``, ``cuDriverGetVersion``) through ctypes.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import platform
import shutil
from dataclasses import dataclass
from pathlib import Path

#: Where the NVIDIA kernel driver lists the GPUs it manages, and where their device nodes live.
PROC_GPUS = Path("/proc/driver/nvidia/gpus")
DEV = Path("/dev")
DRIVER_LIBRARY = "libcuda.so.1"  # the driver API; part of the driver, never of a wheel
_CUDA_SUCCESS, _CUDA_ERROR_NO_DEVICE = 0, 100


def gpu_visible() -> bool:
    """True when an NVIDIA GPU is exposed to this process.

    ``CUDA_VISIBLE_DEVICES`` set to nothing or to a negative id hides every GPU. Otherwise on
    Linux the driver's ``/proc/driver/nvidia/gpus/*`` entries or ``/dev/nvidia<N>`` nodes
    count; elsewhere ``nvidia-smi`` on PATH (installed with the Windows driver).
    """
    hidden = os.environ.get("CUDA_VISIBLE_DEVICES")
    if hidden is not None and (not hidden.strip() or hidden.strip().startswith("-")):
        return False
    if platform.system() != "Linux":
        return shutil.which("nvidia-smi") is not None
    with contextlib.suppress(OSError):
        if PROC_GPUS.is_dir() and any(PROC_GPUS.iterdir()):
            return True
    with contextlib.suppress(OSError):
        return any(p.name[6:].isdigit() for p in DEV.glob("nvidia[0-9]*"))
    return False


def preload_libraries() -> list[str]:
    """Load the pip-installed CUDA runtime, cuBLAS and cuDNN into the process.

    Returns the libraries onnxruntime reported it could not load (empty when all loaded or
    when this onnxruntime has no ``preload_dlls``, added in 1.21). Its messages are printed
    on stdout; they are captured here so the caller reports one reason instead.
    """
    import onnxruntime as ort

    preload = getattr(ort, "preload_dlls", None)
    if preload is None:
        return []
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
        try:
            preload()
        except Exception as exc:  # a failed preload only means CUDA will not start
            return [f"{type(exc).__name__}: {exc}"]
    failed = [line for line in captured.getvalue().splitlines() if line.startswith("Failed")]
    return [line.split(":", 1)[0].removeprefix("Failed to load ").strip() for line in failed]


@dataclass(frozen=True)
class Driver:
    """What the CUDA driver API says: loadable at all, ``cuInit``'s code, its CUDA version
    (1000 * major + 10 * minor, as ``cuDriverGetVersion`` returns it; 0 when unknown)."""

    loaded: bool
    init_code: int = _CUDA_SUCCESS
    cuda_version: int = 0


def probe_driver() -> Driver:
    try:
        lib = ctypes.CDLL(DRIVER_LIBRARY)
    except OSError:
        return Driver(loaded=False)
    code = int(lib.cuInit(0))
    version = ctypes.c_int(0)
    if lib.cuDriverGetVersion(ctypes.byref(version)) != _CUDA_SUCCESS:
        version.value = 0
    return Driver(loaded=True, init_code=code, cuda_version=version.value)


def provider_library_error() -> str | None:
    """The loader's message when onnxruntime's CUDA provider library cannot be loaded (it
    names the first missing dependency), None when it loads or this build has none."""
    import onnxruntime as ort

    path = Path(ort.__file__).parent / "capi" / "libonnxruntime_providers_cuda.so"
    if not path.is_file():
        return None
    try:
        ctypes.CDLL(str(path))
    except OSError as exc:
        return str(exc)
    return None


def required_cuda() -> str:
    """The CUDA version this onnxruntime build was made with ("" when it does not say)."""
    with contextlib.suppress(ImportError):
        from onnxruntime.capi import build_and_package_info as info

        return str(getattr(info, "cuda_version", "") or "")
    return ""


def diagnose() -> str:
    """Why the CUDA provider did not start, probing this machine (see :func:`explain`)."""
    return explain(provider_library_error(), probe_driver(), required_cuda())


def explain(library_error: str | None, driver: Driver, required: str) -> str:
    """One phrase saying why CUDA is unusable: no device, a missing library (named), a driver
    too old for ``required`` (e.g. "13.0"), or, when none of these shows, that it is unknown.

    ``library_error`` is the loader's message for the provider library. The driver library
    missing means there is no NVIDIA driver, hence no device, whatever else is installed.
    """
    if library_error is not None and DRIVER_LIBRARY not in library_error:
        missing = library_error.split(":", 1)[0].strip()
        return (
            f"library missing: {missing} (install the CUDA libraries with "
            f"pip install 'zsl-onnx[gpu]' -c constraints.txt)"
        )
    if not driver.loaded:
        return "no CUDA device: no NVIDIA driver on this machine"
    if driver.init_code == _CUDA_ERROR_NO_DEVICE:
        return "no CUDA device: the NVIDIA driver reports none (check CUDA_VISIBLE_DEVICES)"
    need = _version_number(required)
    if need and driver.cuda_version and driver.cuda_version < need:
        have = f"{driver.cuda_version // 1000}.{driver.cuda_version % 1000 // 10}"
        return (
            f"NVIDIA driver too old: it supports CUDA {have}, this onnxruntime needs CUDA "
            f"{required}; update the driver"
        )
    if driver.init_code != _CUDA_SUCCESS:
        return f"the NVIDIA driver failed to initialise (cuInit error {driver.init_code})"
    return "the provider did not start although the driver and libraries load (cuDNN?)"


def _version_number(text: str) -> int:
    parts = text.split(".")
    try:
        return 1000 * int(parts[0]) + 10 * (int(parts[1]) if len(parts) > 1 else 0)
    except ValueError:
        return 0
