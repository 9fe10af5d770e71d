"""Editing the class set of a trained run without retraining it.

An edit reads a completed run, builds the method for the new class set (kept classes in
their order, then added classes, which are unseen), carries every learned tensor over
(class-indexed ones row by row, see :meth:`~zsl_toolkit.methods.Method.class_indexed`) and
then does what the method's :attr:`~zsl_toolkit.methods.Method.class_edit` capability says:

- ``"append"`` (compatibility methods): install the new class embeddings; nothing retrains,
  so the scores of kept classes are unchanged.
- ``"refit"`` (generative methods): re-run the final classifier stage for the new class set
  on the run's stored data (its ``trainval`` rows of the kept seen classes, loaded through
  :mod:`zsl_toolkit.runs`), starting from the random state and class-indexed tensors the
  stage started from in training (``refit_start.pt``). Rows of new classes get the method's
  own initialisation drawn under the run's seed, so an edit is deterministic, and an edit
  that ends at the original class set reproduces the original classifier exactly.

The result is a NEW run directory (the original is never modified) whose ``run.json``
records its parent, every edit made and the cumulative change to the dataset's class set;
its data (for ``zsl evaluate`` and export checks) are the dataset with that change applied.
Edits run on the CPU.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zsl_toolkit.data.classset import edit_class_set
from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.editing.descriptions import NewClass
from zsl_toolkit.errors import ConfigError, DataError, RunDirError
from zsl_toolkit.io import atomic_write, write_json
from zsl_toolkit.methods.base import FitContext, Method, ModelSpec
from zsl_toolkit.runs.create import plain_params
from zsl_toolkit.runs.layout import (
    METRICS_FILE,
    MODEL_FILE,
    REFIT_START,
    folder_stamp,
    make_run_dir,
    utc_now,
)
from zsl_toolkit.runs.load import RunResult, load_run, load_run_data
from zsl_toolkit.runs.provenance import versions
from zsl_toolkit.runs.record import RunRecord, read_record, write_record
from zsl_toolkit.runs.state import load_state

__all__ = [
    "ClassInfo",
    "add_classes",
    "edit_classes",
    "list_classes",
    "refit_with",
    "remove_classes",
]


@dataclass(frozen=True)
class ClassInfo:
    """One class of a run's model: its id, name, role and where it came from."""

    index: int
    name: str
    role: str  # "seen" | "unseen"
    origin: str  # "trained" | "added (<source>)"


def list_classes(run_dir: str | Path) -> list[ClassInfo]:
    """The classes a completed run's model scores, in score order."""
    record = read_record(run_dir)
    if not record.complete or record.spec is None:
        raise RunDirError(f"{run_dir}: training did not complete; it has no model classes yet")
    spec = ModelSpec.from_dict(dict(record.spec))
    added = {c["name"]: c.get("source", "?") for c in _class_edit(record)["added"]}
    seen = set(spec.seen_classes)
    return [
        ClassInfo(
            i,
            name,
            "seen" if i in seen else "unseen",
            f"added ({added[name]})" if name in added else "trained",
        )
        for i, name in enumerate(spec.class_names)
    ]


def add_classes(
    run_dir: str | Path,
    classes: Sequence[NewClass],
    out: str | Path | None = None,
    root: str | Path | None = None,
) -> RunResult:
    """A new run whose model also knows ``classes`` (as unseen classes)."""
    return edit_classes(run_dir, add=classes, out=out, root=root)


def remove_classes(
    run_dir: str | Path,
    names: Sequence[str],
    out: str | Path | None = None,
    root: str | Path | None = None,
) -> RunResult:
    """A new run whose model no longer knows the classes ``names`` (seen or unseen)."""
    return edit_classes(run_dir, remove=names, out=out, root=root)


