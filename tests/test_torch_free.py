"""Reading run records, loading a run's data and evaluating scores import no torch, so
``zsl predict --dataset`` and tools that only read runs stay light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "runs-2026-12-06" / "eszsl-toy"

CODE = f"""
import sys
import numpy as np
from zsl_toolkit.evaluation import evaluate
from zsl_toolkit.runs import load_run_data, read_record

record = read_record({str(FIXTURE)!r})
data = load_run_data(record)

class Zeros:
    def predict_scores(self, features):
        return np.zeros((len(features), data.n_classes))

metrics = evaluate(Zeros(), data, record.evaluators)
assert set(metrics) == set(record.evaluators), metrics
print("torch" in sys.modules)
"""


def test_records_data_and_evaluation_need_no_torch():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
