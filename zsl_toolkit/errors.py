"""Typed errors.

Every error a user can cause derives from :class:`ZSLError`; the CLI prints its message on
one line and exits non-zero, so the message itself must name the file or field at fault and
what was expected. Anything else reaching the CLI is a bug and keeps its traceback.
"""

from __future__ import annotations


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
