"""Experiment runner: methods x datasets x seeds x parameter grids, as ordinary run directories.

``zsl sweep`` plans and validates every trial first, runs them on local worker processes or
Ray, resumes an interrupted sweep, and ``zsl report`` aggregates the completed trials over
seeds. Modules: :mod:`.config` (reading), :mod:`.plan` (trials and their ids),
:mod:`.executors` and :mod:`.worker` (running), :mod:`.runner` (resume, state, failures),
:mod:`.select` (choosing settings on validation: a selection's candidates are a sweep, and a
trial may select), :mod:`.progress` and :mod:`.report` (plots: :mod:`zsl_toolkit.plots`).
:func:`run_sweep` here runs trials that select too.
"""

from zsl_toolkit.sweep.config import (
    SweepConfig,
    config_from_options,
    load_sweep_config,
    parse_sweep_config,
)
from zsl_toolkit.sweep.plan import Trial, plan_trials, trial_id
from zsl_toolkit.sweep.report import write_report
from zsl_toolkit.sweep.runner import SweepOutcome
from zsl_toolkit.sweep.select import run_sweep

__all__ = [
    "SweepConfig",
    "SweepOutcome",
    "Trial",
    "config_from_options",
    "load_sweep_config",
    "parse_sweep_config",
    "plan_trials",
    "run_sweep",
    "trial_id",
    "write_report",
]
