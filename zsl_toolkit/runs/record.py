"""``run.json`` as one typed, frozen, versioned record, with its one reader and one writer.

Every producer of a run directory (training, class edits, calibration, and through training
the sweep worker) builds a :class:`RunRecord` and saves it with :func:`write_record`; every
consumer reads it with :func:`read_record`, which migrates records of older schema versions,
so a default for a missing key is decided here once. Top-level keys this version does not
know are kept in :attr:`RunRecord.extra` and written back unchanged: a feature may add its
own key without a schema change, and an older toolkit rewriting the record keeps it.

Schema versions: 0, records without ``schema_version`` (before it existed: ``protocol``,
``evaluators`` may be missing, ``dataset_path`` may name a folder spelled like a registered
dataset); 1, this layout.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from zsl_toolkit.errors import RunDirError
from zsl_toolkit.evaluation.base import DEFAULT_EVALUATORS
from zsl_toolkit.runs.dataset import DatasetRef
from zsl_toolkit.runs.layout import RUN_FILE

SCHEMA_VERSION = 1

#: The evaluators of a run recorded before ``run.json`` named them: the built-in defaults.
LEGACY_EVALUATORS = DEFAULT_EVALUATORS

_PROTOCOLS = ("test", "val", "inner")


@dataclass(frozen=True)
class RunRecord:
    """What a run directory's ``run.json`` says about the run.

    ``params`` are the method's parameters as given, ``resolved_params`` as the finished run
    resolved them; ``train`` the run-level settings (seed, device, epochs, batch size, ...);
    ``spec`` the trained model's class set and dimensions. A run made by a class edit has
    ``parent``, ``edits`` (each edit, in order) and ``class_edit`` (the cumulative change:
    ``removed`` names, ``added`` classes with embeddings); a calibrated run has ``parent`` and
    ``calibration`` (``gamma`` and how it was chosen). ``extra`` holds top-level keys this
    schema does not define, kept as read.
    """

    method: str
    params: Mapping[str, Any]
    dataset: DatasetRef
    status: str = "running"
    data_root: str | None = None
    protocol: str = "test"
    evaluators: tuple[str, ...] = LEGACY_EVALUATORS
    dataset_options: Mapping[str, Any] = field(default_factory=dict)
    data_summary: Mapping[str, Any] | None = None
    train: Mapping[str, Any] = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=dict)
    plugins: Mapping[str, Any] | None = None
    started: str | None = None
    resolved_params: Mapping[str, Any] | None = None
    spec: Mapping[str, Any] | None = None
    device: str | None = None
    finished: str | None = None
    parent: str | None = None
    edits: tuple[Mapping[str, Any], ...] = ()
    class_edit: Mapping[str, Any] | None = None
    calibration: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    @property
    def seed(self) -> int:
        return int(self.train.get("seed", 0))

    @property
    def epochs(self) -> int | None:
        return self.train.get("epochs")

    def updated(self, **changes: Any) -> RunRecord:
        """A copy with ``changes`` (the record itself is frozen)."""
        return replace(self, **changes)

    def with_extra(self, key: str, value: Any) -> RunRecord:
        """A copy with top-level key ``key`` set to ``value`` (JSON): how a feature records
        what this schema does not define."""
        if key in {f.name for f in fields(self)} | {"dataset_path"}:
            raise ValueError(f"'{key}' is a field of the run record, not an extra key")
        return replace(self, extra={**self.extra, key: copy.deepcopy(value)})

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written to ``run.json`` (optional keys only when set)."""
        out: dict[str, Any] = {
            "schema_version": self.schema_version,
            "status": self.status,
            "method": self.method,
            "params": dict(self.params),
            "dataset": self.dataset.name,
            "dataset_path": self.dataset.path,
            "data_root": self.data_root,
            "protocol": self.protocol,
            "evaluators": list(self.evaluators),
            "data_summary": self.data_summary,
            "train": dict(self.train),
            "versions": dict(self.versions),
            "plugins": self.plugins,
            "started": self.started,
        }
        if self.dataset_options:
            out["dataset_options"] = dict(self.dataset_options)
        for key in ("resolved_params", "spec", "device", "finished", "parent"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.edits:
            out["edits"] = list(self.edits)
        for key in ("class_edit", "calibration"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out.update(self.extra)
        return copy.deepcopy(out)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], where: str = RUN_FILE) -> RunRecord:
        """The record of a ``run.json`` object of any schema version; ``where`` names the file
        in errors."""
        d = migrate(dict(raw), where)
        try:
            method = d.pop("method")
            dataset = DatasetRef.from_record(d.pop("dataset"), d.pop("dataset_path", None))
        except KeyError as exc:
            status = d.get("status")
            unfinished = (
                f"training did not complete (status {status!r}); " if status != "complete" else ""
            )
            raise RunDirError(f"{where}: {unfinished}incomplete run record (no {exc})") from None
        if not isinstance(method, str) or not isinstance(dataset.name, str):
            raise RunDirError(f"{where}: 'method' and 'dataset' must be names (strings)")
        known = {f.name for f in fields(cls)} - {"method", "dataset", "extra"}
        values = {k: d.pop(k) for k in list(d) if k in known}
        for key, kind in (("params", dict), ("train", dict)):
            if not isinstance(values.get(key, {}), kind):
                raise RunDirError(f"{where}: '{key}' must be an object")
        values["evaluators"] = tuple(values.get("evaluators", LEGACY_EVALUATORS))
        values["edits"] = tuple(values.get("edits") or ())
        values["dataset_options"] = values.get("dataset_options") or {}
        values.setdefault("params", {})
        values.setdefault("train", {})
        return cls(method=method, dataset=dataset, extra=copy.deepcopy(d), **values)


