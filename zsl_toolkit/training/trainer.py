"""The training loop every method runs under.

The trainer owns seeding, the device, epochs, minibatching, optimizers, progress display, the
per-epoch JSON-lines log and checkpoints; methods only describe stages. Data stay on the
training device for the whole run: each epoch draws its permutations on the device (one, or one
per repeat of each optimizer of a stage that alternates several) and slices batches from
resident tensors, and loss terms are summed on the device and read back once per epoch, so
there is no per-batch host synchronisation.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.errors import DeviceError
from zsl_toolkit.io import atomic_write
from zsl_toolkit.methods.base import FitContext, Method, ModelSpec, Stage, Update
from zsl_toolkit.training.config import TrainConfig


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` fails clearly when unavailable."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError(
            f"--device {name} was requested but CUDA is not available on this machine "
            f"(torch {torch.__version__}); use --device cpu or auto"
        )
    if name != "cpu" and not name.startswith("cuda"):
        raise DeviceError(f"--device must be auto, cpu or cuda[:N], got '{name}'")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) so CPU runs repeat bit for bit."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


EpochCallback = Callable[[dict[str, Any]], None]


class Trainer:
    """Runs a method's stages; writes ``log.jsonl`` and ``checkpoint.pt`` into ``run_dir``."""

    def __init__(self, config: TrainConfig, run_dir: Path | None = None) -> None:
        self.config = config
        self.run_dir = run_dir
        self.history: list[dict[str, Any]] = []

    def fit(self, method: Method, data: ZSLData) -> Method:
        """Seed, build the method's networks for ``data`` and run every stage on ``trainval``."""
        device = resolve_device(self.config.device)
        seed_everything(self.config.seed)
        method.setup(ModelSpec.from_data(data))
        method.to(device)
        ctx = method.context(data, device)
        index = 0
        while (stage := method.stage(index, ctx)) is not None:
            self._run_stage(method, stage, index, ctx)
            index += 1
        for m in method.modules().modules():
            m.eval()
        return method

    # ------------------------------------------------------------------ internals
    def _run_stage(self, method: Method, stage: Stage, index: int, ctx: FitContext) -> None:
        if stage.closed_form is not None:
            start = time.perf_counter()
            terms = stage.closed_form()
            self._log(stage, 0, terms, time.perf_counter() - start)
            return
        updates = _updates_of(stage)
        epochs = stage.epochs
        batch = stage.batch_size
        if stage.primary:
            epochs = self.config.epochs if self.config.epochs is not None else epochs
            batch = self.config.batch_size if self.config.batch_size is not None else batch
        optimizers = {u.name: u.optimizer(u.parameters) for u in updates}
        # With several optimizers each takes gradients of its own parameters only.
        restrict = len(updates) > 1
        for m in stage.train_modules:
            m.train()
        n = stage.tensors[0].shape[0]
        stop = n - (n % batch) if stage.drop_last and n >= batch else n
        progress = self._progress(stage.name, epochs)
        try:
            for epoch in range(epochs):
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
                record = self._log(stage, epoch + 1, means, time.perf_counter() - start)
                if progress is not None:
                    progress.update(1, record)
                self._checkpoint(method, optimizers, index, epoch + 1)
        finally:
            if progress is not None:
                progress.render_finish()
        for m in stage.train_modules:
            m.eval()

    def _progress(self, name: str, epochs: int):
        if self.config.quiet or epochs == 0:
            return None
        import click

        def show(record: dict[str, Any] | None) -> str:
            if not record:
                return ""
            terms = [
                f"{k}={v:.4g}" for k, v in record.items() if k not in ("stage", "epoch", "seconds")
            ]
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
        return bar

    def _log(
        self, stage: Stage, epoch: int, terms: dict[str, float], seconds: float
    ) -> dict[str, Any]:
        record = {"stage": stage.name, "epoch": epoch, **terms, "seconds": round(seconds, 4)}
        self.history.append(record)
        if self.run_dir is not None:
            with open(self.run_dir / "log.jsonl", "a") as fh:
                fh.write(json.dumps(record) + "\n")
        return record

    def _checkpoint(
        self,
        method: Method,
        optimizers: dict[str, torch.optim.Optimizer],
        stage: int,
        epoch: int,
    ) -> None:
        every = self.config.checkpoint_every
        if self.run_dir is None or every <= 0 or epoch % every:
            return
        state = {
            "stage": stage,
            "epoch": epoch,
            "model": method.modules().state_dict(),
            "rng_cpu": torch.get_rng_state(),
        }
        if list(optimizers) == [""]:
            state["optimizer"] = optimizers[""].state_dict()
        else:
            state["optimizers"] = {k: o.state_dict() for k, o in optimizers.items()}
        if torch.cuda.is_available():
            state["rng_cuda"] = torch.cuda.get_rng_state_all()
        atomic_write(self.run_dir / "checkpoint.pt", lambda fh: torch.save(state, fh))


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
