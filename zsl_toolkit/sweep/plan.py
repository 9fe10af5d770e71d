"""Expand a sweep into trials, each validated and named by its settings and a hash of its
resolved config.

A trial's *resolved config* is everything that determines its result: method, every
parameter (defaults included), dataset (registered name or absolute path), data root, seed,
epochs, batch size, device, evaluators and, for the validation protocol only, ``protocol``
(left out under ``test``). Its id (:func:`trial_name`, the folder name) is the method,
dataset, set parameters, seed and protocol in readable form followed by a hash of that
config, so the same trial planned again (after an interruption, or from an edited sweep that
still contains it) maps to the same directory and is not trained twice. Labels and display
order are not part of it, and neither is where the data sits on disk: the hash reads a
dataset path and a data root as the sweep spells them (normalised), not resolved, so a
project moved or cloned elsewhere with its data beside it keeps its trial ids.

Planning instantiates every trial's method with its parameters (``Method.create``, which
runs the method's own ``validate``), so a bad value anywhere in a grid fails before the first
trial starts.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zsl_toolkit.device import check_device
from zsl_toolkit.errors import ConfigError, PluginNotFound, ZSLError
from zsl_toolkit.sweep.config import MethodEntry, SweepConfig

ID_LENGTH = 12


@dataclass(frozen=True)
class Trial:
    """One training run of the sweep.

    ``params`` are the values the sweep sets (fixed ones and this grid point), ``swept`` the
    names among them that vary across the label's trials, ``config`` the resolved config
    that ``id`` hashes (with its dataset path and data root as the sweep spells them).
    """

    id: str
    label: str
    dataset: str
    seed: int
    params: dict[str, Any]
    swept: tuple[str, ...]
    config: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "dataset": self.dataset,
            "seed": self.seed,
            "params": self.params,
            "swept": list(self.swept),
            "config": self.config,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trial:
        return cls(
            id=d["id"],
            label=d["label"],
            dataset=d["dataset"],
            seed=int(d["seed"]),
            params=dict(d["params"]),
            swept=tuple(d.get("swept", ())),
            config=dict(d["config"]),
        )


def canonical(obj: Any) -> Any:
    """``obj`` as it reads back from JSON (tuples become lists), so hashes are stable."""
    return json.loads(json.dumps(obj))


def trial_id(config: dict[str, Any]) -> str:
    """Stable id of a resolved trial config: the first hex digits of its SHA-256."""
    text = json.dumps(canonical(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:ID_LENGTH]


_UNSAFE = re.compile(r"[^A-Za-z0-9._=,+-]+")
#: Longest readable part of a trial folder name (the hash that follows keeps it unique).
SLUG_LENGTH = 80


def trial_name(
    config: dict[str, Any], params: dict[str, Any], identity: dict[str, Any] | None = None
) -> str:
    """A trial's folder name: its settings, readable, then its id (:func:`trial_id`), e.g.
    ``eszsl-digits-gamma=10-s0-3f2a9c1e04b7``. Made of the method, the dataset, the parameter
    values the sweep sets (sorted by name), the seed and a non-default protocol, so it depends
    only on the resolved trial, never on a label or the order of keys, and a re-run finds
    the same folders (resume). ``identity`` is the config to hash when it differs from
    ``config`` (paths as spelled rather than resolved)."""
    shown = ",".join(f"{k}={_short(v)}" for k, v in sorted(params.items()))
    dataset = Path(str(config["dataset"])).name.removesuffix(".h5")
    parts = [config["method"], dataset, shown, f"s{config['seed']}", config.get("protocol", "")]
    slug = _UNSAFE.sub("_", "-".join(str(p) for p in parts if p != ""))[:SLUG_LENGTH]
    return f"{slug}-{trial_id(config if identity is None else identity)}"


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, bool):
        return str(value).lower()
    return json.dumps(value, separators=(",", ":")) if not isinstance(value, str) else value


def expand(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Cartesian product of the axes of ``grid`` in their given order (one point if empty)."""
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


