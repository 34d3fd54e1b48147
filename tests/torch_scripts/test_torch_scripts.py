"""PyTorch scripts run unchanged: each script in scripts/ runs twice, under ``chainrule run``
and under PyTorch itself (``python script.py``), in separate processes side by side, and
both must learn.

The libraries' random generators differ, so a script that draws random weights or batches is
compared by statistics: both losses fall, and the final ones (or the accuracies) agree within the
tolerance written in the test. A script that is deterministic given its data (the polynomial
fits start from fixed weights; L-BFGS; the counting bigram model) is compared number for number.
Without PyTorch installed, only chainrule's run is checked, against the same expectations.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import chainrule

SCRIPTS = Path(__file__).parent / "scripts"
SOURCE = str(Path(chainrule.__file__).resolve().parents[1])
HAVE_TORCH = importlib.util.find_spec("torch") is not None
TIMEOUT_S = 600
VOCABULARY = 27   # the characters of story.make_text()


def _environment() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = SOURCE + os.pathsep + env.get("PYTHONPATH", "")
    # one thread each: the two runs go side by side, and oversubscribed BLAS/OpenMP threads on a
    # small machine make both crawl
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", LANGUAGE="en",
               PYTHONHASHSEED="0")
    return env


def run_both(name: str, folder: Path | None = None) -> tuple:
    """(chainrule's output, PyTorch's output or None): the script run by ``chainrule run`` and by
    ``python`` at the same time; each must exit 0. With ``folder``, each run gets a folder of
    its own there as its one argument (for files the script writes)."""
    script = str(SCRIPTS / f"{name}.py")

    def argument(who):
        if folder is None:
            return []
        (folder / who).mkdir()
        return [str(folder / who)]

    commands = {"chainrule": [sys.executable, "-m", "chainrule", "run", script, *argument("chainrule")]}
    if HAVE_TORCH:
        commands["torch"] = [sys.executable, script, *argument("torch")]
    running = {who: subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=_environment(), cwd=SCRIPTS)
               for who, command in commands.items()}
    outputs = {}
    for who, process in running.items():
        stdout, stderr = process.communicate(timeout=TIMEOUT_S)
        assert process.returncode == 0, f"{name} under {who} exited {process.returncode}:\n{stdout}\n{stderr}"
        outputs[who] = stdout
    return outputs["chainrule"], outputs.get("torch")


def numbers(pattern: str, text: str) -> list:
    """Every match of ``pattern`` in ``text`` as floats (one group: a list of floats; several:
    a list of tuples)."""
    found = re.findall(pattern, text, flags=re.MULTILINE)
    assert found, f"no line matches {pattern!r} in:\n{text}"
    return [tuple(float(v) for v in m) if isinstance(m, tuple) else float(m) for m in found]


def each(chainrule_out, torch_out):
    """The outputs there are, with their library's name."""
    return [("chainrule", chainrule_out)] + ([("torch", torch_out)] if torch_out is not None else [])


# --- Karpathy's makemore and GPT ------------------------------------------------------------------
def test_bigram_counts_agree_and_the_neural_bigram_learns():
    ours, theirs = run_both("bigram")
    for who, out in each(ours, theirs):
        steps = numbers(r"^step \d+: loss ([\d.]+)", out)
        final = numbers(r"^final loss: ([\d.]+)", out)[0]
        assert steps[0] - final > 1.0 and final < 2.4, (who, steps, final)
    if theirs is not None:   # the counting model is deterministic given the words
        assert numbers(r"counts nll: ([\d.]+)", ours) == numbers(r"counts nll: ([\d.]+)", theirs)
        final = r"^final loss: ([\d.]+)"
        assert abs(numbers(final, ours)[0] - numbers(final, theirs)[0]) < 0.05


def test_small_gpt_learns_the_made_up_text_as_under_pytorch():
    ours, theirs = run_both("gpt")
    pattern = r"^step (\d+): train loss ([\d.]+), val loss ([\d.]+)"
    finals = {}
    for who, out in each(ours, theirs):
        rows = numbers(pattern, out)
        first, last = rows[0], rows[-1]
        assert abs(first[1] - math.log(VOCABULARY)) < 0.15, (who, first)   # uniform at first
        assert last[0] == 149 and last[2] < 1.4 and last[2] < first[2] - 1.5, (who, rows)
        assert out.strip().splitlines()[-1], "no sample was generated"
        finals[who] = last[2]
    if theirs is not None:
        assert abs(finals["chainrule"] - finals["torch"]) < 0.2, finals


def test_nanogpt_habits_weight_tying_param_groups_and_a_cosine_schedule():
    ours, theirs = run_both("nanogpt")
    pattern = r"^step (\d+): train loss ([\d.]+), val loss ([\d.]+), lr ([\d.e-]+)"
    finals = {}
    for who, out in each(ours, theirs):
        rows = numbers(pattern, out)
        assert [r[0] for r in rows] == [0, 40, 80, 120]
        assert [r[3] for r in rows] == [5.45e-4, 5.07e-3, 2.18e-3, 6e-4]   # warmup, then cosine
        assert rows[-1][2] < 1.4 < 3.0 < rows[0][2], (who, rows)
        assert "tied: True" in out and "using fused AdamW: False" in out
        finals[who] = rows[-1][2]
    if theirs is not None:   # the same model: the same parameter count and the same groups
        header = lambda out: out[:out.index("tied:")]
        assert header(ours) == header(theirs)
        assert abs(finals["chainrule"] - finals["torch"]) < 0.15, finals


