"""The default ``zsl train`` (balanced, as for every own-image store) on small image sets of
one's own: does the calibration it chooses on validation class folds come close to the best
calibration of the same model, and does DVAE beat ESZSL?

Three generated image folders of different kinds (no download): scikit-learn's digits
(``zsl_images.digits_folder``), colour x shape drawings and textures
(``zsl_images.generated_folders``). Each is extracted once with ``zsl extract``'s defaults
(EfficientNet-Lite0; seen/unseen from the folder's ``unseen.txt``), then every method is
trained with ``zsl train``'s defaults (no ``--epochs``, no ``-p``, no ``--balance``: an
own-image store is balanced by default): the calibration is chosen on validation class folds
as part of training (``zsl_toolkit.balance``).

Per run the table gives the balanced run's U/S/H (test protocol, with the gamma chosen on
validation, if any), the oracle H (the ``calibrated`` evaluator's best H over every gamma, chosen ON
TEST: a reference figure only, never used to choose anything), their ratio, and the H the
same model has without calibration.

    python benchmarks/bench_own_images.py --work /tmp/own        # all sets, all methods
    python benchmarks/bench_own_images.py --work /tmp/own --methods eszsl,dvae --sets shapes

Runs already complete in the work folder are read back, not retrained (so an interrupted
benchmark resumes).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _common import cpu_name, fmt_load, load_average, write_report

SETS = ("digits", "shapes", "textures")
METHODS = ("eszsl", "devise", "ale", "cada-vae", "dvae", "f-clswgan")
PER_CLASS = {"digits": 40, "shapes": 30, "textures": 30}
GOAL = 0.9


def make_store(kind: str, work: Path) -> Path:
    """The set's folder and its store (made once)."""
    from zsl_images.extract import extract
    from zsl_images.semantics import read_attributes
    from zsl_images.splits import read_unseen

    folder = work / kind
    store = work / f"{kind}.h5"
    if store.is_file():
        return store
    if not (folder / "attributes.csv").is_file():
        if kind == "digits":
            from zsl_images.digits_folder import write_digits_folder

            write_digits_folder(folder, per_class=PER_CLASS[kind])
        else:
            from zsl_images.generated_folders import write_generated_folder

            write_generated_folder(kind, folder, per_class=PER_CLASS[kind])
    start = time.perf_counter()
    extract(
        folder / "images",
        store,
        read_attributes(folder / "attributes.csv"),
        unseen=read_unseen(folder / "unseen.txt"),
    )
    print(f"extracted {kind} in {time.perf_counter() - start:.0f} s", flush=True)
    return store


def run_one(method: str, store: Path, out: Path, train_missing: bool = True) -> dict | None:
    """Metrics of the balanced run (trained unless already complete; None when it is not
    complete and ``train_missing`` is off)."""
    from zsl_toolkit.pipeline import train
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.training import TrainConfig

    metrics_file = out / "metrics.json"
    if metrics_file.is_file() and (out / "run.json").is_file():
        record = json.loads((out / "run.json").read_text())
        balancing = (out / "validation").is_dir() and "balancing" not in record
        if record.get("status") == "complete" and not balancing:
            return {"metrics": json.loads(metrics_file.read_text()), "record": record}
    if not train_missing:
        return None
    start = time.perf_counter()
    config = TrainConfig(device="cpu", quiet=True)
    result = train(RunSettings(method, str(store), config=config), out=out)  # the default
    if not result.config.get("balance"):
        raise SystemExit(
            f"{out}: the default did not balance ({result.config.get('balance_reason')})"
        )
    seconds = time.perf_counter() - start
    result.metrics["wall_seconds"] = round(seconds, 1)
    (out / "metrics.json").write_text(json.dumps(result.metrics, indent=1))
    return {"metrics": result.metrics, "record": result.config}


def worse_than_uncalibrated(res: dict) -> bool:
    m = res["metrics"]
    raw = (m.get("uncalibrated") or {}).get("gzsl", m["gzsl"])
    return m["gzsl"]["H"] < raw["H"]


