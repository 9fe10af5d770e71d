"""f-VAEGAN-D2 and TF-VAEGAN: loss terms, per-dataset settings from the authors' scripts,
the feedback schedule, the adaptive gradient penalty and the final classifier's input.
(Conformance, ONNX parity, devices and class editing run over every method elsewhere.)"""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from zsl_toolkit.data.synthetic import Toy
from zsl_toolkit.errors import ConfigError
from zsl_toolkit.methods.base import ModelSpec
from zsl_toolkit.methods.vaegan import FVAEGAN, TFVAEGAN, vae_loss, weighted_l1
from zsl_toolkit.methods.vaegan.networks import SemanticDecoder
from zsl_toolkit.testing.conformance import check_published
from zsl_toolkit.training import TrainConfig, Trainer

TINY = {"hidden": 16, "n_synthetic": 5, "classifier_epochs": 1}


@pytest.fixture(scope="module")
def toy():
    return Toy().load()


def spec(dataset: str) -> ModelSpec:
    return ModelSpec(24, 8, 10, (0, 1, 2), (3,), tuple("abcdefghij"), dataset=dataset)


def test_weighted_l1_matches_its_formula():
    pred = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    target = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    # row 1: errors (1, 0), L2 1 -> 1 * 1 / 1 = 1; row 2: errors (3, 4), L2 5 ->
    # (9 * 3 + 16 * 4) / 5 = 18.2; averaged over 2 rows.
    assert weighted_l1(pred, target).item() == pytest.approx((1 + 18.2) / 2)
    x = torch.rand(3, 4, requires_grad=True)
    weighted_l1(x, x.detach()).backward()  # zero error: finite gradient
    assert torch.isfinite(x.grad).all()


def test_vae_loss_is_bce_plus_kl_per_sample():
    torch.manual_seed(0)
    x, recon = torch.rand(4, 6), torch.rand(4, 6).clamp(0.01, 0.99)
    mu, logvar = torch.randn(4, 3), torch.randn(4, 3)
    bce = -(x * recon.log() + (1 - x) * (1 - recon).log()).sum() / 4
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum() / 4
    assert vae_loss(recon, x, mu, logvar).item() == pytest.approx((bce + kl).item(), rel=1e-5)


def test_decoder_output_is_unit_length():
    out, hidden = SemanticDecoder(6, 10, 4)(torch.rand(5, 6))
    assert out.norm(dim=1).allclose(torch.ones(5)) and hidden.shape == (5, 10)


@pytest.mark.parametrize(
    ("cls", "dataset", "expected"),
    [
        (FVAEGAN, "cub", {"epochs": 300, "lr": 1e-4, "gan_weight": 10.0, "n_synthetic": 300}),
        (FVAEGAN, "SUN", {"epochs": 400, "lr": 1e-3, "gan_weight": 1.0, "classifier_lr": 5e-4}),
        (FVAEGAN, "flo", {"epochs": 500, "encoded_noise": False, "n_synthetic": 1200}),
        (FVAEGAN, "awa1", {"epochs": 120, "lr": 1e-5, "n_synthetic": 1800}),
        (FVAEGAN, "snu36", {"epochs": 300, "n_synthetic": 300, "classifier_batch_size": 300}),
        (TFVAEGAN, "cub", {"epochs": 600, "feedback_weight": 1.0, "recons_weight": 0.01}),
        (TFVAEGAN, "awa2", {"epochs": 240, "freeze_decoder": True, "recons_weight": 0.1}),
        (TFVAEGAN, "sun", {"feedback_weight": 0.1, "synthesis_feedback_weight": 0.01}),
        (TFVAEGAN, "flo", {"feedback_lr": 1e-5, "decoder_lr": 1e-4, "epochs": 1000}),
    ],
)
def test_dataset_settings_are_the_authors_scripts(cls, dataset, expected):
    method = cls.create({"hidden": 8})
    method.setup(spec(dataset))
    resolved = method.effective_params()
    assert {k: resolved[k] for k in expected} == expected
    assert resolved["latent_dim"] == 8  # the attribute dimension
    method.setup(spec(dataset), epochs=3)
    assert method.effective_params()["epochs"] == 3


def test_given_values_win_over_the_dataset_row():
    method = TFVAEGAN.create({"hidden": 8, "lr": 3e-4, "freeze_decoder": True, "n_synthetic": 7})
    method.setup(spec("cub"))
    resolved = method.effective_params()
    assert (resolved["lr"], resolved["freeze_decoder"]) == (3e-4, True)
    assert resolved["classifier_batch_size"] == 7
    assert method.get_params()["lr"] == 3e-4


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"preprocess": "none"}, "preprocess"),
        ({"beta1": 1.0}, "beta1"),
        ({"feedback_loop": 0}, "feedback_loop"),
        ({"encoded_noise": "maybe"}, "encoded_noise"),
    ],
)
def test_bad_values_are_refused(params, fragment):
    with pytest.raises(ConfigError, match=fragment):
        TFVAEGAN.create(params)


