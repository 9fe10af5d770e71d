"""What Disentangled-VAE's two visual branches carry about classes, per dataset family member.

Where the split into a distilling ``z_t`` and a dispersing ``z_p`` hurts transfer, one reading is
that ``z_p`` takes class-relevant variation (how strongly an image shows its class's attributes)
and leaves ``z_t`` little more than the class mean. This measures it on trained runs of the
family study (validation protocol; Li et al., AAAI 2021 for the model, CADA-VAE as the base):

* ``probe``: accuracy (%) of a nearest-class-mean rule on the visual encoder's means of the
  validation (unseen) classes' images -- class means from one half of each class's images,
  scored on the other half, both halves in turn -- for ``z_t``, ``z_p`` and ``z_t + z_p`` (the
  base: its single latent, under ``z_t``). A branch that separates unseen classes carries
  class information the final classifier (on ``z_t``) may leave unused;
* ``between``: the share of a branch's variance over the seen training images that lies
  between class means (summed over dimensions; 1: the branch is a function of the class);
* ``own``: the share of unseen images whose ``z_t`` lies nearer its own class's attribute
  latent than any seen class's (``zsl_dvae.diagnostics.transfer_margins``).

    python benchmarks/dvae_branch_probe.py SWEEP_DIR [SWEEP_DIR ...] --output FILE.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

#: A disentangled trial's row by (attribute_dispersing, gamma); other settings must be at
#: their defaults. Without disentangling (the base) the attribute branch does not exist.
ROWS = {
    (True, None): "paper",
    (False, None): "previous-defaults",
    (True, 0.0): "paper-g0",
    (False, 0.0): "previous-defaults-g0",
}
DEFAULTS = {"dispersing_sampling": "same", "gamma_start": 0, "classifier_latent": "t"}
ORDER = ["base", *ROWS.values()]


def row_of(params: dict) -> str | None:
    if any(params.get(k, v) != v for k, v in DEFAULTS.items()) or params.get("sc_anchors"):
        return None
    if not params["disentangle"]:
        return "base"
    return ROWS.get((bool(params["attribute_dispersing"]), params.get("gamma")))


def halves_probe(z: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    """Nearest-class-mean accuracy, means from one half of each class, scored on the other
    half, both ways round."""
    rng = np.random.default_rng(seed)
    first = np.zeros(len(y), dtype=bool)
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        first[idx[: len(idx) // 2]] = True
    correct = 0
    classes = np.unique(y)
    for fit in (first, ~first):
        means = np.stack([z[fit & (y == c)].mean(axis=0) for c in classes])
        d = ((z[~fit][:, None, :] - means[None]) ** 2).sum(-1)
        correct += int((classes[d.argmin(1)] == y[~fit]).sum())
    return 100.0 * correct / len(y)


def between_share(z: np.ndarray, y: np.ndarray) -> float:
    """Variance of the class means (weighted by class size) over the total variance."""
    total = z.var(axis=0).sum()
    if total <= 0:
        return float("nan")
    means = {c: z[y == c].mean(axis=0) for c in np.unique(y)}
    centred = np.stack([means[c] for c in y]) - z.mean(axis=0)
    return float((centred**2).mean(axis=0).sum() / total)


@torch.no_grad()
def branches(method, x: np.ndarray) -> dict[str, np.ndarray]:
    m = method.model_
    mu, _ = m.visual_encoder(method.scaler_(torch.from_numpy(x)))
    lat = method.latent_size
    if mu.shape[1] == lat:
        return {"z_t": mu.numpy()}
    t, p = mu[:, :lat].numpy(), mu[:, lat:].numpy()
    return {"z_t": t, "z_p": p, "z_t+z_p": t + p}


def measure(run_dir: Path) -> dict[str, float]:
    from zsl_dvae.diagnostics import transfer_margins

    from zsl_toolkit.runs.load import load_run, load_run_data

    result = load_run(run_dir)
    data = load_run_data(result.record)
    method = result.method
    x_u, y_u = data.split("test_unseen")
    x_s, y_s = data.split("trainval")
    out: dict[str, float] = {}
    unseen, seen = branches(method, x_u), branches(method, x_s)
    for name, z in unseen.items():
        out[f"probe {name}"] = halves_probe(z, y_u)
    for name in ("z_t", "z_p"):
        if name in seen:
            out[f"between {name}"] = between_share(seen[name], y_s)
    out["own"] = 100.0 * transfer_margins(method, data)["closer_to_own"]
    out["chance"] = 100.0 / np.unique(y_u).size
    metrics = json.loads((run_dir / "metrics.json").read_text())
    out["H"] = 100.0 * metrics["gzsl"]["H"]
    out["T1"] = 100.0 * metrics["zsl"]["T1"]
    return out


def collect(sweep_dirs: list[Path], seed: int) -> dict[tuple[str, str], Path]:
    """(dataset, row) -> the first run of that seed on the validation protocol."""
    found: dict[tuple[str, str], Path] = {}
    for sweep in sweep_dirs:
        for trial in sorted((sweep / "trials").glob("*/trial.json")):
            cfg = json.loads(trial.read_text())["config"]
            if cfg.get("protocol") != "val" or cfg.get("seed") != seed:
                continue
            if not (trial.parent / "metrics.json").is_file():
                continue
            row = row_of(cfg["params"])
            if row is not None:
                found.setdefault((Path(cfg["dataset"]).name, row), trial.parent)
    return found


COLUMNS = [
    "H",
    "T1",
    "probe z_t",
    "probe z_p",
    "probe z_t+z_p",
    "chance",
    "between z_t",
    "between z_p",
    "own",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    runs = collect(args.sweeps, args.seed)
    if not runs:
        print("no validation-protocol runs of the known rows found", file=sys.stderr)
        return 1
    datasets = list(dict.fromkeys(ds for ds, _ in runs))
    lines = [
        f"# What the visual branches carry (validation protocol, seed {args.seed})",
        "",
        __doc__.split("\n\n", 1)[1].split("\n\n    python", 1)[0].replace("``", "`"),
        "",
        "Probes, `own`, H and T1 in %; `between` is a share (0 to 1).",
        "",
        "| dataset | row | " + " | ".join(COLUMNS) + " |",
        "|---|---|" + "---:|" * len(COLUMNS),
    ]
    for ds in datasets:
        for row in ORDER:
            if (ds, row) not in runs:
                continue
            values = measure(runs[(ds, row)])
            cells = []
            for col in COLUMNS:
                v = values.get(col)
                cells.append("-" if v is None else f"{v:.2f}" if "between" in col else f"{v:.1f}")
            lines.append(f"| {ds} | {row} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
