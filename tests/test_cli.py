"""The `chainrule` command: help, one-line errors, explain, demo's report folder, gradient-flow."""

import json
import subprocess
import sys
import textwrap

import pytest

from chainrule import cli
from chainrule.cli import demo, gradient_flow, parser
from chainrule.insight import figures, graph, plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "chainrule", *args], capture_output=True, text=True,
                          encoding="utf-8", timeout=120, cwd=cwd)


@pytest.mark.parametrize("command", [[], ["demo"], ["explain"], ["gradient-flow"], ["playground"], ["run"]])
def test_help_everywhere(command):
    result = run(*command, "--help")
    assert result.returncode == 0 and "usage: chainrule" in result.stdout


BAD_INPUT = [  # (arguments, words the one-line error must hold)
    (["demo", "--bogus"], "unrecognized"), (["demo", "--epochs", "0"], "--epochs"),
    (["demo", "--lr", "x"], "--lr"),
    (["demo", "--lr", "nan"], "--lr"), (["demo", "--lr", "inf"], "--lr"),
    (["demo", "--dataset", "mnist"], "--dataset"), (["nope"], "invalid choice"),
    (["demo", "--samples", "1"], "--samples 1 leaves 1 test point"),
    (["demo", "--samples", "3"], "at least 10"), (["demo", "--samples", "36"], "use --samples 37 or more"),
    (["demo", "--samples", "10000000"], "--samples"),
    (["demo", "--batch-size", "301"], "300 training points"),
    (["demo", "--samples", "100", "--batch-size", "80"], "--batch-size 75 or less"),
    (["demo", "--hidden", "0"], "--hidden"), (["demo", "--hidden", "100000"], "--hidden"),
    (["demo", "--hidden", *["4"] * 17], "at most 16"), (["demo", "--seed", "-1"], "--seed"),
    (["demo", "--seed", str(2**40)], "--seed"), (["demo", "--epochs", "1.5"], "--epochs"),
    (["demo", "--out", "/proc/nope"], "--out /proc/nope: cannot write"),
    (["gradient-flow", "--depth", "1"], "--depth"), (["gradient-flow", "--depth", "100000"], "--depth"),
    (["gradient-flow", "--width", "0"], "--width"), (["gradient-flow", "--steps", "0"], "--steps"),
    (["gradient-flow", "--lr", "-1"], "--lr"), (["gradient-flow", "--seed", "-3"], "--seed"),
    (["gradient-flow", "--out", "/proc/nope"], "--out /proc/nope: cannot write"),
    (["explain", "--expr", "__import__('os').system('echo hacked')"], "unknown function"),
    (["explain", "--set", "w=two"], "not a number"),
    (["explain", "--expr", "a*b", "--set", "a=1"], "no value for b"),
    (["explain", "--set", "z=5"], "--set z: not used in '(w*x - y)**2' (its names: w, x, y)"),
    (["explain", "--expr", "x*x", "--set", "x=1", "q=2"], "--set q: not used"),
    (["explain", "--set", "x=nan"], "not a finite number"),
    (["explain", "--set", "x=1", "x=2"], "given twice"),
    (["explain", "--wrt", "q"], "--wrt q: not in the expression"),
    (["explain", "--style", "html"], "--style"),
    (["explain", "--expr", ""], "cannot parse"), (["explain", "--expr", "2 + 3"], "does not depend"),
]


def main_status(args) -> int:
    """cli.main in this process (argparse's own errors leave through SystemExit)."""
    try:
        return cli.main(args)
    except SystemExit as exit:
        return exit.code


@pytest.mark.parametrize("args, words", BAD_INPUT, ids=[" ".join(a)[:40] for a, _ in BAD_INPUT])
def test_bad_input_exits_2_with_one_line_before_any_work(args, words, capsys):
    status = main_status(args)
    printed = capsys.readouterr()
    assert status == 2, printed.err
    assert printed.err.count("\n") == 1 and "error:" in printed.err and words in printed.err
    assert "Traceback" not in printed.err and "hacked" not in printed.out
    assert printed.out == ""                     # nothing trained, nothing printed: refused up front


@pytest.mark.parametrize("args", [["demo", "--samples", "1"], ["explain", "--set", "z=5"],
                                  ["gradient-flow", "--out", "/proc/nope"]])
