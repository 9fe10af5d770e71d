"""The selection record of a run (``run.json``'s ``selection``) as text for ``zsl train``,
``zsl evaluate``, ``zsl info RUN`` and as markdown for ``zsl report``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zsl_toolkit.runs.record import RunRecord


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if v is None:
        return "default"
    return str(v).lower() if isinstance(v, bool) else str(v)


def point_text(params: Mapping[str, Any]) -> str:
    """``gamma=0.5, lam=1`` (``None``, a dataset-dependent default, reads ``default``)."""
    return ", ".join(f"{k}={_value(v)}" for k, v in params.items()) or "(none)"


def _pct(metrics: Mapping[str, Any], evaluator: str, key: str) -> str:
    value = metrics.get(evaluator, {}).get(key) if isinstance(metrics, Mapping) else None
    return f"{100 * value:6.2f}" if isinstance(value, (int, float)) else "     -"


def selection_lines(selection: Mapping[str, Any]) -> list[str]:
    """One line per candidate (validation U, S, H in percent; ``*`` marks the choice,
    ``(default)`` the plain run's configuration), then the choice."""
    candidates = selection.get("candidates") or []
    head = (
        f"selection on the {selection.get('protocol', 'val')} protocol "
        f"({len(candidates)} candidates, by {selection.get('criterion', 'gzsl.H')}; "
        f"{selection.get('status', '?')}):"
    )
    if selection.get("skipped"):
        return [head, f"  not run: {selection['skipped']}", *_chosen(selection)]
    if not candidates:
        return [head, "  no candidate has finished yet"]
    shown = [point_text(c.get("params", {})) for c in candidates]
    width = max(len(s) for s in shown)
    lines = [head, f"    {'candidate':<{width}}      U      S      H"]
    chosen = selection.get("chosen_id")
    for c, text in zip(candidates, shown, strict=True):
        m = c.get("metrics", {})
        mark = "*" if c.get("id") == chosen else " "
        note = "  (default)" if c.get("default") else ""
        lines.append(
            f"  {mark} {text:<{width}} {_pct(m, 'gzsl', 'U')} {_pct(m, 'gzsl', 'S')} "
            f"{_pct(m, 'gzsl', 'H')}{note}"
        )
    return lines + _chosen(selection)


def _chosen(selection: Mapping[str, Any]) -> list[str]:
    chosen = selection.get("chosen")
    return [f"chosen: {point_text(chosen)}"] if chosen is not None else []


def run_lines(record: RunRecord) -> list[str]:
    """A run's identity for ``zsl info RUN``: method, dataset, protocol, status, the
    parameters that differ from the method's defaults where the method is installed."""
    params = dict(record.params)
    try:
        from zsl_toolkit.methods.registry import method_registry

        defaults = method_registry().load(record.method).param_defaults()
        params = {k: v for k, v in params.items() if k not in defaults or defaults[k] != v}
    except Exception:  # noqa: BLE001 - a run of a method no longer installed: show all
        pass
    return [
        f"method:      {record.method}",
        f"dataset:     {record.dataset.name} ({record.protocol} protocol)",
        f"status:      {record.status}",
        f"seed:        {record.seed}   epochs: {record.epochs or 'default'}",
        f"parameters:  {point_text(params) if params else 'defaults'}",
    ]


def selection_markdown(rows: list[tuple[str, Mapping[str, Any]]]) -> str:
    """A report section: per trial that selected, the choice and its validation H, and the
    range of validation H over its candidates."""
    if not rows:
        return ""
    out = [
        "## Chosen on validation (per trial)",
        "",
        "| trial | candidates | chosen | val H % | val H range % |",
        "|---|---|---|---|---|",
    ]
    for trial, sel in rows:
        candidates = sel.get("candidates") or []
        hs = [
            c["metrics"]["gzsl"]["H"]
            for c in candidates
            if isinstance(c.get("metrics", {}).get("gzsl", {}).get("H"), (int, float))
        ]
        best = next((c for c in candidates if c.get("id") == sel.get("chosen_id")), None)
        best_h = _pct(best.get("metrics", {}), "gzsl", "H").strip() if best else "-"
        spread = f"{100 * min(hs):.2f} - {100 * max(hs):.2f}" if hs else "-"
        chosen = point_text(sel.get("chosen") or {})
        out.append(f"| {trial} | {len(candidates)} | {chosen} | {best_h} | {spread} |")
    return "\n".join(out) + "\n"
