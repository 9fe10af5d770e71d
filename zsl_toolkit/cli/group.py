"""The ``zsl`` group: one-line errors, plugin commands from entry points, the entry point."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from zsl_toolkit.errors import ZSLError, one_line


class _OneLineUsageError(click.UsageError):
    """Click's usage error (bad option, missing argument) as the toolkit's one ``error:`` line
    naming the command, instead of click's usage + hint + error lines; exit code stays 2."""

    def show(self, file: Any = None) -> None:
        where = f"{self.ctx.command_path}: " if self.ctx is not None else ""
        hint = f" (see {self.ctx.command_path} --help)" if self.ctx is not None else ""
        click.echo(f"error: {where}{' '.join(self.format_message().split())}{hint}", err=True)


def _one_line_usage(exc: click.UsageError) -> _OneLineUsageError:
    if isinstance(exc, _OneLineUsageError):
        return exc
    return _OneLineUsageError(exc.format_message(), exc.ctx)


class _Group(click.Group):
    """The ``zsl`` group: built-in commands plus those distributions register in the
    ``zsl_toolkit.commands`` entry-point group, imported only when named (or listed by
    ``--help``), so the CLI itself imports no plugin."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from zsl_toolkit.registry import command_registry

        return sorted(set(super().list_commands(ctx)) | set(command_registry().names()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from zsl_toolkit.registry import command_registry

        builtin = super().get_command(ctx, cmd_name)
        registry = command_registry()
        if cmd_name not in registry.names():
            return builtin
        if builtin is not None:
            from zsl_toolkit.errors import PluginConflict

            raise PluginConflict(
                f"command '{cmd_name}' from distribution {registry.info(cmd_name).distribution} "
                "clashes with a built-in zsl command; uninstall that distribution"
            )
        return registry.load_command(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Like click's, except a plugin command that fails to load is listed with its error
        (``zsl --help`` stays usable; running that command prints the same error)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(name) for name in names), default=0)
        rows = []
        for name in names:
            try:
                cmd = self.get_command(ctx, name)
            except ZSLError as exc:
                rows.append((name, f"error: {one_line(exc)}"))
                continue
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            raise _one_line_usage(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _one_line_usage(exc) from None
        except ZSLError as exc:
            click.echo(f"error: {one_line(exc)}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:  # output piped into `head` and the like: not an error
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
            sys.exit(0)
        except OSError as exc:  # disk full, read-only folder, ...: the environment, not a bug
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc}", err=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zsl-toolkit", prog_name="zsl")
def cli() -> None:
    """Generalized zero-shot learning: train, evaluate and export GZSL models."""
