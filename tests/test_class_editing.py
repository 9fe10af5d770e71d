"""Editing a trained run's class set: exactness, provenance, evaluation and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from zsl_toolkit.cli import cli
from zsl_toolkit.editing import NewClass, add_classes, list_classes, remove_classes
from zsl_toolkit.errors import ConfigError
from zsl_toolkit.runs import RUN_FILE, load_run, load_run_data

ESZSL = {"gamma": 1.0, "lam": 1.0, "preprocess": "minmax"}


def _train(root, method, params, epochs=None):
    from zsl_toolkit.pipeline import train
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.training import TrainConfig

    config = TrainConfig(device="cpu", quiet=True, epochs=epochs)
    return train(RunSettings(method, "toy", params, config), out=root / method)


@pytest.fixture(scope="module")
def eszsl_run(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("edit"), "eszsl", ESZSL)


@pytest.fixture(scope="module")
def cada_run(tmp_path_factory):
    from zsl_toolkit.methods.vae import CADAVAE

    return _train(tmp_path_factory.mktemp("edit"), "cada-vae", CADAVAE.quick_params, epochs=2)


def _scores(run_dir, x):
    return load_run(run_dir).method.predict_scores(x)


def _vector(run, value=0.5):
    return ",".join([str(value)] * run.method.spec_.embedding_dim)


def test_add_keeps_existing_scores_and_remove_restores_them(eszsl_run, tmp_path):
    data = load_run_data(eszsl_run.record)
    x = data.features
    before = _scores(eszsl_run.run_dir, x)
    new = [NewClass("okapi", (0.2,) * data.embedding_dim), NewClass("tapir", (0.7,) * 8)]
    added = add_classes(eszsl_run.run_dir, new, out=tmp_path / "added")
    after = _scores(added.run_dir, x)
    assert after.shape == (len(x), data.n_classes + 2)
    assert np.array_equal(after[:, : data.n_classes], before)
    emb = load_run(added.run_dir).method.model_.embeddings
    assert np.allclose(emb[-1].numpy(), 0.7)  # the new class's column is its attribute vector
    back = remove_classes(added.run_dir, ["okapi", "tapir"], out=tmp_path / "back")
    assert np.array_equal(_scores(back.run_dir, x), before)
    assert back.config["class_edit"] == {"removed": [], "added": []}
    assert [c.name for c in list_classes(back.run_dir)] == list(data.class_names)


def test_refit_edit_to_the_original_class_set_reproduces_the_classifier(cada_run, tmp_path):
    """CADA-VAE refits its classifier; removing a class and adding it back (same attribute
    vector) ends at the original class set, so the classifier must be the trained one."""
    data = load_run_data(cada_run.record)
    name = data.class_names[data.unseen_classes[0]]
    vector = tuple(float(v) for v in data.class_embeddings[data.unseen_classes[0]])
    x = data.features
    before = _scores(cada_run.run_dir, x)
    added = add_classes(cada_run.run_dir, [NewClass("okapi", vector)], out=tmp_path / "a")
    assert not np.array_equal(_scores(added.run_dir, x)[:, : data.n_classes], before)
    back = remove_classes(added.run_dir, ["okapi"], out=tmp_path / "b")
    assert np.array_equal(_scores(back.run_dir, x), before)
    removed = remove_classes(cada_run.run_dir, [name], out=tmp_path / "r")
    assert removed.method.spec_.n_classes == data.n_classes - 1
    assert name not in removed.method.spec_.class_names


def test_refit_with_final_stage_values_equals_training_with_them(cada_run, tmp_path):
    """Refitting the final stage with no change reproduces the run; with another sample count
    it gives exactly the model that training with that count gives."""
    from zsl_toolkit.editing.edit import refit_with
    from zsl_toolkit.methods.vae import CADAVAE

    data = load_run_data(cada_run.record)
    x = data.features
    same, _ = refit_with(cada_run.run_dir, {})
    assert np.array_equal(same.predict_scores(x), _scores(cada_run.run_dir, x))
    changed = {"unseen_samples": CADAVAE.quick_params["unseen_samples"] * 2}
    refit, _ = refit_with(cada_run.run_dir, changed)
    trained = _train(tmp_path, "cada-vae", {**CADAVAE.quick_params, **changed}, epochs=2)
    assert np.array_equal(refit.predict_scores(x), _scores(trained.run_dir, x))
    assert not np.array_equal(refit.predict_scores(x), same.predict_scores(x))
    with pytest.raises(ConfigError, match="'latent_size' does not act on the refit stage"):
        refit_with(cada_run.run_dir, {"latent_size": 8})
    eszsl = _train(tmp_path, "eszsl", ESZSL)
    with pytest.raises(ConfigError, match="no refit stage"):
        refit_with(eszsl.run_dir, {})


def test_edited_run_records_parent_and_edit_and_lists_classes(eszsl_run, tmp_path):
    csv = tmp_path / "new.csv"
    csv.write_text("name," + ",".join(f"a{i}" for i in range(8)) + "\n")
    csv.write_text(csv.read_text() + "okapi," + _vector(eszsl_run, 0.1) + "\n")
    csv.write_text(csv.read_text() + "tapir," + _vector(eszsl_run, 0.9) + "\n")
    out = tmp_path / "edited"
    result = CliRunner().invoke(
        cli, ["add-class", str(eszsl_run.run_dir), "--attributes-file", str(csv), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "H=" in result.output
    record = json.loads((out / RUN_FILE).read_text())
    assert record["parent"] == str(eszsl_run.run_dir.resolve())
    assert [c["name"] for c in record["class_edit"]["added"]] == ["okapi", "tapir"]
    assert record["edits"][0]["added"][1]["embedding"] == [0.9] * 8
    assert record["spec"]["class_names"][-2:] == ["okapi", "tapir"]
    listing = CliRunner().invoke(cli, ["classes", str(out)])
    lines = listing.output.strip().splitlines()
    assert lines[-1].split() == ["11", "unseen", "added", "(attributes-file)", "tapir"]
    assert lines[0].split()[2] == "trained"
    # zsl evaluate: the added classes compete (no test images of their own)
    evaluated = CliRunner().invoke(cli, ["evaluate", str(out), "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.output)["gzsl"]["H"] == pytest.approx(
        record and json.loads((out / "metrics.json").read_text())["gzsl"]["H"]
    )


def test_method_without_the_capability_is_refused(eszsl_run, tmp_path, monkeypatch):
    from zsl_toolkit.methods.eszsl import ESZSL

    monkeypatch.setattr(ESZSL, "class_edit", None)
    with pytest.raises(ConfigError, match="method eszsl cannot edit its class set"):
        remove_classes(eszsl_run.run_dir, ["class_000"], out=tmp_path / "x")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["remove-class", "{run}", "no_such_class"], "no class 'no_such_class'"),
        (["add-class", "{run}", "--name", "okapi", "--attributes", "1,2,3"], "3 attribute values"),
        (["add-class", "{run}", "--name", "okapi", "--attributes", "{nan}"], "not a finite"),
        (["add-class", "{run}", "--name", "okapi", "--attributes", "1,x,3"], "'x' is not a number"),
        (["add-class", "{run}", "--name", "class_001", "--attributes", "{ok}"], "already has"),
        (["add-class", "{run}", "--attributes-file", "{dup}"], "named twice"),
        (["add-class", "{run}", "--name", "okapi", "--text", "striped legs"], "attribute vectors"),
        (["add-class", "{run}", "--name", "okapi"], "exactly one of"),
        (["remove-class", "{unfinished}", "class_000"], "did not complete"),
        (["calibrate", "{run}"], "exactly one of"),
        (["calibrate", "{run}", "--gamma", "nan"], "finite"),
        (["calibrate", "{run}", "--validation-run", "{run}"], "not a validation run"),
    ],
)
def test_bad_input_is_one_error_line_and_writes_nothing(eszsl_run, tmp_path, args, message):
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / RUN_FILE).write_text(json.dumps({"status": "running", "method": "eszsl"}))
    dup = tmp_path / "dup.csv"
    dup.write_text(f"okapi,{_vector(eszsl_run)}\nokapi,{_vector(eszsl_run)}\n")
    nan = ",".join(["0.5"] * 7 + ["nan"])
    values = dict(
        run=str(eszsl_run.run_dir),
        unfinished=str(unfinished),
        dup=str(dup),
        nan=nan,
        ok=_vector(eszsl_run),
    )
    out = tmp_path / "out"
    argv = [a.format(**values) for a in args] + ["--out", str(out)]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert message in lines[0]
    assert not out.exists()


def test_calibration_subtracts_gamma_from_seen_scores(eszsl_run, tmp_path):
    from zsl_toolkit.editing import calibrate_run

    gamma = -0.25
    result = calibrate_run(eszsl_run.run_dir, gamma=gamma, out=tmp_path / "cal")
    data = load_run_data(eszsl_run.record)
    raw = _scores(eszsl_run.run_dir, data.features)
    calibrated = _scores(result.run_dir, data.features)
    seen = list(data.seen_classes)
    unseen = list(data.unseen_classes)
    assert np.allclose(calibrated[:, seen], raw[:, seen] - gamma)
    assert np.array_equal(calibrated[:, unseen], raw[:, unseen])
    assert result.metrics["uncalibrated"]["gzsl"] == eszsl_run.metrics["gzsl"]
    assert result.config["calibration"] == {"gamma": gamma, "chosen_on": "given"}
    out = CliRunner().invoke(cli, ["evaluate", str(result.run_dir)]).output
    assert "calibrated (gamma = -0.25):" in out and "uncalibrated:" in out
    # the original run is untouched
    assert "calibration" not in json.loads((eszsl_run.run_dir / RUN_FILE).read_text())


def test_calibration_on_a_validation_run(eszsl_run, tmp_path):
    from zsl_toolkit.editing import calibrate_run, validation_gamma
    from zsl_toolkit.pipeline import train
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.training import TrainConfig

    config = TrainConfig(device="cpu", quiet=True)
    settings = RunSettings(
        "eszsl", "toy", ESZSL, config, protocol="val", evaluators=("calibrated",)
    )
    val_dir = train(settings, out=tmp_path / "val").run_dir
    given = calibrate_run(eszsl_run.run_dir, validation_run=val_dir, out=tmp_path / "cal")
    info = given.config["calibration"]
    assert info["chosen_on"] == "validation" and math.isfinite(info["gamma"])
    # the gamma is the validation run's best-H calibration, not one chosen on test data
    assert validation_gamma(val_dir)["gamma"] == info["gamma"]
    # toy's validation problem has one validation class: nothing for the folds to choose on
    with pytest.raises(ConfigError, match="fewer than 2 validation classes"):
        calibrate_run(eszsl_run.run_dir, target="validation", out=tmp_path / "cal2")
    assert not (tmp_path / "cal2").exists()


def test_text_description_uses_the_runs_text_encoder(tmp_path):
    """A run on text semantics (a store recording semantics=text and its encoder) takes a new
    class from a description, embedded by that encoder."""
    from importlib.metadata import entry_points

    from zsl_toolkit.data.container import ZSLData
    from zsl_toolkit.data.hdf5 import save_h5
    from zsl_toolkit.data.synthetic import Toy

    found = [ep for ep in entry_points(group="zsl_toolkit.text_encoders") if ep.name == "wordllama"]
    if not found:
        pytest.skip("text encoder 'wordllama' (zsl-images) not installed")
    encoder = found[0].load()()
    toy = Toy().load()
    texts = [f"a kind of thing number {i}" for i in range(toy.n_classes)]
    store = tmp_path / "text.h5"
    save_h5(
        ZSLData(
            features=toy.features,
            labels=toy.labels,
            class_embeddings=encoder.encode(texts),
            class_names=toy.class_names,
            splits=toy.splits,
            name="text",
            extra={"semantics": "text", "text_encoder": "wordllama"},
        ),
        store,
    )
    from zsl_toolkit.pipeline import train
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.training import TrainConfig

    run = train(
        RunSettings("eszsl", str(store), ESZSL, TrainConfig(quiet=True)), out=tmp_path / "r"
    )
    out = tmp_path / "edited"
    args = ["add-class", str(run.run_dir), "--name", "okapi", "--text", "a striped forest giraffe"]
    result = CliRunner().invoke(cli, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    added = json.loads((out / RUN_FILE).read_text())["class_edit"]["added"][0]
    assert added["source"] == "text" and added["text_encoder"] == "wordllama"
    expected = encoder.encode(["a striped forest giraffe"])[0]
    assert np.allclose(added["embedding"], expected)
    assert [c.origin for c in list_classes(out)][-1] == "added (text)"


def test_refit_holds_the_runs_values_of_defaults_changed_since_training(tmp_path, monkeypatch):
    """A run trained under earlier defaults (here f-CLSWGAN's classifier epochs and feature
    count for datasets without published values) refits with the values it trained with, not
    today's; a parameter following a given one (the batch follows n_synthetic) follows it."""
    from dataclasses import replace

    from zsl_toolkit.editing.edit import refit_with
    from zsl_toolkit.methods import f_clswgan

    quick = f_clswgan.FCLSWGAN.quick_params
    params = {k: v for k, v in quick.items() if k not in ("classifier_epochs", "n_synthetic")}
    monkeypatch.setattr(
        f_clswgan, "OTHER", replace(f_clswgan.OTHER, classifier_epochs=3, n_synthetic=10)
    )
    run = _train(tmp_path, "f-clswgan", params, epochs=2)
    x = load_run_data(run.record).features
    monkeypatch.setattr(
        f_clswgan, "OTHER", replace(f_clswgan.OTHER, classifier_epochs=5, n_synthetic=7)
    )
    same, _ = refit_with(run.run_dir, {})
    resolved = same.resolved_
    assert (resolved["classifier_epochs"], resolved["n_synthetic"]) == (3, 10)
    assert resolved["classifier_batch_size"] == 10
    assert np.array_equal(same.predict_scores(x), _scores(run.run_dir, x))
    given, _ = refit_with(run.run_dir, {"classifier_epochs": 5, "n_synthetic": 6})
    assert given.resolved_["classifier_epochs"] == 5
    assert given.resolved_["classifier_batch_size"] == 6


