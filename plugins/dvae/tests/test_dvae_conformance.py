"""The toolkit's conformance kit on the plugin, for the default and the ablation settings."""

from __future__ import annotations

import pytest
from zsl_dvae import DisentangledVAE

from zsl_toolkit.methods.registry import method_registry
from zsl_toolkit.testing import check_method

# Small networks and a small, short final-classifier stage keep each fit well under a second.
TINY = {"hidden_scale": 0.05, "seen_samples": 20, "unseen_samples": 20, "classifier_epochs": 3}


def test_registered_under_dvae():
    assert method_registry().load("dvae") is DisentangledVAE
    assert method_registry().info("dvae").distribution == "zsl-dvae"


def test_conformance_default(tmp_path):
    check_method("dvae", tmp_path, params=TINY, epochs=2)


@pytest.mark.parametrize(
    "params",
    [
        {"classifier_latent": "p", "attribute_dispersing": True},
        {"classifier_latent": "t+p", "seen_noise": True},
        {"recombine": False},
        {"disentangle": False},
    ],
    ids=["latent-p", "latent-t+p", "no-recombine", "base"],
)
def test_conformance_variants(tmp_path, params):
    # The class, not the name: the kit then skips the CLI and save/load (covered above).
    check_method(DisentangledVAE, tmp_path, params={**TINY, **params}, epochs=2)