def test_makemore_mlp_with_batchnorm_reaches_pytorchs_loss():
    ours, theirs = run_both("makemore_mlp")
    losses = {}
    for who, out in each(ours, theirs):
        train, val = numbers(r"^train loss: ([\d.]+)", out)[0], numbers(r"^val loss: ([\d.]+)", out)[0]
        assert train < 2.1 and val < 2.3, (who, train, val)
        losses[who] = val
    if theirs is not None:
        assert abs(losses["chainrule"] - losses["torch"]) < 0.15, losses


def test_manual_backprop_matches_autograd_for_every_intermediate():
    ours, theirs = run_both("manual_backprop")
    finals = {}
    for who, out in each(ours, theirs):
        checks = re.findall(r"^(\w+)\s+\| exact: (\w+)\s*\| approximate: (\w+)", out, flags=re.MULTILINE)
        assert len(checks) == 28 and all(approx == "True" for _, _, approx in checks), (who, checks)
        assert abs(numbers(r"loss_fast: \S+ diff: (\S+)", out)[0]) < 1e-5
        start, final = numbers(r"^\s+0: ([\d.]+)", out)[0], numbers(r"^final loss: ([\d.]+)", out)[0]
        assert final < start - 0.5, (who, start, final)
        finals[who] = final
    if theirs is not None:
        assert abs(finals["chainrule"] - finals["torch"]) < 0.3, finals


# --- PyTorch's own tutorials ----------------------------------------------------------------------
RESULT = r"Result: y = (\S+) \+ (\S+) x \+ (\S+) x\^2 \+ (\S+) x\^3"


def assert_same_numbers(ours, theirs, pattern, rel):
    a, b = numbers(pattern, ours), numbers(pattern, theirs)
    assert len(a) == len(b), (a, b)
    for x, y in zip(a, b):
        for u, v in zip(x if isinstance(x, tuple) else (x,), y if isinstance(y, tuple) else (y,)):
            assert abs(u - v) <= rel * max(abs(v), 1e-3), (pattern, a, b)


def test_polynomial_warm_up_with_tensors_and_with_autograd():
    ours, theirs = run_both("polynomial_tensors")
    for who, out in each(ours, theirs):
        by_hand = numbers(r"^tensors loss: ([\d.]+)", out)[0]
        autograd = numbers(r"^autograd loss: ([\d.]+)", out)[0]
        assert by_hand < 10 and by_hand == autograd, (who, by_hand, autograd)
    if theirs is not None:   # fixed starting weights: the same fit to float32 rounding
        assert_same_numbers(ours, theirs, r"^\d+ ([\d.]+)$", 1e-4)
        assert_same_numbers(ours, theirs, RESULT, 1e-3)


def test_polynomial_with_sequential_optim_and_a_custom_module():
    ours, theirs = run_both("polynomial_nn")
    for who, out in each(ours, theirs):
        for kind in ("nn", "optim", "module"):
            assert numbers(rf"^{kind} loss: ([\d.]+)", out)[0] < 10, (who, kind)
    if theirs is not None:
        assert_same_numbers(ours, theirs, r"^(?:nn|optim|module) loss: ([\d.]+)", 1e-3)
        assert_same_numbers(ours, theirs, r"^\d+ ([\d.]+)$", 5e-3)


def test_dynamic_graph_reusing_a_scalar_parameter_with_sgd_momentum():
    ours, theirs = run_both("dynamic_net")
    for who, out in each(ours, theirs):
        losses = numbers(r"^\d+ ([\d.]+)$", out)
        assert losses == sorted(losses, reverse=True) and losses[-1] < 0.5 * losses[0], (who, losses)
    if theirs is not None:   # Python's random picks the same orders in both; the start is fixed
        assert_same_numbers(ours, theirs, r"^\d+ ([\d.]+)$", 1e-4)
        assert_same_numbers(ours, theirs, r"x\^3 \+ (\S+) x\^4", 1e-3)


def test_lbfgs_fits_a_damped_cosine_exactly():
    ours, theirs = run_both("lbfgs_fit")
    pattern = r"amplitude ([\d.]+) decay ([\d.]+) frequency ([\d.]+)"
    for who, out in each(ours, theirs):
        assert numbers(r"^final loss: (\S+)", out)[0] < 1e-8, who
        amplitude, decay, frequency = numbers(pattern, out)[0]
        assert abs(amplitude - 1.5) < 1e-4 and abs(decay - 0.6) < 1e-4 and abs(frequency - 2.0) < 1e-4, who
    if theirs is not None:
        assert_same_numbers(ours, theirs, pattern, 1e-5)