def test_removed_class_added_back_by_name_is_evaluated_on_its_test_images(eszsl_run, tmp_path):
    from zsl_toolkit.pipeline import evaluate

    data = load_run_data(eszsl_run.record)
    name = data.class_names[int(data.unseen_classes[0])]
    vector = tuple(float(v) for v in data.class_embeddings[int(data.unseen_classes[0])])
    removed = remove_classes(eszsl_run.run_dir, [name], out=tmp_path / "removed")
    back = add_classes(removed.run_dir, [NewClass(name, vector)], out=tmp_path / "back")
    before, after = eszsl_run.metrics["gzsl"], back.metrics["gzsl"]
    assert removed.metrics["gzsl"]["U"] != before["U"]  # one unseen class fewer to measure
    for key in ("U", "S", "H"):
        assert after[key] == pytest.approx(before[key], abs=1e-12)
    again = evaluate(load_run(back.run_dir).method, load_run_data(back.record))
    assert again["gzsl"]["H"] == pytest.approx(before["H"], abs=1e-12)
    # A class with a new name still has no images of its own.
    other = add_classes(eszsl_run.run_dir, [NewClass("okapi", vector)], out=tmp_path / "o")
    edited = load_run_data(other.record)
    assert int(np.sum(edited.labels == edited.n_classes - 1)) == 0


def test_seen_class_added_back_by_name_is_unseen_with_its_test_images(eszsl_run, tmp_path):
    data = load_run_data(eszsl_run.record)
    k = int(data.seen_classes[0])
    name = data.class_names[k]
    n_test = int(np.sum(data.labels[data.splits["test_seen"]] == k))
    vector = tuple(float(v) for v in data.class_embeddings[k])
    removed = remove_classes(eszsl_run.run_dir, [name], out=tmp_path / "removed")
    back = add_classes(removed.run_dir, [NewClass(name, vector)], out=tmp_path / "back")
    edited = load_run_data(back.record)
    new_id = edited.class_names.index(name)
    assert new_id in edited.unseen_classes.tolist()
    assert new_id not in edited.seen_classes.tolist()
    assert int(np.sum(edited.labels[edited.splits["test_unseen"]] == new_id)) == n_test
    assert int(np.sum(edited.labels == new_id)) == n_test  # its training images stay out
