"""Run a sweep: plan, skip what is done, run the rest on an executor, record everything.

Layout of a sweep directory::

    sweep.json            the plan: name, source config text, every trial (id, label, config)
    state.json            per-trial status of the latest invocation, and every invocation
    trials/<id>/          an ordinary run directory (``zsl evaluate``/``zsl export`` work on it)
                          + trial.json (the resolved config) once complete, or error.txt
    report.{md,csv,json}  written by ``zsl report``

A trial is done when its directory holds ``run.json`` with status "complete" and a
``trial.json`` whose config equals the planned one; anything else in its place is cleared
and the trial re-run, so a killed sweep resumes where it stopped. Nothing is created before
every trial has been validated.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from zsl_toolkit.errors import ConfigError, ZSLError
from zsl_toolkit.io import write_json
from zsl_toolkit.runs.layout import METRICS_FILE, utc_now
from zsl_toolkit.runs.record import read_record
from zsl_toolkit.sweep.config import SweepConfig
from zsl_toolkit.sweep.executors import TrialFunction, make_executor
from zsl_toolkit.sweep.plan import Trial, canonical, plan_trials
from zsl_toolkit.sweep.progress import Progress
from zsl_toolkit.sweep.worker import TRIAL_FILE, run_trial

SWEEP_FILE = "sweep.json"
STATE_FILE = "state.json"
TRIALS_DIR = "trials"
ERROR_FILE = "error.txt"
LOCK_FILE = ".lock"


def default_sweep_dir(name: str) -> Path:
    return Path("sweeps") / name


def trial_dir(sweep_dir: Path, trial_id: str) -> Path:
    return Path(sweep_dir) / TRIALS_DIR / trial_id


def read_json(path: Path) -> Any:
    """Parsed JSON file, or None when missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def is_complete(run_dir: Path, trial: Trial) -> bool:
    """Whether ``run_dir`` holds a finished run of exactly ``trial``'s resolved config."""
    try:
        complete = read_record(run_dir).complete
    except ZSLError:
        return False
    marker = read_json(run_dir / TRIAL_FILE)
    return (
        complete
        and (run_dir / METRICS_FILE).is_file()
        and isinstance(marker, dict)
        and canonical(marker.get("config")) == trial.config
    )


def load_plan(sweep_dir: Path) -> tuple[dict[str, Any], list[Trial]]:
    """``sweep.json`` of a sweep directory and its trials."""
    sweep_dir = Path(sweep_dir)
    plan = read_json(sweep_dir / SWEEP_FILE)
    if not isinstance(plan, dict) or "trials" not in plan:
        raise ConfigError(
            f"{sweep_dir} is not a sweep directory (no readable {SWEEP_FILE}); "
            f"pass the folder `zsl sweep` wrote"
        )
    return plan, [Trial.from_dict(t) for t in plan["trials"]]


@dataclass
class SweepOutcome:
    """What one invocation did."""

    sweep_dir: Path
    trials: list[Trial]
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class _State:
    """``state.json``: written atomically after every event, by the driver only."""

    def __init__(self, path: Path, config: SweepConfig, trials: list[Trial], info: dict) -> None:
        self.path = path
        old = read_json(path) or {}
        old_trials = old.get("trials", {}) if isinstance(old, dict) else {}
        self.data: dict[str, Any] = {
            "name": config.name,
            "invocations": list(old.get("invocations", [])) if isinstance(old, dict) else [],
            "trials": {},
        }
        self.index = len(self.data["invocations"]) + 1
        self.data["invocations"].append(
            {"index": self.index, "started": utc_now(), **info, "ran": [], "failed": []}
        )
        for t in trials:
            prev = old_trials.get(t.id, {}) if isinstance(old_trials, dict) else {}
            self.data["trials"][t.id] = {
                "label": t.label,
                "dataset": t.dataset,
                "seed": t.seed,
                "params": t.params,
                "status": "pending",
                "ran_in": prev.get("ran_in") if prev.get("status") == "complete" else None,
            }

    @property
    def invocation(self) -> dict[str, Any]:
        return self.data["invocations"][-1]

    def update(self, trial_id: str, **fields: Any) -> None:
        self.data["trials"][trial_id].update(fields)
        self.save()

    def save(self) -> None:
        self.data["updated"] = utc_now()
        write_json(self.path, self.data)