def test_feedback_is_used_on_the_second_pass_only():
    torch.manual_seed(0)
    method = TFVAEGAN.create({"hidden": 8})
    method.setup(spec("cub"))
    z, a = torch.randn(4, 8), F.normalize(torch.rand(4, 8), dim=1)
    plain = method.model_.generator(z, a)
    assert torch.equal(method.generate_from(z, a, 0), plain)
    assert torch.equal(method.generate_from(z, a, 2), plain)
    assert not torch.equal(method.generate_from(z, a, 1), plain)
    assert not torch.equal(method.synthesize(z, a), plain)


def test_optimizer_groups_follow_freeze_decoder():
    for freeze in (True, False):
        method = TFVAEGAN.create({"hidden": 8, "freeze_decoder": freeze})
        method.setup(spec("cub"))
        decoder = set(method.model_.decoder.parameters())
        generator = {p for g in method.generator_groups() for p in g["params"]}
        critic = {p for g in method.critic_groups() for p in g["params"]}
        assert decoder <= critic
        assert (decoder <= generator) is (not freeze)
        assert set(method.model_.feedback.parameters()) <= generator


def train(cls, data, epochs: int, **params):
    method = cls.create({**TINY, **params})
    trainer = Trainer(TrainConfig(device="cpu", quiet=True, epochs=epochs, seed=0))
    return trainer.fit(method, data), trainer.history


def test_feedback_module_moves_only_in_feedback_passes(toy):
    # Biases start at zero; Adam moves a bias only if it ever received a gradient.
    one, _ = train(TFVAEGAN, toy, 1)  # epoch 0: no feedback, so no gradient and no step
    assert all(not m.bias.any() for m in (one.model_.feedback.fc1, one.model_.feedback.fc2))
    two, _ = train(TFVAEGAN, toy, 2)  # epoch 1 feeds back
    assert two.model_.feedback.fc2.bias.any()


def test_losses_and_adaptive_penalty_are_logged(toy):
    method, history = train(FVAEGAN, toy, 2)
    rows = [r for r in history if r["stage"] == "vaegan"]
    assert len(rows) == 2
    for r in rows:
        expected = 10.0 * (-r["critic.wasserstein"] + r["critic.gp_lambda"] * r["critic.gp"])
        assert r["critic.loss"] == pytest.approx(expected, rel=1e-3, abs=1e-3)
        assert r["generator.loss"] == pytest.approx(
            r["generator.vae"] + 10.0 * r["generator.adversarial"], rel=1e-5
        )
    assert method.model_.gp_lambda.item() != 10.0  # adapted after every critic round
    fixed, _ = train(FVAEGAN, toy, 1, adaptive_gp=False)
    assert fixed.model_.gp_lambda.item() == 10.0
    assert [r["stage"] for r in history if r["epoch"] == 1] == ["vaegan", "classifier"]


@pytest.mark.parametrize("transform", [True, False])
def test_final_classifier_reads_transformed_real_and_generated_features(toy, transform):
    method = TFVAEGAN.create({**TINY, "transform": transform})
    method.setup(ModelSpec.from_data(toy))
    ctx = method.context(toy, torch.device("cpu"))
    x, y = method.stage(1, ctx).tensors
    d1, d2 = toy.feature_dim, toy.embedding_dim
    assert x.shape[1] == (d1 + d2 + 16 if transform else d1)
    n_real = len(ctx.labels)
    assert torch.equal(x[:n_real, :d1], ctx.features) and torch.equal(y[:n_real], ctx.labels)
    counts = torch.bincount(y[n_real:], minlength=toy.n_classes)
    assert counts[ctx.unseen].tolist() == [5] * len(ctx.unseen)
    assert ((x[n_real:, :d1] > 0) & (x[n_real:, :d1] < 1)).all(), "sigmoid features"
    assert method.stage(2, ctx) is None


@pytest.mark.parametrize("cls", [FVAEGAN, TFVAEGAN])
def test_published_tables(cls):
    check_published(cls)
    for row in cls.published.values():
        h = 2 * row["U"] * row["S"] / (row["U"] + row["S"])
        assert h == pytest.approx(row["H"], abs=0.15)
    assert set(cls.published) == {"cub", "awa2", "sun"}


def test_ablations_have_no_published_row():
    assert TFVAEGAN.published_for({}) is TFVAEGAN.published
    assert TFVAEGAN.published_for({"transform": False}) == {}
    assert TFVAEGAN.published_for({"feedback_loop": 1}) == {}
