"""The training loop every method runs under.

The trainer owns seeding, the device, epochs, minibatching, optimizers, progress display, the
per-epoch JSON-lines log and checkpoints; methods only describe stages. Data stay on the
training device for the whole run: each epoch draws its permutations on the device (one, or one
per repeat of each optimizer of a stage that alternates several) and slices batches from
resident tensors, and loss terms are summed on the device and read back once per epoch, so
there is no per-batch host synchronisation.

Resumption is exact on CPU. At the start of every stage the trainer saves the model and RNG
state (``stage_start.pt``); after every epoch it saves model, optimizer and RNG state
(``checkpoint.pt``). Resuming restores the stage-start state, rebuilds the stage (which
therefore sees the same model and draws the same random numbers as the first time), then
restores the epoch checkpoint and continues. Methods must keep all learned state in the
modules returned by ``build`` for this to hold (the conformance kit checks save/load).
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.device import resolve_device
from zsl_toolkit.io import atomic_write, interrupts_held
from zsl_toolkit.methods.base import FitContext, Method, ModelSpec, Stage, Update
from zsl_toolkit.runs.layout import CHECKPOINT, LOG, LOG_META_KEYS, STAGE_START
from zsl_toolkit.runs.state import load_state
from zsl_toolkit.training.config import TrainConfig


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) so CPU runs repeat bit for bit."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def _rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"rng_cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["rng_cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["rng_cpu"])
    if "rng_cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng_cuda"])


def refit_state(method: Method) -> dict[str, Any]:
    """The RNG state and the class-indexed tensors of ``method`` now (see
    :attr:`Trainer.refit_start`)."""
    state = method.modules().state_dict()
    tensors = {k: state[k].detach().cpu().clone() for k in method.class_indexed()}
    return {"tensors": tensors, **_rng_state()}


def restore_rng(state: dict[str, Any]) -> None:
    """Set torch's generators to a state saved by :func:`refit_state`."""
    _set_rng_state(state)


