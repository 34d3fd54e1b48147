"""The LSTM benchmark workload runs for chainrule and PyTorch from the same data and weights: their
first losses agree (no speed is asserted)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


def test_lstm_workload_runs_for_chainrule_and_pytorch_alike(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "lstm.json"
    command = [sys.executable, str(RUN), "--quick", "--workloads", "LSTM", "--peers", "chainrule,torch",
               "--rounds", "1", "--steps", "2", "--warmup-s", "0", "--json", str(out)]
    one_thread = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **one_thread})
    assert done.returncode == 0, done.stderr[-2000:]
    entries = json.loads(out.read_text())["workloads"]["LSTM"]
    ours, theirs = entries["chainrule"]["first_losses"], entries["torch"]["first_losses"]
    assert len(ours) == len(theirs) >= 3
    for a, b in zip(ours, theirs):   # the same SGD steps, to float32 rounding
        assert abs(a - b) <= 1e-4 * abs(b)
    targets = json.loads(out.read_text())["targets"]
    assert any(t["target"] == "LSTM chainrule <= 1.5x PyTorch" for t in targets)
