"""The DVAE ablation tables come from sweep configs (benchmarks/configs/dvae_*.toml) run by
``zsl sweep`` and ``zsl report`` through benchmarks/run_dvae_ablation.sh."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from zsl_toolkit.cli import cli

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "benchmarks" / "run_dvae_ablation.sh"
RESULTS = REPO / "benchmarks" / "results" / "dvae"
TINY = {"hidden_scale": 0.05, "seen_samples": 20, "unseen_samples": 20, "classifier_epochs": 3}


@pytest.fixture(autouse=True)
def _benchmarks_beside():
    if not SCRIPT.is_file():
        pytest.skip("benchmarks/ not beside the plugin (installed from an sdist)")


def zsl(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def tiny_config(path: Path, dataset: str = "toy", seeds: str = "[0, 1]") -> Path:
    params = "\n".join(f"{k} = {v}" for k, v in TINY.items())
    path.write_text(
        f'[sweep]\nname = "tiny"\nseeds = {seeds}\nepochs = 1\nevaluators = ["gzsl"]\n'
        f'device = "cpu"\n\n[[sweep.datasets]]\nname = "{dataset}"\n\n'
        f"[methods.dvae]\n{params}\nvariants = [{{}}, {{ alpha = 1.0 }}]\n\n"
        f'[methods."z_p"]\nmethod = "dvae"\nclassifier_latent = "p"\nattribute_dispersing = true\n'
        f"{params}\n"
    )
    return path


def _row_key(method: str, params: dict, seed: int) -> str:
    return json.dumps(
        [method, {k: float(v) if type(v) is int else v for k, v in params.items()}, seed],
        sort_keys=True,
    )


#: Labels of the paper's Table 3 / Table 4 rows in the configs (hypothesis rows may differ).
ABLATION_LABELS = {"dvae", "base", "+dis", "z_p", "z_p + z_t", "dvae-base", "dvae-dis", "dvae-zp",
                   "dvae-ztp"}  # fmt: skip


def _configs() -> list[Path]:
    configs = REPO / "benchmarks" / "configs"
    return sorted([*configs.glob("dvae_*.toml"), *configs.glob("dvae_study/*.toml")])


def _skip_without_data(config) -> None:
    """Skip when a dataset the config names by path is not beside the repository."""
    if not all(Path(d.name).exists() or "/" not in d.name for d in config.datasets):
        pytest.skip("the dataset folder is not beside the repository")


@pytest.mark.parametrize("path", _configs(), ids=lambda p: p.name)
def test_every_ablation_row_uses_one_seen_rule(path, monkeypatch):
    """Table 3 / Table 4 rows leave ``seen_noise`` at DVAE's default (sampled, as the base
    model, CADA-VAE), so the ablation compares components, not seen-latent rules; and no
    ablation config shortens the primary stage below the method's default for one row only."""
    from zsl_toolkit.sweep import load_sweep_config, plan_trials

    monkeypatch.delenv("ZSL_DATA_ROOT", raising=False)
    monkeypatch.chdir(REPO)
    config = load_sweep_config(path)
    _skip_without_data(config)
    rows = [t for t in plan_trials(config) if t.label in ABLATION_LABELS]
    assert rows, "the config plans no ablation row"
    for t in rows:
        assert "seen_noise" not in t.params, f"{path.name}: row {t.label} pins seen_noise"
    assert len({(t.config["epochs"] is None) for t in rows}) == 1, "rows differ in epochs"


@pytest.mark.parametrize("dataset", ["digits", "synthetic", "snu36"])
def test_committed_tables_are_their_configs_trials(dataset, monkeypatch):
    """A regenerated table (report .json beside the .md) holds exactly the trials of the
    config its .md names (the dataset's full config, or another given by CONFIG=)."""
    from zsl_toolkit.sweep import load_sweep_config, plan_trials

    report = RESULTS / f"{dataset}.json"
    if not report.is_file():
        pytest.skip(f"{dataset}: table not regenerated since the configs changed")
    named = re.search(r"rows are the labels of `([^`]+)`", (RESULTS / f"{dataset}.md").read_text())
    assert named, f"{dataset}.md does not name its config"
    monkeypatch.delenv("ZSL_DATA_ROOT", raising=False)
    monkeypatch.chdir(REPO)
    config = load_sweep_config(REPO / named.group(1))
    _skip_without_data(config)
    planned = sorted(t.id for t in plan_trials(config))
    committed = sorted(t for c in json.loads(report.read_text())["cells"] for t in c["trials"])
    assert planned == committed


def test_script_runs_the_rows_and_resumes(tmp_path):
    env = {
        **os.environ,
        "CONFIG": str(tiny_config(tmp_path / "tiny.toml")),
        "RESULTS": str(tmp_path / "results"),
        "JOBS": "2",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    sweep = tmp_path / "sweep"
    cmd = ["bash", str(SCRIPT), "toy", str(sweep)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "results" / "toy.md").read_text()
    assert "| z_p | toy |" in table and "| dvae | toy | alpha=1.0 |" in table
    assert "2/2" in table  # two seeds per row
    assert (tmp_path / "results" / "toy_alpha.png").stat().st_size > 0
    cells = json.loads((tmp_path / "results" / "toy.json").read_text())["cells"]
    for cell in cells:  # each cell is the trials' own stored metrics, not a recomputation
        stored = [
            json.loads((sweep / "trials" / t / "metrics.json").read_text())["gzsl"]["H"]
            for t in cell["trials"]
        ]
        assert cell["n"] == 2 and len(stored) == 2
        assert cell["metrics"]["H"]["mean"] == pytest.approx(sum(stored) / 2, rel=1e-12)
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    state = json.loads((sweep / "state.json").read_text())
    assert state["invocations"][-1]["skipped"] == 6  # 3 rows x 2 seeds, none run again
    no_plot = {**env, "PLOT": "", "RESULTS": str(tmp_path / "no_plot")}
    third = subprocess.run(cmd, env=no_plot, capture_output=True, text=True, check=False)
    assert third.returncode == 0, third.stderr
    assert sorted(p.name for p in (tmp_path / "no_plot").iterdir()) == ["toy.json", "toy.md"]
    assert f"CONFIG={env['CONFIG']} PLOT= bash" in (tmp_path / "no_plot" / "toy.md").read_text()


def test_named_benchmark_report_shows_the_papers_ablation_rows(tmp_path):
    sys.path.insert(0, str(REPO / "tests"))
    try:
        from xlsa17_files import TINY_NAMES, tiny_arrays, write_pair
    finally:
        sys.path.pop(0)
    write_pair(tmp_path / "xlsa17" / "CUB", *tiny_arrays(), names=TINY_NAMES)
    config = tiny_config(tmp_path / "cub.toml", dataset="cub", seeds="[0]")
    out = tmp_path / "sweep"
    ran = zsl("sweep", config, "--data-root", tmp_path / "xlsa17", "-o", out, "-j", "1", "-q")
    assert ran.exit_code == 0, ran.output
    result = zsl("report", out, "--published")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("| z_p |"))
    assert "43.4" in row and "53.1" in row and "47.7" in row  # the paper's Table 4 CUB, z_p


def test_unknown_dataset_is_one_error_line_and_writes_nothing(tmp_path):
    if shutil.which("bash") is None:  # pragma: no cover
        pytest.skip("no bash")
    env = {
        **os.environ,
        "RESULTS": str(tmp_path / "results"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    cmd = ["bash", str(SCRIPT), "nosuch", str(tmp_path / "sweep")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    lines = [x for x in done.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "dvae_nosuch.toml" in lines[0]
    assert not (tmp_path / "results").exists()
