"""Test-protocol runs with calibrated stacking whose gamma was chosen on validation.

Why: a GZSL model whose representation transfers well can still lose H because its final
classifier leans to the seen classes. Calibrated stacking (Chao, Changpinyo, Gong and Sha,
ECCV 2016) subtracts a constant from the seen classes' scores; chosen on the validation
protocol (never on test) it is a fair deployment-time correction, the one ``zsl calibrate
--validation-run`` stores in a run. This script applies it to every completed test-protocol
trial of the given sweeps, pairing each with the ``--protocol val`` trial of ``VAL_SWEEP``
that has the same method, parameters and epochs (``zsl calibrate`` requires the first two), and writes one
markdown table: uncalibrated U/S/H, the validation-chosen gamma, and calibrated U/S/H on test.

Usage (after the sweeps ran):
    python benchmarks/dvae_calibration.py sweeps/cub_val_full sweeps/cub_test_full_b \
        sweeps/cub_test_full_c benchmarks/results/dvae/study_cub_calibrated.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from zsl_toolkit.editing.calibrate import validation_gamma
from zsl_toolkit.pipeline import evaluate
from zsl_toolkit.rundir import load_run, load_run_data, read_record

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_report  # noqa: E402

#: Parameters shown to tell rows apart (the rest are equal across a study's rows).
SHOWN = ("disentangle", "gamma", "attribute_dispersing")


def trials(sweep_dir: Path) -> list[Path]:
    """Completed trial directories of a sweep (those with metrics written)."""
    return sorted(p.parent for p in (sweep_dir / "trials").glob("*/metrics.json"))


def label(record: dict[str, Any]) -> str:
    """The row's name: method and the distinguishing parameters as the run resolved them."""
    params = {**(record.get("params") or {}), **(record.get("resolved_params") or {})}
    if params.get("disentangle") is False:
        return f"{record['method']} base"
    shown = ", ".join(f"{k}={params.get(k)}" for k in SHOWN[1:])
    return f"{record['method']} ({shown})"


def pct(value: float) -> str:
    return f"{100 * value:.2f}"


_GAMMAS: dict[Path, dict[str, Any]] = {}


def _chosen_gamma(val_dir: Path, record: dict[str, Any]) -> dict[str, Any]:
    """:func:`validation_gamma` of ``val_dir``, evaluated once however many test runs share it
    (the pairing above already guarantees the method and parameters agree)."""
    if val_dir not in _GAMMAS:
        _GAMMAS[val_dir] = validation_gamma(val_dir, record)
    return _GAMMAS[val_dir]


def row(test_dir: Path, val_dirs: list[Path], root: str | None) -> list[str] | None:
    """One table row for ``test_dir``, or None when no validation trial matches it."""
    record = read_record(test_dir)
    if record.get("protocol", "test") != "test":
        return None
    match = [
        v
        for v in val_dirs
        if (r := read_record(v)).get("method") == record.get("method")
        and r.get("params") == record.get("params")
        and (r.get("train") or {}).get("epochs") == (record.get("train") or {}).get("epochs")
    ]
    if not match:
        return None
    chosen = _chosen_gamma(match[0], record)
    result = load_run(test_dir)
    data = load_run_data(record, root)
    plain = json.loads((test_dir / "metrics.json").read_text())
    result.method.calibration_gamma_ = chosen["gamma"]
    calibrated = evaluate(result.method, data, ("gzsl",))["gzsl"]
    gz, oracle = plain["gzsl"], plain["calibrated"]
    return [
        label(record),
        str((record.get("train") or {}).get("seed")),
        pct(gz["U"]),
        pct(gz["S"]),
        pct(gz["H"]),
        f"{chosen['gamma']:.4g}",
        pct(chosen["validation_H"]),
        pct(calibrated["U"]),
        pct(calibrated["S"]),
        pct(calibrated["H"]),
        pct(oracle["H"]),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("val_sweep", type=Path, help="Sweep run with --protocol val.")
    parser.add_argument("test_sweeps", type=Path, nargs="+", help="Test-protocol sweeps.")
    parser.add_argument("output", type=Path)
    parser.add_argument("--data-root", default=None, help="Where the trials' data now live.")
    args = parser.parse_args(argv)
    for sweep in (args.val_sweep, *args.test_sweeps):
        if not (sweep / "sweep.json").is_file():
            print(f"error: {sweep} is not a sweep directory (no sweep.json)", file=sys.stderr)
            return 2
    val_dirs = [d for d in trials(args.val_sweep) if read_record(d).get("protocol") == "val"]
    head = [
        "row",
        "seed",
        "U",
        "S",
        "H",
        "gamma (val)",
        "val H calibrated",
        "U calibrated",
        "S calibrated",
        "H calibrated",
        "H oracle calibration",
    ]
    lines = [
        "# Test runs with calibrated stacking chosen on validation",
        "",
        f"Generated by `python benchmarks/dvae_calibration.py {args.val_sweep} "
        f"{' '.join(map(str, args.test_sweeps))} {args.output}`. Each test-protocol run is",
        "paired with the validation-protocol run of the same method, parameters and epochs in "
        f"`{args.val_sweep}`;",
        "gamma is the calibrated-stacking constant with the best H on that run's validation",
        "classes, subtracted from the test run's seen-class scores. U/S/H in % on the test",
        "splits; the last column is the best H over all gamma on test (an oracle, for reference",
        "only, never a choice).",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    found = 0
    for sweep in args.test_sweeps:
        for test_dir in trials(sweep):
            cells = row(test_dir, val_dirs, args.data_root)
            if cells is not None:
                lines.append("| " + " | ".join(cells) + " |")
                found += 1
    if not found:
        print("error: no test-protocol trial has a matching validation trial", file=sys.stderr)
        return 2
    write_report(lines, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
