"""Declarative parameter constraints (in the spirit of scikit-learn's ``_parameter_constraints``).

A method states what each hyperparameter may be in one class attribute,
``param_constraints = {"lr": Interval(float, 0, strict=True), "draw": Options("tile", ...)}``,
and :meth:`zsl_toolkit.methods.Method.validate` checks them all before any work starts, turning a
violation into the toolkit's one-line :class:`~zsl_toolkit.errors.ConfigError`. One mechanism
for every method, built-in or plugin, instead of hand-written checks that each word their errors
differently.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from zsl_toolkit.errors import ConfigError

__all__ = ["Boolean", "Constraint", "Interval", "Options", "check_constraints"]


class Constraint(ABC):
    """What one parameter may hold; ``None`` is accepted when ``optional`` (a value resolved
    later from the dataset)."""

    optional: bool = False

    def accepts(self, value: Any) -> bool:
        return (self.optional and value is None) or self._accepts(value)

    @abstractmethod
    def _accepts(self, value: Any) -> bool: ...

    @abstractmethod
    def describe(self) -> str:
        """Fits 'parameter NAME must be <describe()>'."""

    def _tail(self) -> str:
        return " or none (dataset default)" if self.optional else ""


@dataclass(frozen=True)
class Interval(Constraint):
    """A number of ``kind`` (``int`` or ``float``; an int is a valid float, a bool is neither)
    within ``[low, high]``; ``strict`` excludes ``low`` itself."""

    kind: type
    low: float | None = None
    high: float | None = None
    strict: bool = False
    optional: bool = False

    def _accepts(self, value: Any) -> bool:
        kinds = (int,) if self.kind is int else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.strict else value < self.low):
            return False
        return self.high is None or value <= self.high

    def describe(self) -> str:
        what = "an integer" if self.kind is int else "a number"
        bounds = []
        if self.low is not None:
            bounds.append(f"{'>' if self.strict else '>='} {self.low:g}")
        if self.high is not None:
            bounds.append(f"<= {self.high:g}")
        return " ".join([what, " and ".join(bounds)]).strip() + self._tail()


@dataclass(frozen=True)
class Options(Constraint):
    """One of a fixed set of values."""

    values: tuple[Any, ...]
    optional: bool = False

    def __init__(self, *values: Any, optional: bool = False) -> None:
        object.__setattr__(self, "values", tuple(values))
        object.__setattr__(self, "optional", optional)

    def _accepts(self, value: Any) -> bool:
        return not isinstance(value, bool) and value in self.values

    def describe(self) -> str:
        return "one of " + ", ".join(str(v) for v in self.values) + self._tail()


@dataclass(frozen=True)
class Boolean(Constraint):
    """``True`` or ``False``."""

    optional: bool = False

    def _accepts(self, value: Any) -> bool:
        return isinstance(value, bool)

    def describe(self) -> str:
        return "true or false" + self._tail()


def check_constraints(params: dict[str, Any], constraints: dict[str, Constraint]) -> None:
    """Raise :class:`ConfigError` for the first parameter whose value its constraint refuses."""
    for name, constraint in constraints.items():
        if name not in params:
            continue
        value = params[name]
        if not constraint.accepts(value):
            shown = f"'{value}'" if isinstance(value, str) else repr(value)
            raise ConfigError(f"parameter {name} must be {constraint.describe()}, got {shown}")
