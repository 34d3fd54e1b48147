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

from ..locale import _, language
from ..nn import CrossEntropyLoss
from . import graph, plots
from .explain import explain
from .figures import picture_language, write_atomically

GRAPH_POINTS = 4


def _write_text(path: Path, text: str) -> None:
    write_atomically(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))


def _pictures(out: Path, model, flow, history, summary, splits) -> tuple:
    """Draw the three plots: ([(file, caption)], [(file, why it is missing)])."""
    X_train, y_train, X_test, y_test = splits
    wanted = [
        ("loss_curve.png", _("Loss and accuracy per epoch, on the training and the test points."),
         lambda path: plots.plot_training_curves(history, path, title=_("Training on {dataset}").format(
             dataset=summary["dataset"]))),
        ("decision_boundary.png", _("The regions the trained model assigns to each class; circles are "
                                    "training points, triangles test points."),
         lambda path: plots.plot_decision_boundary(
             model, X_train, y_train, path, X_test=X_test, y_test=y_test,
             title=_("{dataset}: test accuracy {accuracy:.1%} ({points} points)").format(
                 dataset=summary["dataset"], accuracy=summary["test_accuracy"],
                 points=summary["test_points"]))),
        ("gradient_flow.png", _("Gradient norm of each Linear layer's weights during training."),
         lambda path: plots.plot_gradient_flow(flow, path, title=_("Gradient flow while training"))),
    ]
    drawn, missing = [], []
    for name, caption, draw in wanted:
        try:
            with picture_language():   # English words (after one warning) if no Japanese font
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
    lines = [_("## The graph of one training step ({points} points)").format(points=GRAPH_POINTS), ""]
    note = None
    if drawing.rendered:
        lines += [_("![The computation graph of one step]({file})").format(file=drawing.path.name), ""]
    else:
        note = _("graph.svg was not drawn: {why}").format(why=drawing.message)
        lines += [_("**The graph picture is missing.** {why}. The graph's description is in "
                    "[{file}]({file}); "
                    "after installing Graphviz, run `chainrule demo` again, or render it with "
                    "`dot -Tsvg {file} -o graph.svg`.").format(why=drawing.message,
                                                               file=drawing.path.name), ""]
    lines += [_("## The chain rule for one step ({points} points)").format(points=GRAPH_POINTS), "", "```",
              explain(step_loss, names=names, max_nodes=12).rstrip("\n"), "```", ""]
    return lines, drawing.path.name, note


def write_report(out, model, flow, flow_report, history, summary, splits, lang: str | None = None) -> tuple:
    """Write the report into ``out`` in ``lang`` ("en" or "ja"; default: the environment's
    language); returns (files written, one-line notes for the console)."""
    with language(lang):
        return _write_report(Path(out), model, flow, flow_report, history, summary, splits)


def _write_report(out: Path, model, flow, flow_report, history, summary, splits) -> tuple:
    out.mkdir(parents=True, exist_ok=True)
    drawn, missing = _pictures(out, model, flow, history, summary, splits)
    graph_lines, graph_file, graph_note = _graph_section(out, model, splits)
    _write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    lines = [_("# chainrule demo: {dataset}").format(dataset=summary["dataset"]), "",
             _("- training points: {train}, test points: {test}").format(train=summary["train_points"],
                                                                          test=summary["test_points"]),
             _("- train accuracy: {accuracy:.1%}").format(accuracy=summary["train_accuracy"]),
             _("- test accuracy: {accuracy:.1%}").format(accuracy=summary["test_accuracy"]),
             _("- final loss: train {train:.4f}, test {test:.4f} after {epochs} epochs ({seconds} s)").format(
                 train=summary["final_loss"], test=summary["final_test_loss"], epochs=summary["epochs"],
                 seconds=summary["training_seconds"]), "", _("## Pictures"), ""]
    for name, caption in drawn:
        lines += [f"![{caption}]({name})", "", caption, ""]
    for name, why in missing:
        lines += [_("**{file} is missing:** {why}").format(file=name, why=why), ""]
    lines += [_("## Gradient flow"), "", "```", str(flow_report), "```", ""]
    lines += graph_lines
    _write_text(out / "report.md", "\n".join(lines))
    notes = [_("skipped {file}: {why}").format(file=name, why=why) for name, why in missing] + \
        ([graph_note] if graph_note else [])
    files = [name for name, _ in drawn] + [graph_file, "summary.json", "report.md"]
    return files, notes
