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
"""The first validation fold's run (the dataset's ``--protocol val``) inside the balanced run's
directory."""
FOLDS = 3
"""Validation folds trained per balanced run (the first is the dataset's validation problem)."""
FOLD_SEED = 20180103
"""Draws the further folds' validation classes (a property of the dataset, not of training)."""
DECISION_KEY = "balancing"
"""The run record's top-level key holding what the balancing measured and chose."""


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


def decide(requested: bool | None, data: ZSLData, protocol: str) -> tuple[bool, str]:
    """(balance or not, why) for a run of ``data`` (as loaded) under ``protocol``:
    ``requested`` True/False (``--balance``/``--no-balance``) or None (the default: on for
    datasets without published settings, where a user's data has nobody's tuning)."""
    if protocol != "test":
        return False, "validation protocol"
    if requested is False:
        return False, "switched off (--no-balance)"
    enough = applies(data)
    small = f"fewer than {MIN_VALIDATION_CLASSES} validation classes to choose on"
    if requested:
        return (True, "asked (--balance)") if enough else (False, f"asked, but {small}")
    benchmark = published_settings(data)
    if benchmark is not None:
        return False, f"default: off for {benchmark}, which has published settings"
    if not enough:
        return False, f"default: {small}"
    return True, "default: on for datasets without published settings"


def applies(data: ZSLData) -> bool:
    """Whether a balanced run of ``data`` (under the test protocol) has a validation problem
    to choose on: at least :data:`MIN_VALIDATION_CLASSES` validation classes."""
    from zsl_toolkit.data.protocol import validation_classes

    try:
        _, val_classes, _, _ = validation_classes(data)
    except Exception:  # noqa: BLE001 - no usable validation protocol: nothing to choose on
        return False
    return int(val_classes.size) >= MIN_VALIDATION_CLASSES


# --------------------------------------------------------------------------- transfer rules


def training_margins(model: Any, data: ZSLData) -> np.ndarray:
    """``max seen score - max unseen score`` of ``model`` on each of its training rows: the
    scale a gamma is expressed in to carry it from one model to another."""
    spec = model.spec_
    scores = np.asarray(model.predict_scores(data.split("trainval")[0]), dtype=np.float64)
    seen = np.asarray(spec.seen_classes, dtype=np.int64)
    unseen = np.asarray(spec.unseen_classes, dtype=np.int64)
    return scores[:, seen].max(axis=1) - scores[:, unseen].max(axis=1)


def margin_scale(margins: np.ndarray) -> tuple[float, float]:
    """(location, scale) of training margins: median and interquartile range (the standard
    deviation, then 1, where the range is zero)."""
    m = np.asarray(margins, dtype=np.float64)
    q25, q50, q75 = np.percentile(m, [25, 50, 75])
    scale = float(q75 - q25)
    if not scale > 0:
        scale = float(m.std()) if m.std() > 0 else 1.0
    return float(q50), scale


