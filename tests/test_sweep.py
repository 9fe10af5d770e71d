"""Running sweeps end to end: local and Ray executors agree bit for bit, interrupted sweeps
resume with only the missing trials, failures are recorded without stopping the others, and
reports aggregate over seeds with sample statistics."""

from __future__ import annotations

import csv
import io
import json
import shutil
import statistics
from pathlib import Path

import pytest
from click.testing import CliRunner

from zsl_toolkit.cli import cli
from zsl_toolkit.methods.registry import method_registry

SEEDS = [0, 1, 2]
DATASETS = ["toy", "synthetic"]


def second_method() -> tuple[str, str]:
    """A second real, quick method: a stochastic one when installed, else ESZSL with l2 input."""
    names = method_registry().names()
    for name in ("ale", "devise"):
        if name in names:
            return name, f"[methods.{name}]\nepochs = 1\n"
    return "eszsl-l2", '[methods."eszsl-l2"]\nmethod = "eszsl"\npreprocess = "l2"\ngamma = 0.5\n'


def sweep_text() -> str:
    datasets = "".join(f'[[sweep.datasets]]\nname = "{d}"\n' for d in DATASETS)
    return (
        f'[sweep]\nname = "two-methods"\nseeds = {SEEDS}\n{datasets}\n'
        f"[methods.eszsl]\ngamma = [1, 10]\n\n{second_method()[1]}"
    )


N_TRIALS = (2 + 1) * len(DATASETS) * len(SEEDS)