def migrate(d: dict[str, Any], where: str = RUN_FILE) -> dict[str, Any]:
    """``d`` brought to :data:`SCHEMA_VERSION` (a newer version is refused: its meaning is
    unknown here)."""
    version = d.pop("schema_version", 0)
    if not isinstance(version, int) or version < 0:
        raise RunDirError(f"{where}: schema_version must be a non-negative integer")
    if version > SCHEMA_VERSION:
        raise RunDirError(
            f"{where}: run record schema {version} is newer than this toolkit reads "
            f"({SCHEMA_VERSION}); upgrade zsl-toolkit"
        )
    if version == 0:
        d.setdefault("protocol", "test")
        names = d.get("evaluators")
        if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
            d["evaluators"] = list(LEGACY_EVALUATORS)
    names = d.get("evaluators")
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise RunDirError(f"{where}: 'evaluators' must be a list of names")
    if d.get("protocol") not in _PROTOCOLS:
        raise RunDirError(
            f"{where}: protocol: expected one of {', '.join(_PROTOCOLS)}, got {d.get('protocol')!r}"
        )
    return d


def read_record(run_dir: str | Path) -> RunRecord:
    """The record of ``run_dir``; a one-line error when it is not a run directory."""
    run_dir = Path(run_dir)
    run_file = run_dir / RUN_FILE
    if not run_dir.is_dir() or not run_file.is_file():
        raise RunDirError(
            f"{run_dir} is not a run directory (no {RUN_FILE}); pass the folder `zsl train` wrote"
        )
    try:
        raw = json.loads(run_file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise RunDirError(f"{run_file}: unreadable run record ({exc})") from None
    if not isinstance(raw, dict):
        raise RunDirError(f"{run_file}: run record is not a JSON object")
    return RunRecord.from_dict(raw, str(run_file))


def write_record(run_dir: Path, record: RunRecord) -> None:
    """Save ``record`` as ``run_dir``'s ``run.json`` (atomically: written, then renamed)."""
    from zsl_toolkit.io import write_json

    write_json(Path(run_dir) / RUN_FILE, record.to_dict())
