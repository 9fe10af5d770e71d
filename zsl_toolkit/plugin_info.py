"""What ``zsl list --verbose`` and ``zsl info`` say about one plugin: its one-line description
(a method's citation), an exporter's declared options, and for ``zsl info`` everything a user
needs to call it (parameters with defaults, types, constraints and meaning). Imports the
plugin, so plain ``zsl list`` does not use it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zsl_toolkit.errors import ZSLError, one_line

if TYPE_CHECKING:
    from zsl_toolkit.registry import Registry


def _registry(kind: str) -> Registry:
    """The typed registry of a core group; a group whose interface lives in another
    distribution (image backbones, text encoders) is read through its metadata view."""
    from zsl_toolkit.data.registry import dataset_registry
    from zsl_toolkit.evaluation.registry import evaluator_registry
    from zsl_toolkit.export.registry import exporter_registry
    from zsl_toolkit.methods.registry import method_registry
    from zsl_toolkit.registry import command_registry, plugin_group

    typed = {
        "methods": method_registry,
        "datasets": dataset_registry,
        "evaluators": evaluator_registry,
        "exporters": exporter_registry,
        "commands": command_registry,
    }
    return typed[kind]() if kind in typed else plugin_group(kind)


def describe(kind: str, name: str) -> list[str]:
    """Lines describing plugin ``name`` of group ``kind``; a plugin that fails to load says
    so (its error, naming the distribution) instead of stopping the listing."""
    from zsl_toolkit.registry import command_registry

    try:
        if kind == "commands":
            return [command_registry().load_command(name).get_short_help_str(80)]
        cls = _registry(kind).load(name)
    except ZSLError as exc:
        return [f"error: {one_line(exc)}"]
    text = getattr(cls, "citation", "") if kind == "methods" else getattr(cls, "description", "")
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


def _is_rule(line: str) -> bool:
    return bool(line.strip()) and set(line.strip()) == {"-"}


def numpydoc_parameters(doc: str) -> dict[str, str]:
    """Name -> description from the numpydoc ``Parameters`` section of ``doc`` (entries
    ``name : type`` or ``a, b : type`` with indented descriptions), joined onto one line."""
    import inspect

    lines = inspect.cleandoc(doc).splitlines()
    starts = [
        i
        for i in range(len(lines) - 1)
        if lines[i].strip() == "Parameters" and _is_rule(lines[i + 1])
    ]
    if not starts:
        return {}
    indent = len(lines[starts[0]]) - len(lines[starts[0]].lstrip())
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for i in range(starts[0] + 2, len(lines)):
        line = lines[i]
        if i + 1 < len(lines) and _is_rule(lines[i + 1]):
            break  # the next section
        depth = len(line) - len(line.lstrip())
        if line.strip() and depth == indent:
            current = [n.strip() for n in line.split(":")[0].split(",")]
            for name in current:
                found[name] = []
        elif line.strip() and depth > indent:
            for name in current:
                found[name].append(line.strip())
    return {name: " ".join(words).replace("``", "") for name, words in found.items()}


def parameter_docs(cls: type) -> dict[str, str]:
    """What each parameter of ``cls`` means, from the ``Parameters`` sections of its class
    docstring and its parents' (a subclass's entry replaces its parent's)."""
    out: dict[str, str] = {}
    for klass in cls.__mro__:
        doc = klass.__dict__.get("__doc__")
        for name, text in numpydoc_parameters(doc or "").items():
            out.setdefault(name, text)
    return out


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

    reg = _registry(kind)
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
        meanings = parameter_docs(cls)
        out["citation"] = cls.citation
        out["parameters"] = [
            {
                "name": p,
                "default": _jsonable(default),
                "type": _type_name(types.get(p, inspect.Parameter.empty)),
                "allowed": constraints[p].describe() if p in constraints else "",
                "meaning": meanings.get(p, ""),
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
    elif kind != "exporters":
        out["description"] = getattr(cls, "description", "")
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
