"""The `chainrule` command: help, one-line errors, explain, demo's report folder, gradient-flow."""

import json
import subprocess
import sys

import pytest

from chainrule import cli
from chainrule.insight import graph, plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "chainrule", *args], capture_output=True, text=True,
                          encoding="utf-8", timeout=120, cwd=cwd)


@pytest.mark.parametrize("command", [[], ["demo"], ["explain"], ["gradient-flow"], ["playground"]])
def test_help_everywhere(command):
    result = run(*command, "--help")
    assert result.returncode == 0 and "usage: chainrule" in result.stdout


@pytest.mark.parametrize("args", [["demo", "--bogus"], ["demo", "--epochs", "0"], ["demo", "--lr", "x"],
                                  ["demo", "--dataset", "mnist"], ["nope"], ["gradient-flow", "--depth", "1"],
                                  ["explain", "--expr", "__import__('os').system('echo hacked')"],
                                  ["explain", "--set", "w=two"],
                                  ["explain", "--expr", "a*b", "--set", "a=1"], ["explain", "--set", "z=5"],
                                  ["explain", "--set", "x=nan"], ["explain", "--set", "x=1", "x=2"]])
def test_bad_input_exits_2_with_one_line(args):
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "error:" in result.stderr
    assert "Traceback" not in result.stderr and "hacked" not in result.stdout


def test_explain_prints_the_lessons_numbers_in_order():
    result = run("explain")
    assert result.returncode == 0
    out = result.stdout
    positions = [out.index(s) for s in ["2 × 3 = 6", "6 − 10 = −4", "(−4)² = 16", "2 × (−4) = −8",
                                         "∂(diff)/∂(wx) = 1", "∂w = x = 3", "−8 × 3 = −24"]]
    assert positions == sorted(positions)
    assert "so L = 16" in out and out.rstrip().endswith("dL/dw = −24")


def test_explain_writes_the_sum_of_the_paths():
    result = run("explain", "--expr", "x*x + x", "--set", "x=3")
    assert result.returncode == 0
    assert "dL/dx = 1 + 3 + 3 = 7" in result.stdout
    assert "[path 1 of 3]" in result.stdout and "multivariable chain rule" in result.stdout


def test_explain_set_changes_one_lesson_value_and_keeps_the_others(capsys):
    assert cli.main(["explain", "--set", "w=5"]) == 0
    out = capsys.readouterr().out
    assert "the leaves: w = 5, x = 3, y = 10" in out
    assert "so L = 25" in out and out.rstrip().endswith("dL/dw = 30")     # (5·3 − 10)² and 2·5·3
    assert cli.main(["explain", "--set", "y=6", "--wrt", "w", "x"]) == 0
    out = capsys.readouterr().out
    assert "so L = 0" in out and "dL/dw = 0" in out and "dL/dx = 0" in out


def test_explain_flags_values_outside_the_domain(capsys):
    assert cli.main(["explain", "--expr", "log(x)", "--set", "x=-1"]) == 0
    out = capsys.readouterr().out
    assert "⚠ warning: at L: log is defined only for x > 0, but x = −1, so the result is nan" in out
    assert "⚠ warning: L is nan, not a real number" in out
    assert out.index("⚠ warning: these gradients") < out.index("dL/dx = −1")


def test_explain_an_expression_of_the_users(capsys):
    assert cli.main(["explain", "--expr", "x**3 + sin(x)", "--set", "x=0.5", "--style", "latex"]) == 0
    out = capsys.readouterr().out
    assert "\\begin{align*}" in out and "3 \\times x^{2}" in out
    assert "1.628" in out          # d/dx (x^3 + sin x) = 3 x^2 + cos x = 0.75 + 0.8776


def test_demo_writes_the_report(tmp_path):
    out = tmp_path / "report"
    result = run("demo", "--epochs", "5", "--samples", "120", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "train accuracy" in result.stdout and "test accuracy" in result.stdout
    assert f"report written to {out.resolve()}" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs"] == 5 and 0 <= summary["test_accuracy"] <= 1
    assert "## Gradient flow" in (out / "report.md").read_text()
    if plots.available():
        for name in ("loss_curve.png", "decision_boundary.png", "gradient_flow.png"):
            assert (out / name).read_bytes()[:8] == PNG_SIGNATURE
            pytest.importorskip("matplotlib.image").imread(str(out / name))
    if graph.graphviz is not None and graph.dot_program():
        assert "<svg" in (out / "graph.svg").read_text()
    else:
        assert (out / "graph.dot").read_text().startswith("digraph")


def test_demo_without_the_extras_skips_files_with_one_line_notes(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(plots, "Figure", None)
    monkeypatch.setattr(graph, "graphviz", None)
    monkeypatch.setattr(cli, "tqdm", None)
    out = tmp_path / "bare"
    assert cli.main(["demo", "--epochs", "3", "--samples", "80", "--dataset", "xor", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("note: skipped") == 3 and "pip install chainrule[plots]" in printed
    assert "pip install chainrule[graph]" in printed
    assert sorted(p.name for p in out.iterdir()) == ["graph.dot", "report.md", "summary.json"]


def test_gradient_flow_table_and_plot(tmp_path, capsys):
    assert cli.main(["gradient-flow", "--depth", "8", "--steps", "3", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "0 (input)" in out and "7 (output)" in out
    assert "sigmoid+residual" in out and "sigmoid+clipped" in out
    if plots.available():
        assert (tmp_path / "gradient_flow_layers.png").read_bytes()[:8] == PNG_SIGNATURE
