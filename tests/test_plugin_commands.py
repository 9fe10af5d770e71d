"""Distributions add ``zsl`` sub-commands through the ``zsl_toolkit.commands`` group; the CLI
itself imports no plugin."""

from __future__ import annotations

import ast
from pathlib import Path

from click.testing import CliRunner

from zsl_toolkit.cli import cli

HELLO = """import click

@click.command()
@click.argument("who")
def hello(who):
    '''Greet WHO.'''
    click.echo(f"hello {who}")
"""


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_a_distribution_adds_a_command(fake_distribution):
    fake_distribution(
        "zsl-hello", {"zsl_toolkit.commands": {"hello": "zsl_hello_mod:hello"}}, HELLO
    )
    result = run("hello", "world")
    assert result.exit_code == 0, result.output
    assert result.output == "hello world\n"
    listing = run("--help").output
    assert "hello" in listing and "Greet WHO." in listing
    assert "zsl-hello" in run("list").output


def test_a_command_that_fails_to_import_names_its_distribution(fake_distribution):
    fake_distribution(
        "zsl-broken",
        {"zsl_toolkit.commands": {"broken": "zsl_broken_mod:cmd"}},
        "raise RuntimeError('boom at import')\n",
    )
    result = run("broken")
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert lines[0].startswith("error: command 'broken' from distribution zsl-broken")
    assert "boom at import" in lines[0]
    helped = run("--help")  # the listing stays usable and shows the failure
    assert helped.exit_code == 0 and "broken" in helped.output and "boom at import" in helped.output
    assert run("list").exit_code == 0


def test_an_entry_point_that_is_not_a_command_is_refused(fake_distribution):
    fake_distribution(
        "zsl-wrong", {"zsl_toolkit.commands": {"wrong": "zsl_wrong_mod:x"}}, "x = 1\n"
    )
    result = run("wrong")
    assert result.exit_code == 2 and "is not a click command" in result.output


def test_a_command_may_not_shadow_a_builtin(fake_distribution):
    fake_distribution(
        "zsl-shadow", {"zsl_toolkit.commands": {"train": "zsl_shadow_mod:hello"}}, HELLO
    )
    result = run("train", "-m", "eszsl", "-d", "toy")
    assert result.exit_code == 2
    assert "command 'train' from distribution zsl-shadow clashes with a built-in" in result.output


def test_cli_module_imports_no_plugin_distribution():
    """The CLI names no plugin package: commands reach it only through entry points."""
    package = Path(__file__).resolve().parents[1] / "zsl_toolkit" / "cli"
    imported = set()
    trees = [ast.parse(source.read_text()) for source in sorted(package.glob("*.py"))]
    for node in (node for tree in trees for node in ast.walk(tree)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert "zsl_toolkit" in imported  # the walk sees imports inside functions too
    assert not {name for name in imported if name.startswith("zsl_") and name != "zsl_toolkit"}
