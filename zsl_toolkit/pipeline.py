"""Train and evaluate as library calls; the CLI is a thin layer over these.

A run directory (layout, record and reading back in :mod:`zsl_toolkit.runs`) is created only after
the data, method and parameters have been validated, so bad input never leaves a half-made
directory.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from zsl_toolkit import balance as balancing
from zsl_toolkit.balance import BALANCE_KEY
from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.data.protocol import apply_protocol, check_protocol, fold_problem
from zsl_toolkit.data.resolve import load_dataset
from zsl_toolkit.device import resolve_device
from zsl_toolkit.errors import ConfigError, RunDirError, TrainingInterrupted
from zsl_toolkit.evaluation.base import DEFAULT_EVALUATORS
from zsl_toolkit.evaluation.registry import evaluator_registry
from zsl_toolkit.evaluation.scoring import evaluate as evaluate_scores
from zsl_toolkit.io import atomic_write, write_json
from zsl_toolkit.methods.base import Method
from zsl_toolkit.methods.registry import method_registry
from zsl_toolkit.runs.create import completed, start_record
from zsl_toolkit.runs.dataset import DatasetRef
from zsl_toolkit.runs.layout import (
    CHECKPOINT,
    METRICS_FILE,
    MODEL_FILE,
    REFIT_START,
    RUN_FILE,
    STAGE_START,
    default_run_dir,
    make_run_dir,
)
from zsl_toolkit.runs.load import RunResult, load_run, load_run_data
from zsl_toolkit.runs.record import RunRecord, read_record, write_record
from zsl_toolkit.selection.record import SELECTING
from zsl_toolkit.settings import RunSettings
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
    "train_into",
]


def evaluate(
    method: Method, data: ZSLData, evaluators: tuple[str, ...] = DEFAULT_EVALUATORS
) -> dict[str, Any]:
    """Run the named evaluators on a trained method's scores for ``data``'s test splits, with
    the model's own seen and unseen classes (:func:`zsl_toolkit.evaluation.evaluate`)."""
    spec = method.spec_
    return evaluate_scores(
        method, data, evaluators, classes=(spec.seen_classes, spec.unseen_classes)
    )


def train(
    settings: RunSettings, *, out: str | Path | None = None, data: ZSLData | None = None
) -> RunResult:
    """Train ``settings.method`` on ``settings.dataset``, evaluate, and save a run directory
    (``out``, else :func:`~zsl_toolkit.runs.layout.default_run_dir`).

    The one way into training: ``zsl train``, the sweep worker, calibration and
    :func:`zsl_toolkit.train` all build a :class:`~zsl_toolkit.settings.RunSettings` and call
    this. ``data`` may be passed to skip loading (the dataset string is still recorded); it is
    the dataset as loaded, before the settings' protocol (``test``, or ``val``: see
    :mod:`zsl_toolkit.data.protocol`) is applied.

    Settings with ``balance`` also train the configuration under the validation protocol
    (into ``RUN/validation``) and store the seen/unseen calibration chosen on it in the run
    (:mod:`zsl_toolkit.balance`).

    Settings with ``select`` (parameters chosen on validation first) are trained by
    :func:`zsl_toolkit.sweep.select.train_selected`, which runs its candidates as a sweep and
    this function for each of them and for the choice; here they are refused.
    """
    if settings.select:
        raise ConfigError(
            "select: pipeline.train trains one configuration; choosing on validation runs "
            "through zsl_toolkit.sweep.select.train_selected (zsl train --select)"
        )
    run_dir = Path(out) if out else None
    return _train(settings, run_dir, data, extra={})


def train_into(
    settings: RunSettings, run_dir: Path, *, data: ZSLData | None, extra: Mapping[str, Any]
) -> RunResult:
    """Like :func:`train`, into ``run_dir``, which a caller created and owns (a selection's
    folder, holding its candidates): the directory is not required to be empty and its
    ``run.json`` is replaced by this run's record carrying ``extra``'s top-level keys
    (:meth:`~zsl_toolkit.runs.record.RunRecord.with_extra`)."""
    return _train(settings, Path(run_dir), data, extra=extra, made=True)


