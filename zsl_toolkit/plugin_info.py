"""What ``zsl list --verbose`` and ``zsl info`` say about one plugin: its one-line description
(a method's citation), an exporter's declared options, and for ``zsl info`` everything a user
needs to call it (parameters with defaults, types, constraints and meaning). Imports the
plugin, so plain ``zsl list`` does not use it."""

from __future__ import annotations

import re
from typing import Any

from zsl_toolkit.errors import ZSLError, one_line


def describe(kind: str, name: str) -> list[str]:
    """Lines describing plugin ``name`` of group ``kind``; a plugin that fails to load says
    so (its error, naming the distribution) instead of stopping the listing."""
    from zsl_toolkit import registry

    try:
        if kind == "commands":
            return [registry.command_registry().load_command(name).get_short_help_str(80)]
        loader = {
            "methods": registry.method_registry,
            "datasets": registry.dataset_registry,
            "evaluators": registry.evaluator_registry,
            "exporters": registry.exporter_registry,
        }[kind]
        cls = loader().load(name)
    except ZSLError as exc:
        return [f"error: {one_line(exc)}"]
    text = getattr(cls, "citation", "") if kind == "methods" else cls.description
    lines = [text or (cls.__doc__ or "").strip().split("\n")[0]]
    for option in getattr(cls, "options", ()):
        default = "" if option.default is None else f" (default {option.default})"
        lines.append(f"{option.flag} {option.type.__name__.upper()}: {option.help}{default}")
    return [line for line in lines if line]


def _type_name(annotation: Any) -> str:
    import inspect

    if annotation is inspect.Parameter.empty:
        return ""
    return annotation.__name__ if isinstance(annotation, type) else str(annotation)


def _mentions(doc: str, name: str) -> str:
    """The first sentence of ``doc`` that mentions ``name`` in double backquotes, joined
    onto one line (what the docstring says the parameter means)."""
    text = " ".join(doc.split())
    for sentence in re.split(r"(?<=[.;])\s+", text):
        if f"``{name}``" in sentence:
            return sentence.replace("``", "")
    return ""


def _jsonable(value: Any) -> Any:
    return (
        value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else repr(value)
    )


def info(kind: str, name: str) -> dict[str, Any]:
    """Everything ``zsl info`` shows about plugin ``name`` of group ``kind``: distribution,
    description or citation, and per kind a method's parameters (default, type, declared
    constraint, meaning from its docstring) and published numbers, a dataset's constructor
    options, an evaluator's headline metrics and which are fractions, an exporter's options."""
    import inspect

    from zsl_toolkit import registry

    reg = {
        "methods": registry.method_registry,
        "datasets": registry.dataset_registry,
        "evaluators": registry.evaluator_registry,
        "exporters": registry.exporter_registry,
        "commands": registry.command_registry,
    }[kind]()
    meta = reg.info(name)
    out: dict[str, Any] = {
        "name": name,
        "kind": kind[:-1],
        "distribution": meta.distribution,
        "version": meta.version,
        "entry_point": meta.value,
    }
    if kind == "commands":
        out["help"] = reg.load_command(name).get_short_help_str(200)
        return out
    cls = reg.load(name)
    doc = inspect.getdoc(cls) or ""
    out["summary"] = doc.split("\n\n")[0].replace("\n", " ")
    if kind == "methods":
        constraints = cls.constraints()
        types = cls.param_types()
        out["citation"] = cls.citation
        out["parameters"] = [
            {
                "name": p,
                "default": _jsonable(default),
                "type": _type_name(types.get(p, inspect.Parameter.empty)),
                "allowed": constraints[p].describe() if p in constraints else "",
                "meaning": _mentions(doc, p),
            }
            for p, default in cls.param_defaults().items()
        ]
        out["published"] = cls.published
        out["select_candidates"] = {
            k: [_jsonable(v) for v in values]
            for k, values in getattr(cls, "select_candidates", {}).items()
        }
    elif kind == "datasets":
        out["description"] = getattr(cls, "description", "")
        sig = inspect.signature(cls.__init__)
        out["options"] = [
            {"name": p.name, "default": _jsonable(p.default)}
            for p in sig.parameters.values()
            if p.name != "self" and p.kind is p.KEYWORD_ONLY
        ]
    elif kind == "evaluators":
        out["description"] = cls.description
        out["headline"] = list(cls.headline)
        out["fractions"] = list(cls.fractions)
    else:
        out["description"] = cls.description
        out["options"] = [
            {"flag": o.flag, "type": o.type.__name__, "help": o.help, "default": o.default}
            for o in cls.options
        ]
    return out


def info_lines(record: dict[str, Any]) -> list[str]:
    """:func:`info` as text, one fact per line."""
    lines = [
        f"{record['name']} ({record['kind']}, {record['distribution']} {record['version']})",
    ]
    for key in ("summary", "citation", "description", "help"):
        if record.get(key):
            lines.append(f"  {key}: {record[key]}")
    for p in record.get("parameters", ()):
        kind = f": {p['type']}" if p["type"] else ""
        allowed = f"; {p['allowed']}" if p["allowed"] else ""
        lines.append(f"  --param {p['name']}{kind} = {p['default']!r}{allowed}")
        if p["meaning"]:
            lines.append(f"      {p['meaning']}")
    for dataset, row in (record.get("published") or {}).items():
        shown = ", ".join(f"{k} {v}" for k, v in row.items())
        lines.append(f"  published on {dataset}: {shown} (%)")
    if record.get("select_candidates"):
        shown = "; ".join(
            f"{k} in {', '.join(map(repr, v))}" for k, v in record["select_candidates"].items()
        )
        lines.append(f"  --select auto tries: {shown}")
    if "headline" in record:
        fractions = set(record["fractions"])
        shown = [f"{m} (fraction)" if m in fractions else m for m in record["headline"]]
        lines.append(f"  headline: {', '.join(shown)}")
    for o in record.get("options", ()):
        if "flag" in o:
            lines.append(f"  {o['flag']} {o['type'].upper()}: {o['help']} (default {o['default']})")
        else:
            lines.append(f"  option {o['name']} = {o['default']!r}")
    return lines
