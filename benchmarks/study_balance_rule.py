"""Choosing the automatic balancing rule on validation data only (nested class folds).

The balancing of ``zsl train`` calibrates a final model with a gamma chosen on one or more
*validation* models (same configuration, trained on fewer classes). Which way of carrying
that choice over to the final model works? This study answers it without the test classes:

- outer problems: the seen (trainval) classes are split into class folds; each fold in turn
  plays unseen, the rest are seen (20% of their images held out). The model trained on the
  rest stands in for the final model, and its curve on the fold is the "test" we score on;
- inner problems: inside each outer problem's seen classes, class folds again, each trained
  as a validation model. Only they may choose the gamma of the outer model.

Rules (``zsl_toolkit.balance`` implements the one chosen):

- ``none``: no calibration;
- ``raw``: the validation model's plateau gamma as is (the first inner fold; the earlier rule);
- ``raw-avg``: plateau of the validation H curve averaged over the inner folds, raw gamma;
- ``z``/``z-avg``: gamma in units of the model's own margins on its training features
  (``(gamma - median) / IQR`` of ``max seen score - max unseen score`` over the training rows),
  mapped onto the outer model's margins; one inner fold, or the curve averaged over folds;
- ``z-vote``: ``z-avg``, but no calibration when the inner folds' own best gammas, mapped onto
  the outer model, disagree in sign.

Scored per outer problem: H at the rule's gamma / the outer model's best H over every gamma,
and against H uncalibrated. The outer folds are all validation data (test classes are never
loaded into any problem).

    python benchmarks/study_balance_rule.py --work /tmp/own --sets digits,shapes,textures \
        --methods eszsl,ale,devise
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np

FOLD_FRACTION = 0.3
SEED = 7


def folds(classes: np.ndarray, size: int, count: int, rng: np.random.Generator) -> list:
    """``count`` class folds of ``size`` (disjoint while the classes last, then reshuffled)."""
    out: list[np.ndarray] = []
    pool = list(rng.permutation(classes))
    while len(out) < count:
        if len(pool) < size:
            pool = list(rng.permutation(classes))
        out.append(np.sort(np.array(pool[:size])))
        pool = pool[size:]
    return out


def restrict(data, seen: np.ndarray, unseen: np.ndarray):
    """The problem with ``seen`` trained on (20% of their images held out) and ``unseen``,
    from the images the validation protocol draws on (never the test split's)."""
    from zsl_toolkit.data.protocol import fold_problem

    return fold_problem(data, seen, unseen)


def trained(method: str, data, work: Path):
    from zsl_toolkit.pipeline import train
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.training import TrainConfig

    out = Path(tempfile.mkdtemp(dir=work))
    config = TrainConfig(device="cpu", quiet=True)
    settings = RunSettings(method, "study", config=config, evaluators=("gzsl",), balance=False)
    return train(settings, out=out / "run", data=data).method


def train_profiles(args: argparse.Namespace) -> None:
    """Train every outer and inner model and keep their profiles (one pickle per outer
    problem and method in ``args.profiles``)."""
    from zsl_toolkit.balance import profile
    from zsl_toolkit.data.resolve import load_dataset

    args.profiles.mkdir(parents=True, exist_ok=True)
    for kind in args.sets.split(","):
        data = load_dataset(str(args.work / f"{kind}.h5"))
        seen = data.seen_classes
        rng = np.random.default_rng(SEED)
        size = max(2, round(FOLD_FRACTION * seen.size))
        for o, fold in enumerate(folds(seen, size, args.outer, rng)):
            rest = np.setdiff1d(seen, fold)
            outer = restrict(data, rest, fold)
            inner_size = max(2, round(FOLD_FRACTION * rest.size))
            inner_folds = folds(rest, inner_size, args.inner, np.random.default_rng(SEED + o))
            inner_data = [restrict(data, np.setdiff1d(rest, f), f) for f in inner_folds]
            for method in args.methods.split(","):
                start = time.perf_counter()
                with tempfile.TemporaryDirectory() as tmp:
                    final = profile(trained(method, outer, Path(tmp)), outer)  # the stand-in
                    inners = [profile(trained(method, d, Path(tmp)), d) for d in inner_data]
                row = {"set": kind, "outer": o, "method": method}
                row["seconds"] = round(time.perf_counter() - start, 1)
                keep = {"final": final, "inners": inners, "row": row}
                (args.profiles / f"{kind}-{o}-{method}.pkl").write_bytes(pickle.dumps(keep))
                print(f"{kind} outer fold {o} {method}: {row['seconds']} s", flush=True)


def score(profiles: Path) -> list[dict]:
    """Every rule's H on every outer problem (from the kept profiles; no training)."""
    from zsl_toolkit.calibration_transfer import RULES, choose_gamma, h_at, h_curve

    rows = []
    for path in sorted(profiles.glob("*.pkl")):
        kept = pickle.loads(path.read_bytes())
        final, row = kept["final"], dict(kept["row"])
        row["oracle"] = float(h_curve(final["curve"]).max())
        for rule in RULES:
            row[rule] = h_at(final["inputs"], choose_gamma(rule, kept["inners"], final["margins"]))
        rows.append(row)
    return rows


def ratios(rows: list[dict], rule: str) -> np.ndarray:
    return np.array([x[rule] / x["oracle"] if x["oracle"] > 0 else 1.0 for x in rows])


def choose_rule(rows: list[dict]) -> str:
    """The rule with the highest mean H / oracle (ties within 0.001: fewer runs worse than
    no calibration, then the earlier listed)."""
    from zsl_toolkit.calibration_transfer import RULES

    means = {rule: float(ratios(rows, rule).mean()) for rule in RULES}
    best = max(means.values())
    tied = [rule for rule in RULES if means[rule] >= best - 0.001]
    return min(tied, key=lambda r: (sum(x[r] < x["none"] - 0.01 for x in rows), RULES.index(r)))


def table(rows: list[dict]) -> list[str]:
    from zsl_toolkit.calibration_transfer import RULES

    out = [
        "| rule | mean H / oracle | median | min | runs >= 0.9 | worse than uncalibrated by > 1 pt |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for rule in RULES:
        r = np.array([x[rule] / x["oracle"] if x["oracle"] > 0 else 1.0 for x in rows])
        worse = sum(x[rule] < x["none"] - 0.01 for x in rows)
        out.append(
            f"| {rule} | {r.mean():.3f} | {np.median(r):.3f} | {r.min():.3f} | "
            f"{(r >= 0.9).sum()}/{r.size} | {worse} |"
        )
    return out


def per_run(rows: list[dict]) -> list[str]:
    from zsl_toolkit.calibration_transfer import RULES

    out = [
        "| set | outer fold | method | oracle H | " + " | ".join(RULES) + " |",
        "|---|---:|---|---:|" + "---:|" * len(RULES),
    ]
    for x in sorted(rows, key=lambda x: (x["set"], x["method"], x["outer"])):
        ratios = [f"{x[r] / x['oracle']:.2f}" if x["oracle"] > 0 else "-" for r in RULES]
        out.append(
            f"| {x['set']} | {x['outer']} | {x['method']} | {100 * x['oracle']:.1f} | "
            + " | ".join(ratios)
            + " |"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="Holds SET.h5 stores.")
    parser.add_argument("--sets", default="digits,shapes,textures")
    parser.add_argument("--methods", default="eszsl,ale,devise")
    parser.add_argument("--outer", type=int, default=3)
    parser.add_argument("--inner", type=int, default=3)
    parser.add_argument("--profiles", type=Path, default=None, help="Default: WORK/profiles.")
    parser.add_argument(
        "--rescore", action="store_true", help="Score the kept profiles only (no training)."
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "balance_rule.md"
    )
    args = parser.parse_args()
    args.profiles = args.profiles or args.work / "profiles"
    if not args.rescore:
        train_profiles(args)
    rows = score(args.profiles)
    choose = [x for x in rows if x["outer"] < args.outer - 1]
    check = [x for x in rows if x["outer"] == args.outer - 1]
    chosen = choose_rule(choose)
    report = [
        "# Choosing the balancing rule on validation data (nested class folds)",
        "",
        f"Sets: {args.sets} (the own-image stores of `bench_own_images.py`); methods: "
        f"{args.methods}; {args.outer} outer class folds per set, {args.inner} inner folds "
        "each. Every number here is H on an *outer* problem: its seen classes are the store's "
        "trainval classes minus one outer fold, the outer fold plays unseen, and only the "
        "images the validation protocol draws on are used (the test classes and the test "
        "split's images never enter). Ratios are H at the rule's gamma over the outer model's "
        "best H over every gamma; 'worse' counts runs more than 1 point below no calibration.",
        "",
        f"## Choice: outer folds 0 to {args.outer - 2} ({len(choose)} runs)",
        "",
        *table(choose),
        "",
        f"Chosen on these folds: the highest mean H / oracle (a "
        f"tie within 0.001 going to fewer runs worse than uncalibrated, then to the earlier "
        f"listed): **{chosen}**.",
        "",
        f"## Check: outer fold {args.outer - 1} ({len(check)} runs), not used to choose",
        "",
        *table(check),
        "",
        f"## All {len(rows)} runs",
        "",
        *table(rows),
        "",
        "## Per run (H / oracle)",
        "",
        *per_run(rows),
        "",
        f"Command: `python benchmarks/study_balance_rule.py --work WORK --sets {args.sets} "
        f"--methods {args.methods}`; one seed (0), CPU.",
    ]
    from _common import write_report

    write_report(report, args.out)


if __name__ == "__main__":
    main()
