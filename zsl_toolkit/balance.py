"""Balancing seen against unseen as part of training: the calibration gamma chosen on
validation class folds (``--balance``; the default for stores of a user's own images,
:data:`OWN_IMAGES_BY_DEFAULT`; opt-in elsewhere, :data:`BY_DEFAULT`).

Why: a GZSL model's seen and unseen scores live on different scales, and where the balance falls
depends on the data and on the schedule: on a 20-class image folder DVAE's default gave
U 13.8 / S 90.6 (H 23.9) while the best calibrated stacking (Chao et al., ECCV 2016) of the
same model reached H 84.8. The xlsa17 benchmarks have published settings tuned for them; a
user's store or folder does not (:func:`decide`: ``--balance`` / ``--no-balance``, and the
default).

How: the same configuration is trained on :data:`FOLDS` class folds of the seen classes
(:func:`class_folds`: the dataset's ``--protocol val`` problem, then further folds of as many
validation classes; test classes withheld, :func:`zsl_toolkit.data.protocol.fold_problem`).
The first is kept as ``RUN/validation``, the others as ``RUN/validation-fold-2`` and ``-3``
(so an interrupted balancing resumes from the completed folds). A single validation model's best gamma did not carry
over to the final model (wrong sign on 4 of 16 runs in ``benchmarks/results/own_images.md``),
so the folds' curves are carried over by the rule :data:`RULE` of
:mod:`zsl_toolkit.calibration_transfer`, chosen on nested folds of validation data
(``benchmarks/results/balance_rule.md``). The gamma is stored in the run like ``zsl calibrate``
does (the inference module subtracts it from the seen classes' scores, so ``zsl evaluate``,
``zsl export`` and ``zsl predict`` apply it); a rule that keeps no calibration leaves the run
as trained. Test data never choose anything.

Recorded in the run record: :data:`BALANCE_KEY` (whether it ran) and :data:`REASON_KEY` (why),
:data:`DECISION_KEY` (the folds, the leave-one-fold-out scores, the gamma) and, when it
calibrates, ``calibration`` (``automatic: true``). :func:`zsl_toolkit.pipeline.train` trains;
this module decides and records. A dataset whose validation protocol has a single validation
class is left uncalibrated (one class's accuracy is no curve to choose on).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zsl_toolkit.calibration_transfer import (
    CV_CANDIDATES,
    averaged_choice,
    choose_gamma,
    cv_choice,
    cv_scores,
    h_curve,
    margin_scale,
    training_margins,
)
from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.errors import ConfigError

BALANCE_KEY = "balance"
"""The run record's top-level key (:meth:`~zsl_toolkit.runs.record.RunRecord.with_extra`)
saying a run was started with ``balance``, so an interrupted one balances when resumed."""
MIN_VALIDATION_CLASSES = 2
"""Fewer validation classes than this give no seen-unseen curve worth choosing on."""
VALIDATION_RUN = "validation"
"""The first validation fold's run (the dataset's ``--protocol val``) inside the balanced run's
directory."""


def fold_dir_name(k: int) -> str:
    """The folder of fold ``k`` (from 0) inside the balanced run's directory."""
    return VALIDATION_RUN if k == 0 else f"{VALIDATION_RUN}-fold-{k + 1}"


FOLDS = 3
"""Validation folds trained per balanced run (the first is the dataset's validation problem)."""
FOLD_SEED = 20180103
"""Draws the further folds' validation classes (a property of the dataset, not of training)."""
DECISION_KEY = "balancing"
"""The run record's top-level key holding what the balancing measured and chose."""


BY_DEFAULT = False
"""Whether a run that neither asks for balancing nor turns it off is balanced when its dataset
has no published settings (generated sets, feature stores, plugins' datasets). Off: the rule
was chosen and checked on validation folds of image stores only, and it leaves some runs below
their uncalibrated H; those datasets are research material whose recorded results a default
must not silently change."""
OWN_IMAGES_BY_DEFAULT = True
"""Whether a store of the user's own images (made by ``zsl extract``: it records its
``backbone``) is balanced by default. On, chosen on validation data: over 27 nested class-fold
problems of three image sets (``benchmarks/results/balance_rule.md``) the rule reaches 0.78 of
the best calibration's H on average against 0.35 uncalibrated, worse than uncalibrated by more
than a point in 2; a user's own folder has nobody's tuning, and the uncalibrated default was
seen to swing from one side to the other with the schedule."""
REASON_KEY = "balance_reason"
"""The run record's top-level key saying why a run was balanced or not (default or asked)."""


def published_settings(data: ZSLData) -> str | None:
    """The benchmark ``data`` is, when methods have published settings for it (an xlsa17
    dataset, by the name per-dataset defaults are looked up by), else None."""
    from zsl_toolkit.data.named import XLSA17Dataset
    from zsl_toolkit.methods.base import dataset_key

    key = dataset_key(data.name)
    names = {cls.folder.lower() for cls in XLSA17Dataset.__subclasses__()}
    return key if key in names else None


def check_protocol(requested: bool | None, protocol: str) -> None:
    """Refuse ``--balance`` on a run that is not reported on the test protocol: the folds are
    drawn from the validation problem, which such a run already is."""
    if requested and protocol != "test":
        raise ConfigError(
            "--balance chooses the calibration on the validation protocol; it needs "
            f"--protocol test, not {protocol}"
        )


