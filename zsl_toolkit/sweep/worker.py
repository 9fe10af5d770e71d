"""The function every executor runs for one trial, in a worker process.

It trains through :func:`zsl_toolkit.pipeline.train`, exactly as ``zsl train`` does, into the
trial's directory, then writes ``trial.json`` (the resolved config the sweep hashed) beside
the ordinary run files: that file is what marks the directory as this trial, complete.
Errors are returned, not raised, so one failing trial never stops the others.

The thread count is set explicitly on every call: results depend on it at the level of the
last bits (reduction order), and setting it identically under every executor makes the same
trial give bit-identical metrics wherever it runs.
"""

from __future__ import annotations

import os
import platform
import shutil
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

TRIAL_FILE = "trial.json"

# (dataset spec, data root) -> ZSLData. One entry: a worker process keeps only the dataset of
# its latest trial, and the planner orders trials dataset by dataset.
#: What trains a trial: ``train(settings, out=run_dir, data=data)`` -> a run result.
Trainer = Callable[..., Any]

_DATA_CACHE: dict[tuple[str, str | None], Any] = {}


def _dataset(spec: str, root: str | None) -> Any:
    from zsl_toolkit.data.resolve import load_dataset

    key = (spec, root)
    if key not in _DATA_CACHE:
        _DATA_CACHE.clear()
        _DATA_CACHE[key] = load_dataset(spec, root)
    return _DATA_CACHE[key]


def run_trial(payload: dict[str, Any], train: Trainer | None = None) -> dict[str, Any]:
    """Train one trial; ``payload`` holds ``id``, ``config``, ``params``, ``run_dir``, ``threads``.

    ``train`` (default :func:`zsl_toolkit.pipeline.train`) is called as ``train(settings,
    out=run_dir, data=data)``: a caller that runs trials of its own kind passes its function
    (:func:`zsl_toolkit.sweep.select.run_trial`, for trials that choose settings on validation).
    Returns ``{"status": "complete", ...}`` with headline metrics, or ``{"status": "failed",
    "error": one line, "traceback": text or None}``; an interrupted trial re-raises
    ``KeyboardInterrupt`` (stopped, not failed: the caller decides what follows).
    """
    started = time.time()
    info = {"id": payload["id"], "host": platform.node(), "pid": os.getpid()}
    try:
        import torch

        from zsl_toolkit.errors import TrainingInterrupted, ZSLError
        from zsl_toolkit.io import write_json
        from zsl_toolkit.settings import run_settings

        if train is None:
            from zsl_toolkit.pipeline import train

        torch.set_num_threads(int(payload["threads"]))
        cfg = payload["config"]
        run_dir = Path(payload["run_dir"])
        if run_dir.exists():  # left by an interrupted attempt: start clean
            shutil.rmtree(run_dir)
        try:
            settings = run_settings(
                cfg["method"],
                cfg["dataset"],
                params=payload["params"],
                seed=int(cfg["seed"]),
                epochs=cfg["epochs"],
                batch_size=cfg["batch_size"],
                device=cfg["device"],
                evaluators=cfg["evaluators"],
                data_root=cfg["data_root"],
                protocol=cfg.get("protocol", "test"),
                quiet=True,
                select=cfg.get("select"),
                balance=bool(cfg.get("balance", False)),
            )
            data = _dataset(settings.dataset, settings.data_root)
            result = train(settings, out=run_dir, data=data)
        except TrainingInterrupted:
            raise KeyboardInterrupt from None
        except ZSLError as exc:
            return _failed(info, started, str(exc), None)
        write_json(run_dir / TRIAL_FILE, {"id": payload["id"], "config": cfg})
        headline = {
            f"{ev}.{k}": v
            for ev, values in result.metrics.items()
            if isinstance(values, dict)
            for k, v in values.items()
            if isinstance(v, float)
        }
        return {
            **info,
            "status": "complete",
            "seconds": round(time.time() - started, 3),
            "threads": torch.get_num_threads(),
            "metrics": headline,
        }
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a bug (even sys.exit) in a method must not stop the sweep
        one_line = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        return _failed(info, started, one_line, traceback.format_exc())


def _failed(info: dict[str, Any], started: float, error: str, tb: str | None) -> dict[str, Any]:
    return {
        **info,
        "status": "failed",
        "seconds": round(time.time() - started, 3),
        "error": error.replace("\n", " "),
        "traceback": tb,
    }
