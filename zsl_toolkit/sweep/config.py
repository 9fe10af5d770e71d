"""What a sweep runs, read from a TOML file or from command-line options.

A sweep is methods x datasets x seeds x parameter values. In the file, each ``[methods.X]``
table gives one method's parameters: a scalar is fixed, a list is a grid axis (the method's
trials are the cartesian product of its axes). ``X`` is a label; it names the method unless
the table sets ``method = "..."``, so one method can appear twice (e.g. two ablations). An
optional ``variants`` array of tables lists explicit parameter sets instead of (or beside)
one grid: each variant is merged over the table's own values and expanded on its own.

Everything here is checked for form only (names, types, non-empty lists); whether methods,
parameters and datasets exist is checked when the trials are planned
(:mod:`zsl_toolkit.sweep.plan`), still before anything runs. Error messages name the file,
the line when it can be found, and the key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zsl_toolkit.errors import ConfigError
from zsl_toolkit.evaluation.base import DEFAULT_EVALUATORS
from zsl_toolkit.tomlcompat import tomllib
from zsl_toolkit.values import split_values

SWEEP_KEYS = {
    "name",
    "seeds",
    "epochs",
    "batch_size",
    "evaluators",
    "device",
    "data_root",
    "datasets",
    "protocol",
}
METHOD_RESERVED = {"method", "epochs", "batch_size", "variants", "select"}
DATASET_KEYS = {"name", "root"}


@dataclass(frozen=True)
class DatasetEntry:
    """A dataset as the config names it: registered name or path, and its own data root."""

    name: str
    root: str | None = None
    where: str = ""
    root_where: str = ""


@dataclass(frozen=True)
class MethodEntry:
    """One ``[methods.LABEL]`` table: the grids (name -> candidate values) to expand.

    ``grids`` holds one mapping per variant (a single one without ``variants``); every value
    is a non-empty list, fixed parameters being one-element lists. ``where`` maps a
    parameter to the text locating it in the source, for error messages.
    """

    label: str
    method: str
    grids: tuple[dict[str, list[Any]], ...]
    epochs: int | None = None
    batch_size: int | None = None
    where: dict[str, str] = field(default_factory=dict)
    table: str = ""
    #: The table's ``select`` as written (``"auto"`` or a table of KEY = [values]): each trial
    #: then chooses those parameters on validation (:mod:`zsl_toolkit.selection`).
    select: Any = None


@dataclass(frozen=True)
class SweepConfig:
    """A whole sweep, as read; see :func:`load_sweep_config` and :func:`config_from_options`."""

    name: str
    seeds: tuple[int, ...]
    datasets: tuple[DatasetEntry, ...]
    methods: tuple[MethodEntry, ...]
    epochs: int | None = None
    batch_size: int | None = None
    evaluators: tuple[str, ...] = DEFAULT_EVALUATORS
    device: str = "auto"
    data_root: str | None = None
    protocols: tuple[str, ...] = ("test",)
    source: str = "command line"
    text: str = ""


# ---------------------------------------------------------------------------- locating keys
class _Locator:
    """Best-effort line numbers of tables and keys in TOML text, for error messages."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    @staticmethod
    def _header(parts: tuple[str, ...], array: bool, prefix: bool = False) -> re.Pattern[str]:
        names = r"\s*\.\s*".join(
            rf"(?:{re.escape(p)}|\"{re.escape(p)}\"|'{re.escape(p)}')" for p in parts
        )
        brackets = (r"\[\[", r"\]\]") if array else (r"\[", r"\]")
        end = rf"(?:{brackets[1]}|\.)" if prefix else brackets[1]
        return re.compile(rf"^\s*{brackets[0]}\s*{names}\s*{end}")

    def line(
        self, table: tuple[str, ...], key: str | None = None, index: int = 0, prefix: bool = False
    ) -> int | None:
        """1-based line of ``key`` inside ``table`` (``index``-th of an array of tables);
        with ``prefix``, the first header of ``table`` or any table below it."""
        header = self._header(table, array=False, prefix=prefix)
        array = self._header(table, array=True, prefix=prefix)
        hits = [i for i, t in enumerate(self.lines) if header.match(t) or array.match(t)]
        if len(hits) <= index:
            return None
        start = hits[index]
        if key is None:
            return start + 1
        key_pattern = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\")\s*=")
        for i in range(start + 1, len(self.lines)):
            if re.match(r"^\s*\[", self.lines[i]):
                return None
            if key_pattern.match(self.lines[i]):
                return i + 1
        return None

    def where(
        self, table: tuple[str, ...], key: str | None = None, index: int = 0, prefix: bool = False
    ) -> str:
        """``file line N: [table] key`` (the line part only when it was found)."""
        n = self.line(table, key, index, prefix)
        loc = f"{self.path} line {n}" if n else self.path
        name = ".".join(table)
        if table and key:
            return f"{loc}: [{name}] {key}"
        if table:
            return f"{loc}: [{name}]"
        return f"{loc}: {key}" if key else loc