def refit_with(
    run_dir: str | Path,
    params: dict[str, Any],
    root: str | Path | None = None,
    data: ZSLData | None = None,
) -> tuple[Method, ZSLData]:
    """The run's model with its refit stage re-run under other values ``params`` of that
    stage's own parameters (e.g. a generative method's sample counts), on the same class set,
    and the run's data. The earlier stages are the run's, and the stage starts from the random
    state and tensors it started from in training, so the result is what training with
    ``params`` would give: ``params`` may name only the method's ``refit_stage_params``,
    which act on that stage alone. With ``params`` empty it reproduces the run's model
    exactly. Why: the final stage's settings can then be chosen on a validation run in
    seconds instead of one training each. ``data``: the run's data already loaded
    (``load_run_data``), so a grid of refits loads them once."""
    run_dir = Path(run_dir)
    parent = load_run(run_dir)
    record, old = parent.record, parent.method
    cls = type(old)
    if cls.class_edit != "refit":
        raise ConfigError(f"method {record.method} has no refit stage")
    other = sorted(set(params) - set(cls.refit_stage_params))
    if other:
        allowed = ", ".join(cls.refit_stage_params)
        raise ConfigError(
            f"method {record.method}: parameter {other[0]!r} does not act on the refit stage "
            f"alone (those that do: {allowed})"
        )
    if data is None:
        data = load_run_data(record, root)
    new = cls.create({**record.params, **_changed_defaults(record, old, params), **params})
    new.setup(old.spec_, epochs=record.epochs)
    keep = np.arange(old.spec_.n_classes, dtype=np.int64)
    _refit(run_dir, old, new, _Rows(old.spec_, keep), data)
    new.calibration_gamma_ = getattr(old, "calibration_gamma_", None)
    return new, data


def _changed_defaults(record: RunRecord, old: Method, given: dict[str, Any]) -> dict[str, Any]:
    """The run's refit-stage values (``resolved_params``) that today's defaults resolve
    differently for the run (a default changed since it was trained), except ``given`` and
    those following a given one (``derived_params``): held at the run's values, so that a
    refit re-runs the stage the run ran."""
    recorded = record.resolved_params or {}
    now = old.effective_params()
    cls = type(old)
    return {
        k: recorded[k]
        for k in cls.refit_stage_params
        if k not in given
        and cls.derived_params.get(k) not in given
        and k in recorded
        and now.get(k) != recorded[k]
    }


def _class_edit(record: RunRecord) -> dict[str, list[Any]]:
    edit = record.class_edit or {}
    return {"removed": list(edit.get("removed", [])), "added": list(edit.get("added", []))}


def _check_edit(
    run_dir: Path, spec: ModelSpec, remove: Sequence[str], add: Sequence[NewClass]
) -> None:
    """Every user mistake, before anything is computed or written."""
    names = list(spec.class_names)
    if not remove and not add:
        raise ConfigError("nothing to edit: name classes to add or to remove")
    for what, given in (("remove", list(remove)), ("add", [c.name for c in add])):
        twice = sorted({n for n in given if given.count(n) > 1})
        if twice:
            raise ConfigError(f"class {twice[0]!r} is named twice in the classes to {what}")
    unknown = [n for n in remove if n not in names]
    if unknown:
        raise ConfigError(
            f"{run_dir}: the model has no class {unknown[0]!r} to remove "
            f"(`zsl classes {run_dir}` lists them)"
        )
    for c in add:
        if c.name in names and c.name not in remove:
            raise ConfigError(f"{run_dir}: the model already has a class named {c.name!r}")
        if len(c.embedding) != spec.embedding_dim:
            raise DataError(
                f"class {c.name!r}: {len(c.embedding)} attribute values; the model's class "
                f"embeddings have {spec.embedding_dim}"
            )
        if not np.isfinite(np.asarray(c.embedding, dtype=np.float64)).all():
            raise DataError(f"class {c.name!r}: attribute values must be finite (no NaN/Inf)")


def _new_spec(spec: ModelSpec, data: ZSLData, keep: np.ndarray, n_added: int) -> ModelSpec:
    """The edited spec: kept classes renumbered in order, then the added (unseen) ones."""
    new_id = {int(old): i for i, old in enumerate(keep)}
    first_added = len(keep)
    return ModelSpec(
        feature_dim=spec.feature_dim,
        embedding_dim=spec.embedding_dim,
        n_classes=data.n_classes,
        seen_classes=tuple(new_id[c] for c in spec.seen_classes if c in new_id),
        unseen_classes=tuple(new_id[c] for c in spec.unseen_classes if c in new_id)
        + tuple(range(first_added, first_added + n_added)),
        class_names=tuple(data.class_names),
        dataset=spec.dataset,
    )


