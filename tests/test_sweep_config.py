"""Sweep configs: every bad config is one line naming its line/key, and nothing is created;
trial planning expands grids and names trials by a stable hash of their resolved config."""

from __future__ import annotations

import itertools
import textwrap

import pytest
from click.testing import CliRunner

from zsl_toolkit.cli import cli
from zsl_toolkit.errors import ConfigError
from zsl_toolkit.sweep import config_from_options, parse_sweep_config, plan_trials
from zsl_toolkit.sweep.config import parse_seeds, split_values

GOOD = """\
[sweep]
name = "grid"
seeds = [0, 1, 2]

[[sweep.datasets]]
name = "toy"

[[sweep.datasets]]
name = "synthetic"

[methods.eszsl]
gamma = [1, 10, 100]
lam = [0.5, 1.0]

[methods."eszsl-l2"]
method = "eszsl"
preprocess = "l2"
[[methods."eszsl-l2".variants]]
gamma = 0.1
[[methods."eszsl-l2".variants]]
gamma = 1
lam = 2
"""


def invoke(tmp_path, monkeypatch, text: str, *extra: str):
    cfg = tmp_path / "sweep.toml"
    cfg.write_text(textwrap.dedent(text))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = CliRunner().invoke(cli, ["sweep", str(cfg), "--out", str(tmp_path / "out"), *extra])
    return result, work


def assert_one_line_error(result, *fragments: str) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


BAD = {
    "malformed": (
        '[sweep]\nseeds = [0, 1\nname = "x"\n',
        ["malformed TOML", "line 3"],
    ),
    "unknown method": (
        '[sweep]\nseeds = [0]\n[[sweep.datasets]]\nname = "toy"\n\n[methods.nope]\ngamma = 1\n',
        ["line 6", "[methods.nope]", "unknown method 'nope'", "eszsl"],
    ),
    "unknown parameter": (
        '[sweep]\nseeds = [0]\n[[sweep.datasets]]\nname = "toy"\n[methods.eszsl]\n'
        "gamma = [1, 2]\ngama = 3\n",
        ["line 7", "[methods.eszsl] gama", "valid: gamma, lam, preprocess"],
    ),
    "empty grid": (
        '[sweep]\nseeds = [0]\n[[sweep.datasets]]\nname = "toy"\n[methods.eszsl]\ngamma = []\n',
        ["line 6", "[methods.eszsl] gamma", "empty list"],
    ),
    "empty seeds": (
        '[sweep]\nname = "x"\nseeds = []\n[[sweep.datasets]]\nname = "toy"\n[methods.eszsl]\n',
        ["line 3", "[sweep] seeds", "empty"],
    ),
    "duplicate seeds": (
        '[sweep]\nseeds = [1, 1]\n[[sweep.datasets]]\nname = "toy"\n[methods.eszsl]\n',
        ["[sweep] seeds", "more than once"],
    ),
    "unknown dataset": (
        '[sweep]\nseeds = [0]\n[[sweep.datasets]]\nname = "toy"\n[[sweep.datasets]]\n'
        'name = "nope"\n[methods.eszsl]\n',
        ["line 6", "[sweep.datasets] name", "unknown dataset 'nope'", "synthetic"],
    ),
    "missing root": (
        '[sweep]\nseeds = [0]\n[[sweep.datasets]]\nname = "toy"\nroot = "/no/such/dir"\n'
        "[methods.eszsl]\n",
        ["line 5", "[sweep.datasets] root", "/no/such/dir", "not a directory"],
    ),
    "wrong type": (
        '[sweep]\nseeds = [0]\n[[sweep.datasets]]\nname = "toy"\n[methods.eszsl]\n'
        'gamma = [1, "big"]\n',
        ["line 6", "[methods.eszsl] gamma", "must be a number"],
    ),
    "invalid value": (
        '[sweep]\nseeds = [0]\n[[sweep.datasets]]\nname = "toy"\n[methods.eszsl]\n'
        'preprocess = ["l2", "zscore"]\n',
        ["[methods.eszsl]", "preprocess='zscore'", "preprocess must be one of"],
    ),
    "unknown sweep key": (
        '[sweep]\nseeds = [0]\nepoch = 3\n[[sweep.datasets]]\nname = "toy"\n[methods.eszsl]\n',
        ["line 3", "[sweep] epoch", "unknown key"],
    ),
    "unknown table": (
        '[sweep]\nseeds = [0]\n[[sweep.datasets]]\nname = "toy"\n[method.eszsl]\n',
        ["line 5", "[method]", "unknown table"],
    ),
    "no sweep table": ("[methods.eszsl]\ngamma = 1\n", ["missing [sweep] table"]),
    "no methods": (
        '[sweep]\nseeds = [0]\n[[sweep.datasets]]\nname = "toy"\n',
        ["no methods"],
    ),
    "unknown evaluator": (
        '[sweep]\nseeds = [0]\nevaluators = ["gzsl", "nope"]\n[[sweep.datasets]]\nname = "toy"\n'
        "[methods.eszsl]\n",
        ["[sweep] evaluators", "unknown evaluator 'nope'"],
    ),
    "duplicate trial": (
        '[sweep]\nseeds = [0]\n[[sweep.datasets]]\nname = "toy"\n[methods.a]\nmethod = "eszsl"\n'
        'gamma = 5\n[methods.b]\nmethod = "eszsl"\ngamma = 5.0\n',
        ["[methods.b]", "same trial as", "[methods.a]"],
    ),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_config_is_one_line_and_creates_nothing(tmp_path, monkeypatch, case):
    text, fragments = BAD[case]
    result, work = invoke(tmp_path, monkeypatch, text)
    assert_one_line_error(result, "sweep.toml", *fragments)
    assert not (tmp_path / "out").exists()
    assert list(work.iterdir()) == []  # no default sweeps/ folder either


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["-m", "eszsl", "-d", "toy", "-p", "gamma=1,abc"], ["gamma=abc", "expected a number"]),
        (["-m", "eszsl", "-d", "toy", "-p", "gamma="], ["empty value"]),
        (["-m", "eszsl", "-d", "toy", "-p", "gama=1"], ["'gama'", "valid: gamma, lam"]),
        (["-m", "eszsl", "-d", "toy", "--seeds", "0,x"], ["--seeds", "integers"]),
        (["-m", "eszsl", "-d", "toy", "--seeds", ","], ["--seeds", "empty"]),
        (["-m", "nope", "-d", "toy"], ["unknown method 'nope'"]),
        (["-m", "eszsl", "-d", "nope"], ["unknown dataset 'nope'"]),
        (["-d", "toy"], ["--method"]),
        (["-m", "eszsl", "-d", "toy", "--device", "tpu"], ["device must be"]),
    ],
)
def test_bad_options_are_one_line_and_create_nothing(tmp_path, monkeypatch, args, fragments):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["sweep", *args, "--out", str(tmp_path / "out")])
    assert_one_line_error(result, *fragments)
    assert list(tmp_path.iterdir()) == []


