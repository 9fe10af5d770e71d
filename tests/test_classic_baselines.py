"""DeViSE, ALE and f-CLSWGAN: conformance, losses against hand-computed values, exact resume."""

from __future__ import annotations

import json

import pytest
import torch
from tiny_params import tiny

from zsl_toolkit.methods.ale import ALE, warp_loss
from zsl_toolkit.methods.base import ModelSpec
from zsl_toolkit.methods.devise import DeViSE, hinge_rank_loss
from zsl_toolkit.methods.f_clswgan import FCLSWGAN, gradient_penalty
from zsl_toolkit.testing import check_method, toy_data
from zsl_toolkit.training import TrainConfig, Trainer

TINY_GAN = tiny("f-clswgan")


@pytest.mark.parametrize("name", ["devise", "ale", "f-clswgan"])
def test_conformance(name, tmp_path):
    check_method(name, tmp_path, params=tiny(name), epochs=2)


@pytest.mark.parametrize(
    ("name", "param", "needle"),
    [
        ("devise", "lr=0", "lr must be a number > 0"),
        ("ale", "margin=-1", "margin must be a number >= 0"),
        ("ale", "batch_size=8", "batch_size is a run setting: use --batch-size"),
        ("devise", "lrr=0.1", "did you mean 'lr'?"),
        ("f-clswgan", "critic_iters=0", "critic_iters must be an integer >= 1"),
        ("f-clswgan", "lr=fast", "lr=fast: expected a number or none"),
    ],
)
def test_bad_parameter_is_a_one_line_error_before_any_work(name, param, needle, tmp_path):
    from click.testing import CliRunner

    from zsl_toolkit.cli import cli

    out = tmp_path / "run"
    args = ["train", "-m", name, "-d", "toy", "--device", "cpu", "-q", "-p", param, "-o", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert needle in result.output and "Traceback" not in result.output
    assert not out.exists(), "a rejected parameter must not leave a run directory"


# ---------------------------------------------------------------------------- references
def loop_hinge_rank(scores, target, margin):
    total = 0.0
    for row, y in zip(scores, target, strict=True):
        total += sum(max(0.0, margin - row[y] + s) for j, s in enumerate(row) if j != y)
    return total / len(scores)


def loop_warp(scores, target, margin):
    total = 0.0
    for row, y in zip(scores, target, strict=True):
        hinges = [max(0.0, margin + s - row[y]) for j, s in enumerate(row) if j != y]
        k = sum(h > 0 for h in hinges)
        if k:
            total += sum(1.0 / i for i in range(1, k + 1)) / k * sum(hinges)
    return total / len(scores)


def _random_case(seed, b=7, k=5, spread=1.0):
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(b, k, generator=g, dtype=torch.float64) * spread
    target = torch.randint(0, k, (b,), generator=g)
    return scores, target


# ---------------------------------------------------------------------------- DeViSE
def test_hinge_rank_loss_on_a_hand_computed_example():
    # Row 1, y=0: j=1: 0.1 - 0.4 + 0.45 = 0.15; j=2: 0.1 - 0.4 + 0.2 < 0 -> 0.   Sum 0.15.
    # Row 2, y=0: j=1: 0.1 - 0.1 + 0.25 = 0.25; j=2: 0.1 - 0.1 + 0.2 = 0.2.       Sum 0.45.
    # Mean over the batch: 0.30.
    scores = torch.tensor([[0.4, 0.45, 0.2], [0.1, 0.25, 0.2]])
    loss = hinge_rank_loss(scores, torch.tensor([0, 0]), margin=0.1)
    assert loss.item() == pytest.approx(0.30, abs=1e-6)


def test_hinge_rank_loss_matches_a_loop_on_random_scores():
    for seed in range(3):
        scores, target = _random_case(seed, spread=0.2)
        expected = loop_hinge_rank(scores.tolist(), target.tolist(), 0.1)
        assert hinge_rank_loss(scores, target, 0.1).item() == pytest.approx(expected, rel=1e-12)


def _stage_of(cls, params=None):
    data = toy_data()
    method = cls.create(params or {})
    method.setup(ModelSpec.from_data(data))
    ctx = method.context(data, torch.device("cpu"))
    return method, method.stage(0, ctx), ctx, data


@pytest.mark.parametrize(("cls", "reference"), [(DeViSE, "hinge"), (ALE, "warp")])
def test_training_loss_scores_seen_classes_by_x_w_s(cls, reference):
    """The stage's loss on a batch equals the loop loss over seen classes of x^T W s_c."""
    method, stage, ctx, data = _stage_of(cls)
    x, target = (t[:9] for t in stage.tensors)
    W = method.model_.W.detach().double()
    seen = [int(c) for c in data.seen_classes]
    emb = torch.from_numpy(data.class_embeddings).double()
    feats = ctx.features[:9].double()
    labels = ctx.labels[:9].tolist()
    scores = [[float(feats[i] @ W @ emb[c]) for c in seen] for i in range(9)]
    positions = [seen.index(y) for y in labels]
    assert target.tolist() == positions
    if reference == "hinge":
        expected = loop_hinge_rank(scores, positions, method.margin)
    else:
        expected = loop_warp(scores, positions, method.margin)
    assert stage.loss((x, target), 0)["loss"].item() == pytest.approx(expected, rel=1e-4)
    # Scoring covers every class, seen and unseen, with the same compatibility.
    all_scores = method.inference_module()(torch.from_numpy(data.features[:2]))
    assert all_scores.shape == (2, data.n_classes)


# ---------------------------------------------------------------------------- ALE
def test_warp_loss_on_a_hand_computed_example():
    # margin 1. Row 1, y=0: hinges j=1 0.5, j=2 0, j=3 0.8 -> k=2, l_2 = 1 + 1/2 = 1.5,
    #   loss = 1.5 / 2 * 1.3 = 0.975.
    # Row 2, y=2: hinges j=0 0.7, j=1 1.2, j=3 0.8 -> k=3, l_3 = 11/6, loss = 11/18 * 2.7 = 1.65.
    # Row 3, y=0: no violation -> 0.   Mean: (0.975 + 1.65 + 0) / 3 = 0.875.
    scores = torch.tensor(
        [[2.0, 1.5, 0.2, 1.8], [0.0, 0.5, 0.3, 0.1], [3.0, 0.0, 0.5, 1.0]], dtype=torch.float64
    )
    loss = warp_loss(scores, torch.tensor([0, 2, 0]), margin=1.0)
    assert loss.item() == pytest.approx(0.875, abs=1e-12)


def test_warp_loss_matches_a_loop_on_random_scores():
    for seed in range(3):
        scores, target = _random_case(seed, b=11, k=9)
        expected = loop_warp(scores.tolist(), target.tolist(), 1.0)
        assert warp_loss(scores, target, 1.0).item() == pytest.approx(expected, rel=1e-12)


def test_warp_weight_is_a_constant_of_the_gradient():
    # One row, k=2 violators with hinges h1, h2: d loss / d score_j = l_2 / 2 = 0.75 for each
    # violator and -2 * 0.75 = -1.5 for the true class; the count itself carries no gradient.
    scores = torch.tensor([[2.0, 1.5, 0.2, 1.8]], dtype=torch.float64, requires_grad=True)
    warp_loss(scores, torch.tensor([0]), 1.0).backward()
    assert scores.grad.tolist() == [[-1.5, 0.75, 0.0, 0.75]]


# ---------------------------------------------------------------------------- f-CLSWGAN
def test_gradient_penalty_of_a_linear_critic_is_known_analytically():
    # D(x, a) = w.x + v.a: grad_x D = w everywhere, so the penalty is (||w|| - 1)^2 = (5 - 1)^2.
    w, v = torch.tensor([3.0, 4.0]), torch.tensor([0.5, -2.0, 1.0])

    def critic(x, a):
        return x @ w + a @ v

    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    assert gradient_penalty(critic, real, fake, torch.randn(6, 3)).item() == pytest.approx(16.0)


def test_gradient_penalty_is_taken_at_the_interpolate():
    # D(x) = ||x||^2 / 2: grad = x_hat = alpha real + (1 - alpha) fake.
    # Row 1: alpha 0.5 between (2, 0) and (0, 0) -> (1, 0), norm 1 -> 0.
    # Row 2: alpha 0.25 between (0, 4) and (0, 2) -> (0, 2.5), norm 2.5 -> 2.25.   Mean 1.125.
    def critic(x, a):
        return 0.5 * (x**2).sum(dim=1)

    real = torch.tensor([[2.0, 0.0], [0.0, 4.0]])
    fake = torch.tensor([[0.0, 0.0], [0.0, 2.0]])
    alpha = torch.tensor([[0.5], [0.25]])
    gp = gradient_penalty(critic, real, fake, torch.zeros(2, 1), alpha=alpha)
    assert gp.item() == pytest.approx(1.125)
    # It is differentiable with respect to the critic (WGAN-GP trains through it).
    scale = torch.tensor(1.0, requires_grad=True)
    gradient_penalty(lambda x, a: scale * critic(x, a), real, fake, None, alpha=alpha).backward()
    # d/ds mean((s ||x_hat|| - 1)^2) at s=1 = mean(2 (||x_hat|| - 1) ||x_hat||) = (0 + 7.5) / 2.
    assert scale.grad.item() == pytest.approx(3.75)


def test_gan_losses_are_wired_as_published(tmp_path):
    method = FCLSWGAN.create(dict(TINY_GAN, gp_weight=10.0, critic_iters=3))
    trainer = Trainer(TrainConfig(device="cpu", quiet=True, epochs=2))
    trainer.fit(method, toy_data())
    gan = [r for r in trainer.history if r["stage"] == "gan"]
    assert len(gan) == 2
    for r in gan:
        # critic: -(E D(real) - E D(fake)) + lambda * GP, averaged over the critic's steps.
        assert r["critic.loss"] == pytest.approx(-r["critic.wasserstein"] + 10 * r["critic.gp"])
        # generator: -E D(fake) + beta * NLL, beta = 0.1 outside the published datasets.
        expected = r["generator.adversarial"] + 0.1 * r["generator.classification"]
        assert r["generator.loss"] == pytest.approx(expected, rel=1e-5)
    assert [r["stage"] for r in trainer.history if r["epoch"] == 1] == [
        "pretrain",
        "gan",
        "classifier",
    ]


def test_final_classifier_trains_on_real_seen_plus_generated_unseen():
    data = toy_data()
    method = FCLSWGAN.create(TINY_GAN)
    method.setup(ModelSpec.from_data(data))
    ctx = method.context(data, torch.device("cpu"))
    x, y = method.stage(2, ctx).tensors
    n_real = len(ctx.labels)
    assert torch.equal(x[:n_real], ctx.features) and torch.equal(y[:n_real], ctx.labels)
    counts = torch.bincount(y[n_real:], minlength=data.n_classes)
    assert counts[ctx.unseen].tolist() == [10] * len(ctx.unseen)
    assert counts.sum().item() == 10 * len(ctx.unseen)
    assert (x[n_real:] >= 0).all(), "the generator ends in a ReLU"
    assert method.stage(3, ctx) is None


@pytest.mark.parametrize(
    ("dataset", "given", "expected"),
    [
        ("cub", {}, {"epochs": 56, "n_synthetic": 300, "cls_weight": 0.01, "lr": 1e-4}),
        ("FLO", {}, {"epochs": 80, "n_synthetic": 1200, "cls_weight": 0.1}),
        ("awa1", {"lr": 3e-5}, {"epochs": 30, "n_synthetic": 1800, "lr": 3e-5}),
        ("cub", {}, {"classifier_epochs": 25, "classifier_batch_size": 300}),
        ("synthetic", {}, {"epochs": 80, "n_synthetic": 400, "classifier_epochs": 400}),
        ("synthetic", {}, {"cls_weight": 0.1, "classifier_batch_size": 400}),
        ("snu36", {"n_synthetic": 7}, {"n_synthetic": 7, "classifier_batch_size": 7}),
    ],
)
def test_dataset_dependent_defaults_resolve_from_the_spec(dataset, given, expected):
    spec = ModelSpec(24, 8, 10, (0, 1, 2), (3,), tuple("abcdefghij"), dataset=dataset)
    method = FCLSWGAN.create({"hidden": 8, **given})
    method.setup(spec)
    resolved = method.effective_params()
    assert {k: resolved[k] for k in expected} == expected
    assert resolved["noise_dim"] == 8  # the attribute dimension
    assert method.get_params()["lr"] == given.get("lr")  # stored unchanged
    method.setup(spec, epochs=3)  # a run's --epochs is what the GAN stage runs, and recorded
    assert method.effective_params()["epochs"] == 3


class _Interrupted(FCLSWGAN):
    """Raises KeyboardInterrupt at the start of epoch ``at[1]`` of stage ``at[0]`` (tests)."""

    at: tuple[str, int] = ("gan", 1)

    def stage(self, index, ctx):
        stage = super().stage(index, ctx)
        if stage is None or stage.name != self.at[0]:
            return stage

        def wrap(loss):
            def interrupted(batch, epoch):
                if epoch == self.at[1]:
                    raise KeyboardInterrupt
                return loss(batch, epoch)

            return interrupted

        if stage.updates:
            for u in stage.updates:
                u.loss = wrap(u.loss)
        else:
            stage.loss = wrap(stage.loss)
        return stage


@pytest.mark.parametrize("at", [("gan", 1), ("classifier", 1)])
def test_resume_after_interrupt_matches_uninterrupted(tmp_path, at):
    data = toy_data()
    cfg = TrainConfig(device="cpu", quiet=True, epochs=3)
    reference = FCLSWGAN.create(TINY_GAN)
    ref_trainer = Trainer(cfg)
    ref_trainer.fit(reference, data)
    _Interrupted.at = at
    with pytest.raises(KeyboardInterrupt):
        Trainer(cfg, tmp_path).fit(_Interrupted.create(TINY_GAN), data)
    resumed = FCLSWGAN.create(TINY_GAN)
    Trainer(cfg, tmp_path).fit(resumed, data, resume=True)
    ref_state, res_state = reference.modules().state_dict(), resumed.modules().state_dict()
    for k in ref_state:
        assert torch.equal(ref_state[k], res_state[k]), f"{k} differs after resuming at {at}"
    # It continued rather than restarted: every epoch is logged exactly once.
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [(r["stage"], r["epoch"]) for r in lines] == [
        (r["stage"], r["epoch"]) for r in ref_trainer.history
    ]
