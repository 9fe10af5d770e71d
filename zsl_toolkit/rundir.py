"""The run directory: its file names, its record (``run.json``) and reading a run back.

One place that knows the layout ``zsl train`` writes, so training, the sweep worker, ``zsl
evaluate``, plots and exporters agree on it. Module-level imports are the toolkit's errors
and file helpers only: an exporter or a plot reads runs without importing the training code;
torch, the registries and the data readers load inside the functions that need them.

A run directory holds ``run.json`` (method parameters as given and as resolved, dataset,
train settings, versions, status), ``model.pt`` (tensors only), ``metrics.json``,
``log.jsonl``, while training ``checkpoint.pt`` and ``stage_start.pt``, and for a method
that can edit its class set by refitting a stage, ``refit_start.pt`` (that stage's starting
random state and class-indexed tensors). A run made by a class edit records ``parent``,
``edits`` (each edit made, in order) and ``class_edit`` (the cumulative change to the
dataset's class set: ``removed`` names, ``added`` classes with their embeddings); a calibrated
run records ``calibration`` (``gamma`` and how it was chosen).
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsl_toolkit.errors import ConfigError, RunDirError, ZSLError, one_line

if TYPE_CHECKING:
    from zsl_toolkit.data.container import ZSLData
    from zsl_toolkit.methods.base import Method
    from zsl_toolkit.training.config import TrainConfig

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


@dataclass
class RunResult:
    """A trained (or reloaded) method with its run's record and metrics."""

    method: Method
    run_dir: Path | None
    config: dict[str, Any]
    metrics: dict[str, Any]


def versions() -> dict[str, str]:
    """Versions recorded in ``run.json``: what produced the run."""
    from importlib.metadata import version

    import h5py
    import numpy as np
    import torch

    from zsl_toolkit import __version__

    return {
        "zsl-toolkit": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "h5py": h5py.__version__,
        "click": version("click"),
    }


def plugin_sources(method: str, dataset: str, evaluators: Sequence[str]) -> dict[str, Any]:
    """Which distribution, at which version, provided the run's method, dataset and each
    evaluator (``None`` for a dataset given as a path): ``versions`` names only the toolkit
    and its frameworks, while a plugin's own release decides what a run computed."""
    from zsl_toolkit.registry import dataset_registry, evaluator_registry, method_registry

    def source(registry: Any, name: str) -> dict[str, str] | None:
        if name not in registry.names():
            return None
        info = registry.info(name)
        return {"name": name, "distribution": info.distribution, "version": info.version}

    evaluator_reg = evaluator_registry()
    return {
        "method": source(method_registry(), method),
        "dataset": source(dataset_registry(), dataset),
        "evaluators": [source(evaluator_reg, name) for name in evaluators],
    }


def default_run_dir(method: str, dataset: str, seed: int) -> Path:
    """``runs/<method>-<dataset>-s<seed>-<timestamp>``, when no ``--out`` is given."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    slug = Path(dataset).name.replace(".h5", "") or "data"
    return Path("runs") / f"{method}-{slug}-s{seed}-{stamp}"


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


def new_record(
    method: str,
    params: dict[str, Any],
    dataset: str,
    root: str | Path | None,
    protocol: str,
    data: ZSLData,
    config: TrainConfig,
    evaluators: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``run.json`` of a run that starts now (status ``running``); ``data`` is under
    ``protocol`` already; ``plugins`` says which distributions provided the method, dataset
    and ``evaluators``."""
    from zsl_toolkit.data.resolve import data_root

    resolved_root = data_root(root)
    return {
        "status": "running",
        "method": method,
        "params": params,
        "dataset": dataset,
        "dataset_path": _dataset_path(dataset),
        "data_root": str(resolved_root.resolve()) if resolved_root else None,
        "protocol": protocol,
        "evaluators": list(evaluators),
        "data_summary": data.summary(),
        "train": config.to_dict(),
        "versions": versions(),
        "plugins": plugin_sources(method, dataset, evaluators),
        "started": _now(),
    }


