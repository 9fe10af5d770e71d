"""How a calibration gamma chosen on validation models is carried over to another model.

Calibrated stacking (Chao, Changpinyo, Gong and Sha, ECCV 2016) subtracts a gamma from the
seen classes' scores. A gamma is in the units of one model's scores: the validation models
that choose it are trained on fewer classes than the final model, and on small image sets
their best gamma often had the other sign from the one the final model needed. The rules here
(``benchmarks/study_balance_rule.py`` compares them on nested class folds of validation data
only; ``benchmarks/results/balance_rule.md``) differ in the units a choice travels in:

- raw gamma (``raw``: one validation model; ``raw-avg``: the plateau of the validation H curve
  averaged over the folds);
- units of each model's *training margins* (``max seen score - max unseen score`` on its own
  training rows), location and scale (``z``, ``z-avg``, ``z-med``, ``z-vote``), scale only
  (``s-avg``), or quantiles (``q-med``);
- ``cv``: chooses among ``none``, ``z-avg`` and ``raw-avg`` by leave-one-fold-out: each
  validation model is calibrated by what the *other* folds choose for it, and the transfer with
  the best mean H there wins (a tie: no calibration). The other ``cv-*`` vary the candidates.

Each choice is the median gamma of the near-best plateau (within :data:`H_TOLERANCE`), the
middle of a plateau rather than the edge of one lucky point.

A *profile* of a validation model is a dict: ``curve`` (the exact seen-unseen curve of
:func:`zsl_toolkit.evaluation.calibrated.seen_unseen_curve` on its fold), ``inputs`` (its
:class:`~zsl_toolkit.evaluation.base.EvalInput` there) and ``margins`` (its training margins).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zsl_toolkit.data.container import ZSLData

H_TOLERANCE = 0.01
"""Gammas within this much validation H (a fraction) of the best form the plateau."""


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
    from zsl_toolkit.evaluation.metrics import harmonic_means

    _, u, s = curve
    return harmonic_means(u, s)


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


RULES = (
    "none",
    "raw",
    "raw-avg",
    "z",
    "z-avg",
    "z-vote",
    "z-med",
    "s-avg",
    "q-med",
    "cv",
    "cv-z",
    "cv-all",
    "cv-sq",
)
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
    if rule in ("cv", "cv-z", "cv-all", "cv-sq"):
        if len(profiles) < 2:
            return 0.0
        candidates = {
            "cv": CV_CANDIDATES,
            "cv-z": ("none", "z-avg"),
            "cv-all": ("none", "z-avg", "raw-avg", "s-avg", "q-med"),
            "cv-sq": ("none", "s-avg", "q-med"),
        }[rule]
        return choose_gamma(cv_choice(profiles, candidates), profiles, margins)
    raise ValueError(f"unknown rule {rule!r}")
