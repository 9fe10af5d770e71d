"""benchmarks/dvae_ablation.py runs its rows as sweep trials and resumes from them."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "dvae_ablation.py"
TINY = "hidden_scale=0.05,seen_samples=20,unseen_samples=20,classifier_epochs=3"


@pytest.fixture(scope="module")
def ablation():
    if not SCRIPT.is_file():
        pytest.skip("benchmarks/ not beside the plugin (installed from an sdist)")
    spec = importlib.util.spec_from_file_location("dvae_ablation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_table4_rows_run_as_sweep_trials_and_resume(ablation, tmp_path, capsys):
    out, sweeps = tmp_path / "results", tmp_path / "sweeps"
    argv = [
        "--dataset", "toy", "--seeds", "0", "1", "--epochs", "2", "--experiments", "table4",
        "--params", TINY, "--workers", "2", "--threads", "1",
        "--out", str(out), "--sweep-dir", str(sweeps),
    ]  # fmt: skip
    ablation.main(argv)
    assert "6 runs to do (6 planned)" in capsys.readouterr().out
    records = [json.loads(line) for line in (out / "toy.jsonl").read_text().splitlines()]
    assert len(records) == 6
    assert {r["params"].get("classifier_latent", "t") for r in records} == {"p", "t+p", "t"}
    state = json.loads((sweeps / "toy" / "state.json").read_text())
    assert {e["status"] for e in state["trials"].values()} == {"complete"}
    plan = json.loads((sweeps / "toy" / "sweep.json").read_text())
    labels = {t["label"] for t in plan["trials"]}  # what `zsl report` shows per row
    assert "dvae classifier_epochs=3,classifier_latent=p,hidden_scale=0.05," in " ".join(labels)
    assert len(labels) == 3
    for r in records:
        # each record is the trial's own stored metrics, not a recomputation
        stored = json.loads((Path(r["trial"]) / "metrics.json").read_text())["gzsl"]
        assert r["H"] == stored["H"] and 0.0 <= r["H"] <= 1.0
        assert r["resolved"]["classifier_epochs"] == 3
    table = (out / "toy.md").read_text()
    assert "Table 4: latent of the final classifier" in table
    assert "| z_p |" in table and "| 2 |" in table  # two seeds per row

    ablation.main(argv)  # everything recorded: nothing runs again
    assert "0 runs to do (6 planned)" in capsys.readouterr().out
    assert len((out / "toy.jsonl").read_text().splitlines()) == 6


def test_lost_records_are_recovered_from_the_sweep(ablation, tmp_path, capsys):
    out, sweeps = tmp_path / "results", tmp_path / "sweeps"
    argv = [
        "--dataset", "toy", "--seeds", "0", "--epochs", "1", "--experiments", "table4",
        "--params", TINY, "--workers", "1", "--threads", "1",
        "--out", str(out), "--sweep-dir", str(sweeps),
    ]  # fmt: skip
    ablation.main(argv)
    first = (out / "toy.jsonl").read_text().splitlines()
    (out / "toy.jsonl").unlink()
    ablation.main(argv)  # the runner skips the completed trials and re-reads them
    state = json.loads((sweeps / "toy" / "state.json").read_text())
    assert state["invocations"][-1]["skipped"] == 3
    again = (out / "toy.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["H"] for x in again) == sorted(json.loads(x)["H"] for x in first)


def test_named_benchmark_from_a_data_root_prints_the_papers_numbers(ablation, tmp_path, capsys):
    sys.path.insert(0, str(SCRIPT.parents[1] / "tests"))
    try:
        from xlsa17_files import TINY_NAMES, tiny_arrays, write_pair
    finally:
        sys.path.pop(0)
    write_pair(tmp_path / "xlsa17" / "CUB", *tiny_arrays(), names=TINY_NAMES)
    out = tmp_path / "results"
    ablation.main(
        [
            "--dataset",
            "cub",
            "--data-root",
            str(tmp_path / "xlsa17"),
            "--seeds",
            "0",
            "--epochs",
            "1",
            "--experiments",
            "table4",
            "--params",
            TINY,
            "--workers",
            "1",
            "--threads",
            "1",
            "--out",
            str(out),
            "--sweep-dir",
            str(tmp_path / "sweeps"),
        ]  # fmt: skip
    )
    table = (out / "cub.md").read_text()
    assert "paper U / S / H" in table
    assert "| 1 | 43.4 / 53.1 / 47.7 |" in table  # z_p row: one run, the paper's Table 4 CUB
    assert " ± " not in table.split("### Table 4")[1].split("Training time")[0]  # n = 1


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--dataset", "nosuch"], "error: --dataset: unknown dataset 'nosuch'"),
        (["--dataset", "toy", "--params", "nosuch=1"], "nosuch: not a parameter of method 'dvae'"),
        (["--dataset", "cub", "--data-root", "/no/such/dir"], "error: --data-root: data root"),
    ],
)
def test_user_mistakes_end_in_one_line_and_write_nothing(ablation, tmp_path, extra, message):
    out, sweeps = tmp_path / "results", tmp_path / "sweeps"
    argv = [*extra, "--seeds", "0", "--experiments", "table4", "--out", str(out)]
    with pytest.raises(SystemExit) as exc:
        ablation.main([*argv, "--sweep-dir", str(sweeps)])
    text = str(exc.value)
    assert message in text and "\n" not in text
    assert not list(out.glob("*.jsonl")) and not list(sweeps.glob("*/trials/*"))
