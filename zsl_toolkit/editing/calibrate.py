"""Calibrated stacking at deployment (Chao, Changpinyo, Gong and Sha, ECCV 2016): a stored
``gamma`` subtracted from the seen classes' scores.

``calibrate_run`` writes a NEW run directory (a run that may have been exported is never
altered): the same model, ``run.json`` with ``calibration`` (``gamma``, how it was chosen,
the parent run). Its inference module subtracts ``gamma`` (so ``zsl evaluate``, ``zsl export``
and the ONNX graph apply it) and ``zsl evaluate`` reports calibrated and uncalibrated numbers.

``gamma`` is given, or chosen on the validation protocol, never on test data: the gamma that
maximises H on the calibrated evaluator's exact seen-unseen curve of a run of the same
method, parameters, seed and epochs trained under ``--protocol val`` (validation classes play
unseen, test classes withheld). That run is either trained here (``target="validation"``:
one more training of the run's configuration, on the smaller validation problem, kept in
``<new run>/validation``) or given (``validation_run``).
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
    from zsl_toolkit.pipeline import evaluate_run, train
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.training.config import TrainConfig

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
        if target is not None:
            settings = RunSettings(
                record.method,
                record.dataset.spec,
                params=dict(record.params),
                config=TrainConfig.from_dict(record.train, quiet=True),
                data_root=record.data_root,
                evaluators=("calibrated",),
                protocol="val",
                dataset_options=dict(record.dataset_options),
            )
            val = train(settings, out=target_dir / "validation")
            info = {
                "chosen_on": "validation",
                **validation_gamma(target_dir / "validation", record),
                "validation_train_seconds": val.metrics.get("train_seconds"),
            }
        for name in (MODEL_FILE, REFIT_START):
            if (run_dir / name).is_file():
                shutil.copy2(run_dir / name, target_dir / name)
        write_record(target_dir, record.updated(parent=str(run_dir.resolve()), calibration=info))
        metrics = evaluate_run(target_dir)
        write_json(target_dir / METRICS_FILE, metrics)
    except BaseException:
        shutil.rmtree(target_dir, ignore_errors=True)
        raise
    result = load_run(target_dir)
    if not result.run_dir:
        raise RunDirError(f"{target_dir}: calibrated run unreadable")
    return result
