from __future__ import annotations

import pytest

from zsl_toolkit.data.registry import dataset_registry
from zsl_toolkit.errors import PluginConflict, PluginLoadError, PluginNotFound
from zsl_toolkit.evaluation.registry import evaluator_registry
from zsl_toolkit.methods.base import Method
from zsl_toolkit.methods.registry import method_registry
from zsl_toolkit.registry import list_registries


def test_builtins_are_registered_through_entry_points():
    assert "eszsl" in method_registry().names()
    assert {"toy", "synthetic", "synthetic-cub", "cub", "awa1", "awa2", "sun", "apy", "flo"} <= set(
        dataset_registry().names()
    )
    assert {"gzsl", "zsl", "calibrated"} <= set(evaluator_registry().names())
    info = method_registry().info("eszsl")
    assert info.distribution == "zsl-toolkit"
    assert info.version


def test_listing_does_not_import_plugins(fake_distribution):
    fake_distribution(
        "zsl-broken",
        {"zsl_toolkit.methods": {"broken": "zsl_broken_mod:Nope"}},
        "raise RuntimeError('boom at import')\n",
    )
    names = list_registries()["methods"].names()
    assert "broken" in names  # listed from metadata alone, import never attempted


def test_unknown_name_lists_installed_and_closest():
    with pytest.raises(PluginNotFound) as err:
        method_registry().load("eszls")
    msg = str(err.value)
    assert "eszsl" in msg and "did you mean 'eszsl'" in msg
    assert "\n" not in msg


@pytest.mark.parametrize(("typed", "meant"), [("ESZSL", "eszsl"), ("CADA-VAE", "cada-vae")])
def test_case_only_typo_gets_the_installed_name(typed, meant):
    with pytest.raises(PluginNotFound, match=f"did you mean '{meant}'"):
        method_registry().load(typed)


def test_plugin_import_failure_names_distribution_and_cause(fake_distribution):
    fake_distribution(
        "zsl-broken",
        {"zsl_toolkit.methods": {"broken": "zsl_broken_mod:Nope"}},
        "raise RuntimeError('boom at import')\n",
    )
    with pytest.raises(PluginLoadError) as err:
        method_registry().load("broken")
    assert "zsl-broken" in str(err.value) and "boom at import" in str(err.value)


def test_wrong_type_is_refused(fake_distribution):
    fake_distribution(
        "zsl-wrong",
        {"zsl_toolkit.methods": {"wrong": "zsl_wrong_mod:Thing"}},
        "class Thing:\n    pass\n",
    )
    with pytest.raises(PluginLoadError) as err:
        method_registry().load("wrong")
    assert "not a subclass" in str(err.value) and "zsl-wrong" in str(err.value)


def test_two_distributions_claiming_one_name(fake_distribution):
    fake_distribution("zsl-dup", {"zsl_toolkit.methods": {"eszsl": "zsl_dup_mod:X"}}, "X = 1\n")
    with pytest.raises(PluginConflict) as err:
        method_registry().load("eszsl")
    assert "zsl-toolkit" in str(err.value) and "zsl-dup" in str(err.value)


def test_third_party_method_loads(fake_distribution):
    fake_distribution(
        "zsl-ext",
        {"zsl_toolkit.methods": {"ext": "zsl_ext_mod:Ext"}},
        "from zsl_toolkit.methods.eszsl import ESZSL\nclass Ext(ESZSL):\n    pass\n",
    )
    cls = method_registry().load("ext")
    assert issubclass(cls, Method)
