"""The CUDA path of prediction, checked on whatever machine runs the suite: when a GPU is
tried, what is said when CUDA cannot start, that the pip CUDA libraries are found, and the
I/O-binding code path (run on CPU buffers here; on CUDA ones by benchmarks/gpu_check.sh)."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pytest
from onnx_testkit import zsl
from zsl_onnx import OnnxPredictor, cuda

from zsl_toolkit.errors import DeviceError


def _cuda_error(model) -> str | None:
    """The DeviceError message of --provider cuda here, None when CUDA starts."""
    try:
        OnnxPredictor(model, "cuda", notice=None)
    except DeviceError as exc:
        return str(exc)
    return None


def _pip_cuda_libraries() -> bool:
    try:
        version("nvidia-cublas")
        version("nvidia-cudnn-cu13")
    except PackageNotFoundError:
        return False
    return True


needs_pip_cuda = pytest.mark.skipif(
    not _pip_cuda_libraries(),
    reason="the CUDA wheels of zsl-onnx[gpu] are not installed (only on Linux x86_64)",
)


@pytest.fixture
def features(tmp_path, toy):
    path = tmp_path / "f.npy"
    np.save(path, toy.features[:40])
    return path


# ---------------------------------------------------------------------- --provider auto
def test_auto_on_a_machine_without_gpu_is_silent_and_never_tries_cuda(
    monkeypatch, eszsl_model, features
):
    monkeypatch.setattr(cuda, "gpu_visible", lambda: False)

    def must_not_run() -> list[str]:
        raise AssertionError("CUDA libraries preloaded on a machine without a GPU")

    monkeypatch.setattr(cuda, "preload_libraries", must_not_run)
    result = zsl("predict", eszsl_model, features, "--provider", "auto")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "on CPUExecutionProvider" in result.stdout


def test_auto_with_a_visible_gpu_that_cannot_run_says_why_once(monkeypatch, eszsl_model, features):
    reason = _cuda_error(eszsl_model)
    if reason is None:
        pytest.skip("CUDA is usable here: auto does not fall back")
    monkeypatch.setattr(cuda, "gpu_visible", lambda: True)
    result = zsl("predict", eszsl_model, features, "--provider", "auto")
    assert result.exit_code == 0, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("notice: a GPU is visible but CUDA is not usable (")
    assert reason.split("cannot start: ")[1].split("; use")[0] in lines[0]
    assert "on CPUExecutionProvider" in result.stdout


# ---------------------------------------------------------------------- CUDA libraries
@needs_pip_cuda
def test_without_gpu_cuda_fails_for_want_of_a_device_not_of_a_library(eszsl_model):
    if cuda.gpu_visible():
        pytest.skip("a GPU is visible here: the no-device case cannot be observed")
    message = _cuda_error(eszsl_model)
    assert message is not None
    assert "no CUDA device" in message, message
    assert ".so" not in message and "library missing" not in message, message


@needs_pip_cuda
def test_the_preload_is_what_finds_the_libraries(eszsl_model):
    """In a fresh process with the preload switched off, the same request names the missing
    library: so the previous test passes because of the preload, not by accident."""
    code = (
        "import sys\n"
        "from zsl_onnx import OnnxPredictor, cuda\n"
        "from zsl_toolkit.errors import DeviceError\n"
        "cuda.preload_libraries = lambda: []\n"
        "try:\n"
        f"    OnnxPredictor({str(eszsl_model)!r}, 'cuda', notice=None)\n"
        "except DeviceError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    if not out.strip():
        pytest.skip("the libraries are found without the preload here (system CUDA)")
    assert "library missing: lib" in out and ".so" in out, out


# ---------------------------------------------------------------------- GPU visibility
@pytest.fixture
def linux_probe(monkeypatch, tmp_path):
    proc, dev = tmp_path / "gpus", tmp_path / "dev"
    dev.mkdir()
    monkeypatch.setattr(cuda, "PROC_GPUS", proc)
    monkeypatch.setattr(cuda, "DEV", dev)
    monkeypatch.setattr(platform, "system", lambda: "Linux")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return proc, dev


def test_gpu_visible_from_the_drivers_gpu_list(linux_probe):
    proc, _ = linux_probe
    assert not cuda.gpu_visible()
    proc.mkdir()
    assert not cuda.gpu_visible()  # the driver is loaded but manages no GPU
    (proc / "0000:17:00.0").mkdir()
    assert cuda.gpu_visible()


def test_gpu_visible_from_device_nodes(linux_probe):
    _, dev = linux_probe
    (dev / "nvidiactl").touch()
    (dev / "nvidia-uvm").touch()
    assert not cuda.gpu_visible()  # control nodes exist without any GPU
    (dev / "nvidia0").touch()
    assert cuda.gpu_visible()


@pytest.mark.parametrize(
    ("value", "visible"), [("", False), ("-1", False), (" ", False), ("0", True), ("1,0", True)]
)
def test_cuda_visible_devices_can_hide_the_gpu(linux_probe, monkeypatch, value, visible):
    _, dev = linux_probe
    (dev / "nvidia0").touch()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", value)
    assert cuda.gpu_visible() is visible


def test_gpu_visible_elsewhere_is_nvidia_smi_on_path(monkeypatch, tmp_path):
    monkeypatch.setattr(platform, "system", lambda: "Windows")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not cuda.gpu_visible()
    smi = tmp_path / "nvidia-smi"
    smi.write_text("")
    smi.chmod(0o755)
    assert cuda.gpu_visible()


# ---------------------------------------------------------------------- reasons
@pytest.mark.parametrize(
    ("library_error", "driver", "fragments"),
    [
        (
            "libcublasLt.so.13: cannot open shared object file: No such file or directory",
            cuda.Driver(loaded=True, cuda_version=13000),
            ["library missing: libcublasLt.so.13", "zsl-onnx[gpu]"],
        ),
        (
            "libcuda.so.1: cannot open shared object file: No such file or directory",
            cuda.Driver(loaded=False),
            ["no CUDA device: no NVIDIA driver"],
        ),
        (None, cuda.Driver(loaded=False), ["no CUDA device: no NVIDIA driver"]),
        (None, cuda.Driver(loaded=True, init_code=100), ["no CUDA device: the NVIDIA driver"]),
        (
            None,
            cuda.Driver(loaded=True, cuda_version=12040),
            ["driver too old: it supports CUDA 12.4", "needs CUDA 13.0"],
        ),
        (None, cuda.Driver(loaded=True, init_code=999, cuda_version=13000), ["cuInit error 999"]),
        (None, cuda.Driver(loaded=True, cuda_version=13020), ["driver and libraries load"]),
    ],
)
def test_explain_names_the_reason(library_error, driver, fragments):
    text = cuda.explain(library_error, driver, "13.0")
    for fragment in fragments:
        assert fragment in text, (fragment, text)


def test_cuda_error_reports_the_diagnosis(monkeypatch, eszsl_model):
    if _cuda_error(eszsl_model) is None:
        pytest.skip("CUDA is usable here")
    monkeypatch.setattr(cuda, "diagnose", lambda: "NVIDIA driver too old: it supports CUDA 12.4")
    message = _cuda_error(eszsl_model)
    assert message == (
        "--provider cuda: CUDAExecutionProvider cannot start: NVIDIA driver too old: it "
        "supports CUDA 12.4; use --provider cpu"
    )


# ---------------------------------------------------------------------- I/O binding
def test_io_binding_path_matches_plain_runs_and_reuses_its_buffers(eszsl_model, toy):
    x = toy.features[:50]
    plain = OnnxPredictor(eszsl_model, "cpu")
    bound = OnnxPredictor(eszsl_model, "cpu", io_binding=True)
    assert plain._binding is None and bound._binding is not None
    session = bound.session
    for batch in (1, 7, 50, 64):
        want, got = plain.predict(x, batch), bound.predict(x, batch)
        assert np.array_equal(want[0], got[0]) and np.array_equal(want[1], got[1]), batch
    buffers = bound._binding.buffers[50]
    bound.predict(x[:50], 64)
    assert bound._binding.buffers[50] is buffers  # same device buffers, not reallocated
    assert len(bound._binding.buffers) <= 2 and bound.session is session


def test_one_onnxruntime_distribution_is_installed():
    """onnxruntime and onnxruntime-gpu install the same package; both present means one
    silently overwrote the other's files."""
    installed = []
    for dist in ("onnxruntime", "onnxruntime-gpu"):
        try:
            installed.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            pass
    assert len(installed) == 1, installed