def test_the_real_command_exits_2(args):
    result = run(*args)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and result.stdout == ""


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    a_file = tmp_path / "report"
    a_file.write_text("not a folder")
    for command in ("demo", "gradient-flow"):
        assert main_status([command, "--out", str(a_file)]) == 2
        assert "exists and is not a folder" in capsys.readouterr().err


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
    assert summary["test_points"] == 30 and summary["train_points"] == 90
    assert summary["final_test_loss"] > 0 and summary["final_loss"] > 0
    report = (out / "report.md").read_text()
    assert "## Gradient flow" in report and "test points: 30" in report
    assert oct((out / "report.md").stat().st_mode & 0o777) != oct(0o600)   # not a private temp file
    if plots.available():
        for name in ("loss_curve.png", "decision_boundary.png", "gradient_flow.png"):
            assert (out / name).read_bytes()[:8] == PNG_SIGNATURE
            pytest.importorskip("matplotlib.image").imread(str(out / name))
    if graph.graphviz is not None and graph.dot_program():
        assert "<svg" in (out / "graph.svg").read_text()
    else:
        assert (out / "graph.dot").read_text().startswith("digraph")


def test_demo_without_the_extras_skips_files_with_one_line_notes(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(figures, "Figure", None)
    monkeypatch.setattr(graph, "graphviz", None)
    monkeypatch.setattr(demo, "tqdm", None)
    out = tmp_path / "bare"
    assert cli.main(["demo", "--epochs", "3", "--samples", "80", "--dataset", "xor", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("note: skipped") == 3 and "pip install chainrule[plots]" in printed
    assert "pip install chainrule[graph]" in printed
    assert sorted(p.name for p in out.iterdir()) == ["graph.dot", "report.md", "summary.json"]
    report = (out / "report.md").read_text()
    assert report.count("is missing:** matplotlib is not installed") == 3
    assert "**The graph picture is missing.**" in report and "pip install chainrule[graph]" in report


def test_demo_without_dot_says_so_in_the_report_and_on_the_console(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(graph, "dot_program", lambda: None)
    out = tmp_path / "nodot"
    assert cli.main(["demo", "--epochs", "2", "--samples", "60", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    note = [line for line in printed.splitlines() if line.startswith("note: graph.svg was not drawn")]
    assert len(note) == 1 and "apt-get install graphviz" in note[0] and "brew install graphviz" in note[0]
    report = (out / "report.md").read_text()
    assert "**The graph picture is missing.** Graphviz's 'dot' program is not installed" in report
    assert "apt-get install graphviz" in report and "dot -Tsvg graph.dot -o graph.svg" in report
    assert (out / "graph.dot").read_text().startswith("digraph") and not (out / "graph.svg").exists()


def test_gradient_flow_table_and_plot(tmp_path, capsys):
    assert cli.main(["gradient-flow", "--depth", "8", "--steps", "3", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "layer 0 (input)" in out and "layer 7 (output)" in out
    assert "sigmoid+residual" in out and "sigmoid+clipped" in out
    if plots.available():
        assert (tmp_path / "gradient_flow_layers.png").read_bytes()[:8] == PNG_SIGNATURE


def test_gradient_flow_names_the_uneven_layer_and_the_coinciding_curves(tmp_path, capsys, monkeypatch):
    drawn = {}
    monkeypatch.setattr(plots, "plot_layer_norms",
                        lambda norms, path, **kw: drawn.update(kw, norms=norms) or path)
    assert cli.main(["gradient-flow", "--steps", "5", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    verdicts = {line.split()[0]: line.split()[1] for line in out.splitlines()
                if line.split()[:1] and line.split()[0] in gradient_flow.VARIANTS}
    assert verdicts["sigmoid+residual"] == "uneven" and verdicts["sigmoid"] == "vanishing"
    assert "layer 19 (output) gets" in out and "× the median of the other layers" in out
    assert "the same numbers as sigmoid: clipping at norm 1 never acted" in out
    assert drawn["reasons"]["sigmoid+clipped"].startswith("clipping at norm 1 never acted")
    assert drawn["flags"]["sigmoid+residual"].startswith("uneven: layer 19 (output)")
    assert drawn["norms"]["sigmoid"] == drawn["norms"]["sigmoid+clipped"]


def test_the_help_loads_none_of_what_the_commands_need():
    """`chainrule --help` (and a bad flag) imports only the parser: no matplotlib, dataset, server
    or torch import hook, each loaded by its command's module when that command runs."""
    code = textwrap.dedent("""
        import sys
        from chainrule import cli
        try:
            cli.main(["--help"])
        except SystemExit:
            pass
        heavy = ("matplotlib", "starlette", "uvicorn", "tqdm", "chainrule.data", "chainrule.torch_compat",
                 "chainrule.insight", "chainrule.cli.")
        print(sorted(m for m in sys.modules if m.startswith(heavy)))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "usage: chainrule" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "['chainrule.cli.parser']"


def test_the_demo_knows_every_dataset_the_parser_offers():
    assert sorted(demo.GENERATORS) == sorted(parser.DATASETS)