def _train(
    settings: RunSettings,
    run_dir: Path | None,
    data: ZSLData | None,
    *,
    extra: Mapping[str, Any],
    made: bool = False,
) -> RunResult:
    protocol = check_protocol(settings.protocol, "protocol")
    balancing.check_protocol(settings.balance, protocol)
    config = settings.config
    method_cls = method_registry().load(settings.method)
    instance = method_cls.create(dict(settings.params))
    for name in settings.evaluators:
        evaluator_registry().load(name)
    resolve_device(config.device)
    options = dict(settings.dataset_options) or None
    if data is None:
        data = load_dataset(settings.dataset, settings.data_root, options=options)
    loaded, data = data, apply_protocol(data, protocol)
    balance, reason = balancing.decide(settings.balance, loaded, protocol)
    settings = replace(settings, balance=balance)
    if run_dir is None:
        run_dir = default_run_dir(settings.method, settings.dataset, config.seed)
    if not made:
        make_run_dir(run_dir)
    record = start_record(
        settings.method,
        instance.get_params(),
        DatasetRef.resolve(settings.dataset),
        settings.data_root,
        protocol,
        data,
        config,
        settings.evaluators,
        options,
    )
    if protocol == "test":
        extra = {**extra, BALANCE_KEY: balance, balancing.REASON_KEY: reason}
    for key, value in extra.items():
        record = record.with_extra(key, value)
    write_record(run_dir, record)
    result = _run(instance, data, config, run_dir, record, settings.evaluators, resume=False)
    return _balanced(result, settings, loaded) if settings.balance else result


def _balanced(result: RunResult, settings: RunSettings, data: ZSLData) -> RunResult:
    """``result`` calibrated by what its configuration's validation folds choose
    (:func:`balancing_decision`; ``data`` as loaded, before the test protocol). Unchanged when
    the dataset's validation problem is too small to choose on, or when the rule keeps no
    calibration."""
    if not balancing.applies(data):
        return result
    decision = balancing_decision(result.method, settings, data, result.run_dir)
    record = result.record.with_extra(balancing.DECISION_KEY, decision)
    metrics = result.metrics
    if decision["gamma"] != 0.0:
        record = record.updated(calibration=balancing.calibration_record(decision))
        result.method.calibration_gamma_ = decision["gamma"]  # as a reloaded run applies it
        metrics = evaluate(result.method, data, tuple(record.evaluators))
        metrics["uncalibrated"] = {k: v for k, v in result.metrics.items() if k != "train_seconds"}
        metrics["calibration_gamma"] = decision["gamma"]
        if "train_seconds" in result.metrics:
            metrics["train_seconds"] = result.metrics["train_seconds"]
        write_json(result.run_dir / METRICS_FILE, metrics)
    write_record(result.run_dir, record)
    return RunResult(result.method, result.run_dir, record, metrics)


