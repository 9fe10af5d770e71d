"""The files of a run directory, creating one, and the one clock every record uses.

A run directory holds ``run.json`` (the :class:`~zsl_toolkit.runs.record.RunRecord`),
``model.pt`` (tensors only), ``metrics.json``, ``log.jsonl``, while training ``checkpoint.pt``
and ``stage_start.pt``, and for a method that can edit its class set by refitting a stage,
``refit_start.pt`` (that stage's starting random state and class-indexed tensors).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from zsl_toolkit.errors import ConfigError

RUN_FILE = "run.json"
MODEL_FILE = "model.pt"
METRICS_FILE = "metrics.json"
CHECKPOINT = "checkpoint.pt"
STAGE_START = "stage_start.pt"
REFIT_START = "refit_start.pt"

#: The per-epoch training log (JSON lines), and the keys of its records that are not loss
#: terms: shared by the trainer that writes it and the plots that read it.
LOG = "log.jsonl"
LOG_META_KEYS = ("stage", "stage_index", "epoch", "seconds")


def utc_now() -> str:
    """The time recorded in run and sweep files: UTC, ISO 8601, to the second."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def folder_stamp() -> str:
    """Local time as it appears in generated folder names (``20261206-215200``)."""
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def default_run_dir(method: str, dataset: str, seed: int) -> Path:
    """``runs/<method>-<dataset>-s<seed>-<timestamp>``, when no ``--out`` is given."""
    slug = Path(dataset).name.replace(".h5", "") or "data"
    return Path("runs") / f"{method}-{slug}-s{seed}-{folder_stamp()}"


def make_run_dir(path: Path) -> Path:
    """Create an empty run directory; refuse a non-empty one (never mix two runs' files)."""
    if path.exists() and any(path.iterdir()):
        raise ConfigError(
            f"output directory {path} already exists and is not empty; choose another --out"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create output directory {path}: {exc.strerror}") from None
    return path
