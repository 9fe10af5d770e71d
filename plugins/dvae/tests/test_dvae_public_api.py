"""The plugin is the template for third-party methods: it may use the toolkit's public API only."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "zsl_dvae"
PUBLIC = {
    "zsl_toolkit.data",
    "zsl_toolkit.errors",
    "zsl_toolkit.methods",
    "zsl_toolkit.methods.vae",
}


def toolkit_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``zsl_toolkit`` import in ``path``, at any nesting level."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, n) for n in names if n.split(".")[0] == "zsl_toolkit"]
    return found


def test_plugin_imports_only_public_toolkit_modules():
    sources = sorted(PACKAGE.glob("*.py"))
    assert len(sources) >= 4  # the scan really sees the package
    seen: set[str] = set()
    private = []
    for path in sources:
        for line, module in toolkit_imports(path):
            seen.add(module)
            if module not in PUBLIC:
                private.append(f"{path.name}:{line} imports {module}")
    assert not private, private
    assert {"zsl_toolkit.methods", "zsl_toolkit.methods.vae"} <= seen


def test_scan_flags_a_private_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from zsl_toolkit.methods.cada_vae import CADAVAE\n")
    assert toolkit_imports(bad) == [(2, "zsl_toolkit.methods.cada_vae")]
