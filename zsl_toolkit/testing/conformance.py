"""Checks a method or dataset plugin against the toolkit's contracts on tiny data.

Each check raises ``AssertionError`` with a message saying which contract failed, so the
kit works under any test runner.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.data.registry import dataset_registry
from zsl_toolkit.data.synthetic import Toy
from zsl_toolkit.evaluation.base import Evaluator
from zsl_toolkit.methods.base import InferenceModule, Method
from zsl_toolkit.methods.registry import method_registry
from zsl_toolkit.training import TrainConfig, Trainer


def toy_data() -> ZSLData:
    """10 classes (7 seen, 3 unseen), 24-d features, 8-d attributes; generated in ms."""
    return Toy().load()


def _fit(
    cls: type[Method], params: dict[str, Any], data: ZSLData, epochs: int | None, seed: int
) -> Method:
    method = cls.create(dict(params))
    Trainer(TrainConfig(seed=seed, device="cpu", epochs=epochs, quiet=True)).fit(method, data)
    return method


def check_method(
    method: str | type[Method],
    tmp_path: Path,
    params: dict[str, Any] | None = None,
    epochs: int | None = 2,
) -> None:
    """Run every method contract on toy data (CPU).

    ``method`` is a registered name (the CLI check then also runs) or a class. ``params``
    shrink the method for speed (default: the method's ``quick_params``); ``epochs`` overrides
    its primary stage's epochs.
    """
    from zsl_toolkit.pipeline import train
    from zsl_toolkit.runs.load import load_run
    from zsl_toolkit.settings import RunSettings

    name = method if isinstance(method, str) else None
    cls = method_registry().load(method) if isinstance(method, str) else method
    params = dict(cls.quick_params if params is None else params)
    assert issubclass(cls, Method), f"{cls} is not a zsl_toolkit Method"
    assert cls.citation.strip(), f"{cls.__name__}.citation is empty: every method cites its paper"
    check_published(cls)
    check_select_candidates(cls)
    defaults = cls.param_defaults()
    assert "preprocess" in defaults, f"{cls.__name__} has no 'preprocess' parameter"
    instance = cls.create(params)
    assert instance.get_params() == {**defaults, **params}, (
        f"{cls.__name__}.__init__ must store each parameter unchanged under its own name"
    )

    data = toy_data()
    fitted = _fit(cls, params, data, epochs, seed=0)
    xs, _ = data.split("test_seen")
    scores = fitted.predict_scores(xs)
    assert scores.shape == (len(xs), data.n_classes), (
        f"scores must be [N, C] = {(len(xs), data.n_classes)}, got {scores.shape}"
    )
    assert np.isfinite(scores).all(), "scores contain NaN or Inf"

    again = _fit(cls, params, data, epochs, seed=0).predict_scores(xs)
    assert np.array_equal(scores, again), "two fits with the same seed gave different scores"

    module = fitted.inference_module()
    assert isinstance(module, InferenceModule)
    with torch.no_grad():
        one = module(torch.from_numpy(xs[:1]))
        many = module(torch.from_numpy(xs))
    assert one.shape == (1, data.n_classes), "inference module fails at batch size 1"
    assert torch.allclose(one, many[:1], atol=1e-5), "scores depend on the batch they are in"
    batch = torch.export.Dim("batch", min=1)
    try:
        torch.export.export(
            module, (torch.from_numpy(xs),), dynamic_shapes=({0: batch},), strict=False
        )
    except Exception as exc:  # noqa: BLE001 - report any tracing failure as a contract failure
        raise AssertionError(
            f"inference module is not exportable with torch.export: {exc}"
        ) from exc

    if name is not None:
        settings = RunSettings(
            name, "toy", params=params, config=TrainConfig(epochs=epochs, device="cpu", quiet=True)
        )
        run = train(settings, out=tmp_path / f"{name}-run", data=data)
        reloaded = load_run(run.run_dir)
        assert np.array_equal(reloaded.method.predict_scores(xs), run.method.predict_scores(xs)), (
            "scores after save/load differ from the trained model's"
        )
        _check_cli(name, params, epochs, tmp_path / f"{name}-cli")
        if cls.class_edit is not None:
            check_class_editing(run.run_dir, tmp_path / f"{name}-edit")


def check_class_editing(run_dir: Path, tmp_path: Path) -> None:
    """The optional class-editing capability of the method that trained ``run_dir``:
    ``class_indexed`` names every tensor the class set shapes; adding a class and removing
    it again gives back the original scores exactly; an ``"append"`` edit leaves the kept
    classes' scores unchanged; the edited run's ``run.json`` spec matches its model."""
    from zsl_toolkit.editing import NewClass, add_classes, remove_classes
    from zsl_toolkit.methods.base import ModelSpec
    from zsl_toolkit.runs.load import load_run, load_run_data

    original = load_run(run_dir)
    method = original.method
    cls = type(method)
    assert cls.class_edit in ("append", "refit"), (
        f"{cls.__name__}.class_edit must be None, 'append' or 'refit', got {cls.class_edit!r}"
    )
    if cls.class_edit == "refit":
        assert cls.class_refit_stage is not None, f"{cls.__name__}: refit edits need a stage"
        unknown = sorted(set(cls.refit_stage_params) - set(cls.param_defaults()))
        assert not unknown, f"{cls.__name__}.refit_stage_params names no parameter: {unknown}"
    spec = method.spec_
    bigger = ModelSpec(
        **{
            **spec.to_dict(),
            "n_classes": spec.n_classes + 1,
            "unseen_classes": (*spec.unseen_classes, spec.n_classes),
            "class_names": (*spec.class_names, "extra"),
        }
    )
    probe = cls.create(dict(original.record.params))
    probe.setup(bigger)
    declared = probe.class_indexed()
    old_state = method.modules().state_dict()
    for key, value in probe.modules().state_dict().items():
        if value.shape != old_state[key].shape:
            assert key in declared, (
                f"{cls.__name__}: {key} changes shape with the class set but class_indexed() "
                f"does not name it"
            )
    data = load_run_data(original.record)
    x = data.features
    before = method.predict_scores(x)
    vector = tuple(float(v) for v in data.class_embeddings.mean(axis=0))
    added = add_classes(run_dir, [NewClass("extra-class", vector)], out=tmp_path / "added")
    after = load_run(added.run_dir).method.predict_scores(x)
    assert after.shape == (len(x), spec.n_classes + 1), "an added class must get a score column"
    assert added.record.spec["class_names"][-1] == "extra-class"
    if cls.class_edit == "append":
        assert np.array_equal(after[:, : spec.n_classes], before), (
            "adding a class changed the scores of existing classes (append edits must not)"
        )
    back = remove_classes(added.run_dir, ["extra-class"], out=tmp_path / "back")
    assert np.array_equal(load_run(back.run_dir).method.predict_scores(x), before), (
        "adding a class and removing it again did not give back the original scores"
    )


def check_select_candidates(cls: type[Method]) -> None:
    """``select_candidates`` (what ``zsl train --select auto`` tries): parameter names mapped
    to distinct values, each axis holding the parameter's default, every value passing the
    parameter's constraints and every grid point accepted by :meth:`Method.create`."""
    import itertools
    import json

    from zsl_toolkit.errors import ConfigError
    from zsl_toolkit.methods.constraints import check_constraints

    declared = getattr(cls, "select_candidates", {})
    name = cls.__name__
    assert isinstance(declared, dict), f"{name}.select_candidates must be a dict"
    defaults = cls.param_defaults()
    constraints = cls.constraints()
    for key, values in declared.items():
        assert key in defaults, f"{name}.select_candidates: {key!r} is not a parameter"
        assert isinstance(values, (tuple, list)) and values, (
            f"{name}.select_candidates[{key!r}] must be a non-empty tuple of values"
        )
        texts = [json.dumps(v, sort_keys=True) for v in values]
        assert len(set(texts)) == len(texts), f"{name}.select_candidates[{key!r}] repeats a value"
        assert defaults[key] in values, (
            f"{name}.select_candidates[{key!r}] = {values!r} lacks the default {defaults[key]!r}"
        )
        for value in values:
            try:
                check_constraints(
                    {key: value}, {key: constraints[key]} if key in constraints else {}
                )
            except (ConfigError, ValueError, TypeError) as exc:
                raise AssertionError(
                    f"{name}.select_candidates[{key!r}]: {value!r} is not a valid value ({exc})"
                ) from None
    keys = list(declared)
    for point in itertools.product(*(declared[k] for k in keys)):
        params = dict(zip(keys, point, strict=True))
        try:
            cls.create(params)
        except ConfigError as exc:
            raise AssertionError(
                f"{name}.select_candidates: the candidate {params} is refused ({exc})"
            ) from None


def check_published(cls: type[Method]) -> None:
    """``published`` maps dataset names to U/S/H in percent (reports show them as given)."""
    table = getattr(cls, "published", {})
    assert isinstance(table, dict), f"{cls.__name__}.published must be a dict"
    values = []
    for dataset, row in table.items():
        assert isinstance(dataset, str) and dataset == dataset.lower(), (
            f"{cls.__name__}.published: key {dataset!r} must be a lowercase dataset name"
        )
        assert isinstance(row, dict) and set(row) <= {"U", "S", "H"} and row, (
            f"{cls.__name__}.published[{dataset!r}] must map some of U, S, H to numbers"
        )
        for key, v in row.items():
            assert isinstance(v, (int, float)) and 0 <= v <= 100, (
                f"{cls.__name__}.published[{dataset!r}][{key!r}] = {v!r} is not a percentage"
            )
            values.append(v)
    assert not values or max(values) > 1, (
        f"{cls.__name__}.published looks like fractions; give percentages as papers print them"
    )


def _check_cli(name: str, params: dict[str, Any], epochs: int | None, out: Path) -> None:
    from click.testing import CliRunner

    from zsl_toolkit.cli import cli

    args = [
        "train",
        "--method",
        name,
        "--dataset",
        "toy",
        "--device",
        "cpu",
        "--quiet",
        "--out",
        str(out),
    ]
    if epochs is not None:
        args += ["--epochs", str(epochs)]
    for k, v in params.items():
        args += ["--param", f"{k}={str(v).lower() if isinstance(v, bool) else v}"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, f"`zsl {' '.join(args)}` failed:\n{result.output}"
    assert "H=" in result.output, "`zsl train` did not print H"


def check_dataset(dataset: str, data_root: Path | None = None) -> ZSLData:
    """Load a registered dataset twice and check it is valid, non-trivial and deterministic."""
    cls = dataset_registry().load(dataset)
    first = cls().load(data_root)
    assert isinstance(first, ZSLData), f"{dataset}.load() must return ZSLData"
    assert first.seen_classes.size >= 2, "need at least two seen classes"
    assert first.unseen_classes.size >= 1, "need at least one unseen class"
    second = cls().load(data_root)
    assert np.array_equal(first.features, second.features), "loading twice gave different features"
    assert np.array_equal(first.labels, second.labels), "loading twice gave different labels"
    return first


def check_evaluator(evaluator: str | type[Evaluator]) -> dict[str, Any]:
    """Run an evaluator plugin on scores of toy data and check its contract: a description,
    a non-empty ``headline`` of plain numbers, ``fractions`` among them and within [0, 1],
    JSON-serialisable output and the same metrics for the same scores. Returns the metrics."""
    import json

    from zsl_toolkit.evaluation.base import EvalInput
    from zsl_toolkit.evaluation.registry import evaluator_registry

    cls = evaluator_registry().load(evaluator) if isinstance(evaluator, str) else evaluator
    name = cls.__name__
    assert isinstance(cls, type) and issubclass(cls, Evaluator), f"{cls} is not an Evaluator"
    assert cls.description.strip(), f"{name}.description is empty (zsl list --verbose shows it)"
    assert cls.headline, f"{name}.headline is empty: name the metrics zsl prints and reports"
    extra = set(cls.fractions) - set(cls.headline)
    assert not extra, f"{name}.fractions {sorted(extra)} are not in headline"
    data = toy_data()
    rng = np.random.default_rng(0)

    def scores(split: str) -> tuple[np.ndarray, np.ndarray]:
        _, labels = data.split(split)
        return rng.standard_normal((len(labels), data.n_classes)).astype(np.float32), labels

    (ss, ys), (su, yu) = scores("test_seen"), scores("test_unseen")
    inputs = EvalInput(ss, ys, su, yu, data.seen_classes, data.unseen_classes)
    metrics = cls().evaluate(inputs)
    assert isinstance(metrics, dict), f"{name}.evaluate must return a dict"
    try:
        json.dumps(metrics)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"{name} metrics are not JSON-serialisable: {exc}") from None
    for key in cls.headline:
        value = metrics.get(key)
        assert isinstance(value, (int, float)) and not isinstance(value, bool), (
            f"{name} headline metric {key!r} must be a plain number, got {value!r}"
        )
        if key in cls.fractions:
            assert 0.0 <= value <= 1.0, f"{name} metric {key!r} is a fraction but is {value}"
    again = cls().evaluate(inputs)
    assert json.dumps(again, sort_keys=True) == json.dumps(metrics, sort_keys=True), (
        f"{name} gave different metrics for the same scores"
    )
    return metrics
