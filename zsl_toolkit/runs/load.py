"""Reading a run back: its trained method, its metrics and the data it trained on.

The one reader that ``zsl evaluate``, ``zsl export``, class edits, calibration, plots and the
Python API share. Methods are rebuilt through the method registry (by the recorded name), so
this module imports no method or training code; torch loads only with the weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsl_toolkit.errors import RunDirError, ZSLError, one_line
from zsl_toolkit.runs.layout import METRICS_FILE, MODEL_FILE, RUN_FILE
from zsl_toolkit.runs.record import RunRecord, read_record
from zsl_toolkit.runs.state import load_state

if TYPE_CHECKING:
    from zsl_toolkit.data.container import ZSLData
    from zsl_toolkit.methods.base import Method


@dataclass
class RunResult:
    """A trained (or reloaded) method with its run's record and metrics."""

    method: Method
    run_dir: Path | None
    record: RunRecord
    metrics: dict[str, Any]

    @property
    def config(self) -> dict[str, Any]:
        """The record as the JSON object of ``run.json`` (a copy)."""
        return self.record.to_dict()


def load_run_data(record: RunRecord, root: str | Path | None = None) -> ZSLData:
    """The data a run trained on, under the run's protocol, from the recorded data root unless
    ``root`` overrides it (the data moved), with the run's class edit applied
    (:func:`zsl_toolkit.data.classset.edit_class_set`)."""
    from zsl_toolkit.data.classset import edit_class_set
    from zsl_toolkit.data.protocol import apply_protocol
    from zsl_toolkit.data.resolve import load_dataset

    data = load_dataset(
        record.dataset.spec,
        root if root is not None else record.data_root,
        options=dict(record.dataset_options) or None,
    )
    data = apply_protocol(data, record.protocol)
    edit = record.class_edit or {}
    try:
        added = [(str(c["name"]), c["embedding"]) for c in edit.get("added", [])]
        removed = [str(n) for n in edit.get("removed", [])]
    except (KeyError, TypeError, AttributeError):
        raise RunDirError(f"{RUN_FILE}: malformed class_edit record") from None
    return edit_class_set(data, removed, added)


def read_metrics(run_dir: Path) -> dict[str, Any]:
    """``metrics.json`` of ``run_dir``, or ``{}`` when there is none."""
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise RunDirError(f"{path}: unreadable metrics ({exc})") from None


def load_run(run_dir: str | Path, device: str = "cpu") -> RunResult:
    """Rebuild a completed run's method from its directory, without training data."""
    from zsl_toolkit.device import resolve_device
    from zsl_toolkit.methods.registry import method_registry

    run_dir = Path(run_dir)
    record = read_record(run_dir)
    if not record.complete or not (run_dir / MODEL_FILE).is_file() or record.spec is None:
        raise RunDirError(
            f"{run_dir}: training did not complete (status {record.status!r}); nothing to load"
        )
    method = (
        method_registry()
        .load(record.method)
        .restore(dict(record.params), dict(record.spec), epochs=record.epochs)
    )
    try:
        state = load_state(run_dir / MODEL_FILE)
        method.modules().load_state_dict(state)
    except ZSLError:
        raise
    except Exception as exc:  # weights of another model: a user problem, not a crash
        raise RunDirError(
            f"{run_dir / MODEL_FILE}: cannot load model weights ({one_line(exc)[:200]})"
        ) from None
    method.to(resolve_device(device))
    if record.calibration is not None:
        method.calibration_gamma_ = float(record.calibration["gamma"])
    return RunResult(method, run_dir, record, read_metrics(run_dir))
