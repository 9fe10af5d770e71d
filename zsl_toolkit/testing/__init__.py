"""Conformance kit for plugin authors: every method and dataset plugin should pass it.

Typical use in a plugin's own tests::

    from zsl_toolkit.testing import check_method

    def test_conformance(tmp_path):
        check_method("my-method", tmp_path, params={"hidden": 8})
"""

from zsl_toolkit.testing.conformance import (
    check_class_editing,
    check_dataset,
    check_evaluator,
    check_method,
    toy_data,
)

__all__ = ["check_class_editing", "check_dataset", "check_evaluator", "check_method", "toy_data"]
