"""The Python API in one place: train, evaluate and reload runs with the fewest concepts.

``zsl_toolkit.train``, ``zsl_toolkit.evaluate`` and ``zsl_toolkit.load_run`` resolve to these
functions on first use (``import zsl_toolkit`` stays light: torch loads only then). Each
accepts what a user holds at that moment: a method as a registered name, its class or a
configured instance; a dataset as a registered name, a path or a loaded :class:`ZSLData`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsl_toolkit.errors import ConfigError

if TYPE_CHECKING:
    from zsl_toolkit.data.container import ZSLData
    from zsl_toolkit.methods.base import Method
    from zsl_toolkit.runs.load import RunResult

__all__ = ["evaluate", "load_run", "train"]


def _method_name(method: str | type[Method] | Method) -> tuple[str, dict[str, Any]]:
    """Registered name of ``method`` and, for an instance, its parameters."""
    from zsl_toolkit.methods.base import Method
    from zsl_toolkit.methods.registry import method_registry

    if isinstance(method, str):
        return method, {}
    cls = type(method) if isinstance(method, Method) else method
    if not (isinstance(cls, type) and issubclass(cls, Method)):
        raise ConfigError(f"method: expected a name, a Method subclass or instance, got {method!r}")
    target = f"{cls.__module__}:{cls.__qualname__}"
    registry = method_registry()
    names = [i.name for i in registry.infos() if i.value == target]
    if not names:  # the value may name a re-export: compare the loaded classes
        names = [n for n in registry.names() if _loads_as(registry, n, cls)]
    if not names:
        raise ConfigError(
            f"method class {target} is not registered in the zsl_toolkit.methods entry-point "
            "group, so its run could not be reloaded; register it (README: Writing a method "
            "plugin) or pass a registered name"
        )
    params = method.get_params() if isinstance(method, Method) else {}
    return names[0], params


def _loads_as(registry: Any, name: str, cls: type) -> bool:
    try:
        return registry.load(name) is cls
    except Exception:  # a broken plugin is not the one asked for
        return False


def train(
    method: str | type[Method] | Method,
    dataset: str | Path | ZSLData,
    *,
    params: dict[str, Any] | None = None,
    seed: int = 0,
    epochs: int | None = None,
    batch_size: int | None = None,
    device: str = "auto",
    root: str | Path | None = None,
    out: str | Path | None = None,
    evaluators: Sequence[str] | None = None,
    protocol: str = "test",
    quiet: bool = True,
    dataset_options: dict[str, Any] | None = None,
    balance: bool | None = None,
) -> RunResult:
    """Train, evaluate and write a run directory, as ``zsl train`` does (a thin wrapper that
    builds the :class:`~zsl_toolkit.settings.RunSettings` of
    :func:`zsl_toolkit.pipeline.train`); returns the trained
    method, the run directory, its record and metrics. ``params`` override an instance's own
    parameters; ``root`` is the data root of named benchmarks; ``dataset_options`` are keyword
    arguments of a registered dataset's constructor; ``balance`` as ``zsl train --balance`` /
    ``--no-balance``, None (default) balancing stores of one's own images only
    (:func:`zsl_toolkit.balance.decide`)."""
    from zsl_toolkit.data.container import ZSLData
    from zsl_toolkit.evaluation.base import DEFAULT_EVALUATORS
    from zsl_toolkit.pipeline import train as run_train
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.training.config import TrainConfig

    name, own = _method_name(method)
    data = dataset if isinstance(dataset, ZSLData) else None
    settings = RunSettings(
        name,
        data.name if data is not None else str(dataset),
        params={**own, **(params or {})},
        config=TrainConfig(
            seed=seed, device=device, epochs=epochs, batch_size=batch_size, quiet=quiet
        ),
        data_root=str(root) if root is not None else None,
        evaluators=tuple(evaluators or DEFAULT_EVALUATORS),
        protocol=protocol,
        dataset_options=dict(dataset_options or {}),
        balance=balance,
    )
    return run_train(settings, out=out, data=data)


def load_run(run_dir: str | Path, device: str = "cpu") -> RunResult:
    """Reload a completed run directory (method with its weights, record, metrics)."""
    from zsl_toolkit.runs.load import load_run as _load_run

    return _load_run(run_dir, device)


def evaluate(
    run: str | Path | RunResult | Method,
    dataset: str | Path | ZSLData | None = None,
    *,
    evaluators: Sequence[str] | None = None,
    root: str | Path | None = None,
) -> dict[str, Any]:
    """Metrics of a run directory, a reloaded run or a trained method, on ``dataset`` (a run's
    own data, under its protocol, when omitted). Evaluators default to those the run was
    trained with (``run.json``), else the built-in defaults."""
    from zsl_toolkit.data.container import ZSLData
    from zsl_toolkit.data.resolve import load_dataset
    from zsl_toolkit.evaluation.base import DEFAULT_EVALUATORS
    from zsl_toolkit.methods.base import Method
    from zsl_toolkit.pipeline import evaluate as run_evaluate
    from zsl_toolkit.runs.load import RunResult, load_run_data

    if isinstance(run, (str, Path)):
        run = load_run(run)
    if isinstance(run, RunResult):
        method, chosen = run.method, evaluators or run.record.evaluators
        if dataset is None:
            return run_evaluate(method, load_run_data(run.record, root), tuple(chosen))
    elif isinstance(run, Method):
        method, chosen = run, evaluators or DEFAULT_EVALUATORS
        if dataset is None:
            raise ConfigError("evaluate: a method needs a dataset to evaluate on")
    else:
        raise ConfigError(f"evaluate: expected a run directory, RunResult or Method, got {run!r}")
    data = dataset if isinstance(dataset, ZSLData) else load_dataset(str(dataset), root)
    return run_evaluate(method, data, tuple(chosen))
