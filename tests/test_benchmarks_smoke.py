"""The benchmark harness runs end to end and writes the JSON it promises (no speed is asserted)."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


def test_harness_runs_chainrule_and_numpy_on_w2(tmp_path):
    out = tmp_path / "results.json"
    command = [sys.executable, str(RUN), "--quick", "--workloads", "W2", "--peers", "chainrule,numpy",
               "--rounds", "2", "--steps", "3", "--warmup-s", "0", "--json", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "W2" in done.stdout and "chainrule" in done.stdout

    results = json.loads(out.read_text())
    assert results["settings"]["rounds"] == 2 and results["settings"]["quick"] is True
    assert "OPENBLAS_CORETYPE" in results["machine"]["environment"]
    entries = results["workloads"]["W2"]
    assert set(entries) == {"chainrule", "numpy"}
    for entry in entries.values():
        assert len(entry["round_medians_ms"]) == 2
        assert entry["steps_per_round"] == [3, 3]
        assert entry["median_ms"] > 0 and entry["peak_rss_mb"] > 0
        assert isinstance(entry["thread_pools"], list)
    # same data and initial weights in both: the first losses agree
    first = [entry["first_loss"] for entry in entries.values()]
    assert abs(first[0] - first[1]) <= 1e-4 * abs(first[1])
    assert {t["target"] for t in results["targets"]} >= {"W2 chainrule <= PyTorch"}
    assert "W5" not in results


def test_paired_ratio_cancels_drift_between_rounds():
    sys.path.insert(0, str(RUN.parent))
    try:
        import report
    finally:
        sys.path.remove(str(RUN.parent))
    # a 1.5x slow spell hits chainrule's half of round 2 and covers all of round 3:
    # the medians compare a slow chainrule with a fast peer (1.35), the paired rounds do not (0.9)
    ours = {"round_medians_ms": [0.9, 1.35, 1.35], "median_ms": 1.35}
    theirs = {"round_medians_ms": [1.0, 1.0, 1.5], "median_ms": 1.0}
    assert abs(report.paired_ratio(ours, theirs) - 0.9) < 1e-12
    assert report.paired_ratio(ours, {}) is None
    results = {"workloads": {"W1": {"chainrule": ours, "torch": theirs}}}
    torch_row = next(line for line in report.workload_table(results) if line.split()[1:2] == ["torch"])
    assert torch_row.split()[3:5] == ["1.35", "0.90"]



def test_the_small_gpt_takes_the_same_steps_in_chainrule_and_pytorch():
    """The GPT workload's model, written once for both libraries (gpt_model.py), from the same weights: the
    first AdamW steps give the same losses, so the two time the same arithmetic."""
    sys.path.insert(0, str(RUN.parent))
    try:
        import gpt_model
        import problems
        from peers import chainrule_peer
    finally:
        sys.path.remove(str(RUN.parent))
    problem = problems.make("GPT")
    step = chainrule_peer.build("GPT", problem)
    ours = [step() for _ in range(3)]
    assert abs(ours[0] - math.log(problem["vocab"])) < 0.1 and ours[2] < ours[0]
    torch = pytest.importorskip("torch")
    step = gpt_model.training_step(torch, problem)
    theirs = [step() for _ in range(3)]
    assert np.allclose(ours, theirs, rtol=1e-5), (ours, theirs)