class _Rows:
    """Which old rows each class-indexed tensor keeps, by kind ("all" / "seen")."""

    def __init__(self, old: ModelSpec, keep: np.ndarray) -> None:
        kept = set(int(k) for k in keep)
        self.index = {
            "all": torch.as_tensor(keep, dtype=torch.long),
            "seen": torch.tensor(
                [i for i, c in enumerate(old.seen_classes) if c in kept], dtype=torch.long
            ),
        }

    def carry(self, kind: str, old: torch.Tensor, fresh: torch.Tensor) -> torch.Tensor:
        """``fresh`` (the new shape) with the kept rows of ``old`` in front."""
        idx = self.index[kind]
        out = fresh.detach().clone()
        out[: idx.numel()] = old[idx].to(out.dtype)
        return out


def _carry_state(
    old: Method, new: Method, rows: _Rows, old_values: dict[str, torch.Tensor] | None = None
) -> dict[str, torch.Tensor]:
    """``new``'s state with every tensor of ``old`` carried over (``old_values`` replaces the
    class-indexed ones, e.g. their values when the refit stage started)."""
    old_state = old.modules().state_dict()
    indexed = new.class_indexed()
    merged = {}
    for key, fresh in new.modules().state_dict().items():
        if key in indexed:
            source = (old_values or old_state)[key]
            merged[key] = rows.carry(indexed[key], source, fresh)
        elif old_state[key].shape != fresh.shape:
            raise RuntimeError(
                f"{type(new).__name__}: tensor {key} changes shape with the class set but is "
                f"not declared in class_indexed()"
            )
        else:
            merged[key] = old_state[key]
    return merged


def _context(method: Method, data: ZSLData) -> FitContext:
    """The training context of ``data`` with the run's own (already fitted) scaler: an edit
    must see the features exactly as training did."""
    idx = data.splits["trainval"]
    device = torch.device("cpu")
    x = torch.from_numpy(data.features[idx])
    with torch.no_grad():
        features = method.scaler_(x).contiguous()
    return FitContext(
        spec=method.spec_,
        features=features,
        labels=torch.from_numpy(data.labels[idx]),
        class_embeddings=torch.from_numpy(data.class_embeddings),
        seen=torch.tensor(method.spec_.seen_classes, dtype=torch.long),
        unseen=torch.tensor(method.spec_.unseen_classes, dtype=torch.long),
        device=device,
    )


def _refit(run_dir: Path, old: Method, new: Method, rows: _Rows, data: ZSLData) -> dict[str, Any]:
    """Re-run the refit stage of ``new`` on ``data``; returns the new run's refit start."""
    from zsl_toolkit.training import TrainConfig, Trainer
    from zsl_toolkit.training.trainer import restore_rng

    path = run_dir / REFIT_START
    if not path.is_file():
        raise RunDirError(
            f"{run_dir}: no {REFIT_START} (the random state its classifier stage started "
            f"from); runs trained before class editing existed must be retrained to edit"
        )
    start = load_state(path)
    try:
        tensors = start["tensors"]
        state = _carry_state(old, new, rows, tensors)
    except KeyError as exc:
        raise RunDirError(f"{path}: incomplete refit record (no {exc})") from None
    new.modules().load_state_dict(state)
    initial = {k: state[k].clone() for k in new.class_indexed()}
    ctx = _context(new, data)
    index = type(new).class_refit_stage
    assert index is not None
    with torch.random.fork_rng(devices=[]):
        restore_rng(start)
        stage = new.stage(index, ctx)
        if stage is None:
            raise RuntimeError(f"{type(new).__name__}: class_refit_stage {index} does not exist")
        Trainer(TrainConfig(device="cpu", quiet=True)).run_stage(new, stage, index, ctx)
    for m in new.modules().modules():
        m.eval()
    return {**{k: v for k, v in start.items() if k != "tensors"}, "tensors": initial}


def _default_out(run_dir: Path) -> Path:
    return run_dir.parent / f"{run_dir.name}-classes-{folder_stamp()}"