def h_curve(curve: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    _, u, s = curve
    return np.where(u + s > 0, 2 * u * s / np.where(u + s > 0, u + s, 1), 0.0)


def h_on_grid(curve: tuple[np.ndarray, np.ndarray, np.ndarray], grid: np.ndarray) -> np.ndarray:
    """The curve's H at each gamma of ``grid`` (each curve point holds from its gamma on)."""
    gammas = curve[0]
    k = np.clip(np.searchsorted(gammas, grid, side="right") - 1, 0, len(gammas) - 1)
    return h_curve(curve)[k]


def h_at(inputs: Any, gamma: float) -> float:
    """Exact GZSL H of evaluation ``inputs`` (:class:`~zsl_toolkit.evaluation.base.EvalInput`)
    with ``gamma`` subtracted from the seen classes' scores."""
    from dataclasses import replace as dc_replace

    from zsl_toolkit.evaluation.gzsl import GZSLEvaluator

    seen = np.asarray(inputs.seen_classes, dtype=np.int64)
    shift = np.zeros(inputs.scores_seen.shape[1])
    shift[seen] = gamma
    shifted = dc_replace(
        inputs, scores_seen=inputs.scores_seen - shift, scores_unseen=inputs.scores_unseen - shift
    )
    return float(GZSLEvaluator().evaluate(shifted)["H"])


def plateau_on_grid(grid: np.ndarray, h: np.ndarray) -> float:
    """Median of the grid points within :data:`H_TOLERANCE` of the best H."""
    best = float(h.max())
    return float(np.median(grid[h >= best - H_TOLERANCE]))


def _grid(curves: list, transform: list) -> np.ndarray:
    points = [t(c[0][np.isfinite(c[0])]) for c, t in zip(curves, transform, strict=True)]
    return np.unique(np.concatenate(points)) if points else np.zeros(1)


def averaged_choice(profiles: list[dict[str, Any]], scaled: bool) -> float:
    """Plateau of the H curve averaged over validation models, in raw gamma or (``scaled``) in
    units of each model's training margins (then returned in those units)."""
    curves = [p["curve"] for p in profiles]
    if scaled:
        stats = [margin_scale(p["margins"]) for p in profiles]
        to_z = [lambda g, loc=loc, sc=sc: (g - loc) / sc for loc, sc in stats]
        grid = _grid(curves, to_z)
        hs = [h_on_grid(c, loc + grid * sc) for c, (loc, sc) in zip(curves, stats, strict=True)]
    else:
        grid = _grid(curves, [lambda g: g] * len(curves))
        hs = [h_on_grid(c, grid) for c in curves]
    return plateau_on_grid(grid, np.mean(hs, axis=0))


RULES = ("none", "raw", "raw-avg", "z", "z-avg", "z-vote", "z-med", "s-avg", "q-med", "cv", "cv-z")
CV_CANDIDATES = ("none", "z-avg", "raw-avg")
"""The transfers the ``cv`` rule chooses among (a tie goes to the first: no calibration)."""


def cv_scores(
    profiles: list[dict[str, Any]], candidates: tuple[str, ...] = CV_CANDIDATES
) -> dict[str, float]:
    """Each candidate transfer's mean H over the validation models, each one calibrated by the
    gamma the *other* validation models choose for it (leave one fold out): how well the
    transfer carries a choice to a model that did not take part in it."""
    out = {}
    for rule in candidates:
        hs = []
        for j, held in enumerate(profiles):
            others = profiles[:j] + profiles[j + 1 :]
            hs.append(h_at(held["inputs"], choose_gamma(rule, others, held["margins"])))
        out[rule] = float(np.mean(hs))
    return out


def cv_choice(profiles: list[dict[str, Any]], candidates: tuple[str, ...]) -> str:
    scores = cv_scores(profiles, candidates)
    return max(candidates, key=lambda r: (scores[r], -candidates.index(r)))


def choose_gamma(rule: str, profiles: list[dict[str, Any]], margins: np.ndarray) -> float:
    """The final model's gamma by ``rule`` (see ``benchmarks/study_balance_rule.py``), from the
    validation models' ``profiles`` (each: its own seen-unseen ``curve`` and training
    ``margins``) and the final model's training ``margins``."""
    loc, sc = margin_scale(margins)
    if rule == "none" or not profiles:
        return 0.0
    if rule == "raw":
        return averaged_choice(profiles[:1], scaled=False)
    if rule == "raw-avg":
        return averaged_choice(profiles, scaled=False)
    if rule == "z":
        return loc + sc * averaged_choice(profiles[:1], scaled=True)
    if rule == "z-avg":
        return loc + sc * averaged_choice(profiles, scaled=True)
    if rule == "z-vote":
        own = [loc + sc * averaged_choice([p], scaled=True) for p in profiles]
        if min(own) < 0 < max(own):
            return 0.0
        return loc + sc * averaged_choice(profiles, scaled=True)
    if rule == "z-med":
        return float(np.median([loc + sc * averaged_choice([p], scaled=True) for p in profiles]))
    if rule == "s-avg":
        own = []
        for p in profiles:
            _, sv = margin_scale(p["margins"])
            own.append(averaged_choice([p], scaled=False) * sc / sv)
        return float(np.median(own))
    if rule == "q-med":
        own = []
        m_f = np.sort(np.asarray(margins))
        for p in profiles:
            g = averaged_choice([p], scaled=False)
            m_v = np.sort(np.asarray(p["margins"]))
            q = float(np.mean(m_v < g))
            if 0 < q < 1:
                own.append(float(np.quantile(m_f, q)))
            else:
                lv, sv = margin_scale(m_v)
                own.append(loc + sc * (g - lv) / sv)
        return float(np.median(own))
    if rule in ("cv", "cv-z"):
        if len(profiles) < 2:
            return 0.0
        candidates = CV_CANDIDATES if rule == "cv" else ("none", "z-avg")
        return choose_gamma(cv_choice(profiles, candidates), profiles, margins)
    raise ValueError(f"unknown rule {rule!r}")


RULE = "z-vote"
"""The rule :func:`decide_gamma` applies (chosen in ``benchmarks/results/balance_rule.md``)."""


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
    gamma = choose_gamma(RULE, profiles, margins)
    gamma = gamma if math.isfinite(gamma) else 0.0
    loc, sc = margin_scale(margins)
    return {
        "gamma": gamma,
        "rule": RULE,
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
