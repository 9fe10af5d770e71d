"""One training run's settings, merged from their sources in one place.

``zsl train`` (a ``--config`` file, ``--param``, ``--seed``, ``--epochs``, ...) and the sweep
worker (a planned trial) both build the :class:`RunSettings` they pass to
:func:`zsl_toolkit.pipeline.train` here, so a run-level key means the same wherever it comes from. Precedence: explicit
arguments, then the config file, then the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zsl_toolkit.errors import ConfigError
from zsl_toolkit.evaluation.base import DEFAULT_EVALUATORS
from zsl_toolkit.training.config import TrainConfig

CONFIG_KEYS = (
    "method",
    "dataset",
    "dataset_options",
    "params",
    "seed",
    "epochs",
    "batch_size",
    "device",
    "data_root",
    "evaluators",
    "protocol",
    "select",
    "balance",
)
"""Keys a ``--config`` file may hold (``select``: see :mod:`zsl_toolkit.selection`;
``balance``: see :mod:`zsl_toolkit.balance`)."""


@dataclass(frozen=True)
class RunSettings:
    """Everything but the data that determines one training run: what
    :func:`zsl_toolkit.pipeline.train` takes.

    ``method`` and ``dataset`` are a registered name (a dataset also a path); ``params`` the
    method's parameters as given; ``config`` the run-level settings; ``data_root`` where named
    benchmarks live; ``protocol`` ``test`` or ``val``; ``dataset_options`` keyword arguments
    of a registered dataset's constructor; ``select``, when set, the parameters to choose on
    validation first (``"auto"``, ``KEY=v1,v2`` items or ``{KEY: [values]}``): such settings
    are trained by :func:`zsl_toolkit.sweep.select.train_selected`; ``balance``, whether
    training also chooses the seen/unseen calibration on validation class folds (True/False
    as asked, None for the default: :func:`zsl_toolkit.balance.decide`; test protocol only).
    """

    method: str
    dataset: str
    params: dict[str, Any] = field(default_factory=dict)
    config: TrainConfig = field(default_factory=TrainConfig)
    data_root: str | None = None
    evaluators: tuple[str, ...] = DEFAULT_EVALUATORS
    protocol: str = "test"
    dataset_options: dict[str, Any] = field(default_factory=dict)
    select: Any = None
    balance: bool | None = None


def _from_run_record(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """A run's ``run.json`` as a config: what reproduces the run (method, dataset, data root,
    parameters as given, seed, epochs, batch size, device, evaluators, protocol; for a run that
    chose settings on validation, the fixed parameters and the same ``select`` grid)."""
    from zsl_toolkit.balance import BALANCE_KEY
    from zsl_toolkit.runs.record import RunRecord
    from zsl_toolkit.selection.record import selection_of

    record = RunRecord.from_dict(raw, where)
    train = record.train
    out = {
        "method": record.method,
        "dataset": record.dataset.spec,
        "data_root": record.data_root,
        "params": dict(record.params),
        "protocol": record.protocol,
        "dataset_options": dict(record.dataset_options) or None,
        "evaluators": list(record.evaluators),
        **{k: train[k] for k in ("seed", "epochs", "batch_size", "device") if k in train},
    }
    if BALANCE_KEY in record.extra:  # balanced or not, as that run was
        out["balance"] = bool(record.extra[BALANCE_KEY])
    elif (record.calibration or {}).get("automatic"):
        out["balance"] = True
    selection = selection_of(record)
    if selection is not None and "axes" in selection:  # select again, as that run did
        out.update(params=selection.get("given_params") or {}, select=selection["axes"])
    return {k: v for k, v in out.items() if v is not None}


def is_run_record(config: dict[str, Any]) -> bool:
    """Whether a config file is a run directory's ``run.json``."""
    return isinstance(config.get("train"), dict) and "status" in config and "versions" in config


