"""Leave-classes-out: is adding a class with ``zsl add-class`` as good as training with it?

For each dataset, method and seed: withhold ``k`` unseen classes from the dataset entirely
(images and attribute vectors; written as an HDF5 store), train on the rest, then add the
withheld classes back from their attribute vectors with :func:`zsl_toolkit.editing.add_classes`
and evaluate the edited model on the full dataset's test splits (classes matched by name).
Compare with a model trained on the full dataset from the start (same store format, seed and
settings). Reports U/S/H of both, the H difference and the edit's time as a share of the
withheld run's training time.

    .venv/bin/python benchmarks/bench_class_editing.py --datasets synthetic --epochs 10 \
        --param cada-vae:classifier_epochs=10 ...   # writes results/class_editing_synthetic.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu_name, fmt_load, load_average, write_report  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SNU36 = REPO.parent / "shared" / "data" / "xlsa17" / "SNU36"
METHODS = ("eszsl", "devise", "ale", "cada-vae", "dvae", "f-clswgan")


def aligned(data, names):
    """``data`` with its classes renumbered in the model's order ``names`` (same class set)."""
    from zsl_toolkit.data.container import ZSLData

    index = {n: i for i, n in enumerate(names)}
    order = np.array([data.class_names.index(n) for n in names])
    remap = np.array([index[n] for n in data.class_names])
    return ZSLData(
        features=data.features,
        labels=remap[data.labels],
        class_embeddings=data.class_embeddings[order],
        class_names=list(names),
        splits=data.splits,
        name=data.name,
    )


def headline(metrics):
    return {k: 100 * metrics["gzsl"][k] for k in ("U", "S", "H")}


def trial(method, store_full, store_held, withheld, data, seed, epochs, params, work):
    from zsl_toolkit.editing import NewClass, add_classes
    from zsl_toolkit.pipeline import evaluate, train
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.training import TrainConfig

    cfg = TrainConfig(seed=seed, device="cpu", quiet=True, epochs=epochs)
    full = train(RunSettings(method, str(store_full), params, cfg), out=work / "full")
    held = train(RunSettings(method, str(store_held), params, cfg), out=work / "held")
    new = [
        NewClass(n, tuple(float(v) for v in data.class_embeddings[data.class_names.index(n)]))
        for n in withheld
    ]
    start = time.perf_counter()
    edited = add_classes(held.run_dir, new, out=work / "edited")
    edit_seconds = time.perf_counter() - start
    on_full = evaluate(edited.method, aligned(data, edited.method.spec_.class_names))
    return {
        "full": headline(full.metrics),
        "edited": headline(on_full),
        "train_seconds": held.metrics["train_seconds"],
        "edit_seconds": edit_seconds,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="synthetic,snu36")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--k", type=int, default=3, help="unseen classes withheld")
    ap.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="primary-stage epochs of every iterative method (default: the methods')",
    )
    ap.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="METHOD:KEY=VALUE",
        help="a method parameter (repeatable), e.g. cada-vae:classifier_epochs=20",
    )
    ap.add_argument(
        "--threads", type=int, default=1, help="torch threads (1: no oversubscription when shared)"
    )
    ap.add_argument(
        "--data-root",
        default=str(REPO.parent / "shared" / "data" / "xlsa17"),
        help="data root of the *-synth datasets (default: ../shared/data/xlsa17)",
    )
    ap.add_argument("--out", default=None, help="default: results/class_editing_<datasets>.md")
    args = ap.parse_args()

    import torch

    from zsl_toolkit.data.classset import edit_class_set
    from zsl_toolkit.data.hdf5 import save_h5
    from zsl_toolkit.data.resolve import load_dataset
    from zsl_toolkit.methods.registry import method_registry
    from zsl_toolkit.params import parse_params

    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.out is None:
        slug = args.datasets.replace(",", "_")
        args.out = str(REPO / "benchmarks" / "results" / f"class_editing_{slug}.md")
    method_params: dict[str, dict] = {}
    for item in args.param:
        name, _, kv = item.partition(":")
        valid = method_registry().load(name).param_defaults()
        method_params.setdefault(name, {}).update(parse_params([kv], valid))
    rows = []
    load_start = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.datasets.split(","):
            source = str(SNU36) if dataset == "snu36" else dataset
            if dataset == "snu36" and not SNU36.is_dir():
                print(f"skipping {dataset}: {SNU36} not present")
                continue
            data = load_dataset(source, root=args.data_root)
            rng = np.random.default_rng(0)
            withheld = [data.class_names[c] for c in rng.choice(data.unseen_classes, args.k, False)]
            store_full = Path(tmp) / dataset / "full.h5"
            store_held = Path(tmp) / dataset / "held.h5"
            store_full.parent.mkdir(parents=True)
            save_h5(data, store_full)
            save_h5(edit_class_set(data, withheld), store_held)
            for method in args.methods.split(","):
                iterative = method not in ("eszsl",)
                epochs = args.epochs if iterative else None
                results = []
                for seed in seeds:
                    work = Path(tmp) / dataset / method / str(seed)
                    results.append(
                        trial(
                            method,
                            store_full,
                            store_held,
                            withheld,
                            data,
                            seed,
                            epochs,
                            method_params.get(method, {}),
                            work,
                        )
                    )
                    r = results[-1]
                    print(dataset, method, seed, r, flush=True)
                rows.append((dataset, method, epochs, results, iterative))
                report(rows, args, load_start)