def zsl(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def read(path: Path):
    return json.loads(Path(path).read_text())


def metrics_by_trial(sweep_dir: Path) -> dict[str, dict]:
    out = {}
    for d in sorted((sweep_dir / "trials").iterdir()):
        m = read(d / "metrics.json")
        m.pop("train_seconds")  # wall time: the only value allowed to differ
        out[d.name] = m
    return out


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sweep")
    cfg = root / "sweep.toml"
    cfg.write_text(sweep_text())
    out = root / "local"
    result = zsl("sweep", cfg, "--out", out, "--jobs", 2, "--threads", 1)
    assert result.exit_code == 0, result.output
    return out


def copy_of(sweep: Path, tmp_path: Path) -> Path:
    target = tmp_path / sweep.name
    shutil.copytree(sweep, target)
    return target


def test_local_sweep_writes_ordinary_run_dirs_and_a_report(local_sweep):
    plan = read(local_sweep / "sweep.json")
    state = read(local_sweep / "state.json")
    assert len(plan["trials"]) == N_TRIALS
    assert state["invocations"][-1]["jobs"] == 2 and state["invocations"][-1]["threads"] == 1
    assert sorted(state["invocations"][-1]["ran"]) == sorted(t["id"] for t in plan["trials"])
    labels = {t["label"] for t in plan["trials"]}
    assert labels == {"eszsl", second_method()[0]}
    for t in plan["trials"]:
        d = local_sweep / "trials" / t["id"]
        record = read(d / "run.json")
        assert record["status"] == "complete"
        assert record["train"]["seed"] == t["seed"] and record["dataset"] == t["dataset"]
        assert read(d / "trial.json")["config"] == t["config"]
        assert state["trials"][t["id"]]["status"] == "complete"
    # Any trial is an ordinary run: re-evaluating it reproduces its stored metrics.
    some = local_sweep / "trials" / plan["trials"][-1]["id"]
    again = zsl("evaluate", some, "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["gzsl"] == read(some / "metrics.json")["gzsl"]
    for ext in ("md", "csv", "json"):
        assert (local_sweep / f"report.{ext}").is_file()
    report = read(local_sweep / "report.json")
    assert len(report["cells"]) == 3 * len(DATASETS)
    assert all(c["n"] == len(SEEDS) for c in report["cells"])


def test_ray_executor_gives_identical_metrics(local_sweep, tmp_path):
    pytest.importorskip("ray")
    cfg = tmp_path / "sweep.toml"
    cfg.write_text(sweep_text())
    out = tmp_path / "ray"
    result = zsl("sweep", cfg, "--out", out, "--executor", "ray", "--jobs", 2, "--threads", 1, "-q")
    assert result.exit_code == 0, result.output
    state = read(out / "state.json")
    assert state["invocations"][-1]["executor"] == "ray"
    local, ray = metrics_by_trial(local_sweep), metrics_by_trial(out)
    assert len(local) == N_TRIALS and local.keys() == ray.keys()
    for tid in local:
        assert ray[tid] == local[tid], tid


def test_resume_runs_only_missing_or_incomplete_trials(local_sweep, tmp_path):
    sweep = copy_of(local_sweep, tmp_path)
    ids = [t["id"] for t in read(sweep / "sweep.json")["trials"]]
    deleted, truncated, running, foreign = ids[0], ids[4], ids[9], ids[15]
    shutil.rmtree(sweep / "trials" / deleted)
    (sweep / "trials" / truncated / "metrics.json").unlink()
    record = read(sweep / "trials" / running / "run.json")
    record["status"] = "running"  # what a killed trial leaves behind
    (sweep / "trials" / running / "run.json").write_text(json.dumps(record))
    marker = read(sweep / "trials" / foreign / "trial.json")
    marker["config"]["seed"] = 99  # a directory holding some other config
    (sweep / "trials" / foreign / "trial.json").write_text(json.dumps(marker))
    redo = {deleted, truncated, running, foreign}
    untouched = {
        tid: (sweep / "trials" / tid / "model.pt").stat().st_mtime_ns
        for tid in ids
        if tid not in redo
    }

    config = local_sweep.parent / "sweep.toml"
    result = zsl("sweep", config, "--out", sweep, "--jobs", 2, "--threads", 1, "-q")
    assert result.exit_code == 0, result.output
    last = read(sweep / "state.json")["invocations"][-1]
    assert last["index"] == 2
    assert set(last["ran"]) == redo and last["skipped"] == N_TRIALS - len(redo)
    for tid, mtime in untouched.items():
        assert (sweep / "trials" / tid / "model.pt").stat().st_mtime_ns == mtime, tid
    assert metrics_by_trial(sweep) == metrics_by_trial(local_sweep)
    trials = read(sweep / "state.json")["trials"]
    assert {tid for tid, t in trials.items() if t["ran_in"] == 2} == redo


def test_failing_trial_is_recorded_and_the_others_complete(tmp_path):
    empty_root = tmp_path / "empty"  # cub needs CUB/res101.mat here: loading it fails
    empty_root.mkdir()
    cfg = tmp_path / "fail.toml"
    cfg.write_text(
        '[sweep]\nname = "with-failure"\nseeds = [0, 1]\n[[sweep.datasets]]\nname = "toy"\n'
        f'[[sweep.datasets]]\nname = "cub"\nroot = "{empty_root}"\n[methods.eszsl]\n'
    )
    out = tmp_path / "out"
    result = zsl("sweep", cfg, "--out", out, "--jobs", 2, "-q")
    assert result.exit_code == 1, result.output
    assert "error: 2 of 4 trials failed" in result.output
    state = read(out / "state.json")
    by_status: dict[str, set] = {}
    for tid, t in state["trials"].items():
        by_status.setdefault(t["status"], set()).add((t["dataset"], tid))
    assert {d for d, _ in by_status["complete"]} == {"toy"} and len(by_status["complete"]) == 2
    assert {d for d, _ in by_status["failed"]} == {"cub"} and len(by_status["failed"]) == 2
    for _, tid in by_status["failed"]:
        error = state["trials"][tid]["error"]
        assert error and "\n" not in error
        assert (out / "trials" / tid / "error.txt").read_text().splitlines()[0] == error
    report = read(out / "report.json")
    cub = [c for c in report["cells"] if c["dataset"] == "cub"]
    assert cub[0]["n"] == 0 and len(cub[0]["failed_trials"]) == 2
    assert "Failed trials:" in (out / "report.md").read_text()

    # Published values sit beside the measured ones only when asked for.
    plain = zsl("report", out)
    assert plain.exit_code == 0 and "published" not in plain.output
    with_pub = zsl("report", out, "--published")
    assert with_pub.exit_code == 0, with_pub.output
    header = next(line for line in with_pub.output.splitlines() if line.startswith("| method"))
    assert header.endswith("| published U (%) | published S (%) | published H (%) |")
    cub_row = next(line for line in with_pub.output.splitlines() if "| cub |" in line)
    toy_row = next(line for line in with_pub.output.splitlines() if "| toy |" in line)
    assert cub_row.endswith("| 12.6 | 63.8 | 21.0 |") and toy_row.endswith("| - | - | - |")
    rows = list(csv.DictReader(io.StringIO((out / "report.csv").read_text())))
    assert [float(r["published_H (fraction)"]) for r in rows if r["dataset"] == "cub"] == [0.21]

    # A re-run retries the failures and skips what completed.
    again = zsl("sweep", cfg, "--out", out, "-q")
    assert again.exit_code == 1
    last = read(out / "state.json")["invocations"][-1]
    assert last["ran"] == [] and last["skipped"] == 2
    assert set(last["failed"]) == {tid for _, tid in by_status["failed"]}


def test_report_statistics_are_sample_mean_std_and_n(local_sweep, tmp_path):
    sweep = copy_of(local_sweep, tmp_path)
    trials = read(sweep / "sweep.json")["trials"]
    cell = [t for t in trials if t["label"] == "eszsl" and t["dataset"] == "toy"]
    cell = [t for t in cell if t["params"]["gamma"] == 1.0]
    values = {"H": [0.2, 0.4, 0.9], "T1": [0.5, 0.5, 0.8], "train_seconds": [1.0, 2.0, 6.0]}
    for i, t in enumerate(cell):
        path = sweep / "trials" / t["id"] / "metrics.json"
        m = read(path)
        m["gzsl"]["H"], m["zsl"]["T1"] = values["H"][i], values["T1"][i]
        m["train_seconds"] = values["train_seconds"][i]
        path.write_text(json.dumps(m))
    other = [t for t in trials if t["label"] == "eszsl" and t["dataset"] == "synthetic"][0]
    shutil.rmtree(sweep / "trials" / other["id"])  # a missing trial: n drops to 2

    result = zsl("report", sweep)
    assert result.exit_code == 0, result.output
    cells = read(sweep / "report.json")["cells"]
    got = next(c for c in cells if c["trials"] == [t["id"] for t in cell])
    for name, key in (("H", "H"), ("T1", "T1"), ("train_s", "train_seconds")):
        stat = got["metrics"][name]
        assert stat["n"] == 3
        assert stat["mean"] == pytest.approx(statistics.mean(values[key]), abs=1e-12)
        assert stat["std"] == pytest.approx(statistics.stdev(values[key]), abs=1e-12)
    h_mean, h_std = statistics.mean(values["H"]), statistics.stdev(values["H"])
    assert f"{100 * h_mean:.2f} ± {100 * h_std:.2f}" in result.output
    short = next(c for c in cells if other["id"] in c["trials"])
    assert short["n"] == 2 and short["planned"] == 3
    assert any("| 2/3 |" in line and "gamma=" in line for line in result.output.splitlines())
    rows = list(csv.DictReader(io.StringIO((sweep / "report.csv").read_text())))
    row = next(
        r for r in rows if json.loads(r["params"]) == cell[0]["params"] and r["dataset"] == "toy"
    )
    assert float(row["H_std (fraction)"]) == pytest.approx(h_std, abs=1e-12) and row["n"] == "3"


def test_summary_of_equal_and_single_values():
    from zsl_toolkit.sweep.report import summarize

    third = 0.4642857142857143  # fsum of three copies, divided by 3, is not exactly this
    equal = summarize([third, third, third])
    assert (equal.mean, equal.std, equal.n) == (third, 0.0, 3)
    single = summarize([0.25])
    assert (single.mean, single.std, single.n) == (0.25, None, 1)
    assert summarize([]).n == 0 and summarize([]).mean is None


def test_plots(local_sweep, tmp_path):
    pytest.importorskip("matplotlib")
    sweep = copy_of(local_sweep, tmp_path)
    result = zsl("report", sweep, "--plot", "gamma")
    assert result.exit_code == 0, result.output
    png = sweep / "plot-H-vs-gamma.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in ("report.md", "report.csv", "report.json"):
        (sweep / name).unlink()
    bad = zsl("report", sweep, "--plot", "lam")
    assert bad.exit_code == 2 and "swept: gamma" in bad.output
    assert not (sweep / "report.md").exists()  # refused before writing the report
    bad = zsl("report", sweep, "--plot", "gamma", "--metric", "X")
    assert bad.exit_code == 2 and "--metric 'X'" in bad.output
    assert not (sweep / "report.md").exists()

    run_dir = sweep / "trials" / read(sweep / "sweep.json")["trials"][0]["id"]
    log = [{"stage": "vae", "epoch": e, "loss": 10.0 / e, "kl": 0.1 * e, "seconds": 0.1}
           for e in range(1, 6)]  # fmt: skip
    log += [{"stage": "classifier", "epoch": e, "loss": 1.0 / e, "seconds": 0.1} for e in (1, 2)]
    (run_dir / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    out = tmp_path / "curves.png"
    result = zsl("plot", run_dir, "--out", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    missing = zsl("plot", tmp_path)
    assert missing.exit_code == 2 and "not a run directory" in missing.output


def test_missing_matplotlib_is_a_clear_error(local_sweep, monkeypatch):
    import sys

    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    run_dir = next((local_sweep / "trials").iterdir())
    result = zsl("plot", run_dir, "--out", run_dir.parent.parent / "never.png")
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: plotting needs matplotlib, which is not installed: pip install 'zsl-toolkit[plot]'"
    )


def test_run_plot_draws_loss_terms_only():
    from zsl_toolkit.plots import loss_terms

    rows = [{"stage": "vae", "stage_index": 0, "epoch": 3, "seconds": 1.5, "kl": 2.0, "loss": 9.0}]
    assert loss_terms(rows) == ["kl", "loss"]


def test_progress_line_counts_and_estimate():
    from zsl_toolkit.sweep.progress import Progress

    stream = io.StringIO()
    p = Progress("demo", total=5, skipped=1, stream=stream)
    assert "0:00 elapsed, -- left" in p.line()
    p.started()
    p.started()
    p.ended(True)
    p.ended(False, "abc: boom")
    assert stream.getvalue().count("\n") == 1  # only the failure so far: lines wait for a tick
    p.started()  # the runner refills the freed slot, then ticks
    p.tick()
    line = p.line()
    assert line.startswith("sweep demo: 2/5 done (1 skipped), 1 running, 1 failed | ")
    assert "failed: abc: boom" in stream.getvalue()
    assert stream.getvalue().endswith(line + "\n")  # the log line counts the refilled trial
    p.tick()  # nothing new ended: nothing written
    assert stream.getvalue().count("\n") == 2  # not a terminal: one line per tick after ends
    p.ended(True)
    p.close()  # the last line is not lost
    assert (
        stream.getvalue().splitlines()[-1].startswith("sweep demo: 3/5 done (1 skipped), 0 running")
    )


def test_report_on_a_non_sweep_directory(tmp_path):
    result = zsl("report", tmp_path)
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "is not a sweep directory" in result.output


@pytest.mark.parametrize("cmd", [["sweep"], ["report"], ["plot"]])
def test_help(cmd):
    result = zsl(*cmd, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output
