"""Run directories: their layout, their typed record (``run.json``), writing and reading.

Modules: :mod:`.layout` (file names, creating a directory, the clock), :mod:`.record`
(:class:`RunRecord`, the one reader and writer of ``run.json``, schema migration),
:mod:`.dataset` (:class:`DatasetRef`), :mod:`.create` (the record of a new or finished run),
:mod:`.provenance` (versions and plugin sources), :mod:`.state` (safe tensor files),
:mod:`.load` (a run's method, metrics and data). Module-level imports are the toolkit's
errors and these modules only: reading a record imports no torch and no training code.
"""

from __future__ import annotations

from zsl_toolkit.runs.dataset import DatasetRef
from zsl_toolkit.runs.layout import (
    CHECKPOINT,
    LOG,
    LOG_META_KEYS,
    METRICS_FILE,
    MODEL_FILE,
    REFIT_START,
    RUN_FILE,
    STAGE_START,
    default_run_dir,
    folder_stamp,
    make_run_dir,
    utc_now,
)
from zsl_toolkit.runs.load import RunResult, load_run, load_run_data, read_metrics
from zsl_toolkit.runs.record import SCHEMA_VERSION, RunRecord, read_record, write_record
from zsl_toolkit.runs.state import load_state

__all__ = [
    "CHECKPOINT",
    "LOG",
    "LOG_META_KEYS",
    "METRICS_FILE",
    "MODEL_FILE",
    "REFIT_START",
    "RUN_FILE",
    "SCHEMA_VERSION",
    "STAGE_START",
    "DatasetRef",
    "RunRecord",
    "RunResult",
    "default_run_dir",
    "folder_stamp",
    "load_run",
    "load_run_data",
    "load_state",
    "make_run_dir",
    "read_metrics",
    "read_record",
    "utc_now",
    "write_record",
]