def report(rows, args, load_start) -> None:
    lines = [
        "# Adding classes to a trained model vs training with them",
        "",
        "Generated by `.venv/bin/python benchmarks/bench_class_editing.py"
        + f" --datasets {args.datasets} --methods {args.methods} --seeds {args.seeds}"
        + (f" --epochs {args.epochs}" if args.epochs else "")
        + (f" --threads {args.threads}" if args.threads != 1 else "")
        + "".join(f" --param {p}" for p in args.param)
        + "`. "
        f"Per dataset, {args.k} unseen classes (drawn with seed 0) are withheld entirely; a model "
        "trained without them gets them back through `add_classes` (their attribute vectors) and "
        "is evaluated on the full test splits; *full* is the same method, seed and settings "
        "trained on the full dataset. Mean +- sample std over seeds "
        f"{args.seeds}; U/S/H in %. Edit time is the whole `add_classes` call (load, refit, "
        "evaluate, write) over the withheld run's training time.",
        "",
        f"Machine: {cpu_name()}, {__import__('os').cpu_count()} cores, shared; load average "
        f"{fmt_load(load_start)} at start, {fmt_load(load_average())} at end.",
        "",
        "| dataset | method | epochs | full U | full S | full H | edited U | edited S | edited H "
        "| H edited - full | edit (s) | train (s) | edit / train time |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def ms(values):
        values = np.asarray(values, dtype=float)
        sd = values.std(ddof=1) if len(values) > 1 else 0.0
        return f"{values.mean():.1f} +- {sd:.1f}"

    for dataset, method, epochs, results, _ in rows:
        f = {k: [r["full"][k] for r in results] for k in ("U", "S", "H")}
        e = {k: [r["edited"][k] for r in results] for k in ("U", "S", "H")}
        diff = [r["edited"]["H"] - r["full"]["H"] for r in results]
        share = [100 * r["edit_seconds"] / r["train_seconds"] for r in results]
        edit_s = [r["edit_seconds"] for r in results]
        train_s = [r["train_seconds"] for r in results]
        lines.append(
            f"| {dataset} | {method} | {epochs or 'default'} | {ms(f['U'])} | {ms(f['S'])} | "
            f"{ms(f['H'])} | {ms(e['U'])} | {ms(e['S'])} | {ms(e['H'])} | {ms(diff)} | "
            f"{ms(edit_s)} | {ms(train_s)} | {ms(share)} % |"
        )
    write_report(lines, args.out)


if __name__ == "__main__":
    main()