def complete_record(
    record: dict[str, Any], resolved_params: dict[str, Any], spec: dict[str, Any], device: str
) -> dict[str, Any]:
    """``record`` marked complete, with what the finished run resolved."""
    record.update(
        status="complete",
        resolved_params={
            k: (v.item() if hasattr(v, "item") else v) for k, v in resolved_params.items()
        },
        spec=spec,
        device=device,
        finished=_now(),
    )
    return record


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _dataset_path(dataset: str) -> str | None:
    p = Path(dataset).expanduser()
    return str(p.resolve()) if p.exists() else None


def read_record(run_dir: str | Path) -> dict[str, Any]:
    """``run.json`` of ``run_dir``; a one-line error when it is not a run directory."""
    run_dir = Path(run_dir)
    run_file = run_dir / RUN_FILE
    if not run_dir.is_dir() or not run_file.is_file():
        raise RunDirError(
            f"{run_dir} is not a run directory (no {RUN_FILE}); pass the folder `zsl train` wrote"
        )
    try:
        record = json.loads(run_file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise RunDirError(f"{run_file}: unreadable run record ({exc})") from None
    if not isinstance(record, dict):
        raise RunDirError(f"{run_file}: run record is not a JSON object")
    return record


def run_dataset(record: dict[str, Any]) -> str:
    """The dataset a run trained on: its absolute path when it was a path, else its name."""
    dataset = record.get("dataset_path") or record.get("dataset")
    if not dataset:
        raise RunDirError(f"{RUN_FILE}: incomplete run record (no dataset)")
    return dataset


def load_run_data(record: dict[str, Any], root: str | Path | None = None) -> ZSLData:
    """The data a run trained on, under the run's protocol (runs from before protocols used
    ``test``), from the recorded data root unless ``root`` overrides it (the data moved), with
    the run's class edit applied (:func:`zsl_toolkit.data.classset.edit_class_set`)."""
    from zsl_toolkit.data.classset import edit_class_set
    from zsl_toolkit.data.protocol import apply_protocol, check_protocol
    from zsl_toolkit.data.resolve import load_dataset

    protocol = check_protocol(record.get("protocol", "test"), f"{RUN_FILE} protocol")
    data = load_dataset(
        run_dataset(record),
        root if root is not None else record.get("data_root"),
        options=record.get("dataset_options") or None,
    )
    data = apply_protocol(data, protocol)
    edit = record.get("class_edit") or {}
    try:
        added = [(str(c["name"]), c["embedding"]) for c in edit.get("added", [])]
        removed = [str(n) for n in edit.get("removed", [])]
    except (KeyError, TypeError):
        raise RunDirError(f"{RUN_FILE}: malformed class_edit record") from None
    return edit_class_set(data, removed, added)


def run_evaluators(record: dict[str, Any]) -> tuple[str, ...]:
    """The evaluators a run was trained with (the built-in defaults for runs recorded before
    ``run.json`` named them)."""
    from zsl_toolkit.evaluation.base import DEFAULT_EVALUATORS

    names = record.get("evaluators")
    if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
        return tuple(names)
    return DEFAULT_EVALUATORS


def run_train_config(record: dict[str, Any], quiet: bool = False) -> TrainConfig:
    """The train settings a run was started with (for resuming it exactly)."""
    from zsl_toolkit.training.config import TrainConfig

    return TrainConfig(**{**record["train"], "quiet": quiet})


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
    from zsl_toolkit.methods.base import ModelSpec
    from zsl_toolkit.registry import method_registry
    from zsl_toolkit.training.trainer import load_state

    run_dir = Path(run_dir)
    record = read_record(run_dir)
    if record.get("status") != "complete" or not (run_dir / MODEL_FILE).is_file():
        raise RunDirError(
            f"{run_dir}: training did not complete (status {record.get('status')!r}); nothing to load"
        )
    method = method_registry().load(record["method"]).create(record["params"])
    method.setup(ModelSpec.from_dict(record["spec"]), epochs=record.get("train", {}).get("epochs"))
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
    calibration = record.get("calibration")
    if calibration is not None:
        method.calibration_gamma_ = float(calibration["gamma"])
    return RunResult(method, run_dir, record, read_metrics(run_dir))
