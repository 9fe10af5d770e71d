"""Calibrated stacking at deployment (Chao, Changpinyo, Gong and Sha, ECCV 2016): a stored
``gamma`` subtracted from the seen classes' scores.

``calibrate_run`` writes a NEW run directory (a run that may have been exported is never
altered): the same model, ``run.json`` with ``calibration`` (``gamma``, how it was chosen,
the parent run). Its inference module subtracts ``gamma`` (so ``zsl evaluate``, ``zsl export``
and the ONNX graph apply it) and ``zsl evaluate`` reports calibrated and uncalibrated numbers.

``gamma`` is given, or chosen on validation data, never on test data. ``target="validation"``
chooses it as ``zsl train --balance`` does (:mod:`zsl_toolkit.balance`): the run's
configuration (method, parameters, seed, epochs) trained on three validation class folds (kept
in ``<new run>/validation`` and ``validation-fold-2``/``-3``), their seen-unseen curves carried
to this model by the balancing rule, which may also keep no calibration (gamma 0).
``validation_run`` takes the gamma that maximises H on the calibrated evaluator's curve of one
given ``--protocol val`` run of the same method and parameters.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

from zsl_toolkit.errors import ConfigError, RunDirError
from zsl_toolkit.io import write_json
from zsl_toolkit.runs.layout import (
    METRICS_FILE,
    MODEL_FILE,
    REFIT_START,
    folder_stamp,
    make_run_dir,
)
from zsl_toolkit.runs.load import RunResult, load_run
from zsl_toolkit.runs.record import RunRecord, read_record, write_record

__all__ = ["calibrate_run", "validation_gamma"]

#: What must agree between a run and the validation run its gamma is chosen on.
_SAME = ("method", "params")


def validation_gamma(val_dir: str | Path, run: RunRecord | None = None) -> dict[str, Any]:
    """Gamma with the best validation H of the ``--protocol val`` run ``val_dir`` (checked to
    match ``run``'s method, parameters and dataset when given), and that H."""
    from zsl_toolkit.pipeline import evaluate_run

    val_dir = Path(val_dir)
    record = read_record(val_dir)
    if record.protocol != "val":
        raise ConfigError(
            f"{val_dir}: not a validation run (protocol {record.protocol!r}); "
            f"train it with --protocol val"
        )
    if run is not None:
        for key in _SAME:
            if getattr(record, key) != getattr(run, key):
                raise ConfigError(f"{val_dir}: its {key} differ from the run's")
        if record.dataset.spec != run.dataset.spec:
            raise ConfigError(f"{val_dir}: trained on another dataset than the run")
    metrics = evaluate_run(val_dir, ("calibrated",))["calibrated"]
    gamma = metrics.get("gamma")
    if gamma is None:
        raise ConfigError(
            f"{val_dir}: validation H is best with no calibration point; give --gamma"
        )
    return {"gamma": float(gamma), "validation_H": metrics["H"], "validation_run": str(val_dir)}


def _folds_gamma(parent: RunResult, target_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``calibration`` for ``parent`` chosen as ``zsl train --balance`` chooses it: the run's
    configuration trained on the validation class folds (into ``target_dir``), their choice
    carried over by the balancing rule; and the balancing decision itself."""
    from zsl_toolkit import balance as balancing
    from zsl_toolkit.errors import TrainingInterrupted
    from zsl_toolkit.pipeline import balancing_decision
    from zsl_toolkit.runs.load import load_run_data
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.training.config import TrainConfig

    record = parent.record
    data = load_run_data(record)
    if not balancing.applies(data):
        raise ConfigError(
            f"{parent.run_dir}: the dataset's validation problem has fewer than "
            f"{balancing.MIN_VALIDATION_CLASSES} validation classes to choose on; give --gamma"
        )
    settings = RunSettings(
        record.method,
        record.dataset.spec,
        params=dict(record.params),
        config=TrainConfig.from_dict(record.train, quiet=True),
        data_root=record.data_root,
        evaluators=("calibrated",),
        dataset_options=dict(record.dataset_options),
    )
    try:
        decision = balancing_decision(parent.method, settings, data, target_dir)
    except TrainingInterrupted:
        raise TrainingInterrupted("interrupted while choosing gamma; nothing was written") from None
    info = {
        **balancing.calibration_record(decision),
        "automatic": False,
        "validation_train_seconds": decision["validation_runs_seconds"],
    }
    return info, decision


def calibrate_run(
    run_dir: str | Path,
    *,
    gamma: float | None = None,
    target: str | None = None,
    validation_run: str | Path | None = None,
    out: str | Path | None = None,
) -> RunResult:
    """A new calibrated run (``out``, default ``<run_dir>-calibrated-<time>``); exactly one of
    ``gamma``, ``target="validation"`` or ``validation_run`` chooses gamma."""
    from zsl_toolkit.balance import DECISION_KEY
    from zsl_toolkit.pipeline import evaluate_run

    run_dir = Path(run_dir)
    chosen = [x is not None for x in (gamma, target, validation_run)]
    if sum(chosen) != 1:
        raise ConfigError("give exactly one of --gamma, --target validation, --validation-run")
    if target is not None and target != "validation":
        raise ConfigError(f"--target: expected 'validation', got {target!r}")
    if gamma is not None and not math.isfinite(gamma):
        raise ConfigError(f"--gamma: expected a finite number, got {gamma!r}")
    parent = load_run(run_dir)  # refuses unfinished runs
    record = parent.record
    previous = record.calibration
    if previous is not None and not previous.get("automatic"):
        raise ConfigError(f"{run_dir}: already calibrated; calibrate its parent run instead")
    # A gamma chosen automatically at training is replaced by the one chosen here.
    if target is not None:
        if record.protocol == "val":
            raise ConfigError(f"{run_dir}: a validation-protocol run; give --gamma")
        if record.class_edit:
            raise ConfigError(
                f"{run_dir}: its class set was edited, so no training run has its classes; "
                f"give --gamma or --validation-run"
            )
    info: dict[str, Any]
    if validation_run is not None:
        info = {"chosen_on": "validation", **validation_gamma(validation_run, record)}
    elif gamma is not None:
        info = {"gamma": float(gamma), "chosen_on": "given"}
    target_dir = make_run_dir(
        Path(out) if out else run_dir.parent / f"{run_dir.name}-calibrated-{folder_stamp()}"
    )
    try:
        decision = None
        if target is not None:
            info, decision = _folds_gamma(parent, target_dir)
        for name in (MODEL_FILE, REFIT_START):
            if (run_dir / name).is_file():
                shutil.copy2(run_dir / name, target_dir / name)
        new = record.updated(parent=str(run_dir.resolve()), calibration=info)
        if decision is not None:
            new = new.with_extra(DECISION_KEY, decision)
        write_record(target_dir, new)
        metrics = evaluate_run(target_dir)
        write_json(target_dir / METRICS_FILE, metrics)
    except BaseException:
        shutil.rmtree(target_dir, ignore_errors=True)
        raise
    result = load_run(target_dir)
    if not result.run_dir:
        raise RunDirError(f"{target_dir}: calibrated run unreadable")
    return result
