"""The ``zsl`` command line: parse, call one library function, print.

Heavy imports (torch, the pipeline) happen inside command bodies so ``zsl --help`` and
``zsl list`` stay fast. Every :class:`~zsl_toolkit.errors.ZSLError` becomes a one-line
``error: ...`` on stderr and a non-zero exit.

Modules: :mod:`.group` (the group, its one-line errors and plugin commands), :mod:`.common`
(shared options and printing), and one module per command family: :mod:`.plugins` (``list``,
``info``), :mod:`.train`, :mod:`.evaluate` (``evaluate``, ``export``), :mod:`.data`,
:mod:`.sweep` (``sweep``, ``report``, ``plot``). Command modules import only click and the
toolkit's light modules at import time.
"""

from __future__ import annotations

from zsl_toolkit.cli.common import data_root_option, dataset_option, print_metrics
from zsl_toolkit.cli.data import data
from zsl_toolkit.cli.evaluate import evaluate, export
from zsl_toolkit.cli.group import cli
from zsl_toolkit.cli.plugins import info_cmd, list_cmd
from zsl_toolkit.cli.sweep import plot, report, sweep
from zsl_toolkit.cli.train import train

for _command in (list_cmd, info_cmd, train, evaluate, export, data, sweep, report, plot):
    cli.add_command(_command)

__all__ = ["cli", "data_root_option", "dataset_option", "main", "print_metrics"]


def main() -> None:
    cli(prog_name="zsl")
