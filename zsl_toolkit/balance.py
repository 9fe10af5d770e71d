"""A balanced default on a user's own data: the seen/unseen calibration chosen on the
dataset's validation protocol as part of training.

Why: a GZSL model's seen and unseen scores live on different scales, and where the balance
falls depends on the data and on the schedule: on a 20-class image folder DVAE's default gave
U 13.8 / S 90.6 (H 23.9) while the best calibrated stacking (Chao et al., ECCV 2016) of the
same model reached H 84.8. Benchmarks have published settings tuned for them; a user's store
or folder does not. So, for a dataset without published settings, training trains the same
configuration once more under ``--protocol val`` (validation classes play unseen, test
classes withheld: :mod:`zsl_toolkit.data.protocol`), takes the calibration gamma that
balances *that* run (below), and stores it in the run like ``zsl calibrate`` does: the
inference module subtracts it from the seen classes' scores, so ``zsl evaluate``,
``zsl export`` and ``zsl predict`` all apply it. Test data never choose anything.

The gamma: on the validation run's exact seen-unseen curve (the ``calibrated`` evaluator's),
every gamma whose validation H lies within :data:`H_TOLERANCE` of the best, and the median
of those: a plateau's middle rather than the edge of one lucky point, since the validation
problem (fewer seen classes, other unseen ones) only approximates the test problem.

Recorded as ``calibration`` in ``run.json`` (``automatic: true`` with the gamma, the
validation H and the validation run's folder, ``<run>/validation``). Off with
``zsl train --no-balance`` (``balance=False``), under ``--protocol val``, and for the
benchmarks with published settings (:data:`PUBLISHED`); a dataset whose validation protocol
has a single validation class is left alone too (one class's accuracy is no curve to choose
on).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from zsl_toolkit.data.container import ZSLData

PUBLISHED = ("cub", "awa1", "awa2", "sun", "apy", "flo")
"""Dataset keys with published settings: their defaults are the papers' own."""
H_TOLERANCE = 0.01
"""Gammas within this much validation H (a fraction) of the best form the plateau."""
MIN_VALIDATION_CLASSES = 2


def applies(dataset_key: str, protocol: str, data: ZSLData, balance: bool | None) -> bool:
    """Whether training balances this run: ``balance`` when given, else the automatic rule
    (module docstring)."""
    if protocol != "test":
        return False
    if balance is not None:
        return balance
    if dataset_key in PUBLISHED:
        return False
    from zsl_toolkit.data.protocol import validation_classes

    try:
        _, val_classes, _, _ = validation_classes(data)
    except Exception:  # noqa: BLE001 - no usable validation protocol: nothing to choose on
        return False
    return int(val_classes.size) >= MIN_VALIDATION_CLASSES


def plateau_gamma(gammas: np.ndarray, u: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """(gamma, validation H at it): the median gamma of the near-best plateau."""
    h = np.where(u + s > 0, 2 * u * s / np.where(u + s > 0, u + s, 1), 0.0)
    finite = np.isfinite(gammas)
    if not finite.any():
        return 0.0, float(h.max(initial=0.0))
    best = float(h[finite].max())
    near = np.flatnonzero(finite & (h >= best - H_TOLERANCE))
    gamma = float(np.median(gammas[near]))
    # H at the chosen gamma: the curve's point whose interval holds it.
    k = int(np.searchsorted(gammas, gamma, side="right") - 1)
    k = min(max(k, 0), len(h) - 1)
    return gamma, float(h[k])


def validation_calibration(run_dir: Path) -> dict[str, Any]:
    """The gamma and validation H of the ``--protocol val`` run in ``run_dir``."""
    from zsl_toolkit.evaluation.calibrated import seen_unseen_curve
    from zsl_toolkit.pipeline import evaluation_input
    from zsl_toolkit.rundir import load_run, load_run_data

    run = load_run(run_dir)
    data = load_run_data(run.config)
    gammas, u, s = seen_unseen_curve(evaluation_input(run.method, data))
    gamma, h = plateau_gamma(gammas, u, s)
    return {"gamma": gamma, "validation_H": h}


def balance(result: Any, data: ZSLData, root: str | Path | None, quiet: bool = True) -> Any:
    """Train the validation run of ``result``'s configuration on ``data`` (as loaded, under
    the test protocol), store the chosen gamma in ``result``'s run directory, re-evaluate;
    the updated :class:`RunResult`."""
    from zsl_toolkit.io import write_json
    from zsl_toolkit.pipeline import evaluate_run, train
    from zsl_toolkit.rundir import (
        METRICS_FILE,
        RUN_FILE,
        load_run,
        run_dataset,
        run_evaluators,
        run_train_config,
    )

    start = time.perf_counter()
    record = result.config
    val_dir = result.run_dir / "validation"
    if not quiet:
        print(
            "balance: training once more under --protocol val to choose the seen/unseen "
            "calibration (--no-balance skips this)",
            file=sys.stderr,
            flush=True,
        )
    train(
        record["method"],
        run_dataset(record),
        params=record["params"],
        config=run_train_config(record, quiet=quiet),
        root=root if root is not None else record.get("data_root"),
        out=val_dir,
        evaluators=("calibrated",),
        protocol="val",
        dataset_options=record.get("dataset_options") or None,
        data=data,
        balance=False,
    )
    chosen = validation_calibration(val_dir)
    if not math.isfinite(chosen["gamma"]):
        chosen["gamma"] = 0.0
    record["calibration"] = {
        "gamma": chosen["gamma"],
        "chosen_on": "validation",
        "automatic": True,
        "rule": f"median gamma within {H_TOLERANCE} validation H of the best",
        "validation_H": chosen["validation_H"],
        "validation_run": "validation",
        "validation_train_seconds": round(time.perf_counter() - start, 3),
    }
    write_json(result.run_dir / RUN_FILE, record)
    train_seconds = result.metrics.get("train_seconds")
    metrics = evaluate_run(result.run_dir, run_evaluators(record), root)
    if train_seconds is not None:
        metrics["train_seconds"] = train_seconds
    write_json(result.run_dir / METRICS_FILE, metrics)
    reloaded = load_run(result.run_dir)
    reloaded.metrics = metrics
    return reloaded
