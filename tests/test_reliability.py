"""Atomic writes and failure paths at the CLI: each ends in one line and leaves no partial file."""

from __future__ import annotations

import errno
import json
import os
import signal

import pytest
import torch
from click.testing import CliRunner

from zsl_toolkit.cli import cli
from zsl_toolkit.io import atomic_write


def run(*args):
    return CliRunner().invoke(cli, list(args))


def one_error_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_atomic_write_failure_keeps_old_file_and_no_temp(tmp_path):
    target = tmp_path / "f.json"
    target.write_text("old")

    def half_then_fail(fh):
        fh.write(b"new but inc")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        atomic_write(target, half_then_fail)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.json"]


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_interrupt_during_a_write_arrives_after_the_file_is_complete(tmp_path, sig):
    """A signal mid-write used to raise inside torch.save, whose zip writer then failed with
    an unrelated error that hid the interrupt (an interrupted run exited as failed)."""
    target = tmp_path / "ckpt.pt"
    state = {"w": torch.arange(1000.0)}
    previous = signal.signal(sig, _raise_interrupt)
    try:

        def interrupted_save(fh):
            fh.write(b"")
            os.kill(os.getpid(), sig)
            torch.save(state, fh)

        with pytest.raises(KeyboardInterrupt):
            atomic_write(target, interrupted_save)
        assert signal.getsignal(sig) is _raise_interrupt
    finally:
        signal.signal(sig, previous)
    assert torch.equal(torch.load(target)["w"], state["w"])
    assert os.listdir(tmp_path) == ["ckpt.pt"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_an_ignored_signal_stays_ignored_across_a_write(tmp_path):
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        atomic_write(tmp_path / "a", lambda fh: (os.kill(os.getpid(), signal.SIGTERM), None)[1])
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert (tmp_path / "a").exists()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("umask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_get_the_mode_of_a_normally_created_file(
    tmp_path, monkeypatch, umask, expected
):
    """Temporary files are private; renamed into place they must not stay so (shared folders)."""
    import zsl_toolkit.io as zio
    from zsl_toolkit.data.hdf5 import save_h5
    from zsl_toolkit.data.synthetic import Toy

    monkeypatch.setattr(zio, "_UMASK", None)
    old = os.umask(umask)
    try:
        atomic_write(tmp_path / "a.json", lambda fh: fh.write(b"{}"))
        save_h5(Toy().load(), tmp_path / "d.h5")
    finally:
        os.umask(old)
    for name in ("a.json", "d.h5"):
        assert (tmp_path / name).stat().st_mode & 0o777 == expected, name


def test_disk_full_while_saving_model(tmp_path, monkeypatch):
    """A write that fails midway: one line, non-zero, no truncated model file left."""
    real_save = torch.save

    def failing_save(obj, fh, *a, **kw):
        if isinstance(obj, dict) and "model.V" in obj:  # the final model, not checkpoints
            fh.write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, fh, *a, **kw)

    monkeypatch.setattr(torch, "save", failing_save)
    out = tmp_path / "run"
    line = one_error_line(run("train", "-m", "eszsl", "-d", "toy", "-q", "-o", str(out)))
    assert "No space left on device" in line
    assert not (out / "model.pt").exists() and not (out / "metrics.json").exists()
    assert not [p for p in os.listdir(out) if p.endswith(".tmp")]
    assert json.loads((out / "run.json").read_text())["status"] == "running"
    assert "did not complete" in one_error_line(run("evaluate", str(out)))


def test_read_only_output_folder(tmp_path, monkeypatch):
    parent = tmp_path / "ro"
    parent.mkdir()
    if os.geteuid() == 0:  # root ignores permission bits: make the folder refuse writes
        real_mkdir = type(parent).mkdir

        def refuse(self, *a, **kw):
            if parent in self.parents:
                raise PermissionError(errno.EACCES, "Permission denied", str(self))
            return real_mkdir(self, *a, **kw)

        monkeypatch.setattr(type(parent), "mkdir", refuse)
    else:
        parent.chmod(0o500)
    line = one_error_line(run("train", "-m", "eszsl", "-d", "toy", "-q", "-o", str(parent / "run")))
    assert "cannot create output directory" in line and "Permission denied" in line
    assert not (parent / "run").exists()


def test_pickled_model_file_is_refused(tmp_path):
    out = tmp_path / "run"
    assert run("train", "-m", "eszsl", "-d", "toy", "-q", "-o", str(out)).exit_code == 0

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    torch.save({"model.V": Evil()}, out / "model.pt")
    line = one_error_line(run("evaluate", str(out)))
    assert "model.pt" in line and "refused to load" in line
    assert not (tmp_path / "pwned").exists()
