"""Train and evaluate as library calls; the CLI is a thin layer over these.

A run directory holds ``run.json`` (resolved configuration, dataset, versions, status),
``model.pt`` (tensors only; loaded with ``weights_only=True``), ``metrics.json``,
``log.jsonl`` and, while training, ``checkpoint.pt``. It is created only after the data,
method and parameters have been validated, so bad input never leaves a half-made directory.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zsl_toolkit import __version__
from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.data.protocol import apply_protocol, check_protocol
from zsl_toolkit.data.resolve import data_root, load_dataset
from zsl_toolkit.errors import ConfigError, RunDirError, TrainingInterrupted, ZSLError, one_line
from zsl_toolkit.evaluation.base import EvalInput
from zsl_toolkit.io import atomic_write, write_json
from zsl_toolkit.methods.base import Method, ModelSpec
from zsl_toolkit.registry import evaluator_registry, method_registry
from zsl_toolkit.training.config import TrainConfig
from zsl_toolkit.training.trainer import (
    CHECKPOINT,
    STAGE_START,
    Trainer,
    load_state,
    resolve_device,
)

DEFAULT_EVALUATORS = ("gzsl", "zsl", "calibrated")
RUN_FILE = "run.json"
MODEL_FILE = "model.pt"
METRICS_FILE = "metrics.json"


@dataclass
class RunResult:
    """A trained (or reloaded) method with its run's metadata."""

    method: Method
    run_dir: Path | None
    config: dict[str, Any]
    metrics: dict[str, Any]


def versions() -> dict[str, str]:
    from importlib.metadata import version

    import h5py
    import scipy

    return {
        "zsl-toolkit": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "h5py": h5py.__version__,
        "click": version("click"),
    }


def evaluation_input(method: Method, data: ZSLData) -> EvalInput:
    """Scores of the method on both test splits of ``data``."""
    xs, ys = data.split("test_seen")
    xu, yu = data.split("test_unseen")
    return EvalInput(
        scores_seen=method.predict_scores(xs),
        labels_seen=ys,
        scores_unseen=method.predict_scores(xu),
        labels_unseen=yu,
        seen_classes=data.seen_classes,
        unseen_classes=data.unseen_classes,
    )


def evaluate(
    method: Method, data: ZSLData, evaluators: tuple[str, ...] = DEFAULT_EVALUATORS
) -> dict[str, Any]:
    """Run the named evaluators on the method's scores for ``data``'s test splits."""
    registry = evaluator_registry()
    classes = [registry.load(name) for name in evaluators]  # fail before any scoring
    inputs = evaluation_input(method, data)
    return {name: cls().evaluate(inputs) for name, cls in zip(evaluators, classes, strict=True)}


def default_run_dir(method: str, dataset: str, seed: int) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    slug = Path(dataset).name.replace(".h5", "") or "data"
    return Path("runs") / f"{method}-{slug}-s{seed}-{stamp}"


