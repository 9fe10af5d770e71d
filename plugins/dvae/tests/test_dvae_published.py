"""Published numbers follow the ablation switches, so reports compare like with like."""

from __future__ import annotations

import pytest
from zsl_dvae.method import DisentangledVAE
from zsl_dvae.published import TABLE3, TABLE4, published_row

from zsl_toolkit.methods import Method


def h(params: dict, dataset: str = "cub") -> float:
    return DisentangledVAE.published_for(params)[dataset]["H"]


def test_rows_selected_by_the_switches():
    assert DisentangledVAE.published["cub"] == {"U": 51.1, "S": 58.2, "H": 54.4}  # Table 2
    assert h({}) == 54.4
    assert h({"disentangle": False}) == 52.4  # Table 3 base
    assert h({"recombine": False}) == 53.7  # Table 3 +dis
    assert h({"classifier_latent": "p"}) == 47.7  # Table 4 z_p
    assert h({"classifier_latent": "t+p"}, "sun") == 39.0
    assert h({"alpha": 3.0, "gamma": 0.5}) == 54.4  # other settings keep the row
    assert DisentangledVAE.published_for({"recombine": False, "classifier_latent": "p"}) == {}


def test_tables_agree_with_each_other_and_with_cada_vae():
    for dataset in TABLE3:
        # the full method is one row printed in Tables 2, 3 and 4
        assert TABLE3[dataset]["+dis+re"] == TABLE4[dataset]["z_t"]
        for row in [*TABLE3[dataset].values(), *TABLE4[dataset].values()]:
            u, s, hm = row
            if (dataset, row) == ("awa1", (57.6, 73.0, 65.0)):
                continue  # printed so in the paper (H of U and S: 64.4); kept as printed
            # H = harmonic mean up to rounding and averaging over runs: catches a mistyped digit
            assert 2 * u * s / (u + s) == pytest.approx(hm, abs=0.2), (dataset, row)
    try:
        from zsl_toolkit.methods.registry import method_registry

        cada: type[Method] = method_registry().load("cada-vae")
    except Exception:  # pragma: no cover - the toolkit always ships cada-vae
        pytest.skip("cada-vae not installed")
    base = published_row({"disentangle": False})
    assert {k: base[k] for k in cada.published} == cada.published  # Table 3's base = CADA-VAE


def test_sweep_report_shows_the_ablation_row():
    from zsl_toolkit.sweep.report import _published

    assert _published("dvae", "/data/xlsa17/AWA2", {})["H"] == 66.6
    assert _published("dvae", "awa2", {"disentangle": False})["H"] == 63.9
    assert _published("dvae", "awa2", {"classifier_latent": "p"})["H"] == 52.4
    assert _published("dvae", "synthetic", {}) is None
