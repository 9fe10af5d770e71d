"""``run.json`` as a typed, versioned record: older runs load, unknown keys survive, dataset
names win over folders spelled like them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from zsl_toolkit.errors import RunDirError
from zsl_toolkit.pipeline import evaluate_run, train
from zsl_toolkit.runs import (
    RUN_FILE,
    SCHEMA_VERSION,
    DatasetRef,
    RunRecord,
    load_run,
    read_record,
    write_record,
)
from zsl_toolkit.settings import RunSettings
from zsl_toolkit.training import TrainConfig

FIXTURES = Path(__file__).parent / "fixtures" / "runs-2026-12-06"
RUNS = ("eszsl-toy", "eszsl-toy-calibrated", "eszsl-toy-added")


def _per_class_by_name(metrics: dict, names: list[str]) -> dict:
    """``metrics`` as written before per-class accuracies were keyed by class name (they were
    keyed by class id): the same numbers under the names."""
    out = dict(metrics)
    if isinstance(out.get("gzsl"), dict) and "per_class" in out["gzsl"]:
        per_class = out["gzsl"]["per_class"]
        out["gzsl"] = {**out["gzsl"], "per_class": {names[int(k)]: v for k, v in per_class.items()}}
    if isinstance(out.get("uncalibrated"), dict):
        out["uncalibrated"] = _per_class_by_name(out["uncalibrated"], names)
    return out


@pytest.mark.parametrize("name", RUNS)
def test_runs_written_before_the_schema_version_load_and_evaluate_as_then(name, tmp_path):
    run_dir = tmp_path / name
    shutil.copytree(FIXTURES / name, run_dir)
    raw = json.loads((run_dir / RUN_FILE).read_text())
    assert "schema_version" not in raw  # written by the toolkit of that day
    run = load_run(run_dir)
    assert run.record.method == "eszsl" and run.record.complete
    assert run.record.schema_version == SCHEMA_VERSION
    expected = json.loads((run_dir / "evaluate.json").read_text())
    names = list(run.record.spec["class_names"])
    assert evaluate_run(run_dir) == _per_class_by_name(expected, names)


def test_fixture_records_keep_their_facts():
    calibrated = read_record(FIXTURES / "eszsl-toy-calibrated")
    assert calibrated.calibration == {"gamma": 0.5, "chosen_on": "given"}
    added = read_record(FIXTURES / "eszsl-toy-added")
    assert [c["name"] for c in added.class_edit["added"]] == ["okapi"]
    assert len(added.edits) == 1 and added.spec["class_names"][-1] == "okapi"


def test_round_trip_keeps_unknown_keys_and_adds_the_version(tmp_path):
    raw = json.loads((FIXTURES / "eszsl-toy" / RUN_FILE).read_text())
    raw["selection"] = {"metric": "H", "chosen": {"gamma": 10.0}}
    record = RunRecord.from_dict(raw)
    assert record.extra == {"selection": {"metric": "H", "chosen": {"gamma": 10.0}}}
    write_record(tmp_path, record)
    written = json.loads((tmp_path / RUN_FILE).read_text())
    assert written["schema_version"] == SCHEMA_VERSION
    assert written["selection"] == raw["selection"]
    assert {k: v for k, v in written.items() if k != "schema_version"} == raw
    assert read_record(tmp_path) == record


def test_a_feature_adds_its_own_key_without_touching_the_schema(tmp_path):
    record = read_record(FIXTURES / "eszsl-toy").with_extra("selection", {"metric": "H"})
    write_record(tmp_path, record)
    assert read_record(tmp_path).extra == {"selection": {"metric": "H"}}
    with pytest.raises(ValueError, match="is a field of the run record"):
        record.with_extra("protocol", "val")


def test_an_old_run_json_as_config_repeats_the_run(tmp_path):
    from click.testing import CliRunner

    from zsl_toolkit.cli import cli

    out = tmp_path / "again"
    config = FIXTURES / "eszsl-toy" / RUN_FILE
    result = CliRunner().invoke(cli, ["train", "--config", str(config), "-q", "-o", str(out)])
    assert result.exit_code == 0, result.output
    again = json.loads((out / "metrics.json").read_text())
    then = json.loads((FIXTURES / "eszsl-toy" / "metrics.json").read_text())
    then = _per_class_by_name(then, read_record(FIXTURES / "eszsl-toy").spec["class_names"])
    assert {k: v for k, v in again.items() if k != "train_seconds"} == {
        k: v for k, v in then.items() if k != "train_seconds"
    }


def test_oldest_records_get_the_defaults_of_their_day():
    raw = json.loads((FIXTURES / "eszsl-toy" / RUN_FILE).read_text())
    for key in ("protocol", "evaluators"):
        del raw[key]
    record = RunRecord.from_dict(raw)
    assert record.protocol == "test"
    assert record.evaluators == ("gzsl", "zsl", "calibrated")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema_version": SCHEMA_VERSION + 1}, "newer than this toolkit reads"),
        ({"schema_version": "one"}, "schema_version must be"),
        ({"protocol": "train"}, "protocol: expected one of test, val"),
        ({"method": None}, "'method' and 'dataset' must be names"),
        ({"params": [1, 2]}, "'params' must be an object"),
        ({"schema_version": 1, "evaluators": "gzsl"}, "'evaluators' must be a list"),
    ],
)
def test_malformed_records_are_one_line_errors(change, message, tmp_path):
    raw = json.loads((FIXTURES / "eszsl-toy" / RUN_FILE).read_text())
    (tmp_path / RUN_FILE).write_text(json.dumps({**raw, **change}))
    with pytest.raises(RunDirError, match=message) as info:
        read_record(tmp_path)
    assert "\n" not in str(info.value)


def test_a_record_without_a_dataset_names_the_missing_key():
    raw = json.loads((FIXTURES / "eszsl-toy" / RUN_FILE).read_text())
    del raw["dataset"]
    with pytest.raises(RunDirError, match=r"incomplete run record \(no 'dataset'\)"):
        RunRecord.from_dict(raw)


def test_a_folder_spelled_like_a_registered_dataset_does_not_replace_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "toy").mkdir()  # a folder in the working directory named like the dataset
    assert DatasetRef.resolve("toy") == DatasetRef("toy")
    settings = RunSettings("eszsl", "toy", config=TrainConfig(device="cpu", quiet=True))
    run = train(settings, out=tmp_path / "run")
    assert json.loads((tmp_path / "run" / RUN_FILE).read_text())["dataset_path"] is None
    assert evaluate_run(run.run_dir) == {
        k: v for k, v in run.metrics.items() if k != "train_seconds"
    }
    # A record written before the rule, holding the folder: the registered name still wins.
    raw = json.loads((tmp_path / "run" / RUN_FILE).read_text())
    raw["dataset_path"] = str(tmp_path / "toy")
    assert RunRecord.from_dict(raw).dataset == DatasetRef("toy")


def test_a_dataset_path_is_recorded_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mydata").mkdir()
    ref = DatasetRef.resolve("./mydata")
    assert ref.path == str((tmp_path / "mydata").resolve()) and ref.spec == ref.path
