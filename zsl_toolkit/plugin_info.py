"""What ``zsl list --verbose`` says about one plugin: its one-line description (a method's
citation), and an exporter's declared options. Imports the plugin, so plain ``zsl list``
does not use it."""

from __future__ import annotations

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
