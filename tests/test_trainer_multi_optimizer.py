"""Stages that alternate several optimizers (``Stage.updates``), e.g. a GAN's critic/generator."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from zsl_toolkit.methods.base import FitContext, Method, ModelSpec, Stage, Update
from zsl_toolkit.testing import toy_data
from zsl_toolkit.training import TrainConfig, Trainer


class Pair(nn.Module):
    def __init__(self, d: int, c: int) -> None:
        super().__init__()
        self.a = nn.Linear(d, c)
        self.b = nn.Linear(d, c)


class Alternating(Method):
    """Two linear heads; ``a`` steps ``repeat_a`` times, then ``b`` once (tests only).

    Both losses depend on both heads, so a leak of gradients into the other head's
    parameters would show. Every call records (update name, row ids of its batch).
    """

    citation = "test double"

    def __init__(
        self, *, repeat_a: int = 3, as_updates: bool = True, preprocess: str = "minmax"
    ) -> None:
        self.repeat_a = repeat_a
        self.as_updates = as_updates
        self.preprocess = preprocess

    def build(self, spec: ModelSpec) -> nn.Module:
        self.calls_: list[tuple[str, list[int]]] = []
        self.snaps_: list[dict[str, torch.Tensor | None]] = []
        return Pair(spec.feature_dim, spec.n_classes)

    def scorer(self) -> nn.Module:
        return self.model_.a

    def _loss(self, name: str):
        def loss(batch, epoch):
            x, y, rows = batch
            self.calls_.append((name, rows.tolist()))
            a, b = self.model_.a.weight, self.model_.b.weight
            grad = None if b.grad is None else b.grad.clone()
            self.snaps_.append({"a": a.detach().clone(), "b": b.detach().clone(), "b_grad": grad})
            both = self.model_.a(x) + self.model_.b(x)
            ce = nn.functional.cross_entropy(both, y)
            return {"loss": ce, "ce": ce.detach()}

        return loss

    def stage(self, index: int, ctx: FitContext) -> Stage | None:
        if index > 0:
            return None
        rows = torch.arange(len(ctx.labels), device=ctx.device)
        common = dict(name="alt", epochs=2, batch_size=32, tensors=(ctx.features, ctx.labels, rows))
        if not self.as_updates:  # the plain single-optimizer form, for the equivalence test
            return Stage(
                **common,
                parameters=list(self.model_.a.parameters()),
                optimizer=lambda p: torch.optim.SGD(p, lr=0.1),
                loss=self._loss("a"),
            )
        updates = [
            Update(
                "a",
                list(self.model_.a.parameters()),
                lambda p: torch.optim.SGD(p, lr=0.1),
                self._loss("a"),
                repeat=self.repeat_a,
            )
        ]
        if self.repeat_a != 1:
            updates.append(
                Update(
                    "b",
                    list(self.model_.b.parameters()),
                    lambda p: torch.optim.SGD(p, lr=0.1),
                    self._loss("b"),
                )
            )
        return Stage(**common, updates=updates)


def fit(tmp_path=None, **params):
    method = Alternating.create(params)
    trainer = Trainer(TrainConfig(device="cpu", quiet=True, seed=0), tmp_path)
    trainer.fit(method, toy_data())
    return method, trainer


def test_updates_alternate_in_order_and_each_repeat_sees_every_row_once():
    method, _ = fit(repeat_a=3)
    n = int(toy_data().splits["trainval"].size)
    steps = -(-n // 32)  # batches per pass, last one partial
    names = [name for name, _ in method.calls_]
    assert names == (["a", "a", "a", "b"] * steps) * 2
    # Within one epoch, the k-th call of each step of an update forms a full pass over rows.
    first_epoch = method.calls_[: 4 * steps]
    for slot in range(4):
        rows = [r for call in first_epoch[slot::4] for r in call[1]]
        assert sorted(rows) == list(range(n)), f"slot {slot} did not cover every row once"
    # Different repeats draw different permutations.
    assert first_epoch[0][1] != first_epoch[1][1]


def test_each_update_steps_and_touches_only_its_own_parameters():
    method, _ = fit(repeat_a=3)
    s = method.snaps_  # taken at the start of each call: a, a, a, b, a, a, a, b, ...
    # a steps at each of its calls, b is left alone meanwhile ...
    assert not torch.equal(s[0]["a"], s[1]["a"]) and not torch.equal(s[1]["a"], s[2]["a"])
    assert torch.equal(s[0]["b"], s[2]["b"])
    # ... and a's backward leaves no gradient on b (none yet, then b's own one unchanged).
    assert s[1]["b_grad"] is None and s[2]["b_grad"] is None
    assert s[5]["b_grad"] is not None and torch.equal(s[5]["b_grad"], s[6]["b_grad"])
    # b's step changes b and not a.
    assert not torch.equal(s[3]["b"], s[4]["b"])
    assert torch.equal(s[3]["a"], s[4]["a"])


def test_terms_are_logged_per_update_and_checkpoint_holds_every_optimizer(tmp_path):
    _, trainer = fit(tmp_path, repeat_a=2)
    record = trainer.history[-1]
    assert {"a.loss", "a.ce", "b.loss", "b.ce"} <= set(record)
    assert all(torch.isfinite(torch.tensor(record[k])) for k in ("a.loss", "b.loss"))
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert set(ckpt["optimizers"]) == {"a", "b"} and "optimizer" not in ckpt


def test_single_update_equals_the_plain_stage():
    plain, _ = fit(repeat_a=1, as_updates=False)
    single, _ = fit(repeat_a=1, as_updates=True)
    assert plain.calls_ == single.calls_
    assert torch.equal(plain.model_.a.weight, single.model_.a.weight)


class _Broken(Alternating):
    def __init__(self, *, kind: str = "both", preprocess: str = "none") -> None:
        self.kind = kind
        self.preprocess = preprocess

    def stage(self, index: int, ctx: FitContext) -> Stage | None:
        opt = lambda p: torch.optim.SGD(p, lr=0.1)  # noqa: E731
        params = list(self.model_.a.parameters())
        u = Update("a", params, opt, self._loss("a"), repeat=0 if self.kind == "repeat" else 1)
        extra = {"loss": self._loss("a")} if self.kind == "both" else {}
        twice = [u, u] if self.kind == "names" else [u]
        rows = torch.arange(len(ctx.labels))
        return Stage(
            name="bad", epochs=1, tensors=(ctx.features, ctx.labels, rows), updates=twice, **extra
        )


@pytest.mark.parametrize("kind", ["both", "repeat", "names"])
def test_malformed_update_stages_are_rejected(kind):
    method = _Broken.create({"kind": kind})
    with pytest.raises(TypeError, match="stage 'bad'"):
        Trainer(TrainConfig(device="cpu", quiet=True)).fit(method, toy_data())
