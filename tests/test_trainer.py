"""Trainer behaviour: seeding, stage overrides, logs, checkpoints, devices."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from zsl_toolkit.errors import DeviceError
from zsl_toolkit.methods.base import FitContext, Method, ModelSpec, Stage
from zsl_toolkit.testing import toy_data
from zsl_toolkit.training import TrainConfig, Trainer, resolve_device


class TwoStage(Method):
    """Linear softmax over seen classes, then a no-op second stage (tests only)."""

    citation = "test double"

    def __init__(
        self, *, epochs: int = 3, second_epochs: int = 2, preprocess: str = "minmax"
    ) -> None:
        self.epochs = epochs
        self.second_epochs = second_epochs
        self.preprocess = preprocess

    def build(self, spec: ModelSpec) -> nn.Module:
        return nn.Linear(spec.feature_dim, spec.n_classes)

    def scorer(self) -> nn.Module:
        return self.model_

    def stage(self, index: int, ctx: FitContext) -> Stage | None:
        def loss(batch, epoch):
            x, y = batch
            ce = nn.functional.cross_entropy(self.model_(x), y)
            return {"loss": ce, "ce": ce.detach(), "epoch_seen": torch.tensor(float(epoch))}

        if index > 1:
            return None
        # The second stage draws random numbers while being built, as latent-sampling
        # stages do, so resumption must replay them.
        x = ctx.features if index == 0 else ctx.features + 0.05 * torch.randn_like(ctx.features)
        return Stage(
            name=f"s{index}",
            epochs=self.epochs if index == 0 else self.second_epochs,
            batch_size=16,
            tensors=(x, ctx.labels),
            parameters=list(self.model_.parameters()),
            optimizer=lambda p: torch.optim.SGD(p, lr=0.1),
            loss=loss,
            primary=index == 0,
        )


def fit(tmp_path=None, **cfg):
    m = TwoStage.create({})
    trainer = Trainer(TrainConfig(device="cpu", quiet=True, **cfg), tmp_path)
    trainer.fit(m, toy_data())
    return m, trainer


def test_same_seed_same_weights_different_seed_differs():
    a, _ = fit(seed=1)
    b, _ = fit(seed=1)
    c, _ = fit(seed=2)
    wa, wb, wc = (m.model_.weight.detach() for m in (a, b, c))
    assert torch.equal(wa, wb)
    assert not torch.equal(wa, wc)


def test_epochs_override_applies_to_primary_stage_only():
    _, trainer = fit(epochs=5)
    stages = [r["stage"] for r in trainer.history]
    assert stages.count("s0") == 5 and stages.count("s1") == 2
    # Each logged epoch is the mean over its batches; the loss passed the epoch index.
    assert [r["epoch_seen"] for r in trainer.history if r["stage"] == "s0"] == [0, 1, 2, 3, 4]


def test_log_and_checkpoint_files(tmp_path):
    fit(tmp_path, epochs=2)
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [(r["stage"], r["epoch"]) for r in lines] == [("s0", 1), ("s0", 2), ("s1", 1), ("s1", 2)]
    assert all(np.isfinite(r["loss"]) for r in lines)
    assert not list(tmp_path.glob(".*.tmp")), "temporary files left behind"


class Interrupt(TwoStage):
    """Raises KeyboardInterrupt in the given stage/epoch, as Ctrl-C would."""

    at: tuple[int, int] = (0, 0)

    def stage(self, index, ctx):
        stage = super().stage(index, ctx)
        if stage is None or index != self.at[0]:
            return stage
        inner = stage.loss

        def loss(batch, epoch):
            if epoch == self.at[1]:
                raise KeyboardInterrupt
            return inner(batch, epoch)

        stage.loss = loss
        return stage


@pytest.mark.parametrize("at", [(0, 0), (0, 2), (1, 0), (1, 1)])
def test_resume_after_interrupt_matches_uninterrupted(tmp_path, at):
    reference, ref_trainer = fit(epochs=4)
    Interrupt.at = at
    cfg = TrainConfig(device="cpu", quiet=True, epochs=4)
    with pytest.raises(KeyboardInterrupt):
        Trainer(cfg, tmp_path).fit(Interrupt.create({}), toy_data())
    ckpt = tmp_path / "checkpoint.pt"
    if at[1] > 0:
        assert torch.load(ckpt, weights_only=True)["epoch"] == at[1]
    resumed = TwoStage.create({})
    trainer = Trainer(cfg, tmp_path)
    trainer.fit(resumed, toy_data(), resume=True)
    assert torch.equal(resumed.model_.weight, reference.model_.weight)
    assert torch.equal(resumed.model_.bias, reference.model_.bias)
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [(r["stage"], r["epoch"]) for r in lines] == [
        (r["stage"], r["epoch"]) for r in ref_trainer.history
    ]
    assert [r["loss"] for r in lines] == [r["loss"] for r in ref_trainer.history]


def test_checkpoint_refuses_pickled_objects(tmp_path):
    from zsl_toolkit.training.trainer import load_state

    class Evil:
        def __reduce__(self):
            return (print, ("executed",))

    torch.save({"stage": 0, "x": Evil()}, tmp_path / "bad.pt")
    from zsl_toolkit.errors import UnsafeFileError

    with pytest.raises(UnsafeFileError, match="refused to load"):
        load_state(tmp_path / "bad.pt")


def test_scaler_is_fitted_on_trainval_only():
    data = toy_data()
    m, _ = fit()
    lo = data.features[data.splits["trainval"]].min(axis=0)
    assert np.allclose(m.scaler_.offset.numpy(), lo)
    assert not np.allclose(m.scaler_.offset.numpy(), data.features.min(axis=0))


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(DeviceError):
        resolve_device("gpu0")
