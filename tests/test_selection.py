"""`zsl train --select`: candidates trained on the validation protocol, the best by
validation H trained on the test protocol, recorded in run.json and shown by evaluate, info
and report; resume, parallel candidates, sweeps, a third-party method, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from zsl_toolkit.cli import cli
from zsl_toolkit.selection import choose

THIRD_PARTY = '''
import os
from pathlib import Path

from zsl_toolkit.methods.eszsl import ESZSL


class Third(ESZSL):
    """A plugin's method: ESZSL whose fits are logged, and that can be told to stop."""

    citation = "test double"
    select_candidates = {"lam": (1.0, 0.1, 10.0)}

    def _solve(self, ctx):
        log = os.environ.get("THIRD_LOG")
        if log:
            with open(log, "a") as fh:
                fh.write(f"{self.lam}\\n")
        stop = os.environ.get("THIRD_STOP")
        if stop and Path(stop).exists() and self.lam == 10.0:
            Path(stop).unlink()
            raise KeyboardInterrupt
        return super()._solve(ctx)
'''


def zsl(*args: object) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args])


def _record(run: Path) -> dict:
    return json.loads((run / "run.json").read_text())


def _val_runs(run: Path) -> dict[str, dict]:
    """Candidate id -> (run.json, metrics.json) of the candidates' own run directories."""
    out = {}
    for d in sorted((run / "selection" / "trials").iterdir()):
        out[d.name] = {
            "run": json.loads((d / "run.json").read_text()),
            "metrics": json.loads((d / "metrics.json").read_text()),
        }
    return out


def test_select_trains_candidates_on_validation_and_the_choice_on_test(tmp_path):
    run = tmp_path / "run"
    result = zsl(
        "train", "-m", "eszsl", "-d", "synthetic", "--device", "cpu", "-q", "-o", run,
        "--select", "gamma=1,100,1000", "--select", "lam=1,10",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    record = _record(run)
    sel = record["selection"]
    assert record["status"] == "complete" and sel["status"] == "complete"
    assert sel["axes"] == {"gamma": [1.0, 100.0, 1000.0], "lam": [1.0, 10.0]}
    assert len(sel["candidates"]) == 6
    # Every candidate's numbers are those of its own run, trained under the validation
    # protocol (test classes withheld); none comes from the test protocol.
    val_runs = _val_runs(run)
    assert set(val_runs) == {c["id"] for c in sel["candidates"]}
    for c in sel["candidates"]:
        own = val_runs[c["id"]]
        assert own["run"]["protocol"] == "val"
        assert own["run"]["params"]["gamma"] == c["params"]["gamma"]
        assert c["metrics"] == own["metrics"]
    hs = [c["metrics"]["gzsl"]["H"] for c in sel["candidates"]]
    assert len(set(hs)) > 1, "the grid should make a difference on this data"
    best = sel["candidates"][int(np.argmax(hs))]
    assert sel["chosen"] == best["params"] and sel["chosen_id"] == best["id"]
    assert [c["default"] for c in sel["candidates"]].count(True) == 1
    # The final run is the chosen configuration on the test protocol.
    assert record["protocol"] == "test"
    assert {k: record["params"][k] for k in ("gamma", "lam")} == sel["chosen"]
    test_metrics = json.loads((run / "metrics.json").read_text())
    assert test_metrics["gzsl"] != best["metrics"]["gzsl"]
    assert "selection on the val protocol (6 candidates" in result.output
    assert f"chosen: {', '.join(f'{k}={v:g}' for k, v in sel['chosen'].items())}" in result.output


def test_evaluate_info_and_config_file_show_and_reuse_the_selection(tmp_path):
    config = tmp_path / "select.toml"
    config.write_text(
        'method = "eszsl"\ndataset = "synthetic"\ndevice = "cpu"\n[select]\ngamma = [10.0, 1000.0]\n'
    )
    run = tmp_path / "run"
    assert zsl("train", "--config", config, "-q", "-o", run).exit_code == 0
    sel = _record(run)["selection"]
    assert sel["axes"] == {"gamma": [10.0, 1000.0]}

    evaluated = zsl("evaluate", run)
    assert evaluated.exit_code == 0, evaluated.output
    assert "gzsl:" in evaluated.output and "selection on the val protocol" in evaluated.output
    assert "chosen: gamma=" in evaluated.output
    as_json = json.loads(zsl("evaluate", run, "--json").output)
    assert as_json["selection"]["chosen"] == sel["chosen"]

    info = zsl("info", run)
    assert info.exit_code == 0, info.output
    assert "method:      eszsl" in info.output and "(default)" in info.output
    assert "chosen: gamma=" in info.output
    assert json.loads(zsl("info", run, "--json").output)["run"]["selection"] == sel

    # A run.json as --config selects again over the same grid.
    again = tmp_path / "again"
    assert zsl("train", "--config", run / "run.json", "-q", "-o", again).exit_code == 0
    redone = _record(again)["selection"]["candidates"]
    assert [(c["params"], c["metrics"]["gzsl"]) for c in redone] == [
        (c["params"], c["metrics"]["gzsl"]) for c in sel["candidates"]
    ]


def test_the_choice_does_not_depend_on_the_test_split(tmp_path):
    """Perturbing every test-unseen image and the unseen classes' attributes changes the
    final test numbers but neither the candidates' validation numbers nor the choice."""
    from dataclasses import replace

    from zsl_toolkit.data.hdf5 import save_h5
    from zsl_toolkit.data.resolve import load_dataset
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.sweep.select import train_selected
    from zsl_toolkit.training import TrainConfig

    data = load_dataset("synthetic")
    save_h5(data, tmp_path / "a.h5")
    rng = np.random.default_rng(0)
    features = data.features.copy()
    rows = data.splits["test_unseen"]
    features[rows] = rng.normal(size=features[rows].shape).astype(np.float32)
    embeddings = data.class_embeddings.copy()
    embeddings[data.unseen_classes] = rng.permutation(embeddings[data.unseen_classes])
    save_h5(replace(data, features=features, class_embeddings=embeddings), tmp_path / "b.h5")

    results = []
    for name in ("a", "b"):
        results.append(
            train_selected(
                RunSettings(
                    "eszsl",
                    str(tmp_path / f"{name}.h5"),
                    config=TrainConfig(device="cpu", quiet=True),
                    select={"gamma": [1.0, 100.0, 1000.0], "lam": [1.0, 10.0]},
                ),
                out=tmp_path / f"run-{name}",
            )
        )
    a, b = (r.config["selection"] for r in results)
    assert a["chosen"] == b["chosen"]
    assert [c["metrics"]["gzsl"] for c in a["candidates"]] == [
        c["metrics"]["gzsl"] for c in b["candidates"]
    ]
    assert results[0].metrics["gzsl"] != results[1].metrics["gzsl"]


def test_a_run_reported_on_validation_chooses_on_the_inner_protocol(tmp_path):
    """Under ``--protocol val`` the candidates train on ``inner``: perturbing the validation
    classes' images and attributes changes the reported validation H, not the choice."""
    from dataclasses import replace

    from zsl_toolkit.data.hdf5 import save_h5
    from zsl_toolkit.data.protocol import apply_protocol, validation_classes
    from zsl_toolkit.data.resolve import load_dataset

    data = load_dataset("synthetic")
    save_h5(data, tmp_path / "a.h5")
    _, val_classes, _, val_rows = validation_classes(data)
    rng = np.random.default_rng(1)
    features = data.features.copy()
    features[val_rows] = rng.normal(size=features[val_rows].shape).astype(np.float32)
    embeddings = data.class_embeddings.copy()
    embeddings[val_classes] = rng.permutation(embeddings[val_classes])
    save_h5(replace(data, features=features, class_embeddings=embeddings), tmp_path / "b.h5")
    assert apply_protocol(data, "inner").n_classes < apply_protocol(data, "val").n_classes

    sels, metrics = [], []
    for name in ("a", "b"):
        run = tmp_path / f"run-{name}"
        result = zsl(
            "train",
            "-m",
            "eszsl",
            "-d",
            tmp_path / f"{name}.h5",
            "--device",
            "cpu",
            "-q",
            "--protocol",
            "val",
            "--select",
            "gamma=1,100,1000",
            "-o",
            run,
        )
        assert result.exit_code == 0, result.output
        record = _record(run)
        assert record["protocol"] == "val"
        sels.append(record["selection"])
        metrics.append(json.loads((run / "metrics.json").read_text())["gzsl"])
        for cand in _val_runs(run).values():
            assert cand["run"]["protocol"] == "inner"
        info = zsl("info", run)
        assert "selection on the inner protocol" in info.output, info.output
    a, b = sels
    assert a["protocol"] == b["protocol"] == "inner"
    assert a["chosen"] == b["chosen"]
    assert [c["metrics"]["gzsl"] for c in a["candidates"]] == [
        c["metrics"]["gzsl"] for c in b["candidates"]
    ]
    assert metrics[0] != metrics[1]


def test_ties_go_to_the_default_else_the_first_listed():
    def cand(h: float, default: bool = False) -> dict:
        return {"metrics": {"gzsl": {"H": h}}, "default": default}

    assert choose([cand(0.5), cand(0.7), cand(0.7, default=True)]) == 2
    assert choose([cand(0.5, default=True), cand(0.7), cand(0.7)]) == 1
    assert choose([cand(float("nan")), cand(0.1)]) == 1


def test_resume_keeps_completed_candidates_third_party_method(
    fake_distribution, tmp_path, monkeypatch
):
    fake_distribution(
        "zsl-third", {"zsl_toolkit.methods": {"third": "zsl_third_mod:Third"}}, THIRD_PARTY
    )
    log, stop = tmp_path / "fits.log", tmp_path / "stop"
    monkeypatch.setenv("THIRD_LOG", str(log))
    monkeypatch.setenv("THIRD_STOP", str(stop))
    stop.touch()
    run = tmp_path / "run"
    first = zsl(
        "train",
        "-m",
        "third",
        "-d",
        "synthetic",
        "--device",
        "cpu",
        "-q",
        "-o",
        run,
        "--select",
        "auto",
    )
    assert first.exit_code == 130, first.output  # interrupted at the third candidate
    assert _record(run)["status"] == "selecting"
    assert log.read_text().split() == ["1.0", "0.1", "10.0"]

    again = zsl("train", "--resume", run, "-q")
    assert again.exit_code == 0, again.output
    # The two completed candidates were not retrained: the third, then the final run.
    assert log.read_text().split() == [
        "1.0",
        "0.1",
        "10.0",
        "10.0",
        str(_record(run)["params"]["lam"]),
    ]
    sel = _record(run)["selection"]
    assert [c["params"] for c in sel["candidates"]] == [{"lam": 1.0}, {"lam": 0.1}, {"lam": 10.0}]
    assert _record(run)["status"] == "complete"
    assert "selection on the val protocol (3 candidates" in again.output


def test_parallel_candidates_give_the_same_selection(tmp_path):
    runs = {}
    for jobs in ("1", "2"):
        run = tmp_path / f"j{jobs}"
        result = zsl(
            "train", "-m", "eszsl", "-d", "synthetic", "--device", "cpu", "-q", "-o", run,
            "--select", "gamma=1,1000", "-j", jobs, "--threads", "1",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        runs[jobs] = _record(run)["selection"]
    assert runs["2"]["executor"]["kind"] == "local" and runs["1"]["executor"]["kind"] == "inline"

    def scores(sel: dict) -> list:
        return [(c["id"], c["params"], c["metrics"]["gzsl"]) for c in sel["candidates"]]

    assert scores(runs["1"]) == scores(runs["2"])
    assert runs["1"]["chosen"] == runs["2"]["chosen"]


def test_a_vae_method_selects_with_few_epochs(tmp_path):
    from zsl_toolkit.methods.vae.cada import CADAVAE
    from zsl_toolkit.settings import RunSettings
    from zsl_toolkit.sweep.select import train_selected
    from zsl_toolkit.training import TrainConfig

    quick = {k: v for k, v in CADAVAE.quick_params.items() if k != "unseen_samples"}
    result = train_selected(
        RunSettings(
            "cada-vae",
            "synthetic",
            params=quick,
            config=TrainConfig(device="cpu", epochs=2, quiet=True),
            select=["unseen_samples=20,40"],
        ),
        out=tmp_path / "run",
    )
    sel = result.config["selection"]
    assert [c["params"] for c in sel["candidates"]] == [
        {"unseen_samples": 20},
        {"unseen_samples": 40},
    ]
    assert result.config["params"]["unseen_samples"] == sel["chosen"]["unseen_samples"]
    assert all(np.isfinite(c["metrics"]["gzsl"]["H"]) for c in sel["candidates"])
    # Fixed parameters reach every candidate and the final run.
    assert sel["given_params"]["latent_size"] == CADAVAE.quick_params["latent_size"]
    assert result.config["params"]["latent_size"] == CADAVAE.quick_params["latent_size"]


def test_a_sweep_trial_can_select(tmp_path):
    from zsl_toolkit.sweep import load_sweep_config, run_sweep, write_report

    (tmp_path / "s.toml").write_text(
        '[sweep]\nname = "s"\nseeds = [0]\ndevice = "cpu"\ndatasets = ["synthetic"]\n'
        "[methods.eszsl]\nlam = [1.0, 10.0]\nselect = {gamma = [10.0, 1000.0]}\n"
    )
    dry = zsl("sweep", tmp_path / "s.toml", "--dry-run")
    assert dry.exit_code == 0 and dry.output.count("[selects gamma on validation]") == 2
    cfg = load_sweep_config(tmp_path / "s.toml")
    outcome = run_sweep(cfg, tmp_path / "sweep", quiet=True)
    assert not outcome.failed and len(outcome.ran) == 2
    for tid in outcome.ran:
        record = _record(tmp_path / "sweep" / "trials" / tid)
        sel = record["selection"]
        assert [c["params"]["gamma"] for c in sel["candidates"]] == [10.0, 1000.0]
        assert sel["given_params"]["lam"] == record["params"]["lam"]
    report = write_report(tmp_path / "sweep").markdown
    assert "## Chosen on validation (per trial)" in report
    assert report.count("gamma=") >= 2
    # Planned again, the same trials are complete (the select spec is part of their id).
    assert len(run_sweep(cfg, tmp_path / "sweep", quiet=True).skipped) == 2


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--select", "gama=1,2"], ["--select gama", "did you mean 'gamma'"]),
        (["--select", "gamma=abc"], ["--select gamma=abc", "gamma"]),
        (["--select", "gamma=-1,1"], ["candidate (gamma=-1.0)", "gamma"]),
        (["--select", "gamma"], ["--select 'gamma'", "KEY=v1,v2"]),
        (["--select", "gamma=1,2", "-p", "gamma=3"], ["--select gamma", "also fixed"]),
        (["-j", "2"], ["no --select given"]),
        (["--select", "gamma=1,2", "--dataset-option", "x=1"], ["--dataset-option"]),
    ],
)
def test_bad_select_is_one_line_and_writes_nothing(tmp_path, args, fragments):
    run = tmp_path / "run"
    result = zsl(
        "train", "-m", "eszsl", "-d", "synthetic", "--device", "cpu", "-q", "-o", run, *args
    )
    lines = result.output.strip().splitlines()
    assert result.exit_code != 0 and len(lines) == 1 and lines[0].startswith("error: "), (
        result.output
    )
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    assert not run.exists()


def test_auto_without_declared_candidates_and_bad_sweep_select(tmp_path, fake_distribution):
    fake_distribution(
        "zsl-plain",
        {"zsl_toolkit.methods": {"plain": "zsl_plain_mod:Plain"}},
        "from zsl_toolkit.methods.eszsl import ESZSL\n\n"
        "class Plain(ESZSL):\n    citation = 'test double'\n    select_candidates = {}\n",
    )
    result = zsl(
        "train", "-m", "plain", "-d", "synthetic", "-q", "-o", tmp_path / "r", "--select", "auto"
    )
    assert result.exit_code != 0 and "declares no candidates" in result.output
    from zsl_toolkit.errors import ConfigError
    from zsl_toolkit.sweep import parse_sweep_config, plan_trials

    cfg = parse_sweep_config(
        '[sweep]\nseeds = [0]\ndatasets = ["synthetic"]\n[methods.eszsl]\nselect = {gama = [1.0]}\n',
        "s.toml",
    )
    with pytest.raises(ConfigError, match=r"s.toml line 5: \[methods.eszsl\] select"):
        plan_trials(cfg)


def test_auto_leaves_fixed_parameters_fixed():
    from zsl_toolkit.methods.eszsl import ESZSL
    from zsl_toolkit.selection.spec import SelectSpec, candidate_axes

    axes = candidate_axes(SelectSpec(auto=True), ESZSL, "eszsl", {"gamma": 5.0})
    assert axes == {"lam": list(ESZSL.select_candidates["lam"])}
    axes = candidate_axes(SelectSpec(True, {"lam": [2.0]}), ESZSL, "eszsl", {})
    assert axes == {"gamma": list(ESZSL.select_candidates["gamma"]), "lam": [2.0]}


def test_conformance_checks_declared_candidates():
    from zsl_toolkit.methods.eszsl import ESZSL
    from zsl_toolkit.testing.conformance import check_select_candidates

    check_select_candidates(ESZSL)

    class NoDefault(ESZSL):
        select_candidates = {"gamma": (1.0, 10.0)}

    class Invalid(ESZSL):
        select_candidates = {"gamma": (1e3, -1.0)}

    class Unknown(ESZSL):
        select_candidates = {"gama": (1e3,)}

    for bad, message in [(NoDefault, "lacks the default"), (Invalid, "not a valid value"),
                         (Unknown, "not a parameter")]:  # fmt: skip
        with pytest.raises(AssertionError, match=message):
            check_select_candidates(bad)


def test_dvae_auto_never_switches_disentangling_off():
    dvae = pytest.importorskip("zsl_dvae").DisentangledVAE
    from zsl_toolkit.testing.conformance import check_select_candidates

    check_select_candidates(dvae)
    assert {"gamma", "attribute_dispersing"} <= set(dvae.select_candidates)
    assert "disentangle" not in dvae.select_candidates


def test_the_selection_is_a_record_key_and_plain_training_refuses_to_select(tmp_path):
    """run.json's ``selection`` is kept by the typed run record (read, written, read again);
    pipeline.train and pipeline.resume refuse what only a selection can do, writing nothing."""
    from zsl_toolkit.errors import ConfigError, RunDirError
    from zsl_toolkit.pipeline import resume, train
    from zsl_toolkit.runs.record import read_record, write_record
    from zsl_toolkit.selection import SELECTING, selection_of
    from zsl_toolkit.settings import RunSettings

    with pytest.raises(ConfigError, match="train_selected"):
        train(RunSettings("eszsl", "synthetic", select="auto"), out=tmp_path / "never")
    assert not (tmp_path / "never").exists()

    run = tmp_path / "run"
    done = zsl("train", "-m", "eszsl", "-d", "synthetic", "--device", "cpu", "-q", "-o", run,
               "--select", "lam=1,10")  # fmt: skip
    assert done.exit_code == 0, done.output
    record = read_record(run)
    sel = selection_of(record)
    assert sel == _record(run)["selection"] and sel["chosen"]["lam"] in (1.0, 10.0)
    assert "selection" not in record.to_dict()["params"]
    write_record(run, record.updated(status=SELECTING))
    assert selection_of(read_record(run)) == sel
    with pytest.raises(RunDirError, match="zsl train --resume"):
        resume(run)


def test_a_single_validation_class_leaves_nothing_to_choose_on(tmp_path):
    """toy's validation problem has one validation class: no candidate is trained, the
    default is, and the record and `zsl info` say why."""
    run = tmp_path / "run"
    result = zsl(
        "train", "-m", "eszsl", "-d", "toy", "--device", "cpu", "-o", run,
        "--select", "gamma=1,100,1000",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    sel = _record(run)["selection"]
    assert sel["candidates"] == [] and "1 validation class" in sel["skipped"]
    assert sel["chosen"] == sel["default"]
    assert not (run / "selection").exists()
    assert "select: the val protocol has 1 validation class" in result.output
    info = zsl("info", run).output
    assert "not run: the val protocol has 1 validation class" in info