class Trainer:
    """Runs a method's stages; writes the log and checkpoints into ``run_dir`` when given."""

    def __init__(self, config: TrainConfig, run_dir: Path | None = None) -> None:
        self.config = config
        self.run_dir = run_dir
        self.history: list[dict[str, Any]] = []
        self.position: tuple[int, int] = (0, 0)  # (stage, completed epochs) last checkpointed
        #: RNG state and class-indexed tensors when the method's class-refit stage started
        #: (``None`` for other methods): what a class edit re-runs that stage from.
        self.refit_start: dict[str, Any] | None = None

    def fit(self, method: Method, data: ZSLData, resume: bool = False) -> Method:
        """Seed, build the method's networks for ``data`` and run every stage on ``trainval``.

        With ``resume``, continue from ``run_dir``'s checkpoint instead of from scratch.
        """
        device = resolve_device(self.config.device)
        seed_everything(self.config.seed)
        method.setup(ModelSpec.from_data(data), epochs=self.config.epochs)
        method.to(device)
        ctx = method.context(data, device)
        index, done, checkpoint = 0, 0, None
        if resume:
            index, done, checkpoint = self._restore(method)
        # A mini-batch primary stage took --epochs/--batch-size (perhaps before a resume).
        overridden = index > 0
        while True:
            if checkpoint is None:
                self._save_stage_start(method, index)
            if index == method.class_refit_stage:
                self.refit_start = refit_state(method)
            stage = method.stage(index, ctx)
            if stage is None:
                break
            if checkpoint is None and self.run_dir is not None:
                (self.run_dir / CHECKPOINT).unlink(missing_ok=True)  # an earlier stage's
            self._run_stage(method, stage, index, ctx, done, checkpoint)
            overridden = overridden or (stage.primary and stage.closed_form is None)
            index, done, checkpoint = index + 1, 0, None
        for m in method.modules().modules():
            m.eval()
        self._notice_unused_overrides(method, overridden)
        return method

    def _notice_unused_overrides(self, method: Method, overridden: bool) -> None:
        """One line on stderr when ``epochs``/``batch_size`` were set but no stage used them
        (a closed-form method such as ESZSL), rather than ignoring them silently."""
        given = [
            f"--{name.replace('_', '-')}"
            for name in ("epochs", "batch_size")
            if getattr(self.config, name) is not None
        ]
        if given and not overridden:
            print(
                f"notice: {' and '.join(given)} had no effect: {type(method).__name__} has no "
                "mini-batch training stage (closed form)",
                file=sys.stderr,
            )

    # ------------------------------------------------------------------ resume
    def _restore(self, method: Method) -> tuple[int, int, dict[str, Any] | None]:
        assert self.run_dir is not None
        start_path, ckpt_path = self.run_dir / STAGE_START, self.run_dir / CHECKPOINT
        if not start_path.is_file():
            return 0, 0, None  # interrupted before the first stage began: start over
        start = load_state(start_path)
        checkpoint = load_state(ckpt_path) if ckpt_path.is_file() else None
        if checkpoint is not None and checkpoint["stage"] != start["stage"]:
            checkpoint = None  # the epoch checkpoint belongs to an earlier stage
        method.modules().load_state_dict(start["model"])
        _set_rng_state(start)
        done = checkpoint["epoch"] if checkpoint is not None else 0
        self._truncate_log(start["stage"], done)
        return start["stage"], done, checkpoint

    def _truncate_log(self, stage: int, epoch: int) -> None:
        """Drop log lines written after the checkpoint being resumed from."""
        assert self.run_dir is not None
        path = self.run_dir / LOG
        if not path.is_file():
            return
        keep = []
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by the crash
            if (record.get("stage_index", 0), record.get("epoch", 0)) <= (stage, epoch):
                keep.append(record)
        text = "".join(json.dumps(r) + "\n" for r in keep)
        atomic_write(path, lambda fh: fh.write(text.encode()))
        self.history = keep

    def _save_stage_start(self, method: Method, index: int) -> None:
        if self.run_dir is None or self.config.checkpoint_every <= 0:
            return
        state = {"stage": index, "model": method.modules().state_dict(), **_rng_state()}
        atomic_write(self.run_dir / STAGE_START, lambda fh: torch.save(state, fh))

    # ------------------------------------------------------------------ loop
    def run_stage(self, method: Method, stage: Stage, index: int, ctx: FitContext) -> None:
        """Run one stage from the current model and RNG state (a class edit's refit)."""
        self._run_stage(method, stage, index, ctx)

    def _run_stage(
        self,
        method: Method,
        stage: Stage,
        index: int,
        ctx: FitContext,
        done: int = 0,
        checkpoint: dict[str, Any] | None = None,
    ) -> None:
        if stage.closed_form is not None:
            start = time.perf_counter()
            terms = stage.closed_form()
            self._log(stage, index, 1, terms, time.perf_counter() - start)
            return
        updates = _updates_of(stage)
        epochs = stage.epochs
        batch = stage.batch_size
        if stage.primary:
            epochs = self.config.epochs if self.config.epochs is not None else epochs
            batch = self.config.batch_size if self.config.batch_size is not None else batch
        optimizers = {u.name: u.optimizer(u.parameters) for u in updates}
        if checkpoint is not None:
            method.modules().load_state_dict(checkpoint["model"])
            for name, opt in optimizers.items():
                opt.load_state_dict(checkpoint["optimizers"][name])
            _set_rng_state(checkpoint)
        # With several optimizers each takes gradients of its own parameters only.
        restrict = len(updates) > 1
        for m in stage.train_modules:
            m.train()
        n = stage.tensors[0].shape[0]
        stop = n - (n % batch) if stage.drop_last and n >= batch else n
        progress = self._progress(stage.name, epochs, done)
        try:
            for epoch in range(done, epochs):
                start = time.perf_counter()
                perms = [
                    torch.randperm(n, device=ctx.device) for u in updates for _ in range(u.repeat)
                ]
                sums: dict[str, torch.Tensor] = {}
                owner: dict[str, str] = {}  # logged term -> the update that produced it
                steps = dict.fromkeys(optimizers, 0)
                for b in range(0, stop, batch):
                    order = iter(perms)
                    for u in updates:
                        for _ in range(u.repeat):
                            idx = next(order)[b : b + batch]
                            rows = tuple(t[idx] for t in stage.tensors)
                            terms = _step(u, optimizers[u.name], rows, epoch, restrict)
                            for k, v in terms.items():
                                key = f"{u.name}.{k}" if u.name else k
                                v = v.detach()
                                sums[key] = sums[key] + v if key in sums else v
                                owner[key] = u.name
                            steps[u.name] += 1
                means = {k: float(v) / max(steps[owner[k]], 1) for k, v in sums.items()}
                record = self._log(stage, index, epoch + 1, means, time.perf_counter() - start)
                self._checkpoint(method, optimizers, index, epoch + 1, epochs)
                if progress is not None:
                    progress.update(1, record)
        finally:
            if progress is not None:
                progress.render_finish()
        for m in stage.train_modules:
            m.eval()

    def _progress(self, name: str, epochs: int, done: int):
        """A progress bar on a terminal; elsewhere (a log file, CI) timed plain lines."""
        if self.config.quiet or epochs == done:
            return None
        if not sys.stderr.isatty():
            from zsl_toolkit.training.progress import LineProgress

            return LineProgress(name, epochs, done)
        import click

        def show(record: dict[str, Any] | None) -> str:
            if not record:
                return ""
            skip = LOG_META_KEYS
            terms = [f"{k}={v:.4g}" for k, v in record.items() if k not in skip]
            return " ".join(terms[:6])

        bar = click.progressbar(
            length=epochs,
            label=f"{name:>10}",
            item_show_func=show,
            file=sys.stderr,
            show_pos=True,
            width=20,
        )
        bar.__enter__()
        if done:
            bar.update(done)
        return bar

    def _log(
        self, stage: Stage, index: int, epoch: int, terms: dict[str, float], seconds: float
    ) -> dict[str, Any]:
        record = {
            "stage": stage.name,
            "stage_index": index,
            "epoch": epoch,
            **terms,
            "seconds": round(seconds, 4),
        }
        self.history.append(record)
        if self.run_dir is not None:
            with open(self.run_dir / LOG, "a") as fh:
                fh.write(json.dumps(record) + "\n")
        return record

    def _checkpoint(
        self,
        method: Method,
        optimizers: dict[str, torch.optim.Optimizer],
        stage: int,
        epoch: int,
        epochs: int,
    ) -> None:
        every = self.config.checkpoint_every
        if self.run_dir is None or every <= 0 or (epoch % every and epoch != epochs):
            return
        state = {
            "stage": stage,
            "epoch": epoch,
            "model": method.modules().state_dict(),
            "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
            **_rng_state(),
        }
        with interrupts_held():  # an interrupt now reports the checkpoint just written
            atomic_write(self.run_dir / CHECKPOINT, lambda fh: torch.save(state, fh))
            self.position = (stage, epoch)


