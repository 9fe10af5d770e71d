"""Exporter plugin interface and the declarative I/O description of an inference module.

Imports no export backend: formats such as ONNX live in their own distributions and import
their heavy dependencies inside functions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from zsl_toolkit.pipeline import RunResult


@dataclass(frozen=True)
class IOSpec:
    """Named inputs/outputs of an exported model; axis 0 ("batch") is dynamic."""

    input_name: str
    input_dim: int
    outputs: dict[str, tuple[str, ...]]
    metadata: dict[str, str] = field(default_factory=dict)


def io_spec(run: RunResult) -> IOSpec:
    """The standard interface: raw features [batch, d1] -> scores [batch, C], prediction [batch]."""
    import json

    spec = run.method.spec_
    metadata = {
        "method": run.config.get("method", ""),
        "dataset": run.config.get("dataset", ""),
        "class_names": json.dumps(list(spec.class_names)),
        "seen_classes": json.dumps(list(spec.seen_classes)),
        "unseen_classes": json.dumps(list(spec.unseen_classes)),
        "feature_dim": str(spec.feature_dim),
        "toolkit_version": run.config.get("versions", {}).get("zsl-toolkit", ""),
        "metrics": json.dumps(
            {k: v for k, v in run.metrics.items() if not isinstance(v, dict)}
            | {
                k: {m: v[m] for m in ("U", "S", "H", "T1", "AUSUC") if m in v}
                for k, v in run.metrics.items()
                if isinstance(v, dict)
            }
        ),
    }
    return IOSpec(
        input_name="features",
        input_dim=spec.feature_dim,
        outputs={"scores": ("batch", "classes"), "prediction": ("batch",)},
        metadata=metadata,
    )


class Exporter(ABC):
    """Writes a run's inference module to a deployable file and verifies it."""

    suffix: ClassVar[str] = ""
    description: ClassVar[str] = ""

    @abstractmethod
    def export(self, run: RunResult, output: Path, options: dict[str, Any]) -> Path:
        """Write ``output`` (atomically) and return its path; raise ExportError on failure."""
