"""Training progress when stderr is not a terminal: plain lines, at most one per epoch and
at most one per ``LINE_SECONDS``, always the last epoch, with stage, epoch/total, loss and
time left."""

from __future__ import annotations

import io
import re

from zsl_toolkit.data.synthetic import Toy
from zsl_toolkit.methods.registry import method_registry
from zsl_toolkit.training import TrainConfig, Trainer
from zsl_toolkit.training import progress as progress_module
from zsl_toolkit.training.progress import LineProgress

LINE = re.compile(r"^stage devise: epoch (\d+)/3, loss [0-9.e+-]+, \d+:\d\d left$")


def test_trainer_writes_one_line_per_epoch_to_a_non_terminal(capsys, monkeypatch):
    monkeypatch.setattr(progress_module, "LINE_SECONDS", 0.0)
    method = method_registry().load("devise").create({})
    Trainer(TrainConfig(device="cpu", epochs=3)).fit(method, Toy().load())
    lines = capsys.readouterr().err.splitlines()
    assert [int(LINE.match(line).group(1)) for line in lines] == [1, 2, 3], lines


def test_lines_are_rarer_than_the_minimum_interval_but_the_last_is_kept():
    stream = io.StringIO()
    p = LineProgress("vae", total=50, stream=stream, min_seconds=3600)
    for epoch in range(50):
        p.update(1, {"loss": 1.0 / (epoch + 1), "kl": 0.5})
    assert stream.getvalue().splitlines() == ["stage vae: epoch 50/50, loss 0.02, 0:00 left"]


def test_alternating_optimizers_show_each_loss_and_a_resumed_stage_counts_from_its_epoch():
    stream = io.StringIO()
    p = LineProgress("gan", total=10, done=4, stream=stream, min_seconds=0)
    p.update(1, {"critic.loss": 2.0, "generator.loss": 0.25, "critic.gp": 9.0})
    assert stream.getvalue().startswith(
        "stage gan: epoch 5/10, critic.loss 2, generator.loss 0.25,"
    )
