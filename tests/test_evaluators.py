"""Evaluators against cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from zsl_toolkit.evaluation.base import EvalInput
from zsl_toolkit.evaluation.calibrated import CalibratedStackingEvaluator, seen_unseen_curve
from zsl_toolkit.evaluation.gzsl import GZSLEvaluator
from zsl_toolkit.evaluation.zsl import ZSLEvaluator

# Classes 0, 2 are seen; 1, 3 unseen (deliberately interleaved).
SEEN = np.array([0, 2])
UNSEEN = np.array([1, 3])


def _case() -> EvalInput:
    # test_seen: three samples of class 0, one of class 2.
    scores_seen = np.array(
        [
            [5.0, 1.0, 0.0, 0.0],  # class 0 -> predicted 0 (correct); seen-unseen gap 4
            [2.0, 3.0, 0.0, 0.0],  # class 0 -> predicted 1 (wrong);   gap -1
            [4.0, 0.0, 0.0, 3.5],  # class 0 -> predicted 0 (correct); gap 0.5
            [0.0, 0.0, 2.0, 1.0],  # class 2 -> predicted 2 (correct); gap 1
        ]
    )
    labels_seen = np.array([0, 0, 0, 2])
    # test_unseen: two of class 1, one of class 3.
    scores_unseen = np.array(
        [
            [1.0, 3.0, 0.0, 0.0],  # class 1 -> 1 (correct); gap -2
            [3.0, 2.0, 0.0, 0.0],  # class 1 -> 0 (wrong); best unseen is 1 (correct); gap 1
            [0.0, 4.0, 0.0, 2.0],  # class 3 -> 1 (wrong); best unseen 1 (wrong); gap -4
        ]
    )
    labels_unseen = np.array([1, 1, 3])
    return EvalInput(scores_seen, labels_seen, scores_unseen, labels_unseen, SEEN, UNSEEN)


def test_gzsl_by_hand():
    out = GZSLEvaluator().evaluate(_case())
    # S: class 0 -> 2/3, class 2 -> 1/1; mean 5/6. U: class 1 -> 1/2, class 3 -> 0; mean 1/4.
    assert out["S"] == pytest.approx(5 / 6)
    assert out["U"] == pytest.approx(1 / 4)
    assert out["H"] == pytest.approx(2 * (5 / 6) * (1 / 4) / (5 / 6 + 1 / 4))
    assert out["per_class"] == {"0": pytest.approx(2 / 3), "1": 0.5, "2": 1.0, "3": 0.0}


def test_zsl_t1_restricts_argmax_to_unseen():
    out = ZSLEvaluator().evaluate(_case())
    # Among unseen classes {1, 3}: all three unseen samples predict class 1 -> class 1: 2/2,
    # class 3: 0/1; T1 = 1/2.
    assert out["T1"] == pytest.approx(0.5)


def test_calibrated_curve_endpoints_and_breakpoints():
    gammas, u, s = seen_unseen_curve(_case())
    # gamma = -inf: everything predicted among seen classes -> U = 0; S: class 0 samples all
    # best-seen correct (3/3), class 2 correct -> S = 1.
    assert gammas[0] == -np.inf
    assert u[0] == pytest.approx(0.0) and s[0] == pytest.approx(1.0)
    # Above every gap: everything predicted among unseen: S = 0; U: class 1 -> 2/2, class 3 -> 0.
    assert u[-1] == pytest.approx(0.5) and s[-1] == pytest.approx(0.0)
    # Distinct gaps: -4, -2, -1, 0.5, 1 (two samples), 4 -> 6 switch points + the -inf point.
    assert len(u) == 7
    # At gamma = 0 (between -1 and 0.5) the curve must equal plain GZSL argmax.
    k = int(np.searchsorted(gammas, 0.0)) - 1
    g = GZSLEvaluator().evaluate(_case())
    assert u[k] == pytest.approx(g["U"]) and s[k] == pytest.approx(g["S"])


def test_calibrated_ausuc_and_best_h_by_hand():
    out = CalibratedStackingEvaluator().evaluate(_case())
    # Curve points (U, S) in gamma order, worked out per switch:
    # -inf: (0, 1); >-4: class-3 sample switches, still wrong -> (0, 1);
    # >-2: first class-1 sample becomes correct: U = 1/2 * 1/2 = 1/4 -> (1/4, 1);
    # >-1: class-0 wrong sample switches (stays wrong) -> (1/4, 1);
    # >0.5: class-0 correct sample (gap .5) switches to unseen, wrong: S = (1/3*... ) -> class 0
    #       1/3 correct, class 2 1 -> S = 2/3 -> (1/4, 2/3);
    # >1: class-2 sample switches (wrong) and second class-1 sample becomes correct:
    #     S = (1/3 + 0)/2 = 1/6, U = 1/2 -> (1/2, 1/6);
    # >4: last class-0 sample switches -> S = 0 -> (1/2, 0).
    u = np.array([0, 0, 0.25, 0.25, 0.25, 0.5, 0.5])
    s = np.array([1, 1, 1, 1, 2 / 3, 1 / 6, 0])
    area = sum((u[i + 1] - u[i]) * (s[i + 1] + s[i]) / 2 for i in range(6))
    assert out["AUSUC"] == pytest.approx(area)
    h = [2 * a * b / (a + b) if a + b else 0 for a, b in zip(u, s, strict=True)]
    assert out["H"] == pytest.approx(max(h))
    assert out["U"] == pytest.approx(0.25) and out["S"] == pytest.approx(1.0)
    # The chosen gamma lies between the switch points -1 and 0.5 that bound the (1/4, 1) point.
    assert -2 < out["gamma"] < 0.5


def test_calibrated_matches_brute_force_on_random_scores():
    rng = np.random.default_rng(3)
    seen, unseen = np.array([0, 3, 4, 6]), np.array([1, 2, 5])
    ls = rng.choice(seen, 60)
    lu = rng.choice(unseen, 40)
    data = EvalInput(rng.normal(size=(60, 7)), ls, rng.normal(size=(40, 7)), lu, seen, unseen)
    gammas, u, s = seen_unseen_curve(data)
    gz = GZSLEvaluator()
    for g, uu, ss in zip(gammas[1:], u[1:], s[1:], strict=True):
        shift = np.zeros(7)
        shift[seen] = g
        shifted = EvalInput(
            data.scores_seen - shift, ls, data.scores_unseen - shift, lu, seen, unseen
        )
        ref = gz.evaluate(shifted)
        assert ref["U"] == pytest.approx(uu) and ref["S"] == pytest.approx(ss)