def balancing_decision(
    method: Method, settings: RunSettings, data: ZSLData, run_dir: Path
) -> dict[str, Any]:
    """The calibration gamma the validation folds choose for the trained ``method``
    (:mod:`zsl_toolkit.balance`): ``settings``' configuration trained on each class fold of
    ``data``'s seen classes (test classes withheld), the first the dataset's ``--protocol
    val`` run in ``run_dir/validation``, the others in ``run_dir/validation-fold-K``
    (completed folds found there are reused), carried to ``method`` by the rule
    :data:`zsl_toolkit.balance.RULE`. Returns the run record's :data:`~zsl_toolkit.balance.
    DECISION_KEY` entry."""
    start = time.perf_counter()
    folds = balancing.class_folds(data)
    if not settings.config.quiet:
        print(
            f"balance: training {len(folds)} validation folds to choose the seen/unseen "
            "calibration",
            file=sys.stderr,
            flush=True,
        )
    fold_settings = replace(settings, evaluators=("calibrated",), balance=False, protocol="test")
    profiles = []
    for k, (train_classes, val_classes) in enumerate(folds):
        problem = fold_problem(data, train_classes, val_classes)
        fold_dir = run_dir / balancing.fold_dir_name(k)
        try:
            fold = _fold_run(fold_dir, fold_settings, data if k == 0 else problem, k == 0)
        except TrainingInterrupted:
            raise TrainingInterrupted(
                f"interrupted while balancing (validation fold {k + 1} of {len(folds)}); "
                f"completed folds are kept in {run_dir}; "
                f"continue with: zsl train --resume {run_dir}"
            ) from None
        profiles.append(balancing.profile(fold.method, problem))
    margins = balancing.training_margins(method, data)
    return balancing.decision_record(profiles, margins, folds, data, time.perf_counter() - start)


def _fold_run(fold_dir: Path, settings: RunSettings, data: ZSLData, own_val: bool) -> RunResult:
    """One balancing fold: reloaded when a completed run of it is there (a resumed balancing),
    else trained afresh (a fold interrupted midway starts over). The first fold is the
    dataset's own ``--protocol val`` run; the others train on their fold problem as given."""
    if (fold_dir / RUN_FILE).is_file():
        if read_record(fold_dir).complete:
            return load_run(fold_dir)
        shutil.rmtree(fold_dir)
    if own_val:
        return _train(replace(settings, protocol="val"), fold_dir, data, extra={})
    return _train(settings, fold_dir, data, extra={})


def _balancing_unfinished(record: RunRecord) -> bool:
    return bool(record.extra.get(BALANCE_KEY)) and balancing.DECISION_KEY not in record.extra


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
    if record.complete and not _balancing_unfinished(record):
        raise RunDirError(f"{run_dir}: training already completed; nothing to resume")
    if record.status == SELECTING:
        raise RunDirError(
            f"{run_dir}: interrupted while choosing settings on validation; continue it with "
            f"zsl train --resume {run_dir} (zsl_toolkit.sweep.select.resume_selection)"
        )
    instance = method_registry().load(record.method).create(dict(record.params))
    try:
        config = TrainConfig.from_dict(record.train, quiet)
    except TypeError as exc:
        raise RunDirError(f"{run_dir / RUN_FILE}: incomplete run record ({exc})") from None
    data = load_run_data(record, root)
    chosen = evaluators or record.evaluators
    if record.complete:  # interrupted while balancing: the model itself is done
        result = load_run(run_dir)
    else:
        result = _run(instance, data, config, run_dir, record, chosen, resume=True)
    if not record.extra.get(BALANCE_KEY):
        return result
    settings = RunSettings(
        method=record.method,
        dataset=record.dataset.spec,
        params=dict(record.params),
        config=config,
        data_root=str(root) if root is not None else record.data_root,
        evaluators=tuple(record.evaluators),
        protocol=record.protocol,
        dataset_options=dict(record.dataset_options),
        balance=True,
    )
    return _balanced(result, settings, data)


def _run(
    instance: Method,
    data: ZSLData,
    config: TrainConfig,
    run_dir: Path,
    record: RunRecord,
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
    record = completed(
        record,
        instance.effective_params(),
        instance.spec_.to_dict(),
        str(resolve_device(config.device)),
    )
    write_record(run_dir, record)
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
    chosen = evaluators or result.record.evaluators
    data = load_run_data(result.record, root)
    metrics = evaluate(result.method, data, chosen)
    gamma = getattr(result.method, "calibration_gamma_", None)
    if gamma is not None:
        result.method.calibration_gamma_ = None
        metrics["uncalibrated"] = evaluate(result.method, data, chosen)
        metrics["calibration_gamma"] = gamma
    return metrics
