"""Typed errors.

Every error a user can cause derives from :class:`ZSLError`; the CLI prints its message on
one line and exits non-zero, so the message itself must name the file or field at fault and
what was expected. Anything else reaching the CLI is a bug and keeps its traceback.
"""

from __future__ import annotations


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (HDF5, zlib and torch messages span several)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


class ZSLError(Exception):
    """Base class of user-facing errors (bad input, missing plugin, bad configuration)."""

    exit_code: int = 2


class PluginNotFound(ZSLError):
    """No installed plugin has the requested name."""


class PluginLoadError(ZSLError):
    """A plugin is declared but cannot be imported or is of the wrong type."""


class PluginConflict(ZSLError):
    """Two distributions register the same name in one group."""


class DataError(ZSLError):
    """A dataset file or array is missing, malformed or inconsistent."""


class ConfigError(ZSLError):
    """A parameter, configuration file or option value is invalid."""


class RunDirError(ZSLError):
    """A path given as a run directory is not a complete run directory."""


class DeviceError(ZSLError):
    """The requested compute device is not available."""


class ExportError(ZSLError):
    """An export failed its checks; no file was left behind."""


class TrainingInterrupted(ZSLError):
    """Training was stopped (Ctrl-C or SIGTERM); a checkpoint allows ``zsl train --resume``."""

    exit_code = 130


class UnsafeFileError(ZSLError):
    """A model or checkpoint file holds pickled objects other than tensors; it is not loaded."""


class MissingDependency(ZSLError):
    """An optional dependency needed by the requested feature is not installed."""


class TrialsFailed(ZSLError):
    """Some trials of a sweep failed; the others completed and were recorded."""

    exit_code = 1
