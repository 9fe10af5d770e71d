"""CADA-VAE and its building blocks: contracts, loss terms by hand, schedules, sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from tiny_params import tiny

from zsl_toolkit.cli import cli
from zsl_toolkit.data.synthetic import Toy
from zsl_toolkit.methods.base import ModelSpec
from zsl_toolkit.methods.cada_vae import CADAVAE
from zsl_toolkit.methods.vae import (
    BETA_WARMUP,
    CROSS_RECONSTRUCTION_WARMUP,
    DISTANCE_WARMUP,
    REFERENCE_CLASSIFIER_STEPS,
    Encoder,
    Warmup,
    gzsl_latent_set,
    kl_gaussian,
    l1_sum,
    reparameterize,
    select_per_class,
    wasserstein_diag,
)
from zsl_toolkit.testing import check_method
from zsl_toolkit.training import TrainConfig, Trainer

TINY = tiny("cada-vae")


def test_conformance(tmp_path):
    check_method("cada-vae", tmp_path, params=TINY, epochs=2)


# ---------------------------------------------------------------- loss terms by hand
def test_block_terms_on_explicit_values():
    a = torch.tensor([[1.0, -2.0], [0.5, 0.0]])
    b = torch.tensor([[0.0, 1.0], [0.5, 4.0]])
    assert l1_sum(a, b).item() == pytest.approx(1 + 3 + 0 + 4)

    # KL(N(1, 1) || N(0, 1)) = 0.5; KL(N(0, 4) || N(0, 1)) = 0.5 * (4 - 1 - ln 4).
    mu = torch.tensor([[1.0, 0.0]])
    logvar = torch.tensor([[0.0, math.log(4.0)]])
    assert kl_gaussian(mu, logvar).item() == pytest.approx(0.5 + 0.5 * (3 - math.log(4)))

    # sigma = exp(logvar / 2): N([0,0], diag(1,1)) vs N([3,0], diag(4,1)) -> sqrt(9 + 1);
    # a second sample at distance 0; summed over the batch.
    mu1 = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    lv1 = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    mu2 = torch.tensor([[3.0, 0.0], [1.0, 1.0]])
    lv2 = torch.tensor([[math.log(4.0), 0.0], [0.0, 0.0]])
    assert wasserstein_diag(mu1, lv1, mu2, lv2).item() == pytest.approx(math.sqrt(10.0))


def _np_encoder(w, prefix, x):
    h = np.maximum(x @ w[f"{prefix}.hidden.weight"].T + w[f"{prefix}.hidden.bias"], 0.0)
    mu = h @ w[f"{prefix}.mu.weight"].T + w[f"{prefix}.mu.bias"]
    lv = h @ w[f"{prefix}.logvar.weight"].T + w[f"{prefix}.logvar.bias"]
    return mu, lv


def _np_decoder(w, prefix, z):
    h = np.maximum(z @ w[f"{prefix}.hidden.weight"].T + w[f"{prefix}.hidden.bias"], 0.0)
    return h @ w[f"{prefix}.out.weight"].T + w[f"{prefix}.out.bias"]


def test_vae_loss_matches_hand_computation():
    d1, d2, latent, hidden = 3, 2, 2, 3
    method = CADAVAE.create(
        {
            "latent_size": latent,
            "visual_encoder_hidden": hidden,
            "visual_decoder_hidden": hidden,
            "attribute_encoder_hidden": hidden,
            "attribute_decoder_hidden": hidden,
        }
    )
    method.setup(ModelSpec(d1, d2, 3, (0, 1), (2,), ("a", "b", "c")))
    rng = np.random.default_rng(7)
    weights = {}
    state = method.model_.state_dict()
    for name, tensor in state.items():
        weights[name] = rng.uniform(-0.6, 0.6, size=tuple(tensor.shape))
        state[name] = torch.tensor(weights[name], dtype=torch.float32)
    method.model_.load_state_dict(state)

    x = np.array([[0.2, 0.9, 0.4], [0.7, 0.1, 0.5]])
    s = np.array([[0.6, 0.8], [1.0, 0.0]])
    epoch = 30
    torch.manual_seed(3)
    eps_v = torch.randn(2, 1).double().numpy()  # the faithful rule: one value per sample
    eps_s = torch.randn(2, 1).double().numpy()
    torch.manual_seed(3)
    terms = method.vae_loss(
        torch.tensor(x, dtype=torch.float32),
        torch.tensor(s, dtype=torch.float32),
        torch.tensor([0, 1]),
        epoch,
    )

    mu_v, lv_v = _np_encoder(weights, "visual_encoder", x)
    mu_s, lv_s = _np_encoder(weights, "attribute_encoder", s)
    z_v = mu_v + np.exp(lv_v) * eps_v
    z_s = mu_s + np.exp(lv_s) * eps_s
    rec = (
        np.abs(_np_decoder(weights, "visual_decoder", z_v) - x).sum()
        + np.abs(_np_decoder(weights, "attribute_decoder", z_s) - s).sum()
    )
    cross = (
        np.abs(_np_decoder(weights, "visual_decoder", z_s) - x).sum()
        + np.abs(_np_decoder(weights, "attribute_decoder", z_v) - s).sum()
    )
    kl = (
        -0.5 * (1 + lv_v - mu_v**2 - np.exp(lv_v)).sum()
        - 0.5 * (1 + lv_s - mu_s**2 - np.exp(lv_s)).sum()
    )
    dist = np.sqrt(
        ((mu_v - mu_s) ** 2).sum(1) + ((np.exp(lv_v / 2) - np.exp(lv_s / 2)) ** 2).sum(1)
    ).sum()
    beta = 30 / 93 * 0.25  # ramping
    w_cross = (30 - 21) / (75 - 21) * 2.37  # ramping
    w_dist = 8.13  # past its end (22)
    total = rec + beta * kl + w_cross * cross + w_dist * dist

    assert terms["reconstruction"].item() == pytest.approx(rec, rel=1e-5)
    assert terms["cross_reconstruction"].item() == pytest.approx(cross, rel=1e-5)
    assert terms["kl"].item() == pytest.approx(kl, rel=1e-5)
    assert terms["distance"].item() == pytest.approx(dist, rel=1e-5)
    assert terms["loss"].item() == pytest.approx(total, rel=1e-5)

    # Before the distance warm-up starts, the distance term carries no weight.
    torch.manual_seed(3)
    early = method.vae_loss(
        torch.tensor(x, dtype=torch.float32),
        torch.tensor(s, dtype=torch.float32),
        torch.tensor([0, 1]),
        5,
    )
    assert early["loss"].item() == pytest.approx(rec + 5 / 93 * 0.25 * kl, rel=1e-5)


# ---------------------------------------------------------------- warm-ups
@pytest.mark.parametrize(
    ("schedule", "start", "end", "factor"),
    [
        (BETA_WARMUP, 0, 93, 0.25),
        (CROSS_RECONSTRUCTION_WARMUP, 21, 75, 2.37),
        (DISTANCE_WARMUP, 6, 22, 8.13),
    ],
)
def test_warmup_edges(schedule, start, end, factor):
    assert (schedule.start, schedule.end, schedule.factor) == (start, end, factor)
    assert schedule(start - 1) == 0.0
    assert schedule(start) == 0.0
    assert schedule(start + 1) == pytest.approx(factor / (end - start))
    assert schedule((start + end) / 2) == pytest.approx(factor / 2)
    assert schedule(end) == pytest.approx(factor)
    assert schedule(end + 50) == pytest.approx(factor)


def test_warmup_degenerate_range_is_a_step():
    step = Warmup(5, 5, 2.0)
    assert (step(4), step(5), step(9)) == (0.0, 2.0, 2.0)


# ---------------------------------------------------------------- sampling rules
def test_faithful_sampling_shares_noise_across_dimensions():
    torch.manual_seed(0)
    mu = torch.zeros(4000, 16)
    logvar = torch.full((4000, 16), math.log(2.0))
    z = reparameterize(mu, logvar, faithful=True)
    assert z.shape == mu.shape
    assert torch.equal(z, z[:, :1].expand_as(z)), "faithful noise must be one value per sample"
    assert z[:, 0].std().item() == pytest.approx(2.0, rel=0.05)  # sigma = exp(logvar)


def test_standard_sampling_is_independent_per_dimension():
    torch.manual_seed(0)
    mu = torch.full((4000, 16), 1.0)
    logvar = torch.full((4000, 16), math.log(2.0))
    z = reparameterize(mu, logvar, faithful=False)
    assert z.shape == mu.shape
    assert z.mean().item() == pytest.approx(1.0, abs=0.02)
    assert z.std().item() == pytest.approx(math.sqrt(2.0), rel=0.03)  # sigma = exp(logvar/2)
    corr = np.corrcoef(z[:, 0].numpy(), z[:, 1].numpy())[0, 1]
    assert abs(corr) < 0.05


# ---------------------------------------------------------------- latent classifier set
def test_select_per_class_tiles_rows_in_dataset_order():
    labels = torch.tensor([3, 1, 3, 1, 3, 5])
    idx, y = select_per_class(labels, torch.tensor([3, 5, 1]), 5)
    assert idx.tolist() == [0, 2, 4, 0, 2, 5, 5, 5, 5, 5, 1, 3, 1, 3, 1]
    assert y.tolist() == [3] * 5 + [5] * 5 + [1] * 5
    torch.manual_seed(0)
    idx, y = select_per_class(labels, torch.tensor([3, 1]), 200, draw="random")
    assert torch.equal(labels[idx], y)
    assert set(idx[:200].tolist()) == {0, 2, 4}


def test_gzsl_latent_set_shapes_and_labels():
    torch.manual_seed(0)
    enc_v, enc_s = Encoder(6, 8, 3), Encoder(4, 8, 3)
    feats = torch.rand(9, 6)
    labels = torch.tensor([0, 2, 0, 2, 2, 0, 2, 0, 0])
    z, y = gzsl_latent_set(
        enc_v, enc_s, feats, labels, torch.rand(4, 4), torch.tensor([0, 2]), torch.tensor([1, 3]),
        7, 5,
    )  # fmt: skip
    assert z.shape == (2 * 7 + 2 * 5, 3)
    assert y.tolist() == [0] * 7 + [2] * 7 + [1] * 5 + [3] * 5
    assert not torch.equal(z[0], z[5])  # same real row (tiled), fresh noise


def test_classifier_epochs_resolution():
    spec = ModelSpec(8, 4, 5, (0, 1, 2), (3, 4), tuple("abcde"), dataset="cub")
    assert CADAVAE().resolve(spec)["classifier_epochs"] == 23
    assert CADAVAE(classifier_epochs=3).resolve(spec)["classifier_epochs"] == 3
    other = ModelSpec(8, 4, 5, (0, 1, 2), (3, 4), tuple("abcde"), dataset="toy")
    steps = (3 * 200 + 2 * 400) // 32
    epochs = CADAVAE().resolve(other)["classifier_epochs"]
    assert epochs == round(REFERENCE_CLASSIFIER_STEPS / steps)


# ---------------------------------------------------------------- determinism, CLI
def _vae_history(seed: int) -> list[float]:
    trainer = Trainer(TrainConfig(seed=seed, device="cpu", epochs=2, quiet=True))
    trainer.fit(CADAVAE.create(TINY), Toy().load())
    return [r["loss"] for r in trainer.history]


def test_seeded_determinism():
    first, again, other = _vae_history(0), _vae_history(0), _vae_history(1)
    assert first == again
    assert first != other


def test_cli_train_on_toy(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--method", "cada-vae", "--dataset", "toy", "--device", "cpu"]
    args += ["--quiet", "--epochs", "3", "--out", str(out)]
    for k, v in TINY.items():
        args += ["--param", f"{k}={v}"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "H=" in result.output
    assert (out / "model.pt").is_file() and (out / "metrics.json").is_file()


def test_bad_draw_is_a_config_error(tmp_path):
    result = CliRunner().invoke(
        cli,
        ["train", "--method", "cada-vae", "--dataset", "toy", "--device", "cpu", "--quiet"]
        + ["--param", "seen_draw=sometimes", "--out", str(tmp_path / "r")],
    )
    assert result.exit_code == 2
    assert "seen_draw" in result.output
    assert not (tmp_path / "r").exists()