def read_run_config(config_file: str | Path) -> dict[str, Any]:
    """A ``--config`` file's keys (a ``run.json`` converted by what reproduces the run),
    unknown keys refused."""
    from zsl_toolkit.params import read_config

    file_cfg = read_config(Path(config_file))
    if not isinstance(file_cfg, dict):
        raise ConfigError(f"{config_file}: expected a table/object of settings")
    if is_run_record(file_cfg):
        return _from_run_record(file_cfg, str(config_file))
    unknown = sorted(set(file_cfg) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(
            f"{config_file}: unknown key(s) {', '.join(unknown)} "
            f"(valid: {', '.join(sorted(CONFIG_KEYS))})"
        )
    for key in ("method", "dataset"):
        if key in file_cfg and not isinstance(file_cfg[key], str):
            raise ConfigError(f"{config_file}: '{key}' must be a name (a string)")
    if not isinstance(file_cfg.get("balance", False), bool):
        raise ConfigError(f"{config_file}: 'balance' must be true or false")
    if not isinstance(file_cfg.get("dataset_options", {}), dict):
        raise ConfigError(f"{config_file}: 'dataset_options' must be a table of key = value")
    return file_cfg


def run_settings(
    method: str | None,
    dataset: str | None,
    *,
    config_file: str | Path | None = None,
    params: Mapping[str, Any] | None = None,
    param_items: Sequence[str] = (),
    seed: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    device: str | None = None,
    evaluators: Sequence[str] = (),
    data_root: str | None = None,
    protocol: str | None = None,
    quiet: bool = False,
    dataset_option_items: Sequence[str] = (),
    select: Any = None,
    balance: bool | None = None,
) -> RunSettings:
    """Merge a run's settings; parameters are checked against ``method``'s.

    ``config_file`` is a TOML/JSON file of :data:`CONFIG_KEYS` with a ``[params]`` table (it
    may name the method and dataset, which ``method``/``dataset`` override), or a run's
    ``run.json``, which reproduces that run. ``params`` are typed values already checked (a
    sweep's planned trial), ``param_items`` ``key=value`` strings (``--param``), applied in
    that order. ``dataset_option_items`` (``--dataset-option key=value``) are merged over the
    file's ``dataset_options`` table. ``select`` (``--select`` items, or a planned trial's
    grid) replaces the file's ``select``; ``balance`` (``--balance``), when given, the
    file's ``balance``.
    """
    from zsl_toolkit.data.protocol import check_protocol
    from zsl_toolkit.methods.registry import method_registry
    from zsl_toolkit.params import check_params, parse_params

    file_cfg: dict[str, Any] = read_run_config(config_file) if config_file else {}
    method = method or file_cfg.get("method")
    dataset = dataset or file_cfg.get("dataset")
    if not method or not dataset:
        missing = " and ".join(
            opt for opt, v in (("--method", method), ("--dataset", dataset)) if not v
        )
        where = f" or in {config_file}" if config_file else ""
        raise ConfigError(f"zsl train needs {missing} (as options{where}, or --resume RUN_DIR)")
    method_cls = method_registry().load(method)
    valid, types = method_cls.param_defaults(), method_cls.param_types()
    merged: dict[str, Any] = {}
    if config_file:
        merged.update(
            check_params(dict(file_cfg.get("params", {})), valid, f"{config_file} [params]", types)
        )
    merged.update(params or {})
    merged.update(parse_params(tuple(param_items), valid, types))
    config = TrainConfig(
        seed=seed if seed is not None else int(file_cfg.get("seed", 0)),
        device=device or file_cfg.get("device", "auto"),
        epochs=epochs if epochs is not None else file_cfg.get("epochs"),
        batch_size=batch_size if batch_size is not None else file_cfg.get("batch_size"),
        quiet=quiet,
    )
    options: dict[str, Any] = dict(file_cfg.get("dataset_options") or {})
    if dataset_option_items:
        from zsl_toolkit.data.options import parse_dataset_options
        from zsl_toolkit.data.registry import dataset_registry

        if dataset not in dataset_registry().names():
            raise ConfigError(
                f"--dataset-option: only a registered dataset takes options, not '{dataset}'"
            )
        cls = dataset_registry().load(dataset)
        options.update(parse_dataset_options(dataset, cls, dataset_option_items))
    return RunSettings(
        method=method,
        dataset=dataset,
        params=merged,
        config=config,
        data_root=data_root or file_cfg.get("data_root"),
        evaluators=tuple(evaluators or file_cfg.get("evaluators", DEFAULT_EVALUATORS)),
        protocol=protocol
        or check_protocol(file_cfg.get("protocol", "test"), f"{config_file}: protocol"),
        dataset_options=options,
        select=select or file_cfg.get("select"),
        balance=balance if balance is not None else file_cfg.get("balance"),
    )
