"""The record of a run that starts now, and of one that just finished training."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsl_toolkit.runs.dataset import DatasetRef
from zsl_toolkit.runs.layout import utc_now
from zsl_toolkit.runs.provenance import plugin_sources, versions
from zsl_toolkit.runs.record import RunRecord

if TYPE_CHECKING:
    from zsl_toolkit.data.container import ZSLData
    from zsl_toolkit.training.config import TrainConfig


def start_record(
    method: str,
    params: Mapping[str, Any],
    dataset: DatasetRef,
    root: str | Path | None,
    protocol: str,
    data: ZSLData,
    config: TrainConfig,
    evaluators: Sequence[str],
    dataset_options: Mapping[str, Any] | None = None,
) -> RunRecord:
    """Status ``running``; ``data`` is under ``protocol`` already; ``plugins`` says which
    distributions provided the method, dataset and ``evaluators``."""
    from zsl_toolkit.data.resolve import data_root

    resolved_root = data_root(root)
    return RunRecord(
        method=method,
        params=dict(params),
        dataset=dataset,
        data_root=str(resolved_root.resolve()) if resolved_root else None,
        protocol=protocol,
        evaluators=tuple(evaluators),
        dataset_options=dict(dataset_options or {}),
        data_summary=data.summary(),
        train=config.to_dict(),
        versions=versions(),
        plugins=plugin_sources(method, dataset.name, evaluators),
        started=utc_now(),
    )


def plain_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameter values as JSON numbers (numpy and torch scalars unwrapped)."""
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in params.items()}


def completed(
    record: RunRecord, resolved_params: Mapping[str, Any], spec: Mapping[str, Any], device: str
) -> RunRecord:
    """``record`` marked complete, with what the finished run resolved."""
    return record.updated(
        status="complete",
        resolved_params=plain_params(resolved_params),
        spec=dict(spec),
        device=device,
        finished=utc_now(),
    )
