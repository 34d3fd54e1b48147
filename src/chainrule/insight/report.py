"""The report folder of ``chainrule demo``: pictures, the graph of one step, summary.json, report.md.

    files, notes = write_report(out, model, flow, flow_report, history, summary,
                                (X_train, y_train, X_test, y_test))

A picture that cannot be made (matplotlib or Graphviz missing) is not silently left out: the
note that says what is missing and how to install it goes to the caller (printed on the
console) AND into report.md, where the picture would have been.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..nn import CrossEntropyLoss
from . import graph, plots
from .explain import explain
from .figures import write_atomically

GRAPH_POINTS = 4


def _write_text(path: Path, text: str) -> None:
    write_atomically(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))


def _pictures(out: Path, model, flow, history, summary, splits) -> tuple:
    """Draw the three plots: ([(file, caption)], [(file, why it is missing)])."""
    X_train, y_train, X_test, y_test = splits
    wanted = [
        ("loss_curve.png", "Loss and accuracy per epoch, on the training and the test points.",
         lambda path: plots.plot_training_curves(history, path, title=f"Training on {summary['dataset']}")),
        ("decision_boundary.png", "The regions the trained model assigns to each class; circles are "
         "training points, triangles test points.",
         lambda path: plots.plot_decision_boundary(
             model, X_train, y_train, path, X_test=X_test, y_test=y_test,
             title=f"{summary['dataset']}: test accuracy {summary['test_accuracy']:.1%} "
                   f"({summary['test_points']} points)")),
        ("gradient_flow.png", "Gradient norm of each Linear layer's weights during training.",
         lambda path: plots.plot_gradient_flow(flow, path, title="Gradient flow while training")),
    ]
    drawn, missing = [], []
    for name, caption, draw in wanted:
        try:
            draw(out / name)
            drawn.append((name, caption))
        except plots.MissingExtraError as err:
            missing.append((name, str(err)))
    return drawn, missing


def _graph_section(out: Path, model, splits) -> tuple:
    """Draw the graph of one training step on a few points: (lines for report.md, file, note)."""
    X_train, y_train = splits[0], splits[1]
    batch_x, batch_y = X_train[:GRAPH_POINTS], y_train[:GRAPH_POINTS]
    step_loss = CrossEntropyLoss()(model(batch_x), batch_y)
    names = {batch_x: "x", batch_y: "y"} | {p: n for n, p in model.named_parameters()}
    drawing = graph.draw_graph(step_loss, out / "graph.svg", names=names)
    lines = [f"## The graph of one training step ({GRAPH_POINTS} points)", ""]
    note = None
    if drawing.rendered:
        lines += [f"![The computation graph of one step]({drawing.path.name})", ""]
    else:
        note = f"graph.svg was not drawn: {drawing.message}"
        lines += [f"**The graph picture is missing.** {drawing.message}. The graph's description is in "
                  f"[{drawing.path.name}]({drawing.path.name}); after installing Graphviz, run "
                  "`chainrule demo` again, or render it with "
                  f"`dot -Tsvg {drawing.path.name} -o graph.svg`.", ""]
    lines += [f"## The chain rule for one step ({GRAPH_POINTS} points)", "", "```",
              explain(step_loss, names=names, max_nodes=12).rstrip("\n"), "```", ""]
    return lines, drawing.path.name, note


def write_report(out, model, flow, flow_report, history, summary, splits) -> tuple:
    """Write the report into ``out``; returns (files written, one-line notes for the console)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    drawn, missing = _pictures(out, model, flow, history, summary, splits)
    graph_lines, graph_file, graph_note = _graph_section(out, model, splits)
    _write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    lines = [f"# chainrule demo: {summary['dataset']}", "",
             f"- training points: {summary['train_points']}, test points: {summary['test_points']}",
             f"- train accuracy: {summary['train_accuracy']:.1%}",
             f"- test accuracy: {summary['test_accuracy']:.1%}",
             f"- final loss: train {summary['final_loss']:.4f}, test {summary['final_test_loss']:.4f} after "
             f"{summary['epochs']} epochs ({summary['training_seconds']} s)", "", "## Pictures", ""]
    for name, caption in drawn:
        lines += [f"![{caption}]({name})", "", caption, ""]
    for name, why in missing:
        lines += [f"**{name} is missing:** {why}", ""]
    lines += ["## Gradient flow", "", "```", str(flow_report), "```", ""]
    lines += graph_lines
    _write_text(out / "report.md", "\n".join(lines))
    notes = [f"skipped {name}: {why}" for name, why in missing] + ([graph_note] if graph_note else [])
    files = [name for name, _ in drawn] + [graph_file, "summary.json", "report.md"]
    return files, notes
