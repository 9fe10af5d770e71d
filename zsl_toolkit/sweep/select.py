"""Train every candidate on the validation protocol, choose by validation H, train the choice
on the test protocol: one run directory that holds all of it (``zsl train --select``).

The candidates are a sweep (:mod:`zsl_toolkit.sweep`) of one method, one dataset and one seed
under ``--protocol val`` (under ``inner`` when the run itself is reported under ``val``, so
the reported validation H is not the one that chose), run by the sweep's executors into
``RUN_DIR/selection/`` (its trials are ordinary run directories). That gives the sweep's
parallelism (``jobs``, Ray), its resume (a completed candidate is never retrained) and its
failure records for free. The validation
protocol (:mod:`zsl_toolkit.data.protocol`) removes the test classes and their images before
any candidate sees the data, so test numbers cannot enter the choice.

``run.json`` holds the whole selection under its ``selection`` key
(:mod:`zsl_toolkit.selection.record`): the grid, each candidate's validation metrics, the
choice and the rule. While candidates train the run's status is ``selecting``;
``zsl train --resume RUN_DIR`` continues from there.

A sweep trial may itself select (a method table's ``select``): :func:`run_trial` is the trial
function that runs those, and :func:`run_sweep` the sweep that uses it. The sweep's runner and
worker take that function as an argument rather than importing this module, which imports them.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsl_toolkit import balance as balancing
from zsl_toolkit.errors import ConfigError, RunDirError, TrainingInterrupted, TrialsFailed
from zsl_toolkit.selection.record import (
    CRITERION,
    MIN_SELECTION_CLASSES,
    SELECTING,
    SELECTION_DIR,
    SELECTION_KEY,
    choose,
    default_point,
    selection_of,
)
from zsl_toolkit.selection.spec import as_spec, candidate_axes, check_candidates
from zsl_toolkit.settings import RunSettings
from zsl_toolkit.sweep import runner, worker

if TYPE_CHECKING:
    from zsl_toolkit.data.container import ZSLData
    from zsl_toolkit.runs.load import RunResult
    from zsl_toolkit.runs.record import RunRecord
    from zsl_toolkit.sweep.runner import SweepOutcome
    from zsl_toolkit.training.config import TrainConfig


def _sweep_config(
    method: str, dataset: str, sel: Mapping[str, Any], train: Mapping[str, Any]
) -> Any:
    """The candidates as a one-method, one-dataset, one-seed sweep under the selection's
    protocol (``val``; ``inner`` for a run reported under ``val``)."""
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
        protocols=(sel.get("protocol", "val"),),
    )


def train_selected(
    settings: RunSettings,
    *,
    out: str | Path | None = None,
    data: ZSLData | None = None,
    executor: str = "local",
    jobs: int | None = None,
    threads: int | None = None,
    ray_address: str | None = None,
) -> RunResult:
    """Select the parameters ``settings.select`` names on the dataset's validation protocol and
    train the choice under ``settings.protocol``; returns the final run's
    :class:`~zsl_toolkit.runs.load.RunResult`.

    Parameters
    ----------
    settings
        The run as :func:`zsl_toolkit.pipeline.train` takes it; ``select`` is ``"auto"`` (the
        method's declared candidates), ``KEY=v1,v2`` items or a ``{KEY: [values]}`` mapping
        (:func:`~zsl_toolkit.selection.spec.as_spec`); ``params`` stay fixed.
    out
        The run directory to create (default: under ``runs/``).
    data
        The dataset as loaded, to skip loading it (candidates load it by name or path).
    executor, jobs, threads, ray_address
        How the candidates run, as ``zsl sweep`` runs trials (one job: one after another, in
        this process).

    Everything is validated before the run directory is created.
    """
    from zsl_toolkit.data.protocol import apply_protocol, check_protocol, selection_protocol
    from zsl_toolkit.data.resolve import load_dataset
    from zsl_toolkit.methods.registry import method_registry
    from zsl_toolkit.runs.create import start_record
    from zsl_toolkit.runs.dataset import DatasetRef
    from zsl_toolkit.runs.layout import default_run_dir, make_run_dir
    from zsl_toolkit.runs.record import write_record
    from zsl_toolkit.sweep.executors import make_executor
    from zsl_toolkit.sweep.plan import canonical, plan_trials

    protocol = check_protocol(settings.protocol, "protocol")
    chosen_on = selection_protocol(protocol)
    balancing.check_protocol(settings.balance, protocol)
    if settings.dataset_options:
        raise ConfigError(
            "--select with --dataset-option: candidates load the dataset by name only; write "
            "the configured dataset to a file with `zsl data convert` and select on that"
        )
    method, dataset, config = settings.method, settings.dataset, settings.config
    root = settings.data_root
    evaluators = tuple(settings.evaluators)
    method_cls = method_registry().load(method)
    fixed = dict(settings.params)
    base = method_cls.create(fixed)
    axes = candidate_axes(as_spec(settings.select, method_cls), method_cls, method, fixed)
    check_candidates(method_cls, method, fixed, axes)
    kind = "inline" if executor == "local" and (jobs or 1) == 1 else executor
    make_executor(kind, jobs, threads, ray_address)  # validates the options; starts nothing
    sel: dict[str, Any] = {
        "status": "running",
        "protocol": chosen_on,
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
        # The final run's balancing as asked (None: the dataset's default), applied to the
        # chosen configuration once chosen; candidates are never balanced.
        "balance": settings.balance,
    }
    sel = canonical(sel)
    # Candidates see the dataset as a resumed selection will (an absolute path, or a name),
    # so their ids, and with them the completed ones, are found again.
    ref = DatasetRef.resolve(dataset)
    plan_trials(_sweep_config(method, ref.spec, sel, config.to_dict()))  # validates every trial
    if data is None:
        data = load_dataset(dataset, root)
    n_val = apply_protocol(data, chosen_on).unseen_classes.size
    if n_val < MIN_SELECTION_CLASSES:
        sel["skipped"] = (
            f"the {chosen_on} protocol has {n_val} validation class (fewer than "
            f"{MIN_SELECTION_CLASSES}): nothing to choose on; the default is trained"
        )
    tested = apply_protocol(data, protocol)
    run_dir = make_run_dir(Path(out) if out else default_run_dir(method, dataset, config.seed))
    record = start_record(
        method, base.get_params(), ref, root, protocol, tested, config, evaluators
    )
    record = record.updated(status=SELECTING).with_extra(SELECTION_KEY, sel)
    write_record(run_dir, record)
    return _finish(run_dir, record, config, root, data)


def resume_selection(
    run_dir: str | Path, *, root: str | Path | None = None, quiet: bool = False
) -> RunResult:
    """Continue a selection interrupted while its candidates trained: completed candidates
    are kept, the rest (and the final run) are trained."""
    from zsl_toolkit.runs.record import read_record
    from zsl_toolkit.training.config import TrainConfig

    run_dir = Path(run_dir)
    record = read_record(run_dir)
    sel = selection_of(record)
    if record.status != SELECTING or sel is None:
        raise RunDirError(f"{run_dir}: not an interrupted selection")
    if root is not None:
        sel["data_root"] = str(Path(root).expanduser().resolve())
        record = record.with_extra(SELECTION_KEY, sel)
    try:
        config = TrainConfig.from_dict(record.train, quiet)
    except TypeError as exc:
        raise RunDirError(f"{run_dir}: incomplete run record ({exc})") from None
    return _finish(run_dir, record, config, sel.get("data_root"), None)


def resume(run_dir: str | Path, *, root: str | Path | None = None, quiet: bool = False) -> Any:
    """``zsl train --resume``: an interrupted selection (:func:`resume_selection`) or an
    interrupted plain run (:func:`zsl_toolkit.pipeline.resume`)."""
    from zsl_toolkit.pipeline import resume as resume_run
    from zsl_toolkit.runs.record import read_record

    if read_record(run_dir).status == SELECTING:
        return resume_selection(run_dir, root=root, quiet=quiet)
    return resume_run(run_dir, root=root, quiet=quiet)


def _finish(
    run_dir: Path, record: RunRecord, config: TrainConfig, root: Any, data: Any
) -> RunResult:
    """Run (or finish) the candidates, choose, record, and train the choice."""
    from zsl_toolkit.runs.load import read_metrics

    sel = selection_of(record)
    assert sel is not None
    method, dataset = record.method, record.dataset.spec
    if sel.get("skipped"):
        sel.update(status="complete", candidates=[], chosen=dict(sel["default"]), chosen_id=None)
        if not config.quiet:
            print(f"select: {sel['skipped']}", file=sys.stderr, flush=True)
        return _final(run_dir, record, config, root, data, sel)
    cfg = _sweep_config(method, dataset, sel, config.to_dict())
    ex = sel.get("executor") or {}
    out = run_dir / SELECTION_DIR
    try:
        outcome = runner.run_sweep(
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
                "metrics": read_metrics(runner.trial_dir(out, t.id)),
            }
        )
    best = choose(candidates)
    sel.update(
        status="complete",
        candidates=candidates,
        chosen=candidates[best]["params"],
        chosen_id=candidates[best]["id"],
    )
    return _final(run_dir, record, config, root, data, sel)


def _final(
    run_dir: Path, record: RunRecord, config: TrainConfig, root: Any, data: Any, sel: dict
) -> RunResult:
    """Record the finished selection and train its choice under the run's own protocol."""
    from zsl_toolkit.data.resolve import load_dataset
    from zsl_toolkit.pipeline import train_into
    from zsl_toolkit.runs.record import write_record

    method, dataset = record.method, record.dataset.spec
    write_record(run_dir, record.with_extra(SELECTION_KEY, sel))
    if data is None:
        data = load_dataset(dataset, root)
    final = RunSettings(
        method=method,
        dataset=record.dataset.name,
        params={**sel["given_params"], **sel["chosen"]},
        config=config,
        data_root=root,
        evaluators=tuple(record.evaluators),
        protocol=record.protocol,
        balance=sel.get("balance", False),  # records from before the key: never balanced
    )
    return train_into(final, run_dir, data=data, extra={SELECTION_KEY: sel})


def _train_trial(settings: RunSettings, *, out: Path, data: ZSLData) -> RunResult:
    """One sweep trial: a selection when its settings select, else one training."""
    if settings.select:
        return train_selected(settings, out=out, data=data)
    from zsl_toolkit.pipeline import train

    return train(settings, out=out, data=data)


def run_trial(payload: dict[str, Any]) -> dict[str, Any]:
    """The sweep trial function (:func:`zsl_toolkit.sweep.worker.run_trial`) that also runs
    trials choosing settings on validation."""
    return worker.run_trial(payload, train=_train_trial)


def run_sweep(config: Any, out: str | Path | None = None, **options: Any) -> SweepOutcome:
    """:func:`zsl_toolkit.sweep.runner.run_sweep` (same ``options``) whose trials may select
    (a method table's ``select``): what ``zsl sweep`` runs."""
    return runner.run_sweep(config, out, trial=run_trial, **options)