def train(
    method: str,
    dataset: str,
    *,
    params: dict[str, Any] | None = None,
    config: TrainConfig | None = None,
    root: str | Path | None = None,
    out: str | Path | None = None,
    evaluators: tuple[str, ...] = DEFAULT_EVALUATORS,
    data: ZSLData | None = None,
    protocol: str = "test",
) -> RunResult:
    """Train ``method`` on ``dataset``, evaluate, and (if ``out`` is not False) save a run dir.

    ``data`` may be passed to skip loading (the dataset string is still recorded); it is the
    dataset as loaded, before ``protocol`` (``test``, or ``val``: see
    :mod:`zsl_toolkit.data.protocol`) is applied.
    """
    check_protocol(protocol, "protocol")
    config = config or TrainConfig()
    method_cls = method_registry().load(method)
    instance = method_cls.create(dict(params or {}))
    for name in evaluators:
        evaluator_registry().load(name)
    resolve_device(config.device)
    if data is None:
        data = load_dataset(dataset, root)
    data = apply_protocol(data, protocol)
    run_dir = _make_run_dir(Path(out) if out else default_run_dir(method, dataset, config.seed))
    record: dict[str, Any] = {
        "status": "running",
        "method": method,
        "params": instance.get_params(),
        "dataset": dataset,
        "dataset_path": _dataset_path(dataset),
        "data_root": str(data_root(root).resolve()) if data_root(root) else None,
        "protocol": protocol,
        "data_summary": data.summary(),
        "train": config.to_dict(),
        "versions": versions(),
        "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    write_json(run_dir / RUN_FILE, record)
    return _run(instance, data, config, run_dir, record, evaluators, resume=False)


def resume(
    run_dir: str | Path,
    *,
    root: str | Path | None = None,
    quiet: bool = False,
    evaluators: tuple[str, ...] = DEFAULT_EVALUATORS,
) -> RunResult:
    """Continue an interrupted ``train`` from its last checkpoint; final metrics equal those
    of an uninterrupted run with the same seed (on CPU)."""
    run_dir = Path(run_dir)
    record = _read_record(run_dir)
    if record.get("status") == "complete":
        raise RunDirError(f"{run_dir}: training already completed; nothing to resume")
    try:
        instance = method_registry().load(record["method"]).create(record["params"])
        config = TrainConfig(**{**record["train"], "quiet": quiet})
        dataset = record.get("dataset_path") or record["dataset"]
    except (KeyError, TypeError) as exc:
        raise RunDirError(f"{run_dir / RUN_FILE}: incomplete run record ({exc})") from None
    data = _run_data(record, dataset, root)
    return _run(instance, data, config, run_dir, record, evaluators, resume=True)


def _run(
    instance: Method,
    data: ZSLData,
    config: TrainConfig,
    run_dir: Path,
    record: dict[str, Any],
    evaluators: tuple[str, ...],
    resume: bool,
) -> RunResult:
    start = time.perf_counter()
    trainer = Trainer(config, run_dir)
    try:
        trainer.fit(instance, data, resume=resume)
    except KeyboardInterrupt:
        stage, epoch = trainer.position
        where = f"stage {stage}, epoch {epoch}" if epoch else "no completed epoch yet"
        raise TrainingInterrupted(
            f"interrupted; checkpoint ({where}) is in {run_dir}; "
            f"continue with: zsl train --resume {run_dir}"
        ) from None
    train_seconds = time.perf_counter() - start
    state = {k: v.detach().cpu() for k, v in instance.modules().state_dict().items()}
    atomic_write(run_dir / MODEL_FILE, lambda fh: torch.save(state, fh))
    metrics = evaluate(instance, data, evaluators)
    metrics["train_seconds"] = round(train_seconds, 3)
    write_json(run_dir / METRICS_FILE, metrics)
    record.update(
        status="complete",
        resolved_params=_jsonable(instance.effective_params()),
        spec=instance.spec_.to_dict(),
        device=str(resolve_device(config.device)),
        finished=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )
    write_json(run_dir / RUN_FILE, record)
    for name in (CHECKPOINT, STAGE_START):
        (run_dir / name).unlink(missing_ok=True)
    return RunResult(instance, run_dir, record, metrics)


def _dataset_path(dataset: str) -> str | None:
    p = Path(dataset).expanduser()
    return str(p.resolve()) if p.exists() else None


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in d.items()}


def _make_run_dir(path: Path) -> Path:
    if path.exists() and any(path.iterdir()):
        raise ConfigError(
            f"output directory {path} already exists and is not empty; choose another --out"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create output directory {path}: {exc.strerror}") from None
    return path


def _read_record(run_dir: Path) -> dict[str, Any]:
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


def load_run(run_dir: str | Path, device: str = "cpu") -> RunResult:
    """Rebuild a completed run's method from its directory, without training data."""
    run_dir = Path(run_dir)
    record = _read_record(run_dir)
    if record.get("status") != "complete" or not (run_dir / MODEL_FILE).is_file():
        raise RunDirError(
            f"{run_dir}: training did not complete (status {record.get('status')!r}); nothing to load"
        )
    method = method_registry().load(record["method"]).create(record["params"])
    method.setup(ModelSpec.from_dict(record["spec"]))
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
    metrics = {}
    if (run_dir / METRICS_FILE).is_file():
        try:
            metrics = json.loads((run_dir / METRICS_FILE).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise RunDirError(f"{run_dir / METRICS_FILE}: unreadable metrics ({exc})") from None
    return RunResult(method, run_dir, record, metrics)


def evaluate_run(
    run_dir: str | Path,
    evaluators: tuple[str, ...] = DEFAULT_EVALUATORS,
    root: str | Path | None = None,
) -> dict[str, Any]:
    """Reload a run and evaluate it on its dataset's test splits (no retraining)."""
    result = load_run(run_dir)
    record = result.config
    dataset = record.get("dataset_path") or record["dataset"]
    data = _run_data(record, dataset, root)
    return evaluate(result.method, data, evaluators)


def _run_data(record: dict[str, Any], dataset: str, root: str | Path | None) -> ZSLData:
    """A run's dataset under the run's protocol (runs from before protocols used ``test``)."""
    protocol = check_protocol(record.get("protocol", "test"), f"{RUN_FILE} protocol")
    data = load_dataset(dataset, root if root is not None else record.get("data_root"))
    return apply_protocol(data, protocol)
