"""``--param`` and config-file values are typed by the method's ``__init__`` annotations (the
default value's type only when there is no annotation), along the class hierarchy, with
string annotations from ``from __future__ import annotations`` evaluated."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from torch import nn

from zsl_toolkit.errors import ConfigError
from zsl_toolkit.methods import FitContext, Method, ModelSpec, Stage
from zsl_toolkit.params import check_params, parse_params


class Base(Method):
    citation = "test"

    def __init__(
        self,
        *,
        lam: float = 1,
        k: int | None = None,
        mode: Literal["a", "b"] = "a",
        preprocess: str = "none",
    ) -> None:
        self.lam = lam
        self.k = k
        self.mode = mode
        self.preprocess = preprocess

    def build(self, spec: ModelSpec) -> nn.Module:
        return nn.Identity()

    def stage(self, index: int, ctx: FitContext) -> Stage | None:
        return None

    def scorer(self) -> nn.Module:
        return nn.Identity()


class Child(Base):
    def __init__(self, *, flag: bool = 0, untyped=3, **base: Any) -> None:  # type: ignore[assignment]
        super().__init__(**base)
        self.flag = flag
        self.untyped = untyped


def parse(*items: str) -> dict[str, Any]:
    return parse_params(items, Child.param_defaults(), Child.param_types())


def test_annotation_beats_default_value_type():
    assert parse("lam=0.5") == {"lam": 0.5}  # default 1 (an int), annotation float
    assert parse("flag=true") == {"flag": True}  # default 0, annotation bool
    assert parse("k=4", "k=none") == {"k": None}
    assert parse("k=4") == {"k": 4}
    assert parse("mode=b") == {"mode": "b"}
    assert parse("untyped=7") == {"untyped": 7}  # no annotation: the default's type


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("k=0.5", "expected an integer or none"),
        ("mode=c", "expected one of a, b"),
        ("lam=big", "expected a number"),
        ("untyped=x", "expected an integer"),
    ],
)
def test_wrong_text_names_the_annotated_kind(item, expected):
    with pytest.raises(ConfigError, match=expected):
        parse(item)


def test_config_file_values_follow_annotations():
    valid, types = Child.param_defaults(), Child.param_types()
    out = check_params({"lam": 2, "k": None, "flag": False}, valid, "cfg [params]", types)
    assert out == {"lam": 2.0, "k": None, "flag": False}
    assert isinstance(out["lam"], float)
    with pytest.raises(ConfigError, match="'k' must be an integer or none, got 1.5"):
        check_params({"k": 1.5}, valid, "cfg [params]", types)
    with pytest.raises(ConfigError, match="'flag' must be true or false, got 1"):
        check_params({"flag": 1}, valid, "cfg [params]", types)


def test_string_annotations_are_resolved_along_the_hierarchy():
    types = Child.param_types()
    assert types["lam"] is float and types["flag"] is bool
    assert set(types) == set(Child.param_defaults())
