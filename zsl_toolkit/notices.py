"""Notices a person should not miss after training or evaluating: one line each, on stderr.

A GZSL result whose unseen and seen accuracies differ by more than :data:`IMBALANCE` times is
a model answering mostly one side; its H says little about what a calibration would give,
and the fix is usually a calibration, not another method. The notice says which side
dominates and what to run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zsl_toolkit.runs.record import RunRecord

IMBALANCE = 2.0


def imbalance_notice(
    metrics: dict[str, Any], run_dir: str | Path | None, record: RunRecord
) -> str | None:
    """``notice: ...`` when gzsl U and S differ by more than IMBALANCE times, else None."""
    gzsl = metrics.get("gzsl") or {}
    u, s = gzsl.get("U"), gzsl.get("S")
    if not isinstance(u, float | int) or not isinstance(s, float | int):
        return None
    low, high = sorted((float(u), float(s)))
    if high <= IMBALANCE * low:
        return None
    side = "seen" if s > u else "unseen"
    run = str(run_dir) if run_dir is not None else "RUN"
    calibration = record.calibration or {}
    if record.protocol == "val":
        advice = "a validation run: its calibrated evaluator shows the balance a gamma gives"
    elif record.extra.get("balancing") and not calibration:
        advice = (
            f"balancing kept no calibration (its validation folds disagreed); see `zsl "
            f"evaluate {run} --per-class` and try `zsl calibrate {run} --gamma G`"
        )
    elif calibration.get("chosen_on") == "validation":
        advice = (
            f"the gamma chosen on validation did not carry over; see `zsl evaluate {run} "
            f"--per-class` and try more epochs (--epochs) or `zsl calibrate {run} --gamma G`"
        )
    else:
        advice = (
            f"run `zsl calibrate {run} --target validation` to balance it, or train with --balance"
        )
    return (
        f"notice: U {100 * float(u):.1f}% and S {100 * float(s):.1f}% differ by more than "
        f"{IMBALANCE:g}x (predictions favour {side} classes); {advice}"
    )
