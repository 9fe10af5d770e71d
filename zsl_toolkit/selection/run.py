"""Train every candidate on the validation protocol, choose by validation H, train the choice
on the test protocol: one run directory that holds all of it.

The candidates are a sweep (:mod:`zsl_toolkit.sweep`) of one method, one dataset and one seed
under ``--protocol val``, run by the sweep's executors into ``RUN_DIR/selection/`` (its trials
are ordinary run directories). That gives the sweep's parallelism (``jobs``, Ray), its resume
(a completed candidate is never retrained) and its failure records for free. The validation
protocol (:mod:`zsl_toolkit.data.protocol`) removes the test classes and their images before
any candidate sees the data, so test numbers cannot enter the choice.

``run.json`` holds the whole selection under its ``selection`` key: the grid, each candidate's
validation metrics, the choice and the rule. While candidates train the run's status is
``selecting``; ``zsl train --resume RUN_DIR`` continues from there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zsl_toolkit.errors import ConfigError, RunDirError, TrainingInterrupted, TrialsFailed
from zsl_toolkit.selection.spec import (
    AUTO,
    SelectSpec,
    candidate_axes,
    check_candidates,
    parse_select_items,
    spec_from_config,
)

SELECTION_DIR = "selection"
SELECTING = "selecting"
#: The evaluator and metric candidates are ranked by (the harmonic mean of U and S).
CRITERION = ("gzsl", "H")


def as_spec(select: Any, method_cls: Any) -> SelectSpec:
    """A :class:`SelectSpec` from what a caller may pass: one already, ``"auto"``, ``--select``
    items, or a ``{KEY: [values]}`` mapping (a config's ``[select]`` table)."""
    if isinstance(select, SelectSpec):
        return select
    if isinstance(select, str):
        return parse_select_items([select], method_cls)
    if isinstance(select, Mapping):
        return spec_from_config(dict(select), method_cls, "select")
    if isinstance(select, Sequence):
        return parse_select_items([str(s) for s in select], method_cls)
    raise ConfigError(f"select: expected {AUTO!r}, KEY=v1,v2 items or a table, got {select!r}")


def default_point(
    method_cls: Any, fixed: Mapping[str, Any], axes: Mapping[str, list[Any]]
) -> dict[str, Any]:
    """The configuration a plain run would train, restricted to the selected keys."""
    defaults = method_cls.param_defaults()
    return {k: fixed.get(k, defaults[k]) for k in axes}


def choose(candidates: Sequence[Mapping[str, Any]]) -> int:
    """Index of the candidate with the highest validation H; a tie goes to the candidate marked
    ``default``, else to the first listed. A candidate without a finite H never wins."""
    scores = []
    for c in candidates:
        value = c.get("metrics", {}).get(CRITERION[0], {}).get(CRITERION[1])
        ok = isinstance(value, (int, float)) and math.isfinite(value)
        scores.append(float(value) if ok else -math.inf)
    best = max(scores)
    if best == -math.inf:
        raise ConfigError(f"selection: no candidate has a finite validation {CRITERION[1]}")
    tied = [i for i, s in enumerate(scores) if s == best]
    defaults = [i for i in tied if candidates[i].get("default")]
    return defaults[0] if defaults else tied[0]


def _sweep_config(
    method: str, dataset: str, sel: Mapping[str, Any], train: Mapping[str, Any]
) -> Any:
    """The candidates as a one-method, one-dataset, one-seed sweep under ``val``."""
    from zsl_toolkit.sweep.config import DatasetEntry, MethodEntry, SweepConfig

    fixed = {k: [v] for k, v in sel["given_params"].items()}
    grid = {**fixed, **{k: list(v) for k, v in sel["axes"].items()}}
    entry = MethodEntry(
        label=method,
        method=method,
        grids=(grid,),
        where={k: f"--select {k}" for k in sel["axes"]},
        table=f"--select ({method})",
    )
    return SweepConfig(
        name=f"select-{method}-{Path(dataset).name}",
        seeds=(int(train["seed"]),),
        datasets=(DatasetEntry(dataset, None, f"--dataset {dataset}"),),
        methods=(entry,),
        epochs=train.get("epochs"),
        batch_size=train.get("batch_size"),
        evaluators=tuple(sel["evaluators"]),
        device=train.get("device", "auto"),
        data_root=sel.get("data_root"),
        protocols=("val",),
    )


def train_selected(
    method: str,
    dataset: str,
    *,
    select: Any,
    params: Mapping[str, Any] | None = None,
    config: Any = None,
    root: str | Path | None = None,
    out: str | Path | None = None,
    evaluators: tuple[str, ...] | None = None,
    data: Any = None,
    protocol: str = "test",
    dataset_options: Mapping[str, Any] | None = None,
    executor: str = "local",
    jobs: int | None = None,
    threads: int | None = None,
    ray_address: str | None = None,
) -> Any:
    """Select ``method``'s parameters on ``dataset``'s validation protocol and train the
    choice under ``protocol``; returns the final run's
    :class:`~zsl_toolkit.rundir.RunResult`. ``select`` is what :func:`as_spec` takes;
    ``params`` stay fixed; ``executor``/``jobs``/``threads``/``ray_address`` run the
    candidates as ``zsl sweep`` runs trials (one job: one after another, in this process).
    Everything is validated before the run directory is created."""
    from zsl_toolkit.data.protocol import apply_protocol, check_protocol
    from zsl_toolkit.data.resolve import load_dataset
    from zsl_toolkit.evaluation.base import DEFAULT_EVALUATORS
    from zsl_toolkit.io import write_json
    from zsl_toolkit.registry import method_registry
    from zsl_toolkit.rundir import RUN_FILE, default_run_dir, make_run_dir, new_record
    from zsl_toolkit.sweep.executors import make_executor
    from zsl_toolkit.sweep.plan import canonical, plan_trials
    from zsl_toolkit.training.config import TrainConfig

    check_protocol(protocol, "protocol")
    if dataset_options:
        raise ConfigError(
            "--select with --dataset-option: candidates load the dataset by name only; write "
            "the configured dataset to a file with `zsl data convert` and select on that"
        )
    config = config or TrainConfig()
    evaluators = tuple(evaluators or DEFAULT_EVALUATORS)
    method_cls = method_registry().load(method)
    fixed = dict(params or {})
    base = method_cls.create(fixed)
    axes = candidate_axes(as_spec(select, method_cls), method_cls, method, fixed)
    check_candidates(method_cls, method, fixed, axes)
    kind = "inline" if executor == "local" and (jobs or 1) == 1 else executor
    make_executor(kind, jobs, threads, ray_address)  # validates the options; starts nothing
    sel: dict[str, Any] = {
        "status": "running",
        "protocol": "val",
        "criterion": ".".join(CRITERION),
        "rule": "highest validation H; a tie goes to the default, else the first listed",
        "axes": axes,
        "default": default_point(method_cls, fixed, axes),
        "given_params": fixed,
        "evaluators": [*evaluators, *(() if CRITERION[0] in evaluators else (CRITERION[0],))],
        "data_root": str(Path(root).expanduser().resolve()) if root is not None else None,
        "executor": {"kind": kind, "jobs": jobs, "threads": threads, "ray_address": ray_address},
        "candidates": [],
        "chosen": None,
    }
    sel = canonical(sel)
    # Candidates see the dataset as a resumed selection will (an absolute path, or a name),
    # so their ids, and with them the completed ones, are found again.
    path = Path(dataset).expanduser()
    spelled = str(path.resolve()) if path.exists() else dataset
    plan_trials(_sweep_config(method, spelled, sel, config.to_dict()))  # validates every trial
    if data is None:
        data = load_dataset(dataset, root)
    tested = apply_protocol(data, protocol)
    run_dir = make_run_dir(Path(out) if out else default_run_dir(method, dataset, config.seed))
    record = new_record(
        method, base.get_params(), dataset, root, protocol, tested, config, evaluators
    )
    record.update(status=SELECTING, selection=sel)
    write_json(run_dir / RUN_FILE, record)
    return _finish(run_dir, record, config, root, data)


def resume_selection(
    run_dir: str | Path, *, root: str | Path | None = None, quiet: bool = False
) -> Any:
    """Continue a selection interrupted while its candidates trained: completed candidates
    are kept, the rest (and the final run) are trained."""
    from zsl_toolkit.rundir import read_record, run_train_config

    run_dir = Path(run_dir)
    record = read_record(run_dir)
    sel = record.get("selection")
    if record.get("status") != SELECTING or not isinstance(sel, dict):
        raise RunDirError(f"{run_dir}: not an interrupted selection")
    if root is not None:
        sel["data_root"] = str(Path(root).expanduser().resolve())
    try:
        config = run_train_config(record, quiet)
    except (KeyError, TypeError) as exc:
        raise RunDirError(f"{run_dir}: incomplete run record ({exc})") from None
    return _finish(run_dir, record, config, sel.get("data_root"), None)


def _finish(run_dir: Path, record: dict[str, Any], config: Any, root: Any, data: Any) -> Any:
    """Run (or finish) the candidates, choose, record, and train the choice."""
    from zsl_toolkit.data.resolve import load_dataset
    from zsl_toolkit.io import write_json
    from zsl_toolkit.pipeline import train
    from zsl_toolkit.rundir import RUN_FILE, read_metrics, run_dataset, run_evaluators
    from zsl_toolkit.sweep.runner import run_sweep, trial_dir

    sel = record["selection"]
    method, dataset = record["method"], run_dataset(record)
    cfg = _sweep_config(method, dataset, sel, config.to_dict())
    ex = sel.get("executor") or {}
    out = run_dir / SELECTION_DIR
    try:
        outcome = run_sweep(
            cfg,
            out,
            executor=ex.get("kind", "inline"),
            jobs=ex.get("jobs"),
            threads=ex.get("threads"),
            ray_address=ex.get("ray_address"),
            quiet=config.quiet,
        )
    except KeyboardInterrupt:
        raise TrainingInterrupted(
            f"interrupted while selecting; completed candidates are kept in {out}; "
            f"continue with: zsl train --resume {run_dir}"
        ) from None
    if outcome.failed:
        first = next(iter(outcome.failed.values()))
        raise TrialsFailed(
            f"{len(outcome.failed)} of {len(outcome.trials)} selection candidates failed "
            f"(first: {first}); errors in {out}/trials/<id>/error.txt; "
            f"retry with: zsl train --resume {run_dir}"
        )
    candidates = []
    for t in outcome.trials:
        point = {k: t.params[k] for k in sel["axes"]}
        candidates.append(
            {
                "id": t.id,
                "params": point,
                "default": point == sel["default"],
                "metrics": read_metrics(trial_dir(out, t.id)),
            }
        )
    best = choose(candidates)
    sel.update(
        status="complete",
        candidates=candidates,
        chosen=candidates[best]["params"],
        chosen_id=candidates[best]["id"],
    )
    write_json(run_dir / RUN_FILE, record)
    if data is None:
        data = load_dataset(dataset, root)
    return train(
        method,
        record["dataset"],
        params={**sel["given_params"], **sel["chosen"]},
        config=config,
        root=root,
        out=run_dir,
        evaluators=run_evaluators(record),
        data=data,
        protocol=record.get("protocol", "test"),
        _selection=sel,
    )
