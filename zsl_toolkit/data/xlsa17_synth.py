"""Generated features in the exact shape of a real xlsa17 benchmark, driven by its real
class attributes.

The ResNet-101 features of the benchmarks are large downloads; their ``att_splits.mat`` is
small. These datasets read the real ``att_splits.mat`` (class attributes, class names, split
indices) and the class lists ``trainvalclasses.txt`` / ``testclasses.txt`` of one benchmark
(Xian et al., TPAMI 2018) and generate 2048-d features with
:func:`zsl_toolkit.data.synthetic.render_features`: a nonlinear function of the *real* class
attributes, perturbed per sample, plus class-irrelevant nuisance factors and noise, through a
softplus (non-negative, like pooled ResNet activations). Class count, seen/unseen classes,
attribute vectors, image count and every split's indices equal the real file's, so methods
meet the benchmark's class structure and attribute correlations at a known difficulty.

What the file cannot give, and the rule used instead (labels live in ``res101.mat``):

- which class each image shows. Images of ``test_unseen`` get the test classes, images of
  ``val_loc`` the validation classes, every other seen image the train classes; within each
  group and each combination of splits an image belongs to, classes are dealt out in turn
  over a seeded shuffle, so classes have nearly equal sizes and every class appears in each
  split the real one spans. Images no split lists are left out.
- which seen classes validate. Their number is the real share of ``val_loc`` among the seen
  images times the seen-class count (CUB 50 of 150, AwA 13 of 40, SUN 65 of 645, as in
  xlsa17; aPY 3 of 20 where xlsa17 has 5); which ones is drawn with the preset's seed. The
  validation protocol (:mod:`zsl_toolkit.data.protocol`) then uses exactly the real
  ``train_loc``/``val_loc`` images. CUB's ``att_splits.mat`` lacks them; they come from its
  ``sent_splits.mat``, whose other splits equal ``att_splits.mat``'s.

The generator's input is each attribute standardized over the classes to mean 0.5 and
standard deviation :data:`ATTRIBUTE_SPREAD` (the spread of the ``synthetic`` preset's
attributes), so a per-sample jitter means the same for every benchmark; the methods see the file's ``att`` unchanged as class embeddings. Everything depends
on the preset only (its seed included), never on a training seed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from zsl_toolkit.data.base import Dataset
from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.data.mechanisms import Mechanism
from zsl_toolkit.data.resolve import DATA_ROOT_ENV
from zsl_toolkit.data.synthetic import FeatureModel, render_features
from zsl_toolkit.data.xlsa17 import ORIGIN, SemanticFile, read_semantic
from zsl_toolkit.errors import DataError

SEMANTIC = "att_splits.mat"
#: Standard deviation of each attribute, over the classes, in the generator's input.
ATTRIBUTE_SPREAD = 0.25
CLASS_LISTS = ("trainvalclasses.txt", "testclasses.txt")

#: The difficulty of every preset. ``attribute_jitter`` was calibrated on ``cub-synth`` so that
#: CADA-VAE with its defaults (100 epochs, seed 0) lands mid-range, where differences between
#: methods show: H 87.7 at jitter 0.1, 73.5 at 0.2, 50.3 at 0.3, so 0.25
#: (``benchmarks/results/cub_synth_calibration.md``).
DEFAULT_MODEL = FeatureModel(
    feature_dim=2048,
    hidden=128,
    nuisance_dim=32,
    nuisance_scale=1.5,
    attribute_jitter=0.25,
    noise=0.1,
)


@dataclass(frozen=True)
class RealAttributeSpec:
    """Where a preset's real files are (``<root>/<folder>/``) and how its features arise:
    ``model`` through :func:`render_features` (``cub-synth``'s mechanism), unless a
    ``mechanism`` of :mod:`zsl_toolkit.data.mechanisms` is given; ``images_per_class`` keeps at
    most that many images of each class (see :func:`subsample`), None all of them."""

    folder: str
    split_file: str | None = None  # another file holding train_loc/val_loc, when att lacks them
    model: FeatureModel = DEFAULT_MODEL
    seed: int = 0
    mechanism: Mechanism | None = None
    images_per_class: int | None = None

    def generator(self) -> FeatureModel | Mechanism:
        """The settings that render features: the mechanism, else ``model``."""
        return self.mechanism if self.mechanism is not None else self.model


def read_class_list(path: Path) -> list[str]:
    """Class names, one per line (blank lines ignored)."""
    if not path.is_file():
        raise DataError(f"{path}: no such file; expected the class list {ORIGIN}")
    try:
        names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: unreadable class list ({exc})") from None
    if not names:
        raise DataError(f"{path}: empty; expected one class name per line")
    return names


def _class_ids(path: Path, wanted: list[str], names: list[str]) -> np.ndarray:
    index = {n: i for i, n in enumerate(names)}
    missing = [n for n in wanted if n not in index]
    if missing:
        raise DataError(
            f"{path}: {len(missing)} class(es) not in 'allclasses_names' (first: {missing[0]!r}); "
            f"do the class lists belong to this att_splits.mat?"
        )
    if len(set(wanted)) != len(wanted):
        raise DataError(f"{path}: a class is listed more than once")
    return np.array(sorted(index[n] for n in wanted), dtype=np.int64)


def _read(folder: Path, spec: RealAttributeSpec) -> tuple[SemanticFile, np.ndarray, np.ndarray]:
    """The semantic file (with train/val from ``split_file`` when needed), seen and unseen ids."""
    sem = read_semantic(folder / SEMANTIC)
    if sem.names is None:
        raise DataError(
            f"{sem.path}: no 'allclasses_names'; the class lists name classes, so it is needed"
        )
    if "val" not in sem.splits and spec.split_file:
        other = read_semantic(folder / spec.split_file)
        for k in ("trainval", "test_seen", "test_unseen"):
            if not np.array_equal(np.sort(other.splits[k]), np.sort(sem.splits[k])):
                raise DataError(
                    f"{other.path}: '{k}_loc' differs from {sem.path.name}'s; the two files "
                    f"must describe the same images"
                )
        if "val" in other.splits:
            sem.splits.update(train=other.splits["train"], val=other.splits["val"])
    if "val" not in sem.splits:
        raise DataError(f"{sem.path}: no 'train_loc'/'val_loc'; expected the xlsa17 file")
    lists = [folder / name for name in CLASS_LISTS]
    seen = _class_ids(lists[0], read_class_list(lists[0]), sem.names)
    unseen = _class_ids(lists[1], read_class_list(lists[1]), sem.names)
    if np.intersect1d(seen, unseen).size:
        raise DataError(f"{lists[1]}: lists classes that {lists[0].name} also lists")
    return sem, seen, unseen


def _deal(
    rng: np.random.Generator, rows: np.ndarray, key: np.ndarray, classes: np.ndarray
) -> np.ndarray:
    """Labels for ``rows``: within each value of ``key`` (a split-membership code), classes
    in turn over a seeded shuffle of rows, starting where the previous value stopped."""
    labels = np.empty(rows.size, dtype=np.int64)
    start = 0
    for code in np.unique(key):
        where = np.flatnonzero(key == code)
        where = where[rng.permutation(where.size)]
        labels[where] = classes[(start + np.arange(where.size)) % classes.size]
        start = (start + where.size) % classes.size
    return labels


def generate_from_file(folder: Path, spec: RealAttributeSpec, name: str) -> ZSLData:
    """The dataset of the module docstring for the benchmark files in ``folder``."""
    sem, seen, unseen = _read(folder, spec)
    splits = sem.splits
    rng = np.random.default_rng(spec.seed)
    n_all = 1 + max(int(v.max()) for v in splits.values())
    member = np.zeros(n_all, dtype=np.int64)  # bit per split: which splits list each image
    for bit, k in enumerate(("trainval", "test_seen", "test_unseen", "train", "val")):
        member[splits[k]] |= 1 << bit
    unseen_rows = splits["test_unseen"]
    if (member[unseen_rows] != 4).any():
        raise DataError(f"{sem.path}: 'test_unseen_loc' shares images with other splits")
    listed = np.flatnonzero(member)
    val_rows = splits["val"]
    seen_rows = np.setdiff1d(listed, np.union1d(unseen_rows, val_rows))
    share = val_rows.size / (val_rows.size + seen_rows.size)
    n_val = min(seen.size - 1, max(1, int(round(share * seen.size))))
    val_classes = np.sort(rng.choice(seen, size=n_val, replace=False))
    train_classes = np.setdiff1d(seen, val_classes)

    labels = np.full(n_all, -1, dtype=np.int64)
    for rows, classes in (
        (seen_rows, train_classes),
        (val_rows, val_classes),
        (unseen_rows, unseen),
    ):
        labels[rows] = _deal(rng, rows, member[rows], classes)
    att = sem.att.T  # [C, d2]
    mean, std = att.mean(axis=0), att.std(axis=0)
    scaled = 0.5 + ATTRIBUTE_SPREAD * np.divide(
        att - mean, std, out=np.zeros_like(att), where=std > 0
    )
    if spec.mechanism is None:
        features = render_features(rng, scaled, labels[listed], spec.model, dtype=np.float32)
    else:
        features = spec.mechanism.render(rng, scaled, labels[listed])
    extra = {
        "semantic": str(sem.path),
        "seed": str(spec.seed),
        "val_classes": str(n_val),
        **{k: str(v) for k, v in vars(spec.generator()).items()},
    }
    if spec.mechanism is not None:
        extra["mechanism"] = type(spec.mechanism).__name__
    if spec.images_per_class is not None:
        keep = subsample(spec.seed, labels[listed], member[listed], spec.images_per_class)
        listed, features = listed[keep], features[keep]
        extra["images_per_class"] = str(spec.images_per_class)
    # Images no split lists (if any), or left out by the subsample, have no role: leave them
    # out and renumber the rest.
    row = np.full(n_all, -1, dtype=np.int64)
    row[listed] = np.arange(listed.size)
    return ZSLData(
        features=features,
        labels=labels[listed],
        class_embeddings=att,
        class_names=sem.names,
        splits={k: row[v][row[v] >= 0] for k, v in splits.items()},
        name=name,
        source=f"generated ({name} preset) from {sem.path}",
        extra=extra,
    )


def subsample(seed: int, labels: np.ndarray, member: np.ndarray, per_class: int) -> np.ndarray:
    """Sorted positions of at most about ``per_class`` images of each class, kept in the same
    proportion from every combination of splits (``member``) the class spans, at least one
    from each, so every class stays in every split it was in. Its own random stream (from
    ``seed``): the features of the kept images are those of the whole set."""
    rng = np.random.default_rng([seed, 1])
    keep: list[np.ndarray] = []
    for c in np.unique(labels):
        of_class = np.flatnonzero(labels == c)
        share = min(1.0, per_class / of_class.size)
        for code in np.unique(member[of_class]):
            group = of_class[member[of_class] == code]
            k = max(1, int(round(share * group.size)))
            keep.append(rng.choice(group, size=k, replace=False))
    return np.sort(np.concatenate(keep))


class RealAttributeDataset(Dataset):
    """A preset: benchmark folder under the data root, generator settings, name."""

    spec: ClassVar[RealAttributeSpec]
    preset_name: ClassVar[str]

    def __init__(
        self,
        *,
        attribute_jitter: float | None = None,
        nuisance_scale: float | None = None,
        noise: float | None = None,
    ) -> None:
        """Difficulty knobs (``--dataset-option``; None keeps the preset's value): per-sample
        attribute jitter, scale of the class-irrelevant nuisance factors, feature noise.
        Studies use them to place a method where differences show; they are recorded in
        ``run.json`` with the run."""
        knobs = {
            "attribute_jitter": attribute_jitter,
            "nuisance_scale": nuisance_scale,
            "noise": noise,
        }
        for key, value in knobs.items():
            if value is not None and not value >= 0:
                raise DataError(f"dataset option {key}: expected a number >= 0, got {value}")
        given = {k: float(v) for k, v in knobs.items() if v is not None}
        if self.spec.mechanism is None:
            self.settings = replace(self.spec, model=replace(self.spec.model, **given))
        else:
            self.settings = replace(self.spec, mechanism=replace(self.spec.mechanism, **given))

    def load(self, data_root: Path | None = None) -> ZSLData:
        folder = self.spec.folder
        if data_root is None:
            raise DataError(
                f"dataset '{self.preset_name}' needs a data root holding {folder}/{SEMANTIC}, "
                f"{folder}/{CLASS_LISTS[0]} and {folder}/{CLASS_LISTS[1]} {ORIGIN}: pass "
                f"--data-root DIR or set {DATA_ROOT_ENV}"
            )
        path = Path(data_root).expanduser() / folder
        if not (path / SEMANTIC).is_file():
            raise DataError(
                f"{path / SEMANTIC}: no such file; dataset '{self.preset_name}' needs the real "
                f"{SEMANTIC} {ORIGIN}: point --data-root or {DATA_ROOT_ENV} at the folder "
                f"holding {folder}/"
            )
        return generate_from_file(path, self.settings, self.preset_name)


class CUBSynth(RealAttributeDataset):
    """CUB-shaped, from CUB's real attributes: 150/50 classes, 312-d attributes."""

    description = "generated from CUB's real att_splits.mat: 150/50 classes, 2048-d features"
    preset_name = "cub-synth"
    spec = RealAttributeSpec("CUB", split_file="sent_splits.mat")


class AWA1Synth(RealAttributeDataset):
    """AwA1-shaped, from AwA1's real attributes: 40/10 classes, 85-d attributes."""

    description = "generated from AwA1's real att_splits.mat: 40/10 classes, 2048-d features"
    preset_name = "awa1-synth"
    spec = RealAttributeSpec("AWA1")


class AWA2Synth(RealAttributeDataset):
    """AwA2-shaped, from AwA2's real attributes: 40/10 classes, 85-d attributes."""

    description = "generated from AwA2's real att_splits.mat: 40/10 classes, 2048-d features"
    preset_name = "awa2-synth"
    spec = RealAttributeSpec("AWA2")


class SUNSynth(RealAttributeDataset):
    """SUN-shaped, from SUN's real attributes: 645/72 classes, 102-d attributes."""

    description = "generated from SUN's real att_splits.mat: 645/72 classes, 2048-d features"
    preset_name = "sun-synth"
    spec = RealAttributeSpec("SUN")


class APYSynth(RealAttributeDataset):
    """aPY-shaped, from aPY's real attributes: 20/12 classes, 64-d attributes."""

    description = "generated from aPY's real att_splits.mat: 20/12 classes, 2048-d features"
    preset_name = "apy-synth"
    spec = RealAttributeSpec("APY")