# ---------------------------------------------------------------------------- value checks
def _int(value: Any, where: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{where}: must be >= {minimum}, got {value}")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def check_seeds(value: Any, where: str) -> tuple[int, ...]:
    """A non-empty list of distinct integers."""
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list of integer seeds, got {value!r}")
    if not value:
        raise ConfigError(f"{where}: the list of seeds is empty; give at least one seed")
    seeds = tuple(_int(v, where) for v in value)
    dupes = sorted({s for s in seeds if seeds.count(s) > 1})
    if dupes:
        raise ConfigError(f"{where}: seed(s) {', '.join(map(str, dupes))} listed more than once")
    return seeds


def _evaluators(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: expected a non-empty list of evaluator names")
    return tuple(_str(v, where) for v in value)


def check_protocols(value: Any, where: str) -> tuple[str, ...]:
    """A protocol or a list of them (a grid axis), each ``test`` or ``val``, none twice."""
    from zsl_toolkit.data.protocol import check_protocol

    values = value if isinstance(value, list) else [value]
    if not values:
        raise ConfigError(f"{where}: empty list; give test, val or both")
    protocols = tuple(check_protocol(v, where) for v in values)
    if len(set(protocols)) != len(protocols):
        raise ConfigError(f"{where}: a protocol is listed more than once")
    return protocols


def _axis(value: Any, where: str) -> list[Any]:
    """A parameter's candidate values: lists are axes, anything else is fixed."""
    if isinstance(value, dict):
        raise ConfigError(f"{where}: expected a value or a list of values, got a table")
    if isinstance(value, list):
        if not value:
            raise ConfigError(f"{where}: empty list; a grid axis needs at least one value")
        return list(value)
    return [value]


# ---------------------------------------------------------------------------- TOML
def load_sweep_config(path: str | Path) -> SweepConfig:
    """Read and check a sweep file (form only; see the module docstring)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read sweep file ({exc.strerror})") from None
    return parse_sweep_config(text, str(path))


def parse_sweep_config(text: str, source: str = "<sweep>") -> SweepConfig:
    """Parse TOML ``text`` (``source`` names it in messages) into a :class:`SweepConfig`."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: malformed TOML: {exc}") from None
    loc = _Locator(source, text)
    unknown = sorted(set(raw) - {"sweep", "methods"})
    if unknown:
        raise ConfigError(
            f"{loc.where((unknown[0],), prefix=True)}: unknown table "
            f"(a sweep file has [sweep] and [methods.NAME])"
        )
    sweep = raw.get("sweep")
    if not isinstance(sweep, dict):
        raise ConfigError(f"{source}: missing [sweep] table (name, seeds, [[sweep.datasets]])")
    for key in sweep:
        if key not in SWEEP_KEYS:
            raise ConfigError(
                f"{loc.where(('sweep',), key)}: unknown key (valid: {', '.join(sorted(SWEEP_KEYS))})"
            )

    def w(key: str) -> str:
        return loc.where(("sweep",), key)

    name = _str(sweep.get("name", Path(source).stem), w("name"))
    if "seeds" not in sweep:
        raise ConfigError(f"{loc.where(('sweep',))}: missing 'seeds' (a list of integers)")
    seeds = check_seeds(sweep["seeds"], w("seeds"))
    epochs = _int(sweep["epochs"], w("epochs"), 0) if "epochs" in sweep else None
    batch = _int(sweep["batch_size"], w("batch_size"), 1) if "batch_size" in sweep else None
    evaluators = (
        _evaluators(sweep["evaluators"], w("evaluators"))
        if "evaluators" in sweep
        else DEFAULT_EVALUATORS
    )
    device = _str(sweep.get("device", "auto"), w("device"))
    root = _str(sweep["data_root"], w("data_root")) if "data_root" in sweep else None
    protocols = check_protocols(sweep.get("protocol", "test"), w("protocol"))
    datasets = _datasets(sweep.get("datasets"), loc)
    methods = _methods(raw.get("methods"), loc)
    return SweepConfig(
        name=name,
        seeds=seeds,
        datasets=datasets,
        methods=methods,
        epochs=epochs,
        batch_size=batch,
        evaluators=evaluators,
        device=device,
        data_root=root,
        protocols=protocols,
        source=source,
        text=text,
    )


def _datasets(value: Any, loc: _Locator) -> tuple[DatasetEntry, ...]:
    if value is None:
        raise ConfigError(
            f"{loc.where(('sweep',))}: no datasets; add [[sweep.datasets]] tables with name = ..."
        )
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{loc.where(('sweep',), 'datasets')}: expected a non-empty list")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, str):  # datasets = ["toy", "cub"] shorthand
            out.append(DatasetEntry(item, None, loc.where(("sweep",), "datasets")))
            continue
        if not isinstance(item, dict):
            raise ConfigError(f"{loc.where(('sweep',), 'datasets')}: expected names or tables")
        where = loc.where(("sweep", "datasets"), None, i)
        for key in item:
            if key not in DATASET_KEYS:
                raise ConfigError(
                    f"{loc.where(('sweep', 'datasets'), key, i)}: unknown key (valid: name, root)"
                )
        if "name" not in item:
            raise ConfigError(f"{where}: missing 'name'")
        name = _str(item["name"], loc.where(("sweep", "datasets"), "name", i))
        root = item.get("root")
        if root is not None:
            root = _str(root, loc.where(("sweep", "datasets"), "root", i))
        out.append(
            DatasetEntry(
                name,
                root,
                loc.where(("sweep", "datasets"), "name", i),
                loc.where(("sweep", "datasets"), "root", i),
            )
        )
    return tuple(out)


def _methods(value: Any, loc: _Locator) -> tuple[MethodEntry, ...]:
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"{loc.path}: no methods; add a [methods.NAME] table per method")
    out = []
    for label, table in value.items():
        tpath = ("methods", label)
        if not isinstance(table, dict):
            raise ConfigError(f"{loc.where(('methods',), label)}: expected a table of parameters")
        method = _str(table.get("method", label), loc.where(tpath, "method"))
        epochs = batch = None
        if "epochs" in table:
            epochs = _int(table["epochs"], loc.where(tpath, "epochs"), 0)
        if "batch_size" in table:
            batch = _int(table["batch_size"], loc.where(tpath, "batch_size"), 1)
        where: dict[str, str] = {}
        base: dict[str, list[Any]] = {}
        for key, v in table.items():
            if key in METHOD_RESERVED:
                continue
            where[key] = loc.where(tpath, key)
            base[key] = _axis(v, where[key])
        grids: list[dict[str, list[Any]]] = []
        variants = table.get("variants")
        if variants is not None:
            vwhere = loc.where(tpath, "variants")
            if not isinstance(variants, list) or not variants:
                raise ConfigError(f"{vwhere}: expected a non-empty array of tables")
            for i, variant in enumerate(variants):
                if not isinstance(variant, dict):
                    raise ConfigError(f"{vwhere}: entry {i + 1} is not a table")
                grid = dict(base)
                for key, v in variant.items():
                    kw = loc.where((*tpath, "variants"), key, i)
                    if key in METHOD_RESERVED:
                        raise ConfigError(f"{kw}: '{key}' cannot be set per variant")
                    where.setdefault(key, kw)
                    grid[key] = _axis(v, kw)
                grids.append(grid)
        else:
            grids.append(base)
        out.append(
            MethodEntry(
                label=label,
                method=method,
                grids=tuple(grids),
                epochs=epochs,
                batch_size=batch,
                where=where,
                table=loc.where(tpath),
                select=table.get("select"),
            )
        )
        if "select" in table:
            where["select"] = loc.where(tpath, "select")
    return tuple(out)