def _step(
    update: Update,
    optimizer: torch.optim.Optimizer,
    batch: tuple[torch.Tensor, ...],
    epoch: int,
    restrict: bool,
) -> dict[str, torch.Tensor]:
    """One optimizer step of ``update`` on ``batch``; returns the loss terms."""
    terms = update.loss(batch, epoch)
    optimizer.zero_grad(set_to_none=True)
    if restrict:
        terms["loss"].backward(inputs=list(update.parameters))
    else:
        terms["loss"].backward()
    optimizer.step()
    return terms


def _updates_of(stage: Stage) -> list[Update]:
    """The stage's optimizers as a list of updates (one unnamed update for a plain stage)."""
    if not stage.tensors:
        raise TypeError(f"stage '{stage.name}' needs closed_form or tensors to train on")
    if stage.updates:
        if stage.loss is not None or stage.optimizer is not None or stage.parameters:
            raise TypeError(
                f"stage '{stage.name}' sets updates and also loss/optimizer/parameters; "
                f"give each update its own"
            )
        names = [u.name for u in stage.updates]
        if len(set(names)) != len(names) or not all(names):
            raise TypeError(f"stage '{stage.name}': update names must be distinct and non-empty")
        if any(u.repeat < 1 for u in stage.updates):
            raise TypeError(f"stage '{stage.name}': every update's repeat must be >= 1")
        return list(stage.updates)
    if stage.loss is None or stage.optimizer is None:
        raise TypeError(f"stage '{stage.name}' needs closed_form, loss/optimizer or updates")
    return [Update("", stage.parameters, stage.optimizer, stage.loss)]
