"""Shapes of every branch, the scorer's branch choice, the classifier's training set, and the
parameters' validation and per-dataset resolution."""

from __future__ import annotations

import pytest
import torch
from zsl_dvae import DisentangledVAE
from zsl_dvae.model import branch_sampler, sample_branches

from zsl_toolkit.errors import ConfigError
from zsl_toolkit.methods import ModelSpec
from zsl_toolkit.methods.vae import gzsl_latent_set

D1, D2, C, LAT = 12, 6, 8, 5
SEEN, UNSEEN = (0, 1, 3, 4, 6), (2, 5, 7)


def _spec(dataset: str = "toy") -> ModelSpec:
    return ModelSpec(D1, D2, C, SEEN, UNSEEN, tuple(f"c{i}" for i in range(C)), dataset)


def _method(**params) -> DisentangledVAE:
    torch.manual_seed(0)
    m = DisentangledVAE.create({"latent_size": LAT, "hidden_scale": 0.01, **params})
    m.setup(_spec())
    return m


def test_branch_shapes():
    m = _method()
    net = m.model_
    x, s = torch.rand(7, D1), torch.rand(7, D2)
    mu_v, lv_v = net.visual_encoder(x)
    mu_s, lv_s = net.attribute_encoder(s)
    for t in (mu_v, lv_v, mu_s, lv_s):
        assert t.shape == (7, 2 * LAT)  # [distilling | dispersing]
    zt, zp = sample_branches(mu_v, lv_v, LAT, faithful=True)
    assert zt.shape == zp.shape == (7, LAT)
    assert net.visual_decoder(zt + zp).shape == (7, D1)
    assert net.attribute_decoder(zt + zp).shape == (7, D2)
    assert net.visual_auxiliary(zt).shape == (7, len(SEEN))  # seen classes only
    assert net.attribute_auxiliary(zt).shape == (7, len(SEEN))
    assert net.classifier(zt).shape == (7, C)  # all classes
    assert m.scorer()(x).shape == (7, C)


def test_base_model_has_one_branch_and_no_auxiliary_classifiers():
    net = _method(disentangle=False).model_
    mu, lv = net.visual_encoder(torch.rand(3, D1))
    assert mu.shape == lv.shape == (3, LAT)
    assert not hasattr(net, "visual_auxiliary") and not hasattr(net, "attribute_auxiliary")


def test_faithful_sampling_draws_one_noise_value_per_branch_and_sample():
    mu = torch.zeros(4, 2 * LAT)
    logvar = torch.zeros(4, 2 * LAT)  # sigma = exp(0) = 1: z = eps
    torch.manual_seed(1)
    zt, zp = sample_branches(mu, logvar, LAT, faithful=True)
    torch.manual_seed(1)
    eps = torch.randn(8, 1)
    assert torch.equal(zt, eps[0::2].expand(4, LAT))
    assert torch.equal(zp, eps[1::2].expand(4, LAT))
    assert not torch.equal(zt, zp)


@pytest.mark.parametrize("which", ["t", "p", "t+p"])
def test_scorer_reads_the_chosen_branch_mean(which):
    m = _method(classifier_latent=which, attribute_dispersing=which == "p")
    x = torch.rand(5, D1)
    mu, _ = m.model_.visual_encoder(x)
    mu_t, mu_p = mu[:, :LAT], mu[:, LAT:]
    latent = {"t": mu_t, "p": mu_p, "t+p": mu_t + mu_p}[which]
    with torch.no_grad():
        assert torch.allclose(m.scorer()(x), m.model_.classifier(latent), atol=1e-6)


@pytest.mark.parametrize("which", ["t", "p", "t+p"])
def test_classifier_set_uses_chosen_branch_and_means_for_seen_rows(which):
    m = _method()
    net = m.model_
    feats = torch.rand(10, D1)
    labels = torch.tensor([0, 1, 3, 4, 6, 0, 1, 3, 4, 6])
    emb = torch.rand(C, D2)
    seen, unseen = torch.tensor(SEEN), torch.tensor(UNSEEN)
    z, y = gzsl_latent_set(
        net.visual_encoder,
        net.attribute_encoder,
        feats,
        labels,
        emb,
        seen,
        unseen,
        3,
        4,
        draw="tile",
        seen_sample=branch_sampler(LAT, which, noise=False, faithful=True),
        unseen_sample=branch_sampler(LAT, which, noise=True, faithful=True),
    )
    assert z.shape == (len(SEEN) * 3 + len(UNSEEN) * 4, LAT)
    assert y.tolist() == [c for c in SEEN for _ in range(3)] + [c for c in UNSEEN for _ in range(4)]
    with torch.no_grad():
        mu, _ = net.visual_encoder(feats)
    pick = {"t": mu[:, :LAT], "p": mu[:, LAT:], "t+p": mu[:, :LAT] + mu[:, LAT:]}[which]
    # Seen class 0's rows are 0 and 5; tiling takes 0, 5, 0: means, no noise.
    assert torch.allclose(z[:3], pick[[0, 5, 0]], atol=1e-6)
    # Unseen rows are sampled: the 4 latents of one class differ.
    assert not torch.allclose(z[15], z[16])


def test_invalid_parameters_are_config_errors():
    with pytest.raises(ConfigError, match="classifier_latent"):
        DisentangledVAE.create({"classifier_latent": "z"})
    with pytest.raises(ConfigError, match="disentangle=false"):
        DisentangledVAE.create({"disentangle": False, "classifier_latent": "p"})
    with pytest.raises(ConfigError, match="alpha"):
        DisentangledVAE.create({"alpha": -1.0})
    with pytest.raises(ConfigError, match="seen_draw"):
        DisentangledVAE.create({"seen_draw": "every"})


@pytest.mark.parametrize(
    ("dataset", "alpha", "samples", "epochs"),
    [
        ("cub", 10.0, (200, 400), 23),
        ("awa1", 14.0, (200, 460), 33),
        ("awa2", 18.0, (200, 480), 29),
        ("sun", 8.0, (200, 410), 21),
        ("/data/xlsa17/AWA2", 18.0, (200, 480), 29),
        # no published value: about 23 epochs x floor(50000 / 32) updates, as CADA-VAE
        ("synthetic", 10.0, (200, 400), round(23 * (50_000 // 32) / ((5 * 200 + 3 * 400) // 32))),
    ],
)
def test_per_dataset_defaults(dataset, alpha, samples, epochs):
    m = DisentangledVAE.create({"hidden_scale": 0.01})
    m.setup(_spec(dataset))
    p = m.effective_params()
    assert p["alpha"] == alpha
    assert (p["seen_samples"], p["unseen_samples"]) == samples
    assert p["classifier_epochs"] == epochs
    assert m.get_params()["alpha"] is None  # stored unchanged


def test_explicit_values_override_tables():
    m = DisentangledVAE.create({"hidden_scale": 0.01, "alpha": 3.0, "unseen_samples": 7})
    m.setup(_spec("cub"))
    p = m.effective_params()
    assert p["alpha"] == 3.0 and p["unseen_samples"] == 7 and p["seen_samples"] == 200