# ---------------------------------------------------------------------------- options


def parse_seeds(raw: str) -> tuple[int, ...]:
    """``"0,1,2"`` -> (0, 1, 2)."""
    values = [v for v in split_values(raw) if v]
    try:
        seeds = [int(v) for v in values]
    except ValueError:
        raise ConfigError(f"--seeds '{raw}': expected comma-separated integers") from None
    return check_seeds(seeds, "--seeds")


def config_from_options(
    methods: tuple[str, ...] | list[str],
    datasets: tuple[str, ...] | list[str],
    seeds: tuple[int, ...],
    params: tuple[str, ...] | list[str] = (),
    *,
    name: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    evaluators: tuple[str, ...] = DEFAULT_EVALUATORS,
    device: str = "auto",
    data_root: str | None = None,
    protocols: tuple[str, ...] = ("test",),
) -> SweepConfig:
    """A sweep from ``--method/--dataset/--seeds/--param key=v1,v2`` options.

    Values are typed by each method's parameter annotations, as ``zsl train --param`` does.
    ``key=...`` applies to every listed method and must be a parameter of each (the error names
    the method that lacks it); ``METHOD.key=...`` applies to that method only.
    """
    from zsl_toolkit.methods.registry import method_registry
    from zsl_toolkit.params import parse_params

    if not methods:
        raise ConfigError("--method: give at least one method (or a sweep CONFIG file)")
    if not datasets:
        raise ConfigError("--dataset: give at least one dataset")
    for item in params:
        target = item.split("=", 1)[0].strip().rpartition(".")[0]
        if target and target not in methods:
            raise ConfigError(
                f"--param {item}: '{target}' is not one of the sweep's methods "
                f"({', '.join(methods)}); use METHOD.key=v1,v2 or key=v1,v2"
            )
    entries = []
    for method in methods:
        method_cls = method_registry().load(method)
        valid, types = method_cls.param_defaults(), method_cls.param_types()
        grid: dict[str, list[Any]] = {}
        where: dict[str, str] = {}
        for item in params:
            if "=" not in item:
                raise ConfigError(f"--param '{item}' is not of the form key=v1,v2")
            key, raw = item.split("=", 1)
            target, _, key = key.strip().rpartition(".")
            if target and target != method:
                continue
            values = split_values(raw)
            if not raw.strip() or any(v == "" for v in values):
                raise ConfigError(f"--param {item}: empty value; give key=v1,v2,...")
            try:
                grid[key] = [parse_params([f"{key}={v}"], valid, types)[key] for v in values]
            except ConfigError as exc:
                only = "" if target or len(methods) == 1 else f" (for some only: METHOD.{key}=)"
                raise ConfigError(f"--method {method}: {exc}{only}") from None
            where[key] = f"--param {key}"
        entries.append(
            MethodEntry(method, method, (grid,), where=where, table=f"--method {method}")
        )
    return SweepConfig(
        name=name or "-".join([*methods, *(Path(d).name for d in datasets)]),
        seeds=seeds,
        datasets=tuple(DatasetEntry(d, None, f"--dataset {d}") for d in datasets),
        methods=tuple(entries),
        epochs=epochs,
        batch_size=batch_size,
        evaluators=evaluators,
        device=device,
        data_root=data_root,
        protocols=check_protocols(list(protocols), "--protocol"),
    )


