"""Training-free difficulty proxies for a generated dataset under the validation protocol.

A family member whose seen classes no rule can tell apart gives every method S near 0, so its
H says nothing about the methods. Two proxies, computed in seconds where CADA-VAE needs
minutes, on standardized features under ``--protocol val``:

- nearest mean: each seen class's mean ``trainval`` feature classifies ``test_seen`` (per-class
  mean accuracy; chance is 1 / seen classes);
- attribute prototypes: a ridge map from standardized class attributes to the seen classes'
  mean features predicts the validation classes' means; nearest mean over all classes then
  gives U, S and H, and over the validation classes alone T1.

Neither is a method of this toolkit; they rank settings of one generator (on other members
their H lies below CADA-VAE's, by different amounts), so a preset is confirmed with the base
model itself.

Run: ``python benchmarks/family_separability.py sun-sparse --root ../shared/data/xlsa17
[--option nuisance_scale=0.6 ...]``; prints one line.
"""

from __future__ import annotations

import argparse

import numpy as np

from zsl_toolkit.data.protocol import apply_protocol
from zsl_toolkit.data.registry import dataset_registry
from zsl_toolkit.evaluation.metrics import harmonic_mean, per_class_accuracy


def mean_class_accuracy(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean over the classes present in ``truth`` of each class's accuracy."""
    return float(np.mean(list(per_class_accuracy(pred, truth, np.unique(truth)).values())))


def nearest(x: np.ndarray, means: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The label of each row's nearest mean (squared Euclidean distance)."""
    dist = (means**2).sum(axis=1)[None, :] - 2.0 * x @ means.T
    return labels[dist.argmin(axis=1)]


def proxies(data, ridge: float = 10.0) -> dict[str, float]:
    """The module docstring's proxies for ``data`` (already under the validation protocol)."""
    x = data.features.astype(np.float64)
    x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-6)
    y = data.labels
    train, seen_test, unseen_test = (
        data.splits[k] for k in ("trainval", "test_seen", "test_unseen")
    )
    seen, unseen = np.unique(y[train]), np.unique(y[unseen_test])
    means = np.stack([x[train][y[train] == c].mean(axis=0) for c in seen])
    att = data.class_embeddings.astype(np.float64)
    att = (att - att.mean(axis=0)) / (att.std(axis=0) + 1e-6)
    a = att[seen]
    w = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ means)
    protos = att[unseen] @ w
    both, labels = np.concatenate([means, protos]), np.concatenate([seen, unseen])
    u = mean_class_accuracy(nearest(x[unseen_test], both, labels), y[unseen_test])
    s = mean_class_accuracy(nearest(x[seen_test], both, labels), y[seen_test])
    return {
        "nearest_mean_S": mean_class_accuracy(nearest(x[seen_test], means, seen), y[seen_test]),
        "chance_S": 1.0 / seen.size,
        "U": u,
        "S": s,
        "H": harmonic_mean(u, s),
        "T1": mean_class_accuracy(nearest(x[unseen_test], protos, unseen), y[unseen_test]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a generated preset with difficulty knobs, e.g. sun-sparse")
    parser.add_argument("--root", required=True, help="data root holding the benchmark folders")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    options = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--option {item!r}: expected KEY=VALUE")
        options[key] = float(value)
    data = dataset_registry().load(args.dataset)(**options).load(args.root)
    result = proxies(apply_protocol(data, "val"))
    shown = " ".join(f"{k} {100 * v:.1f}" for k, v in result.items())
    print(f"{args.dataset} {options or ''} {shown}".replace("  ", " "))


if __name__ == "__main__":
    main()