def test_config_and_method_options_are_exclusive(tmp_path, monkeypatch):
    result, _ = invoke(tmp_path, monkeypatch, GOOD, "-m", "eszsl")
    assert_one_line_error(result, "either a sweep CONFIG file or --method")


def test_non_sweep_output_directory_is_refused(tmp_path, monkeypatch):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    result, _ = invoke(tmp_path, monkeypatch, GOOD)
    assert_one_line_error(result, "not a sweep directory")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]


def test_missing_ray_is_a_clear_error(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    result, _ = invoke(tmp_path, monkeypatch, GOOD, "--executor", "ray")
    assert_one_line_error(result, "pip install 'zsl-toolkit[ray]'")
    assert not (tmp_path / "out").exists()


def test_dry_run_lists_trials_and_creates_nothing(tmp_path, monkeypatch):
    result, work = invoke(tmp_path, monkeypatch, GOOD, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "48 trials (dry run" in result.output
    assert not (tmp_path / "out").exists() and list(work.iterdir()) == []


# ---------------------------------------------------------------------------- planning
def test_grid_expansion_count_and_trial_contents():
    trials = plan_trials(parse_sweep_config(GOOD, "grid.toml"))
    gammas, lams, variants, datasets, seeds = [1.0, 10.0, 100.0], [0.5, 1.0], 2, 2, 3
    assert len(trials) == (len(gammas) * len(lams) + variants) * datasets * seeds
    assert len({t.id for t in trials}) == len(trials)
    grid = [t for t in trials if t.label == "eszsl" and t.dataset == "toy" and t.seed == 0]
    expected = {(g, lam) for g, lam in itertools.product(gammas, lams)}
    assert {(t.params["gamma"], t.params["lam"]) for t in grid} == expected
    assert all(t.swept == ("gamma", "lam") for t in grid)
    l2 = [t for t in trials if t.label == "eszsl-l2" and t.dataset == "synthetic" and t.seed == 2]
    assert sorted((t.params["gamma"], t.params.get("lam")) for t in l2) == [(0.1, None), (1.0, 2.0)]
    assert all(t.swept == ("gamma", "lam") for t in l2)  # lam is unset in one variant
    # the resolved config carries every parameter, defaults included
    assert {t.config["params"]["lam"] for t in l2} == {1.0, 2.0}
    assert all(t.config["params"]["preprocess"] == "l2" for t in l2)
    assert all(t.config["method"] == "eszsl" for t in trials)


def test_trial_ids_are_stable_and_depend_only_on_the_resolved_config():
    base = {t.id: t for t in plan_trials(parse_sweep_config(GOOD, "a.toml"))}
    again = {t.id for t in plan_trials(parse_sweep_config(GOOD, "b.toml"))}
    assert again == set(base)
    # Reordered keys, a renamed label and 100 written as 100.0: the same trials.
    reordered = GOOD.replace(
        "gamma = [1, 10, 100]\nlam = [0.5, 1.0]", "lam = [0.5, 1]\ngamma = [1, 10, 100.0]"
    )
    reordered = reordered.replace('"eszsl-l2"', '"l2-variant"')
    assert {t.id for t in plan_trials(parse_sweep_config(reordered))} == set(base)
    # One more seed: the existing trials keep their ids, six per dataset are new.
    more = {
        t.id for t in plan_trials(parse_sweep_config(GOOD.replace("[0, 1, 2]", "[0, 1, 2, 3]")))
    }
    assert set(base) < more and len(more - set(base)) == 8 * 2
    # Anything that changes the result changes the id.
    epochs = {
        t.id
        for t in plan_trials(
            parse_sweep_config(GOOD.replace('name = "grid"', 'name = "grid"\nepochs = 3'))
        )
    }
    assert not epochs & set(base)
    evals = GOOD.replace('name = "grid"', 'name = "grid"\nevaluators = ["gzsl"]')
    assert not {t.id for t in plan_trials(parse_sweep_config(evals))} & set(base)


def test_options_build_the_same_trials_as_a_file():
    text = (
        '[sweep]\nseeds = [0, 1]\ndatasets = ["toy"]\n[methods.eszsl]\ngamma = [1, 10]\nlam = 2\n'
    )
    from_file = {t.id for t in plan_trials(parse_sweep_config(text))}
    cfg = config_from_options(["eszsl"], ["toy"], (0, 1), ["gamma=1,10", "lam=2"])
    assert {t.id for t in plan_trials(cfg)} == from_file and len(from_file) == 4


def test_value_splitting_and_seeds():
    assert split_values('1,[2,3], {"a": 1,"b": 2}') == ["1", "[2,3]", '{"a": 1,"b": 2}']
    assert parse_seeds("3,1, 2") == (3, 1, 2)
    with pytest.raises(ConfigError, match="more than once"):
        parse_seeds("1,1")


def test_trial_folders_are_named_by_their_settings():
    trials = plan_trials(config_from_options(["eszsl"], ["toy"], (0, 1), ["gamma=1,10"]))
    names = sorted(t.id for t in trials)
    assert [n.rsplit("-", 1)[0] for n in names] == [
        "eszsl-toy-gamma=1-s0",
        "eszsl-toy-gamma=1-s1",
        "eszsl-toy-gamma=10-s0",
        "eszsl-toy-gamma=10-s1",
    ]
    assert all(len(n.rsplit("-", 1)[1]) == 12 for n in names)  # the config hash keeps them unique
    val = plan_trials(
        config_from_options(["eszsl"], ["toy"], (0,), ["gamma=1"], protocols=("val",))
    )
    assert val[0].id.startswith("eszsl-toy-gamma=1-s0-val-")


def test_trial_ids_do_not_depend_on_where_the_project_sits(tmp_path, monkeypatch):
    """A project moved (or cloned) elsewhere with its data beside it plans the same ids, so a
    resumed sweep and a committed table still match; training still reads the absolute path."""
    from zsl_toolkit.data.hdf5 import save_h5
    from zsl_toolkit.data.resolve import load_dataset

    text = '[sweep]\nseeds = [0]\ndatasets = ["data/toy.h5"]\n[methods.eszsl]\ngamma = [1, 10]\n'
    planned = {}
    for place in ("here", "elsewhere/deeper"):
        project = tmp_path / place
        (project / "data").mkdir(parents=True)
        save_h5(load_dataset("toy"), project / "data" / "toy.h5")
        monkeypatch.chdir(project)
        trials = plan_trials(parse_sweep_config(text.replace("data/", "./data/../data/")))
        assert {t.config["dataset"] for t in trials} == {str(project / "data" / "toy.h5")}
        planned[place] = sorted(t.id for t in trials)
    assert planned["here"] == planned["elsewhere/deeper"] and len(planned["here"]) == 2
    # A different file spelled differently is a different trial.
    (tmp_path / "here" / "data" / "toy.h5").rename(tmp_path / "here" / "data" / "other.h5")
    monkeypatch.chdir(tmp_path / "here")
    other = plan_trials(parse_sweep_config(text.replace("toy.h5", "other.h5")))
    assert not {t.id for t in other} & set(planned["here"])