def test_autograd_tutorial_gives_pytorchs_gradients():
    ours, theirs = run_both("autograd_tutorial")
    for who, out in each(ours, theirs):
        for line in ("a.grad tensor([36., 81.])", "accumulated grad: [6.0, 6.0, 6.0]",
                     "dy/dx = 12.0, after a second backward: 24.0",
                     "detached requires_grad: False grad_fn: None",
                     "hook saw: [4.0, -8.0, 12.0] leaf grad: [80.0, -160.0, 240.0]",
                     "second derivative matches: True", "x.grad untouched: None", "assert_close passed"):
            assert line in out, (who, line)
    if theirs is not None:   # the lines that do not depend on random weights or on tensor printing
        random_or_printed = ("tensor(", "grad norm", "activations")
        kept = lambda out: [line for line in out.splitlines()
                            if not any(word in line for word in random_or_printed)]
        assert kept(ours) == kept(theirs)


# --- data, logging, vision, sequences, checkpoints ------------------------------------------------
def test_data_pipeline_with_sampler_split_and_collate():
    ours, theirs = run_both("data_pipeline")
    accuracies = {}
    for who, out in each(ours, theirs):
        assert "train 480 val 120" in out
        assert 0.35 < numbers(r"class 1 in one epoch: ([\d.]+)", out)[0] < 0.65, who   # balanced by weights
        rows = numbers(r"^epoch \d+: loss ([\d.]+), val accuracy ([\d.]+)", out)
        assert rows[-1][0] < rows[0][0] and rows[-1][1] >= 0.9, (who, rows)
        accuracies[who] = rows[-1][1]
    if theirs is not None:
        assert abs(accuracies["chainrule"] - accuracies["torch"]) <= 0.08, accuracies


def test_tensorboard_log_is_read_back_by_tensorboard(tmp_path):
    ours, theirs = run_both("tensorboard_log", tmp_path)
    finals = {}
    for who, out in each(ours, theirs):
        assert "event files: 1" in out, who
        if "skipped reading" not in out:
            assert numbers(r"logged steps: (\d+)", out)[0] == 65, who
        rows = numbers(r"^epoch \d+: train loss ([\d.]+), val loss ([\d.]+)", out)
        assert rows[-1][1] < 0.05 < rows[0][0], (who, rows)
        finals[who] = rows[-1][1]
    if theirs is not None:
        assert abs(finals["chainrule"] - finals["torch"]) < 0.02, finals


def test_cnn_on_digits_with_steplr():
    ours, theirs = run_both("cnn_digits")
    accuracies = {}
    for who, out in each(ours, theirs):
        assert numbers(r"^lr ([\d.]+)", out) == [0.05, 0.035, 0.035, 0.0245], who
        accuracy = numbers(r"Accuracy: \d+/397 \((\d+)%\)", out)
        assert accuracy[-1] >= 85, (who, accuracy)
        accuracies[who] = accuracy[-1]
    if theirs is not None:
        assert abs(accuracies["chainrule"] - accuracies["torch"]) <= 8, accuracies


def test_quickstart_tutorial_trains_saves_and_reloads(tmp_path):
    ours, theirs = run_both("quickstart", tmp_path)
    accuracies = {}
    for who, out in each(ours, theirs):
        accuracy = numbers(r"Accuracy: ([\d.]+)%", out)
        assert accuracy[-1] >= 85 and accuracy[-1] > accuracy[0], (who, accuracy)
        predicted, actual = re.search(r'Predicted: "(.+)", Actual: "(.+)"', out).groups()
        assert predicted == actual, who
        accuracies[who] = accuracy[-1]
    if theirs is not None:   # the model's printout is PyTorch's, line for line
        model = lambda out: out[out.index("NeuralNetwork("):out.index("Epoch 1")]
        assert model(ours) == model(theirs)
        assert abs(accuracies["chainrule"] - accuracies["torch"]) <= 10, accuracies


def test_time_series_mlp_forecasts_as_well_as_pytorch():
    ours, theirs = run_both("timeseries")
    errors = {}
    for who, out in each(ours, theirs):
        rows = numbers(r"^epoch\s+\d+: train loss ([\d.]+), test loss ([\d.]+)", out)
        rmse = numbers(r"^test RMSE: ([\d.]+)", out)[0]
        assert rows[-1][1] < rows[0][1] / 10 and rmse < 0.15, (who, rows, rmse)
        errors[who] = rmse
    if theirs is not None:
        assert errors["chainrule"] < 1.5 * errors["torch"] + 0.02, errors


def test_checkpoint_save_load_and_resume_with_clipping(tmp_path):
    ours, theirs = run_both("checkpoint", tmp_path)
    for who, out in each(ours, theirs):
        saved = numbers(r"saved at epoch 14: accuracy ([\d.]+)", out)[0]
        assert numbers(r"resumed from epoch 14 \(loss [\d.]+\): accuracy ([\d.]+)", out)[0] == saved, who
        assert "same outputs: True" in out, who
        losses = numbers(r"^epoch \d+: loss ([\d.]+)", out)
        final_loss, accuracy = numbers(r"^final loss: ([\d.]+), accuracy ([\d.]+)", out)[0]
        assert final_loss < losses[0] / 5 and accuracy >= 0.95, (who, losses, final_loss, accuracy)
