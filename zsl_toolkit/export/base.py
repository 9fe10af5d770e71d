"""Exporter plugin interface, the options an exporter declares, and the declarative I/O
description of an inference module.

Depends on the run directory module only (not on the pipeline or the trainer), and imports no
export backend: formats such as ONNX live in their own distributions and import their heavy
dependencies inside functions.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from zsl_toolkit.errors import ConfigError
from zsl_toolkit.runs.load import RunResult

FEATURES = "features"
SCORES = "scores"
PREDICTION = "prediction"
"""Names of the standard interface's input and outputs (:func:`io_spec`)."""

COMMON_OPTIONS = ("data_root",)
"""Options every exporter receives from ``zsl export`` (``--data-root``: where the run's
dataset lives now, when it moved since training)."""


@dataclass(frozen=True)
class IOSpec:
    """Named inputs/outputs of an exported model; axis 0 ("batch") is dynamic."""

    input_name: str
    input_dim: int
    outputs: dict[str, tuple[str, ...]]
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def output_names(self) -> list[str]:
        """Output names in their declared order."""
        return list(self.outputs)


@dataclass(frozen=True)
class ExporterOption:
    """One option an exporter accepts: ``zsl export --NAME VALUE`` (dashes for underscores)
    or ``--option NAME=VALUE``, converted to ``type`` before the exporter sees it."""

    name: str
    type: type = str
    help: str = ""
    default: Any = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def convert(self, value: Any) -> Any:
        """``value`` (a command-line string, or already typed) as ``type`` (``bool``, ``int``,
        ``float`` or ``str``; text read as :mod:`zsl_toolkit.values` reads it); ConfigError
        if not."""
        from zsl_toolkit.values import Kind, from_text

        if (
            value is None
            or isinstance(value, self.type)
            and not (self.type is int and isinstance(value, bool))
        ):
            return value
        try:
            return from_text(str(value).strip(), Kind((self.type,), optional=False))
        except ValueError as exc:
            raise ConfigError(f"{self.name} must be {exc}, got '{value}'") from None


def io_spec(run: RunResult) -> IOSpec:
    """The standard interface: raw features [batch, d1] -> scores [batch, C], prediction [batch]."""
    spec = run.method.spec_
    metadata = {
        "method": run.record.method,
        "dataset": run.record.dataset.name,
        "class_names": json.dumps(list(spec.class_names)),
        "seen_classes": json.dumps(list(spec.seen_classes)),
        "unseen_classes": json.dumps(list(spec.unseen_classes)),
        "feature_dim": str(spec.feature_dim),
        "toolkit_version": run.record.versions.get("zsl-toolkit", ""),
        "metrics": json.dumps(
            {k: v for k, v in run.metrics.items() if not isinstance(v, dict)}
            | {
                k: {m: v[m] for m in ("U", "S", "H", "T1", "AUSUC") if m in v}
                for k, v in run.metrics.items()
                if isinstance(v, dict)
            }
        ),
    }
    calibration = run.record.calibration
    if calibration is not None:  # the graph subtracts gamma from the seen classes' scores
        metadata["calibration_gamma"] = repr(float(calibration["gamma"]))
    edit = run.record.class_edit
    if edit:
        metadata["class_edit"] = json.dumps(
            {
                "removed": list(edit.get("removed", [])),
                "added": [c["name"] for c in edit.get("added", [])],
            }
        )
    return IOSpec(
        input_name=FEATURES,
        input_dim=spec.feature_dim,
        outputs={SCORES: ("batch", "classes"), PREDICTION: ("batch",)},
        metadata=metadata,
    )


class Exporter(ABC):
    """Writes a run's inference module to a deployable file and verifies it.

    ``options`` declares what the exporter accepts beyond the common ``data_root``, so ``zsl
    export`` parses and checks them (``--opset 17``) without knowing the format.
    """

    suffix: ClassVar[str] = ""
    description: ClassVar[str] = ""
    """One line shown by ``zsl list --verbose``, with the declared options."""
    options: ClassVar[tuple[ExporterOption, ...]] = ()

    @classmethod
    def check_options(cls, given: Mapping[str, Any], name: str = "") -> dict[str, Any]:
        """``given`` with every value converted to its declared type; a ConfigError naming the
        unknown ones and listing the valid ones otherwise. ``name`` is the exporter's, for
        messages."""
        declared = {opt.name: opt for opt in cls.options}
        unknown = sorted(set(given) - set(declared) - set(COMMON_OPTIONS))
        if unknown:
            valid = ", ".join([*declared, *COMMON_OPTIONS])
            raise ConfigError(
                f"unknown {name + ' ' if name else ''}exporter option(s) {', '.join(unknown)}; "
                f"valid: {valid}"
            )
        checked = {opt.name: opt.default for opt in cls.options}
        checked.update(
            {k: declared[k].convert(v) if k in declared else v for k, v in given.items()}
        )
        return checked

    @abstractmethod
    def export(self, run: RunResult, output: Path, options: dict[str, Any]) -> Path:
        """Write ``output`` (atomically) and return its path; raise ExportError on failure."""
