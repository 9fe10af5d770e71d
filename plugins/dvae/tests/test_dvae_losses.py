"""Every loss term of one batch against a float64 NumPy recomputation from the weights.

The expected values are written out from the paper's equations (and CADA-VAE's conventions:
sums over the batch, ``sigma = exp(logvar)`` for sampling, ``exp(logvar / 2)`` in KL and W2),
not by calling the plugin's functions. The random draws are replayed from the same seed in
the documented order: visual noise ``[2B, 1]`` (rows 2i / 2i+1: sample i's distilling /
dispersing branch), attribute noise ``[2B, 1]``, then the batch permutation.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from zsl_dvae import DisentangledVAE
from zsl_dvae.losses import shuffling_classification

from zsl_toolkit.methods import ModelSpec
from zsl_toolkit.methods.vae import LatentClassifier

B, D1, D2, C, LAT = 6, 10, 5, 7, 4
SEEN = (0, 2, 3, 5, 6)
UNSEEN = (1, 4)


def _spec(dataset: str = "toy") -> ModelSpec:
    return ModelSpec(
        feature_dim=D1,
        embedding_dim=D2,
        n_classes=C,
        seen_classes=SEEN,
        unseen_classes=UNSEEN,
        class_names=tuple(f"c{i}" for i in range(C)),
        dataset=dataset,
    )


def _method(**params) -> DisentangledVAE:
    torch.manual_seed(3)
    m = DisentangledVAE.create(
        {
            "latent_size": LAT,
            "visual_encoder_hidden": 9,
            "visual_decoder_hidden": 8,
            "attribute_encoder_hidden": 7,
            "attribute_decoder_hidden": 6,
            "alpha": 3.0,
            "gamma": 0.7,
            "attribute_dispersing": True,  # the paper's model: both encoders have both branches
            **params,
        }
    )
    m.setup(_spec())
    return m


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().double().numpy()


def _linear(layer, x):
    return x @ _np(layer.weight).T + _np(layer.bias)


def _relu(a):
    return np.maximum(a, 0.0)


def _log_softmax(a):
    a = a - a.max(axis=1, keepdims=True)
    return a - np.log(np.exp(a).sum(axis=1, keepdims=True))


def _batch():
    g = torch.Generator().manual_seed(11)
    x = torch.rand(B, D1, generator=g)
    s = torch.rand(B, D2, generator=g)
    target = torch.tensor([0, 1, 4, 2, 1, 3])  # positions among the 5 seen classes
    return x, s, target


def _labels(target: torch.Tensor) -> torch.Tensor:
    """Global class ids of seen positions (what the loss receives)."""
    return torch.tensor(SEEN)[target]


def _expected(m: DisentangledVAE, x, s, target, seed: int, epoch: int, recombine: bool):
    """Recompute every term by hand; returns a dict of floats."""
    net = m.model_
    torch.manual_seed(seed)
    eps_v = _np(torch.randn(2 * B, 1))
    eps_s = _np(torch.randn(2 * B, 1))
    perm = torch.randperm(B).numpy() if recombine else None
    xv, sv, y = _np(x), _np(s), target.numpy()

    def encode(enc, inp):
        h = _relu(_linear(enc.hidden, inp))
        return _linear(enc.mu, h), _linear(enc.logvar, h)

    def decode(dec, z):
        return _linear(dec.out, _relu(_linear(dec.hidden, z)))

    mu_v, lv_v = encode(net.visual_encoder, xv)
    mu_s, lv_s = encode(net.attribute_encoder, sv)
    t, p = slice(0, LAT), slice(LAT, 2 * LAT)
    # sample i's distilling branch uses noise row 2i, its dispersing branch row 2i + 1
    zt_v = mu_v[:, t] + np.exp(lv_v[:, t]) * eps_v[0::2]
    zp_v = mu_v[:, p] + np.exp(lv_v[:, p]) * eps_v[1::2]
    zt_s = mu_s[:, t] + np.exp(lv_s[:, t]) * eps_s[0::2]
    zp_s = mu_s[:, p] + np.exp(lv_s[:, p]) * eps_s[1::2]
    zv, zs = zt_v + zp_v, zt_s + zp_s
    rec = (
        np.abs(decode(net.visual_decoder, zv) - xv).sum()
        + np.abs(decode(net.attribute_decoder, zs) - sv).sum()
    )
    cross = (
        np.abs(decode(net.visual_decoder, zs) - xv).sum()
        + np.abs(decode(net.attribute_decoder, zv) - sv).sum()
    )

    def kl(mu, lv):
        return -0.5 * np.sum(1 + lv - mu**2 - np.exp(lv))

    def w2(m1, l1, m2, l2):
        return np.sqrt(
            ((m1 - m2) ** 2).sum(1) + ((np.exp(l1 / 2) - np.exp(l2 / 2)) ** 2).sum(1)
        ).sum()

    kl_t = kl(mu_v[:, t], lv_v[:, t]) + kl(mu_s[:, t], lv_s[:, t])
    kl_p = kl(mu_v[:, p], lv_v[:, p]) + kl(mu_s[:, p], lv_s[:, p])
    d_t = w2(mu_v[:, t], lv_v[:, t], mu_s[:, t], lv_s[:, t])
    d_p = w2(mu_v[:, p], lv_v[:, p], mu_s[:, p], lv_s[:, p])

    def nll(clf, z):
        logp = _log_softmax(_linear(clf.fc, z))
        return -sum(logp[i, y[i]] for i in range(B))  # per-sample loop: test-side only

    classification = nll(net.visual_auxiliary, zv) + nll(net.attribute_auxiliary, zs)
    recombined = 0.0
    if recombine:
        recombined = nll(net.visual_auxiliary, zt_v + zp_v[perm]) + nll(
            net.attribute_auxiliary, zt_s + zp_s[perm]
        )
    # CADA-VAE's warm-ups written out: f(e) = clip((e - start) / (end - start) * factor)
    w_kl = min(max(epoch / 93 * 0.25, 0), 0.25)
    w_cross = min(max((epoch - 21) / 54 * 2.37, 0), 2.37)
    w_dist = min(max((epoch - 6) / 16 * 8.13, 0), 8.13)
    gamma = 0.7
    loss = (
        rec
        + w_kl * (kl_t + 3.0 * kl_p)
        + w_cross * cross
        + gamma * (classification + recombined)
        + w_dist * (d_t + d_p)
    )
    out = {
        "loss": loss,
        "reconstruction": rec,
        "cross_reconstruction": cross,
        "kl_t": kl_t,
        "kl_p": kl_p,
        "distance_t": d_t,
        "distance_p": d_p,
        "classification": classification,
    }
    if recombine:
        out["recombined"] = recombined
    return out


@pytest.mark.parametrize("epoch", [0, 15, 50, 120])
@pytest.mark.parametrize("recombine", [True, False])
def test_every_term_matches_hand_computation(epoch, recombine):
    m = _method(recombine=recombine)
    x, s, target = _batch()
    torch.manual_seed(5)
    got = m.vae_loss(x, s, _labels(target), epoch)
    want = _expected(m, x, s, target, seed=5, epoch=epoch, recombine=recombine)
    diagnostics = {
        "sd_visual_t",
        "sd_visual_p",
        "sd_attribute_t",
        "sd_attribute_p",
        "active_p_dims",
        "active_t_dims",
    }
    assert set(got) == set(want) | diagnostics
    for name, value in want.items():
        assert float(got[name].detach()) == pytest.approx(value, rel=1e-4, abs=1e-4), name


def test_shuffling_keeps_labels_with_distilling_latent():
    """Class identity in z_t only, z_p from other samples: re-combined rows must still be
    scored against the label of the sample whose z_t they carry."""
    n = 5
    clf = LatentClassifier(n, n)
    with torch.no_grad():
        clf.fc.weight.copy_(torch.eye(n))
        clf.fc.bias.zero_()
    y = torch.tensor([3, 0, 4, 1, 2])
    z_t = 4.0 * torch.nn.functional.one_hot(y, n).float()
    z_p = 0.5 * torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 3, 4]), n).float()
    perm = torch.tensor([1, 2, 3, 4, 0])
    plain, shuffled = shuffling_classification(clf, z_t, z_p, y, perm)
    # Expected by hand: row i is scored on 4 * e_{y_i} + 0.5 * e_{perm(i)}, label y_i.
    logits = 4.0 * np.eye(n)[y.numpy()] + 0.5 * np.eye(n)[perm.numpy()]
    want = -_log_softmax(logits)[np.arange(n), y.numpy()].sum()
    assert float(shuffled.detach()) == pytest.approx(want, rel=1e-5)
    assert float(shuffled.detach()) < 0.1 * n  # aligned labels: small loss
    # Pairing labels with the shuffled z_p instead would cost about 4 nats per row.
    wrong = -_log_softmax(logits)[np.arange(n), y.numpy()[perm.numpy()]].sum()
    assert wrong > 3.5 * n
    plain_want = -_log_softmax(4.0 * np.eye(n)[y.numpy()] + 0.5 * np.eye(n))[
        np.arange(n), y.numpy()
    ].sum()
    assert float(plain.detach()) == pytest.approx(plain_want, rel=1e-5)


def test_recombined_rows_use_another_samples_dispersing_latent():
    """The re-combined input of row i is z_t[i] + z_p[perm[i]] (checked through a classifier
    that reads its input back out)."""
    n = 4
    seen_inputs = []

    class Probe(torch.nn.Module):
        def forward(self, z):
            seen_inputs.append(z.clone())
            return torch.log_softmax(torch.zeros(z.shape[0], 3), dim=1)

    z_t = torch.arange(n * 2, dtype=torch.float32).view(n, 2)
    z_p = 100.0 * torch.arange(n * 2, dtype=torch.float32).view(n, 2)
    perm = torch.tensor([2, 0, 3, 1])
    shuffling_classification(Probe(), z_t, z_p, torch.zeros(n, dtype=torch.long), perm)
    (z,) = seen_inputs
    assert torch.equal(z[:n], z_t + z_p)
    assert torch.equal(z[n:], z_t + z_p[perm])


def test_gamma_zero_drops_shuffling_loss_and_draws_no_permutation():
    m = _method(gamma=0.0)
    x, s, target = _batch()
    torch.manual_seed(5)
    terms = m.vae_loss(x, s, _labels(target), 50)
    after = torch.randn(1)
    torch.manual_seed(5)
    torch.randn(2 * B, 1), torch.randn(2 * B, 1)
    assert torch.equal(after, torch.randn(1))  # only the two noise draws were consumed
    assert "classification" not in terms and "recombined" not in terms


def test_alpha_weights_only_the_dispersing_kl():
    x, s, target = _batch()
    torch.manual_seed(5)
    low = _method(alpha=1.0, gamma=0.0).vae_loss(x, s, _labels(target), 93)
    torch.manual_seed(5)
    high = _method(alpha=11.0, gamma=0.0).vae_loss(x, s, _labels(target), 93)
    # Same weights and draws: the totals differ by kl_factor * (11 - 1) * KL_p only.
    diff = float(high["loss"].detach()) - float(low["loss"].detach())
    assert diff == pytest.approx(0.25 * 10.0 * float(low["kl_p"]), rel=1e-4)
