"""Utilities shared by the zsl-onnx tests (a uniquely named module, not conftest, so it cannot
clash with another test folder's conftest on sys.path)."""

from __future__ import annotations

from click.testing import CliRunner

from zsl_toolkit.cli import cli


def zsl(*args: str):
    """Invoke the ``zsl`` CLI in-process; stdout and stderr stay separate on the result."""
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_user_error(result, *fragments: str) -> str:
    """One ``error:`` line on stderr, exit 2, no traceback; return the line."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]
