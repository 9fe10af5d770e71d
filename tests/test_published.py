"""Published-results tables on methods: percentages keyed by lowercase dataset name."""

from __future__ import annotations

import pytest

from zsl_toolkit.methods.base import Method
from zsl_toolkit.methods.eszsl import ESZSL
from zsl_toolkit.registry import method_registry
from zsl_toolkit.testing.conformance import check_published


def test_default_is_empty_and_eszsl_has_its_numbers():
    assert Method.published == {}
    assert ESZSL.published["cub"] == {"U": 12.6, "S": 63.8, "H": 21.0}
    for row in ESZSL.published.values():  # H is the harmonic mean of the printed U and S
        assert 2 * row["U"] * row["S"] / (row["U"] + row["S"]) == pytest.approx(row["H"], abs=0.06)


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
