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
import json
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


def profile(model, data) -> dict:
    """What a rule may use of a trained model: its curve on its own validation problem and
    its margins on its own training rows."""
    from zsl_toolkit.calibration_transfer import training_margins
    from zsl_toolkit.evaluation.calibrated import seen_unseen_curve
    from zsl_toolkit.evaluation.scoring import evaluation_input

    spec = model.spec_
    inputs = evaluation_input(model, data, (spec.seen_classes, spec.unseen_classes))
    gammas, u, s = seen_unseen_curve(inputs)
    return {"curve": (gammas, u, s), "margins": training_margins(model, data), "inputs": inputs}


def main() -> None:
    from zsl_toolkit.calibration_transfer import RULES, choose_gamma, h_at
    from zsl_toolkit.data.resolve import load_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--sets", default="digits,shapes,textures")
    parser.add_argument("--methods", default="eszsl,ale,devise")
    parser.add_argument("--outer", type=int, default=3)
    parser.add_argument("--inner", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--profiles", type=Path, default=None, help="Keep each model's profile here (pickle)."
    )
    args = parser.parse_args()
    rows = []
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
                    final = profile(trained(method, outer, Path(tmp)), outer)
                    inners = [profile(trained(method, d, Path(tmp)), d) for d in inner_data]
                gammas, u, s = final["curve"]
                h = np.where(u + s > 0, 2 * u * s / np.where(u + s > 0, u + s, 1), 0.0)
                oracle = float(h.max())
                row = {
                    "set": kind,
                    "outer": o,
                    "method": method,
                    "oracle": oracle,
                    "seconds": round(time.perf_counter() - start, 1),
                }
                for rule in RULES:
                    g = choose_gamma(rule, inners, final["margins"])
                    row[rule] = h_at(final["inputs"], g)
                    row[f"{rule}_gamma"] = g
                rows.append(row)
                if args.profiles:
                    keep = {"final": final, "inners": inners, "row": row}
                    name = f"{kind}-{o}-{method}.pkl"
                    args.profiles.mkdir(parents=True, exist_ok=True)
                    (args.profiles / name).write_bytes(pickle.dumps(keep))
                print(
                    json.dumps(
                        {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}
                    ),
                    flush=True,
                )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    summarize(rows)


def summarize(rows: list) -> None:
    from zsl_toolkit.calibration_transfer import RULES

    print("| rule | mean H/oracle | min | runs >= 0.9 | worse than none by > 1 pt |")
    for rule in RULES:
        r = np.array([x[rule] / x["oracle"] if x["oracle"] > 0 else 1.0 for x in rows])
        worse = sum(x[rule] < x["none"] - 0.01 for x in rows)
        print(
            f"| {rule} | {r.mean():.3f} | {r.min():.3f} | {(r >= 0.9).sum()}/{r.size} | {worse} |"
        )


if __name__ == "__main__":
    main()