def edit_classes(
    run_dir: str | Path,
    *,
    remove: Sequence[str] = (),
    add: Sequence[NewClass] = (),
    out: str | Path | None = None,
    root: str | Path | None = None,
) -> RunResult:
    """A new run (``out``, default ``<run_dir>-classes-<time>``) whose model's class set is
    the run's without ``remove`` and with ``add`` (unseen); evaluated on the edited data.
    ``root`` overrides the run's recorded data root (the data moved)."""
    from zsl_toolkit.pipeline import evaluate

    start_time = time.perf_counter()
    run_dir = Path(run_dir)
    parent = load_run(run_dir)
    record, old = parent.record, parent.method
    method_name = record.method
    cls = type(old)
    if cls.class_edit not in ("append", "refit"):
        raise ConfigError(
            f"method {method_name} cannot edit its class set: {cls.class_edit_refusal}"
        )
    spec = old.spec_
    _check_edit(run_dir, spec, remove, add)
    data = load_run_data(record, root)
    if list(data.class_names) != list(spec.class_names):
        raise RunDirError(f"{run_dir}: the run's data no longer match its model's classes")
    gone = {i for i, n in enumerate(spec.class_names) if n in set(remove)}
    if not set(int(c) for c in data.seen_classes) - gone:
        raise ConfigError("the edited class set needs at least one seen class")
    if not set(int(c) for c in data.unseen_classes) - gone:
        raise ConfigError(
            "the edited class set needs at least one unseen class with test images "
            "(to be evaluated)"
        )
    new_data = edit_class_set(data, list(remove), [(c.name, c.embedding) for c in add])
    keep = np.array([i for i in range(spec.n_classes) if i not in gone], dtype=np.int64)
    new_spec = _new_spec(spec, new_data, keep, len(add))

    new = cls.create({**record.params, **_changed_defaults(record, old, {})})
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(record.seed)  # initial rows of added classes: deterministic per run
        new.setup(new_spec, epochs=record.epochs)
    rows = _Rows(spec, keep)
    if cls.class_edit == "append":
        new.modules().load_state_dict(_carry_state(old, new, rows))
        new.set_class_embeddings(torch.from_numpy(new_data.class_embeddings))
        refit = None
    else:
        refit = _refit(run_dir, old, new, rows, new_data)
    for m in new.modules().modules():
        m.eval()
    edit_seconds = time.perf_counter() - start_time
    new.calibration_gamma_ = getattr(old, "calibration_gamma_", None)
    previous = _class_edit(record)
    added_names = [c["name"] for c in previous["added"]]
    for name in remove:
        if name in added_names:
            previous["added"] = [c for c in previous["added"] if c["name"] != name]
        else:
            previous["removed"].append(name)
    previous["added"] += [c.record() for c in add]
    # Evaluated on the data as `zsl evaluate` reads it back: the cumulative edit applied to
    # the dataset, so a removed class added back under its name has its test images again.
    eval_data = load_run_data(record.updated(class_edit=previous), root)
    if list(eval_data.class_names) != list(new_data.class_names):
        raise RunDirError(f"{run_dir}: the edited data's classes differ from the model's")
    metrics = evaluate(new, eval_data, record.evaluators)
    metrics["edit_seconds"] = round(edit_seconds, 3)
    new_record = record.updated(
        status="complete",
        parent=str(run_dir.resolve()),
        edits=(
            *record.edits,
            {
                "parent": str(run_dir.resolve()),
                "removed": list(remove),
                "added": [c.record() for c in add],
                "made": utc_now(),
                "seconds": round(edit_seconds, 3),
            },
        ),
        class_edit=previous,
        data_summary=eval_data.summary(),
        resolved_params=plain_params(new.effective_params()),
        spec=new_spec.to_dict(),
        device="cpu",
        versions=versions(),
        finished=utc_now(),
    )
    target = make_run_dir(Path(out) if out else _default_out(run_dir))
    try:
        state = {k: v.detach().cpu() for k, v in new.modules().state_dict().items()}
        atomic_write(target / MODEL_FILE, lambda fh: torch.save(state, fh))
        if refit is not None:
            atomic_write(target / REFIT_START, lambda fh: torch.save(refit, fh))
        write_json(target / METRICS_FILE, metrics)
        write_record(target, new_record)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return RunResult(new, target, new_record, metrics)