def _identity_params(instance: Any) -> dict[str, Any]:
    """The method's parameters as a trial's resolved config holds them: every one, defaults
    included, except those of :attr:`~zsl_toolkit.methods.Method.identity_defaults` at the
    value that reproduces the time before they existed."""
    late = getattr(type(instance), "identity_defaults", {})
    return {k: v for k, v in instance.get_params().items() if not (k in late and v == late[k])}


def _as_spelled(path: str | Path) -> str:
    """A path as the sweep spells it, normalised (``./a/../b`` reads ``b``), for hashing."""
    return os.path.normpath(os.path.expanduser(path))


def _resolve_dataset(
    name: str, root: str | None, where: str, root_where: str
) -> tuple[str, str | None, dict[str, str | None]]:
    """(dataset spec passed to training, absolute data root or None, the two as spelled for
    the trial id), checked to exist."""
    from zsl_toolkit.data.registry import dataset_registry
    from zsl_toolkit.data.resolve import data_root, looks_like_path

    registry = dataset_registry()
    resolved_root = data_root(root)
    if root is not None and resolved_root is not None and not resolved_root.is_dir():
        raise ConfigError(f"{root_where}: data root '{root}' is not a directory")
    root_text = str(resolved_root.resolve()) if resolved_root is not None else None
    spelled_root = _as_spelled(resolved_root) if resolved_root is not None else None
    if name in registry.names():
        try:
            registry.load(name)
        except ZSLError as exc:
            raise type(exc)(f"{where}: {exc}") from None
        return name, root_text, {"dataset": name, "data_root": spelled_root}
    path = Path(name).expanduser()
    if looks_like_path(name):
        if not path.exists():
            raise ConfigError(f"{where}: dataset path '{name}' does not exist")
        spelled = {"dataset": _as_spelled(name), "data_root": spelled_root}
        return str(path.resolve()), root_text, spelled
    try:
        registry.load(name)
    except PluginNotFound as exc:
        raise PluginNotFound(
            f"{where}: {exc}; a dataset may also be a folder or .h5 path"
        ) from None
    raise AssertionError("unreachable")


def _method_points(entry: MethodEntry) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """Every parameter point of a method entry, checked by name and type, and the swept names."""
    from zsl_toolkit.methods.registry import method_registry
    from zsl_toolkit.params import check_params

    try:
        cls = method_registry().load(entry.method)
    except ZSLError as exc:
        raise type(exc)(f"{entry.where.get('method', entry.table)}: {exc}") from None
    valid, types = cls.param_defaults(), cls.param_types()
    points: list[dict[str, Any]] = []
    for grid in entry.grids:
        checked: dict[str, list[Any]] = {}
        for key, values in grid.items():
            where = entry.where.get(key, entry.table)
            if key not in valid:
                names = ", ".join(sorted(valid)) or "none"
                raise ConfigError(
                    f"{where}: not a parameter of method '{entry.method}' (valid: {names})"
                )
            structured = isinstance(valid[key], (list, tuple))
            if structured and not all(isinstance(v, list) for v in values):
                values = [values]  # a list default: a flat list is one value, not an axis
            checked[key] = [check_params({key: v}, valid, where, types)[key] for v in values]
        points.extend(expand(checked))
    # Swept: takes more than one value across the points (unset in some variants counts).
    keys = list(dict.fromkeys(k for point in points for k in point))
    swept = tuple(
        k
        for k in keys
        if len({json.dumps(canonical(p.get(k, "<unset>")), sort_keys=True) for p in points}) > 1
    )
    return points, swept


def _with_protocols(
    points: list[dict[str, Any]], instances: list[Any], config: SweepConfig
) -> list[tuple[dict[str, Any], Any, str]]:
    """Each parameter point under each protocol, protocol-major (validation trials first
    when listed first)."""
    return [
        (point, instance, protocol)
        for protocol in config.protocols
        for point, instance in zip(points, instances, strict=True)
    ]