def sweep_settings(
    config_file: str | Path | None,
    *,
    methods: Sequence[str] = (),
    datasets: Sequence[str] = (),
    params: Sequence[str] = (),
    seeds: str | None = None,
    protocols: str | None = None,
    epochs: int | None = None,
    evaluators: Sequence[str] = (),
    device: str | None = None,
    data_root: str | None = None,
    name: str | None = None,
) -> SweepConfig:
    """A sweep's configuration from what ``zsl sweep`` was given: a sweep file with the
    options overriding it, or the quick form (``--method``/``--dataset``/``--param``), not
    both. ``seeds`` and ``protocols`` are comma-separated text as typed."""
    import dataclasses

    seed_list = parse_seeds(seeds) if seeds is not None else None
    protocol_list = (
        check_protocols(split_values(protocols), "--protocol") if protocols is not None else None
    )
    if config_file:
        if methods or datasets or params:
            raise ConfigError("give either a sweep CONFIG file or --method/--dataset/--param")
        overrides = {
            "seeds": seed_list,
            "epochs": epochs,
            "evaluators": tuple(evaluators) or None,
            "device": device,
            "data_root": data_root,
            "name": name,
            "protocols": protocol_list,
        }
        cfg = load_sweep_config(config_file)
        return dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    return config_from_options(
        tuple(methods),
        tuple(datasets),
        seed_list or (0,),
        tuple(params),
        name=name,
        epochs=epochs,
        evaluators=tuple(evaluators) or DEFAULT_EVALUATORS,
        device=device or "auto",
        data_root=data_root,
        protocols=protocol_list or ("test",),
    )
