"""Train and evaluate as library calls; the CLI is a thin layer over these.

A run directory (layout and reading back in :mod:`zsl_toolkit.rundir`) is created only after
the data, method and parameters have been validated, so bad input never leaves a half-made
directory.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.data.protocol import apply_protocol, check_protocol
from zsl_toolkit.data.resolve import load_dataset
from zsl_toolkit.device import resolve_device
from zsl_toolkit.errors import RunDirError, TrainingInterrupted
from zsl_toolkit.evaluation.base import DEFAULT_EVALUATORS, EvalInput
from zsl_toolkit.io import atomic_write, write_json
from zsl_toolkit.methods.base import Method
from zsl_toolkit.registry import evaluator_registry, method_registry
from zsl_toolkit.rundir import (
    CHECKPOINT,
    METRICS_FILE,
    MODEL_FILE,
    REFIT_START,
    RUN_FILE,
    STAGE_START,
    RunResult,
    complete_record,
    default_run_dir,
    load_run,
    load_run_data,
    make_run_dir,
    new_record,
    read_record,
    run_evaluators,
    run_train_config,
)
from zsl_toolkit.training.config import TrainConfig
from zsl_toolkit.training.trainer import Trainer

__all__ = [
    "DEFAULT_EVALUATORS",
    "RunResult",
    "evaluate",
    "evaluate_run",
    "load_run",
    "resume",
    "train",
]


def evaluation_input(method: Method, data: ZSLData) -> EvalInput:
    """Scores of ``method`` (anything with ``predict_scores``) on both test splits of
    ``data``. Seen and unseen classes are the model's when it has a spec, so a class added to
    the model without test images still competes among the unseen classes; else the data's."""
    xs, ys = data.split("test_seen")
    xu, yu = data.split("test_unseen")
    spec = getattr(method, "spec_", None)
    seen, unseen = data.seen_classes, data.unseen_classes
    if spec is not None:
        seen = np.asarray(spec.seen_classes, dtype=np.int64)
        unseen = np.asarray(spec.unseen_classes, dtype=np.int64)
    return EvalInput(
        scores_seen=method.predict_scores(xs),
        labels_seen=ys,
        scores_unseen=method.predict_scores(xu),
        labels_unseen=yu,
        seen_classes=seen,
        unseen_classes=unseen,
        class_names=list(data.class_names),
    )


def evaluate(
    method: Method, data: ZSLData, evaluators: tuple[str, ...] = DEFAULT_EVALUATORS
) -> dict[str, Any]:
    """Run the named evaluators on the method's scores for ``data``'s test splits."""
    registry = evaluator_registry()
    classes = [registry.load(name) for name in evaluators]  # fail before any scoring
    inputs = evaluation_input(method, data)
    return {name: cls().evaluate(inputs) for name, cls in zip(evaluators, classes, strict=True)}


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
    dataset_options: dict[str, Any] | None = None,
    balance: bool | None = None,
) -> RunResult:
    """Train ``method`` on ``dataset``, evaluate, and save a run directory (``out``, else
    :func:`~zsl_toolkit.rundir.default_run_dir`).

    ``balance`` (default: automatic) calibrates seen against unseen classes on the dataset's
    validation protocol as part of training, for datasets without published settings
    (:mod:`zsl_toolkit.balance`); ``False`` switches it off.

    ``data`` may be passed to skip loading (the dataset string is still recorded); it is the
    dataset as loaded, before ``protocol`` (``test``, or ``val``: see
    :mod:`zsl_toolkit.data.protocol`) is applied. ``dataset_options`` are keyword arguments of
    a registered dataset's constructor (recorded in ``run.json``).
    """
    check_protocol(protocol, "protocol")
    config = config or TrainConfig()
    method_cls = method_registry().load(method)
    instance = method_cls.create(dict(params or {}))
    for name in evaluators:
        evaluator_registry().load(name)
    resolve_device(config.device)
    if data is None:
        data = load_dataset(dataset, root, options=dataset_options)
    data = apply_protocol(data, protocol)
    run_dir = make_run_dir(Path(out) if out else default_run_dir(method, dataset, config.seed))
    record = new_record(
        method, instance.get_params(), dataset, root, protocol, data, config, evaluators
    )
    if dataset_options:
        record["dataset_options"] = dict(dataset_options)
    write_json(run_dir / RUN_FILE, record)
    result = _run(instance, data, config, run_dir, record, evaluators, resume=False)
    return _balanced(result, data, protocol, root, config, balance)


def _balanced(
    result: RunResult,
    data: ZSLData,
    protocol: str,
    root: str | Path | None,
    config: TrainConfig,
    balance: bool | None,
) -> RunResult:
    from zsl_toolkit import balance as balancing

    if not balancing.applies(result.method.spec_.dataset_key, protocol, data, balance):
        return result
    return balancing.balance(result, data, root, config.quiet)


def resume(
    run_dir: str | Path,
    *,
    root: str | Path | None = None,
    quiet: bool = False,
    evaluators: tuple[str, ...] | None = None,
) -> RunResult:
    """Continue an interrupted ``train`` from its last checkpoint; final metrics equal those
    of an uninterrupted run with the same seed (on CPU)."""
    run_dir = Path(run_dir)
    record = read_record(run_dir)
    if record.get("status") == "complete":
        raise RunDirError(f"{run_dir}: training already completed; nothing to resume")
    try:
        instance = method_registry().load(record["method"]).create(record["params"])
        config = run_train_config(record, quiet)
    except (KeyError, TypeError) as exc:
        raise RunDirError(f"{run_dir / RUN_FILE}: incomplete run record ({exc})") from None
    data = load_run_data(record, root)
    chosen = evaluators or run_evaluators(record)
    result = _run(instance, data, config, run_dir, record, chosen, resume=True)
    protocol = record.get("protocol", "test")
    return _balanced(result, data, protocol, root, config, None)


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
    if trainer.refit_start is not None:
        refit = trainer.refit_start
        atomic_write(run_dir / REFIT_START, lambda fh: torch.save(refit, fh))
    metrics = evaluate(instance, data, evaluators)
    metrics["train_seconds"] = round(train_seconds, 3)
    write_json(run_dir / METRICS_FILE, metrics)
    complete_record(
        record,
        instance.effective_params(),
        instance.spec_.to_dict(),
        str(resolve_device(config.device)),
    )
    write_json(run_dir / RUN_FILE, record)
    for name in (CHECKPOINT, STAGE_START):
        (run_dir / name).unlink(missing_ok=True)
    return RunResult(instance, run_dir, record, metrics)


def evaluate_run(
    run_dir: str | Path,
    evaluators: tuple[str, ...] | None = None,
    root: str | Path | None = None,
) -> dict[str, Any]:
    """Reload a run and evaluate it on its dataset's test splits (no retraining), with
    ``evaluators``, else those the run was trained with. A calibrated run's metrics are
    calibrated, with the uncalibrated ones under ``"uncalibrated"``."""
    result = load_run(run_dir)
    chosen = evaluators or run_evaluators(result.config)
    data = load_run_data(result.config, root)
    metrics = evaluate(result.method, data, chosen)
    gamma = getattr(result.method, "calibration_gamma_", None)
    if gamma is not None:
        result.method.calibration_gamma_ = None
        metrics["uncalibrated"] = evaluate(result.method, data, chosen)
        metrics["calibration_gamma"] = gamma
    return metrics
