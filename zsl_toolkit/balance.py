"""``zsl train --balance``: the seen/unseen calibration chosen on the dataset's validation
protocol as part of training.

Why: a GZSL model's seen and unseen scores live on different scales, and where the balance falls
depends on the data and on the schedule: on a 20-class image folder DVAE's default gave
U 13.8 / S 90.6 (H 23.9) while the best calibrated stacking (Chao et al., ECCV 2016) of the
same model reached H 84.8. Benchmarks have published settings tuned for them; a user's store
or folder does not. So, when asked, training trains the same configuration once more under
``--protocol val`` (validation classes play unseen, test classes withheld:
:mod:`zsl_toolkit.data.protocol`), takes the calibration gamma that balances *that* run
(below), and stores it in the run like ``zsl calibrate`` does: the inference module subtracts
it from the seen classes' scores, so ``zsl evaluate``, ``zsl export`` and ``zsl predict`` all
apply it. Test data never choose anything.

The gamma: on the validation run's exact seen-unseen curve (the ``calibrated`` evaluator's),
every gamma whose validation H lies within :data:`H_TOLERANCE` of the best, and the median
of those: a plateau's middle rather than the edge of one lucky point, since the validation
problem (fewer seen classes, other unseen ones) only approximates the test problem.

:func:`zsl_toolkit.pipeline.train` runs it; this module decides and records. Opt-in
(``RunSettings.balance``): on some runs the validation problem's balance does not carry
over to the test problem and the calibrated run is worse than the uncalibrated one
(``benchmarks/results/own_images.md``). Recorded in the run record's ``calibration`` field
(``automatic: true`` with the gamma, the validation H and the validation run's folder,
``<run>/validation``). A dataset whose validation protocol has a single validation class is
left uncalibrated (one class's accuracy is no curve to choose on).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from zsl_toolkit.data.container import ZSLData

H_TOLERANCE = 0.01
"""Gammas within this much validation H (a fraction) of the best form the plateau."""
BALANCE_KEY = "balance"
"""The run record's top-level key (:meth:`~zsl_toolkit.runs.record.RunRecord.with_extra`)
saying a run was started with ``balance``, so an interrupted one balances when resumed."""
MIN_VALIDATION_CLASSES = 2
"""Fewer validation classes than this give no seen-unseen curve worth choosing on."""
VALIDATION_RUN = "validation"
"""The validation run's folder inside the balanced run's directory."""


def applies(data: ZSLData) -> bool:
    """Whether a balanced run of ``data`` (under the test protocol) has a validation problem
    to choose on: at least :data:`MIN_VALIDATION_CLASSES` validation classes."""
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
    from zsl_toolkit.evaluation.scoring import evaluation_input
    from zsl_toolkit.runs.load import load_run, load_run_data

    run = load_run(run_dir)
    data = load_run_data(run.record)
    spec = run.method.spec_
    inputs = evaluation_input(run.method, data, (spec.seen_classes, spec.unseen_classes))
    gammas, u, s = seen_unseen_curve(inputs)
    gamma, h = plateau_gamma(gammas, u, s)
    return {"gamma": gamma, "validation_H": h}


def calibration_record(chosen: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The run record's ``calibration`` field for ``chosen`` (:func:`validation_calibration`),
    the validation run having taken ``seconds``."""
    gamma = chosen["gamma"] if math.isfinite(chosen["gamma"]) else 0.0
    return {
        "gamma": gamma,
        "chosen_on": "validation",
        "automatic": True,
        "rule": f"median gamma within {H_TOLERANCE} validation H of the best",
        "validation_H": chosen["validation_H"],
        "validation_run": VALIDATION_RUN,
        "validation_train_seconds": round(seconds, 3),
    }