def decide(requested: bool | None, data: ZSLData, protocol: str) -> tuple[bool, str]:
    """(balance or not, why) for a run of ``data`` (as loaded) under ``protocol``:
    ``requested`` True/False (``--balance``/``--no-balance``) or None (the default: on for a
    store of the user's own images, :data:`OWN_IMAGES_BY_DEFAULT`; with :data:`BY_DEFAULT`,
    on for every dataset without published settings; else off)."""
    if protocol != "test":
        return False, "validation protocol"
    if requested is False:
        return False, "switched off (--no-balance)"
    enough = applies(data)
    small = f"fewer than {MIN_VALIDATION_CLASSES} validation classes to choose on"
    if requested:
        return (True, "asked (--balance)") if enough else (False, f"asked, but {small}")
    own = OWN_IMAGES_BY_DEFAULT and own_images(data)
    if not (own or BY_DEFAULT):
        return False, "default: off (opt-in, --balance; on by default for own-image stores)"
    benchmark = None if own else published_settings(data)
    if benchmark is not None:
        return False, f"default: off for {benchmark}, which has published settings"
    if not enough:
        return False, f"default: {small}"
    if own:
        return True, "default: on for a store of your own images"
    return True, "default: on for datasets without published settings"


def own_images(data: ZSLData) -> bool:
    """Whether ``data`` is a store of a user's own images: ``zsl extract`` records the
    backbone that made its features."""
    return bool(data.extra.get("backbone"))


def applies(data: ZSLData) -> bool:
    """Whether a balanced run of ``data`` (under the test protocol) has a validation problem
    to choose on: at least :data:`MIN_VALIDATION_CLASSES` validation classes."""
    from zsl_toolkit.data.protocol import validation_classes

    try:
        _, val_classes, _, _ = validation_classes(data)
    except Exception:  # noqa: BLE001 - no usable validation protocol: nothing to choose on
        return False
    return int(val_classes.size) >= MIN_VALIDATION_CLASSES


RULE = "cv"
"""The rule :func:`decision_record` applies (:mod:`zsl_toolkit.calibration_transfer`; chosen
on validation in ``benchmarks/results/balance_rule.md``)."""


def class_folds(data: ZSLData, count: int = FOLDS) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train classes, validation classes) of ``count`` folds of ``data``'s seen classes: the
    validation protocol's own, then folds of as many validation classes drawn with
    :data:`FOLD_SEED`, each from the classes no earlier fold validated on while they last, so
    every seen class plays unseen as evenly as the count allows."""
    from zsl_toolkit.data.protocol import validation_classes

    train0, val0, _, _ = validation_classes(data)
    pool = np.union1d(train0, val0)
    size = int(val0.size)
    rng = np.random.default_rng(FOLD_SEED)
    out = [(np.sort(train0), np.sort(val0))]
    fresh = list(rng.permutation(np.setdiff1d(pool, val0)))
    while len(out) < count and pool.size - size >= 1:
        if len(fresh) < size:
            used = set(fresh)
            fresh += [c for c in rng.permutation(pool) if c not in used]
        val = np.sort(np.array(fresh[:size], dtype=np.int64))
        fresh = fresh[size:]
        out.append((np.setdiff1d(pool, val), val))
    return out


def profile(model: Any, data: ZSLData) -> dict[str, Any]:
    """What a rule may use of a validation model trained on ``data`` (a fold's problem): its
    exact seen-unseen curve and evaluation input on the fold, and its training margins."""
    from zsl_toolkit.evaluation.calibrated import seen_unseen_curve
    from zsl_toolkit.evaluation.scoring import evaluation_input

    spec = model.spec_
    inputs = evaluation_input(model, data, (spec.seen_classes, spec.unseen_classes))
    return {
        "curve": seen_unseen_curve(inputs),
        "inputs": inputs,
        "margins": training_margins(model, data),
    }


def decision_record(
    profiles: list[dict[str, Any]],
    margins: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    data: ZSLData,
    seconds: float,
) -> dict[str, Any]:
    """The run record's :data:`DECISION_KEY` entry: the gamma :data:`RULE` gives the final
    model (training ``margins``) from the validation ``profiles``, and what it was based on."""
    scores = cv_scores(profiles) if len(profiles) >= 2 else {}
    gamma = choose_gamma(RULE, profiles, margins)
    gamma = gamma if math.isfinite(gamma) else 0.0
    loc, sc = margin_scale(margins)
    return {
        "gamma": gamma,
        "rule": RULE,
        "transfer": cv_choice(profiles, CV_CANDIDATES) if scores else "none",
        "leave_one_fold_out_H": scores,
        "margin_median": loc,
        "margin_iqr": sc,
        "folds": [
            {
                "validation_classes": [data.class_names[int(c)] for c in val],
                "best_validation_H": float(h_curve(p["curve"]).max()),
                "gamma_in_margin_units": averaged_choice([p], scaled=True),
            }
            for p, (_, val) in zip(profiles, folds, strict=True)
        ],
        "validation_runs_seconds": round(seconds, 3),
    }


def calibration_record(decision: dict[str, Any]) -> dict[str, Any]:
    """The run record's ``calibration`` field for a balancing ``decision`` that calibrates."""
    return {
        "gamma": decision["gamma"],
        "chosen_on": "validation",
        "automatic": True,
        "rule": decision["rule"],
        "validation_run": VALIDATION_RUN,
        "folds": len(decision["folds"]),
    }
