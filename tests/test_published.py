"""Published-results tables on methods: percentages keyed by lowercase dataset name."""

from __future__ import annotations

import pytest

from zsl_toolkit.methods.base import Method
from zsl_toolkit.methods.eszsl import ESZSL
from zsl_toolkit.methods.registry import method_registry
from zsl_toolkit.testing.conformance import check_published

BUILT_IN = ("eszsl", "devise", "ale", "f-clswgan", "cada-vae")


def test_default_is_empty_and_eszsl_has_its_numbers():
    assert Method.published == {}
    assert Method.published_for({"anything": 1}) == {}
    assert ESZSL.published["cub"] == {"U": 12.6, "S": 63.8, "H": 21.0}


@pytest.mark.parametrize("name", BUILT_IN)
def test_built_in_tables_are_consistent_transcriptions(name):
    cls = method_registry().load(name)
    assert {"cub", "sun", "awa1"} <= set(cls.published)
    for dataset, row in cls.published.items():
        # H is the harmonic mean of U and S up to rounding and averaging over runs (CADA-VAE CUB
        # prints 52.4 for 52.5): catches a mistyped digit
        h = 2 * row["U"] * row["S"] / (row["U"] + row["S"])
        assert h == pytest.approx(row["H"], abs=0.15), (name, dataset)
    assert cls.published_for({}) is cls.published


def test_report_looks_published_values_up_by_dataset_folder_and_params():
    from zsl_toolkit.sweep.report import _published

    assert _published("devise", "/data/xlsa17/CUB", {}) == {"U": 23.8, "S": 53.0, "H": 32.8}
    assert _published("cada-vae", "awa2", {"latent_size": 32})["H"] == 63.9
    assert _published("ale", "synthetic", {}) is None
    assert _published("no-such-method", "cub", {}) is None


@pytest.mark.parametrize("name", method_registry().names())
def test_every_installed_method_has_a_well_formed_table(name):
    check_published(method_registry().load(name))


@pytest.mark.parametrize(
    "table, fragment",
    [
        ({"cub": {"U": 0.5, "S": 0.6, "H": 0.55}}, "looks like fractions"),
        ({"CUB": {"H": 50.0}}, "lowercase"),
        ({"cub": {"T1": 50.0}}, "some of U, S, H"),
        ({"cub": {"H": 150.0}}, "not a percentage"),
    ],
)
def test_malformed_tables_are_caught(table, fragment):
    bad = type("Bad", (ESZSL,), {"published": table})
    with pytest.raises(AssertionError, match=fragment):
        check_published(bad)
