"""The switches the component study tests (gamma scaling, per-branch sampling rule, the
attribute side's dispersing branch), the per-epoch diagnostics and the transfer margins."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from zsl_dvae import DisentangledVAE
from zsl_dvae.diagnostics import transfer_margins
from zsl_dvae.model import branch_sampler, sample_branches

from zsl_toolkit.methods import ModelSpec
from zsl_toolkit.testing import toy_data
from zsl_toolkit.training import TrainConfig, Trainer


def _fit(**params) -> tuple[DisentangledVAE, Trainer]:
    method = DisentangledVAE.create({**DisentangledVAE.quick_params, **params})
    trainer = Trainer(TrainConfig(seed=0, device="cpu", epochs=2, quiet=True, checkpoint_every=0))
    trainer.fit(method, toy_data())
    return method, trainer


def test_gamma_scale_dim_weights_by_reconstructed_dimensions():
    spec = ModelSpec.from_data(toy_data())
    method = DisentangledVAE.create({"gamma_scale": "dim"})
    method.setup(spec)
    factor = (spec.feature_dim + spec.embedding_dim) / (2048 + 312)
    assert method.effective_params()["gamma_factor"] == pytest.approx(factor)
    plain = DisentangledVAE.create({})
    plain.setup(spec)
    assert plain.effective_params()["gamma_factor"] == 1.0


def test_dispersing_branch_can_sample_by_its_own_rule():
    mu, logvar = torch.zeros(4, 6), torch.zeros(4, 6)
    torch.manual_seed(0)
    z_t, z_p = sample_branches(mu, logvar, 3, faithful=True, dispersing=False)
    # Authors' rule on z_t: one noise value per sample; textbook on z_p: one per dimension.
    assert torch.equal(z_t, z_t[:, :1].expand_as(z_t))
    assert not torch.equal(z_p, z_p[:, :1].expand_as(z_p))
    method = DisentangledVAE.create({"dispersing_sampling": "textbook"})
    assert method.dispersing_rule() is False
    assert DisentangledVAE.create({}).dispersing_rule() is True


def test_without_attribute_dispersing_branch_its_terms_vanish():
    method, trainer = _fit(attribute_dispersing=False, classifier_latent="t+p")
    vae = [r for r in trainer.history if r["stage"] == "vae"]
    assert vae and all(r["distance_p"] == 0.0 for r in vae)
    ctx = method.context(toy_data(), torch.device("cpu"))
    latents, labels = method.classifier_latents(ctx)
    assert torch.isfinite(latents).all()


def test_epoch_log_has_branch_diagnostics():
    _, trainer = _fit()
    record = next(r for r in trainer.history if r["stage"] == "vae")
    for key in ("sd_visual_t", "sd_visual_p", "sd_attribute_t", "sd_attribute_p"):
        assert record[key] > 0
    latent = DisentangledVAE.quick_params.get("latent_size", 64)
    assert 0 <= record["active_p_dims"] <= latent
    assert 0 <= record["active_t_dims"] <= latent


def test_transfer_margins_are_distances_of_unseen_images():
    method, _ = _fit()
    m = transfer_margins(method, toy_data())
    assert m["own_distance"] > 0 and m["seen_distance"] > 0
    assert m["ratio"] == pytest.approx(m["own_distance"] / m["seen_distance"])
    assert 0.0 <= m["closer_to_own"] <= 1.0


def test_p_classifier_needs_an_attribute_dispersing_branch():
    from zsl_toolkit.errors import ConfigError

    with pytest.raises(ConfigError, match="attribute_dispersing"):
        DisentangledVAE.create({"attribute_dispersing": False, "classifier_latent": "p"})


def test_dispersing_mean_uses_z_p_without_noise():
    """``dispersing_sampling="mean"``: the dispersing latent enters as its posterior mean
    (the decoder input gets no noise from a branch pushed to the prior)."""

    mu, logvar = torch.randn(5, 6), torch.zeros(5, 6)
    sample = branch_sampler(3, "p", True, True, True, dispersing_mean=True)
    assert torch.equal(sample(mu, logvar), mu[:, 3:])
    noisy = branch_sampler(3, "p", True, True, True)(mu, logvar)
    assert not torch.equal(noisy, mu[:, 3:])
    method, trainer = _fit(dispersing_sampling="mean")
    vae = [r for r in trainer.history if r["stage"] == "vae"]
    assert vae and all(np.isfinite(r["loss"]) for r in vae)
    assert method.dispersing_rule() is True


def test_anchored_classifier_scores_by_distance_to_the_class_anchors():
    from zsl_dvae.losses import AnchoredClassifier

    anchors = torch.tensor([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
    z = torch.tensor([[2.9, 0.1], [0.1, 0.2], [-0.2, 2.5]])
    logp = AnchoredClassifier(anchors)(z)
    assert torch.allclose(logp.exp().sum(dim=1), torch.ones(3))
    assert logp.argmax(dim=1).tolist() == [1, 0, 2]
    # -||z - a||^2 / 2 up to the per-row normaliser
    d2 = ((z[0] - anchors) ** 2).sum(dim=1)
    expected = torch.log_softmax(-0.5 * d2, dim=0)
    assert torch.allclose(logp[0], expected)


def test_sc_anchors_trains_the_attribute_encoder_through_l_sc():
    """With ``sc_anchors`` L_SC's class points are the attribute encoder's ``mu_t`` of the seen
    classes, so L_SC alone sends gradients into the attribute encoder, and the free auxiliary
    classifiers get none."""
    method, trainer = _fit(sc_anchors=True, gamma=1.0)
    vae = [r for r in trainer.history if r["stage"] == "vae"]
    assert vae and all(np.isfinite(r["classification"]) for r in vae)
    m = method.model_
    x = torch.randn(6, method.spec_.feature_dim)
    y = torch.tensor(method.spec_.seen_classes[:3] * 2)
    m.zero_grad()
    aux_v, aux_s = method.auxiliary_classifiers()
    assert aux_v is aux_s
    target = method.seen_target(y)
    mu_v, _ = m.visual_encoder(x)
    loss = torch.nn.functional.nll_loss(aux_v(mu_v[:, : method.latent_size]), target)
    loss.backward()
    grads = [p.grad for p in m.attribute_encoder.parameters()]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    assert all(p.grad is None for p in m.visual_auxiliary.parameters())


def test_sc_anchors_off_keeps_trial_ids_from_before_it_existed(tmp_path, monkeypatch):
    """``identity_defaults``: at its old behaviour a later parameter stays out of a trial's
    resolved config, so trials recorded before it existed keep their ids; on, it enters."""
    from zsl_toolkit.sweep import load_sweep_config, plan_trials

    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "s.toml"
    cfg.write_text(
        '[sweep]\nname = "s"\nseeds = [0]\ndatasets = ["toy"]\n\n'
        '[methods.off]\nmethod = "dvae"\n\n'
        '[methods.on]\nmethod = "dvae"\nsc_anchors = true\n'
    )
    off, on = plan_trials(load_sweep_config(cfg))
    assert "sc_anchors" not in off.config["params"]
    assert on.config["params"]["sc_anchors"] is True
    assert "gamma_start" in off.config["params"]  # other defaults stay in the identity