def _select_axes(entry: MethodEntry, point: dict[str, Any]) -> dict[str, list[Any]] | None:
    """The checked candidate grid of a method table's ``select`` for one grid point (None
    without one): the trial then selects those parameters on validation."""
    if entry.select is None:
        return None
    from zsl_toolkit.methods.registry import method_registry
    from zsl_toolkit.selection.spec import candidate_axes, check_candidates, spec_from_config

    where = entry.where.get("select", entry.table)
    cls = method_registry().load(entry.method)
    try:
        axes = candidate_axes(spec_from_config(entry.select, cls, where), cls, entry.method, point)
        check_candidates(cls, entry.method, point, axes)
    except ZSLError as exc:
        raise type(exc)(f"{where}: {str(exc).removeprefix(where + ': ')}") from None
    return canonical(axes)


def plan_trials(config: SweepConfig) -> list[Trial]:
    """Every trial of ``config``, validated; raises a one-line ZSLError on the first problem."""
    from zsl_toolkit.evaluation.registry import evaluator_registry
    from zsl_toolkit.methods.registry import method_registry

    from_file = bool(config.text)
    for name in config.evaluators:
        try:
            evaluator_registry().load(name)
        except ZSLError as exc:
            where = f"{config.source}: [sweep] evaluators" if from_file else "--evaluator"
            raise type(exc)(f"{where}: {exc}") from None
    check_device(config.device, f"{config.source}: [sweep] device" if from_file else "--device")
    default_root_where = f"{config.source}: [sweep] data_root" if from_file else "--data-root"
    datasets = [
        (
            entry,
            *_resolve_dataset(
                entry.name,
                entry.root or config.data_root,
                entry.where,
                entry.root_where if entry.root else default_root_where,
            ),
        )
        for entry in config.datasets
    ]
    methods = []
    for entry in config.methods:
        points, swept = _method_points(entry)
        cls = method_registry().load(entry.method)
        instances = []
        for point in points:
            try:
                instances.append(cls.create(dict(point)))
            except ZSLError as exc:
                shown = ", ".join(f"{k}={v!r}" for k, v in point.items())
                raise type(exc)(f"{entry.table} ({shown}): {exc}") from None
        methods.append((entry, points, swept, instances))
    # Dataset-major order: a worker keeps its last dataset loaded, so neighbours share it.
    trials: list[Trial] = []
    owner: dict[str, str] = {}
    for dataset, spec, root, spelled in datasets:
        for entry, points, swept, instances in methods:
            epochs = entry.epochs if entry.epochs is not None else config.epochs
            batch = entry.batch_size if entry.batch_size is not None else config.batch_size
            for point, instance, protocol in _with_protocols(points, instances, config):
                select = _select_axes(entry, point)
                for seed in config.seeds:
                    resolved = canonical(
                        {
                            "method": entry.method,
                            "params": _identity_params(instance),
                            "dataset": spec,
                            "data_root": root,
                            "seed": seed,
                            "epochs": epochs,
                            "batch_size": batch,
                            "device": config.device,
                            "evaluators": list(config.evaluators),
                        }
                        | ({"protocol": protocol} if protocol != "test" else {})
                        | ({"select": select} if select is not None else {})
                    )
                    tid = trial_name(resolved, canonical(point), resolved | spelled)
                    shown = ", ".join(f"{k}={v!r}" for k, v in point.items())
                    under = f" under {protocol}" if len(config.protocols) > 1 else ""
                    here = f"{entry.table} ({shown}) on {dataset.name}{under}, seed {seed}"
                    # Keyed by the resolved config: two spellings of one folder are one trial.
                    same = trial_name(resolved, canonical(point))
                    if same in owner:
                        raise ConfigError(
                            f"{here}: same trial as {owner[same]} (identical method, parameters, "
                            f"dataset and seed); remove one of them"
                        )
                    owner[same] = here
                    trials.append(
                        Trial(
                            id=tid,
                            label=entry.label,
                            dataset=dataset.name,
                            seed=seed,
                            params=canonical(point),
                            swept=swept,
                            config=resolved,
                        )
                    )
    return trials
