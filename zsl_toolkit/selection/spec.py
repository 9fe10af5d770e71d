"""What a selection tries: ``--select KEY=v1,v2`` items, a config's ``[select]`` table, or
``auto`` (the method's declared :attr:`~zsl_toolkit.methods.Method.select_candidates`), turned
into one checked grid of parameter values.

Every value is typed by the method's parameter annotations (as ``--param`` is) and every grid
point is instantiated with :meth:`Method.create`, so an unknown key or a bad value fails before
anything is trained or written.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zsl_toolkit.errors import ConfigError

AUTO = "auto"


@dataclass(frozen=True)
class SelectSpec:
    """A selection request: the declared candidates (``auto``) and/or explicit axes
    (name -> values, typed), explicit axes replacing declared ones of the same name."""

    auto: bool = False
    axes: dict[str, list[Any]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.auto or bool(self.axes)


def _typed(method_cls: Any, key: str, raw: list[str], where: str) -> list[Any]:
    from zsl_toolkit.params import parse_params

    valid, types = method_cls.param_defaults(), method_cls.param_types()
    try:
        return [parse_params([f"{key}={v}"], valid, types)[key] for v in raw]
    except ConfigError as exc:
        raise ConfigError(f"{where}: {str(exc).removeprefix('--param ')}") from None


def parse_select_items(items: Sequence[str], method_cls: Any) -> SelectSpec:
    """``--select`` items (``auto`` or ``KEY=v1,v2,...``), typed for ``method_cls``."""
    from zsl_toolkit.values import split_values

    auto = False
    axes: dict[str, list[Any]] = {}
    for item in items:
        item = item.strip()
        if item == AUTO:
            auto = True
            continue
        if "=" not in item:
            raise ConfigError(f"--select '{item}': expected KEY=v1,v2,... or auto")
        key, raw = (part.strip() for part in item.split("=", 1))
        values = split_values(raw)
        if not raw or any(v == "" for v in values):
            raise ConfigError(f"--select {item}: empty value; give KEY=v1,v2,...")
        if key in axes:
            raise ConfigError(f"--select {key}: given twice; list every value in one KEY=v1,v2")
        axes[key] = _typed(method_cls, key, values, f"--select {item}")
    return SelectSpec(auto, axes)


def spec_from_config(value: Any, method_cls: Any, where: str) -> SelectSpec:
    """A config file's ``select``: ``"auto"``, or a table of KEY = [values] (a scalar is one
    value) that may also hold ``auto = true``."""
    from zsl_toolkit.params import check_params

    if value == AUTO:
        return SelectSpec(auto=True)
    if not isinstance(value, Mapping):
        raise ConfigError(f'{where}: expected "auto" or a table of KEY = [values], got {value!r}')
    auto = value.get(AUTO, False)
    if not isinstance(auto, bool):
        raise ConfigError(f"{where}: 'auto' must be true or false, got {auto!r}")
    valid, types = method_cls.param_defaults(), method_cls.param_types()
    axes: dict[str, list[Any]] = {}
    for key, raw in value.items():
        if key == AUTO:
            continue
        values = raw if isinstance(raw, list) else [raw]
        if not values:
            raise ConfigError(f"{where}: '{key}' has an empty list of values")
        axes[key] = [check_params({key: v}, valid, where, types)[key] for v in values]
    return SelectSpec(bool(auto), axes)


def declared_axes(method_cls: Any) -> dict[str, list[Any]]:
    """The method's declared candidates as axes (empty when it declares none)."""
    return {k: list(v) for k, v in getattr(method_cls, "select_candidates", {}).items()}


def candidate_axes(
    spec: SelectSpec, method_cls: Any, method: str, fixed: Mapping[str, Any]
) -> dict[str, list[Any]]:
    """The grid a selection trains: declared axes (with ``auto``, less those ``fixed`` sets)
    overlaid by explicit ones, which must not be fixed too; values de-duplicated."""
    axes: dict[str, list[Any]] = {}
    if spec.auto:  # a declared key the user fixed stays fixed
        declared = declared_axes(method_cls)
        axes.update({k: v for k, v in declared.items() if k not in fixed})
        if not declared and not spec.axes:
            raise ConfigError(
                f"--select auto: method {method} declares no candidates "
                f"(select_candidates); give KEY=v1,v2,... instead"
            )
    axes.update(spec.axes)
    valid = method_cls.param_defaults()
    for key in axes:
        if key not in valid:
            from zsl_toolkit.params import parameter_hint

            hint = parameter_hint(key, valid)
            raise ConfigError(
                f"--select {key}: not a parameter of method {method}"
                + (f" ({hint})" if hint else f"; valid: {', '.join(sorted(valid))}")
            )
        if key in fixed:
            raise ConfigError(
                f"--select {key}: also fixed by --param/[params]; give it in one place only"
            )
        seen: list[str] = []
        unique = []
        for v in axes[key]:
            text = json.dumps(v, sort_keys=True)
            if text not in seen:
                seen.append(text)
                unique.append(v)
        axes[key] = unique
    if not axes:
        raise ConfigError("--select: nothing to select; give KEY=v1,v2,... or auto")
    return axes


def candidate_points(axes: Mapping[str, list[Any]]) -> list[dict[str, Any]]:
    """Cartesian product of ``axes`` in their order."""
    keys = list(axes)
    return [dict(zip(keys, vals, strict=True)) for vals in itertools.product(*axes.values())]


def check_candidates(
    method_cls: Any, method: str, fixed: Mapping[str, Any], axes: Mapping[str, list[Any]]
) -> list[dict[str, Any]]:
    """Every grid point, each instantiated (``Method.create``) so a bad value or combination
    fails now with a one-line error naming the candidate."""
    points = candidate_points(axes)
    for point in points:
        try:
            method_cls.create({**fixed, **point})
        except ConfigError as exc:
            shown = ", ".join(f"{k}={v!r}" for k, v in point.items())
            raise ConfigError(f"--select candidate ({shown}): {exc}") from None
    return points


def as_spec(select: Any, method_cls: Any) -> SelectSpec:
    """A :class:`SelectSpec` from what a caller may pass: one already, ``"auto"``, ``--select``
    items, or a ``{KEY: [values]}`` mapping (a config's ``[select]`` table)."""
    if isinstance(select, SelectSpec):
        return select
    if isinstance(select, str):
        return parse_select_items([select], method_cls)
    if isinstance(select, Mapping):
        return spec_from_config(dict(select), method_cls, "select")
    if isinstance(select, Sequence):
        return parse_select_items([str(s) for s in select], method_cls)
    raise ConfigError(f"select: expected {AUTO!r}, KEY=v1,v2 items or a table, got {select!r}")