@contextmanager
def _term_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (a scheduler's kill, a timeout) like Ctrl-C, so state is saved first."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def _lock(sweep_dir: Path) -> Iterator[None]:
    """Refuse a second live sweep in the same directory; a dead holder's lock is taken over."""
    path = sweep_dir / LOCK_FILE
    me = f"{platform.node()} {os.getpid()}"
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            holder = path.read_text().split()
            if (
                len(holder) == 2
                and holder[0] == platform.node()
                and holder[1].isdigit()
                and not _pid_alive(int(holder[1]))
            ):
                path.unlink(missing_ok=True)  # stale: its sweep was killed
                continue
            raise ConfigError(
                f"{sweep_dir}: another sweep is running here (lock {path}: {' '.join(holder)}); "
                f"wait for it or delete the lock file if that process is gone"
            ) from None
        with os.fdopen(fd, "w") as fh:
            fh.write(me)
        break
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"sweep directory {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / SWEEP_FILE).is_file():
        raise ConfigError(
            f"{out} exists, is not empty and is not a sweep directory (no {SWEEP_FILE}); "
            f"choose another --out"
        )


def run_sweep(
    config: SweepConfig,
    out: str | Path | None = None,
    *,
    executor: str = "local",
    jobs: int | None = None,
    threads: int | None = None,
    ray_address: str | None = None,
    quiet: bool = False,
    stream: TextIO | None = None,
    trial: TrialFunction = run_trial,
) -> SweepOutcome:
    """Validate every trial, then run those not already complete; never raises for a trial.

    ``jobs`` concurrent trials with ``threads`` torch threads each (default: cores // jobs).
    Failed trials are listed in the outcome, in ``state.json`` and in their ``error.txt``.
    Each trial runs ``trial`` (default: one training, :func:`~zsl_toolkit.sweep.worker.run_trial`);
    :func:`zsl_toolkit.sweep.run_sweep` passes the one that also runs trials choosing settings
    on validation (:func:`zsl_toolkit.sweep.select.run_trial`).
    """
    trials = plan_trials(config)
    sweep_dir = Path(out) if out is not None else default_sweep_dir(config.name)
    _check_out(sweep_dir)
    ex = make_executor(executor, jobs, threads, ray_address, trial)  # validates; starts nothing
    try:
        sweep_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create sweep directory {sweep_dir}: {exc.strerror}") from None
    sweep_dir = sweep_dir.resolve()
    outcome = SweepOutcome(sweep_dir, trials)
    with _lock(sweep_dir):
        write_json(
            sweep_dir / SWEEP_FILE,
            {
                "name": config.name,
                "source": config.source,
                "config_text": config.text,
                "written": utc_now(),
                "trials": [t.to_dict() for t in trials],
            },
        )
        (sweep_dir / TRIALS_DIR).mkdir(exist_ok=True)
        todo = []
        for t in trials:
            d = trial_dir(sweep_dir, t.id)
            if is_complete(d, t):
                outcome.skipped.append(t.id)
            else:
                if d.exists():
                    shutil.rmtree(d)  # interrupted or failed earlier: start again
                todo.append(t)
        info = {
            "executor": ex.name,
            "jobs": getattr(ex, "slots", None),
            "threads": ex.threads,
            "planned": len(trials),
            "skipped": len(outcome.skipped),
        }
        state = _State(sweep_dir / STATE_FILE, config, trials, info)
        for tid in outcome.skipped:
            state.data["trials"][tid]["status"] = "complete"
        state.save()
        progress = Progress(config.name, len(trials), len(outcome.skipped), stream, quiet)
        try:
            if todo:
                with _term_as_interrupt(), ex:
                    state.invocation["jobs"] = ex.slots
                    _drive(ex, todo, sweep_dir, state, progress, outcome)
        except BaseException:
            for entry in state.data["trials"].values():
                if entry["status"] == "running":
                    entry["status"] = "interrupted"
            state.invocation["interrupted"] = True
            state.invocation["finished"] = utc_now()
            state.save()
            raise
        finally:
            progress.close()
        state.invocation["finished"] = utc_now()
        state.save()
    return outcome


def _drive(
    ex: Any,
    todo: list[Trial],
    sweep_dir: Path,
    state: _State,
    progress: Progress,
    outcome: SweepOutcome,
) -> None:
    pending = deque(todo)
    inflight: dict[Any, Trial] = {}
    while pending or inflight:
        while pending and len(inflight) < ex.slots:
            t = pending.popleft()
            payload = {
                "id": t.id,
                "config": t.config,
                "params": t.params,
                "run_dir": str(trial_dir(sweep_dir, t.id)),
                "threads": ex.threads,
            }
            inflight[ex.submit(payload)] = t
            state.update(t.id, status="running", started=utc_now())
            progress.started()
        progress.tick()  # after the refill, so a log line counts the new trials as running
        for handle, result in ex.wait(list(inflight), timeout=0.5):
            t = inflight.pop(handle)
            _record(t, result, sweep_dir, state, outcome)
            ok = result["status"] == "complete"
            shown = ", ".join(f"{k}={v}" for k, v in t.params.items())
            what = f"{t.label} ({shown})" if shown else t.label
            where = f"{t.id} ({what} on {t.dataset}, seed {t.seed})"
            progress.ended(ok, "" if ok else f"{where}: {result.get('error')}")


def _record(
    t: Trial, result: dict[str, Any], sweep_dir: Path, state: _State, outcome: SweepOutcome
) -> None:
    fields = {
        "finished": utc_now(),
        "seconds": result.get("seconds"),
        "host": result.get("host"),
        "pid": result.get("pid"),
    }
    if result["status"] == "complete":
        outcome.ran.append(t.id)
        state.invocation["ran"].append(t.id)
        state.update(t.id, status="complete", ran_in=state.index, error=None, **fields)
        return
    error = result.get("error") or "unknown error"
    outcome.failed[t.id] = error
    state.invocation["failed"].append(t.id)
    d = trial_dir(sweep_dir, t.id)
    d.mkdir(parents=True, exist_ok=True)
    text = error + "\n"
    if result.get("traceback"):
        text += "\n" + result["traceback"]
    (d / ERROR_FILE).write_text(text)
    state.update(t.id, status="failed", error=error, **fields)