def row(kind: str, method: str, res: dict) -> tuple[str, float, float]:
    m, record = res["metrics"], res["record"]
    g = m["gzsl"]
    oracle = m["calibrated"]["H"]
    raw = (m.get("uncalibrated") or {}).get("gzsl", g)
    decision = record.get("balancing") or {}
    gamma = f"{decision['gamma']:.3g} ({decision['transfer']})" if decision else "off"
    ratio = g["H"] / oracle if oracle > 0 else float("nan")
    seconds = m.get("wall_seconds", m.get("train_seconds", 0))
    line = (
        f"| {kind} | {method} | {100 * g['U']:.1f} | {100 * g['S']:.1f} | {100 * g['H']:.1f} | "
        f"{100 * oracle:.1f} | {ratio:.2f} | {'met' if ratio >= GOAL else 'NOT met'} | "
        f"{100 * raw['U']:.1f} / {100 * raw['S']:.1f} / {100 * raw['H']:.1f} | {gamma} | "
        f"{seconds:.0f} |"
    )
    return line, g["H"], ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="Folder for sets and runs.")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "own_images.md"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="Tabulate the runs already complete in WORK; train nothing (others: not run).",
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    load_before = load_average()
    lines = []
    h_of: dict[tuple[str, str], float] = {}
    met, worse = 0, []
    for kind in args.sets.split(","):
        store = args.work / f"{kind}.h5" if args.report_only else make_store(kind, args.work)
        for method in args.methods.split(","):
            out = args.work / "runs" / f"{kind}-{method}"
            res = run_one(method, store, out, train_missing=not args.report_only)
            if res is None:
                lines.append(f"| {kind} | {method} | not finished (time) | | | | | | | | |")
                continue
            line, h, ratio = row(kind, method, res)
            h_of[(kind, method)] = h
            met += ratio >= GOAL
            if worse_than_uncalibrated(res):
                worse.append(f"{method} on {kind}")
            print(line, flush=True)
            lines.append(line)
    verdicts = []
    for kind in args.sets.split(","):
        if (kind, "dvae") in h_of and (kind, "eszsl") in h_of:
            d, e = h_of[(kind, "dvae")], h_of[(kind, "eszsl")]
            verdicts.append(
                f"- {kind}: DVAE H {100 * d:.1f} vs ESZSL {100 * e:.1f}: "
                f"{'DVAE beats ESZSL' if d > e else 'DVAE does NOT beat ESZSL'}"
            )
    report = [
        "# Own image sets: the default `zsl train` (balanced on validation folds) vs the oracle "
        "calibration "
        "of the same run",
        "",
        "Sets (generated offline, extracted with `zsl extract` defaults, EfficientNet-Lite0): "
        "digits (scikit-learn's digits, 10 classes, 3 unseen, 40 images each), shapes "
        "(5 colours x 4 shapes, 4 unseen, 30 each), textures (4 patterns x 2 scales x 2 "
        "palettes, 4 unseen, 30 each). Balanced = `zsl train -m METHOD -d SET.h5`, the default (an own-image store is balanced) "
        "with nothing else: the calibration chosen on three validation class folds during "
        "training (rule `cv` of `zsl_toolkit.calibration_transfer`). Oracle H = best H over every calibration gamma, chosen on the test "
        "split (reference only). Goal: balanced H >= 0.9 x oracle H.",
        "",
        "| set | method | U | S | H (balanced) | oracle H | H / oracle | goal | "
        "uncalibrated U / S / H | gamma (transfer) | wall s |",
        "|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|",
        *lines,
        "",
        *verdicts,
        "",
        f"Goal met in {met} of {len(h_of)} measured runs. Balanced H below uncalibrated H in "
        f"{len(worse)}: {', '.join(worse) or 'none'}.",
        "",
        f"Machine: {cpu_name()}, {__import__('os').cpu_count()} cores, shared; load average "
        f"{fmt_load(load_before)} before, {fmt_load(load_average())} after. One seed (0).",
        f"Command: `python benchmarks/bench_own_images.py --work WORK --sets {args.sets} "
        f"--methods {args.methods}`{' (then --report-only to tabulate)' if args.report_only else ''}.",
    ]
    write_report(report, args.out)


if __name__ == "__main__":
    main()
