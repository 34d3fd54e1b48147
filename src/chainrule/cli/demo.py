"""``chainrule demo``: train a small MLP on built-in 2-D data and write a report folder (loss curve,
decision boundary, gradient flow, the graph of one training step, summary.json, report.md).

A quarter of the points is held out as the test set; every flag is checked against the others
(``check_demo``) before any work starts. The report's pictures need matplotlib and its graph
graphviz; without them the report skips those files with a one-line note.
"""

from __future__ import annotations

import sys
import time

import chainrule as cr
from chainrule import data, nn, optim
from chainrule.insight.flow import GradientFlow
from chainrule.insight.report import write_report
from chainrule.locale import _, _n

from .parser import (
    MAX_HIDDEN_LAYERS,
    MIN_TEST_POINTS,
    TEST_FRACTION,
    UsageError,
    min_samples,
    test_count,
    writable_folder,
)

try:  # optional extra: pip install chainrule[progress]
    from tqdm import tqdm
except ImportError:  # pragma: no cover - the built-in bar is used instead
    tqdm = None

GENERATORS = {  # --dataset (parser.DATASETS) -> (generator, noise)
    "moons": (data.make_moons, 0.2), "circles": (data.make_circles, 0.08), "spiral": (data.make_spiral, 0.15),
    "xor": (data.make_xor, 0.15), "gaussians": (data.make_gaussians, 0.8),
}


def check_demo(args) -> None:
    """Every flag of `chainrule demo` checked against the others, before any work starts."""
    n_test = test_count(args.samples)
    n_train = args.samples - n_test
    if n_test < MIN_TEST_POINTS:
        raise UsageError(_n("--samples {samples} leaves {test} test point; an accuracy needs at least "
                            "{least}, so use --samples {enough} or more (a quarter of the points is held out "
                            "for testing)",
                            "--samples {samples} leaves {test} test points; an accuracy needs at least "
                            "{least}, so use --samples {enough} or more (a quarter of the points is held out "
                            "for testing)",
                            n_test).format(samples=args.samples, test=n_test, least=MIN_TEST_POINTS,
                                           enough=min_samples()))
    if args.batch_size > n_train:
        raise UsageError(_("--batch-size {batch} is more than the {train} training points of --samples "
                           "{samples} ({test} are held out for testing): use --batch-size {train} or less, "
                           "or more --samples").format(batch=args.batch_size, train=n_train,
                                                       samples=args.samples, test=n_test))
    if len(args.hidden) > MAX_HIDDEN_LAYERS:
        raise UsageError(_("--hidden: {layers} layers; at most {most}").format(layers=len(args.hidden),
                                                                              most=MAX_HIDDEN_LAYERS))
    writable_folder(args.out)


def make_mlp(widths: list, activation=nn.ReLU) -> nn.Sequential:
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(widths) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def evaluate(model, X, y, loss_fn) -> tuple:
    """(loss, accuracy) of ``model`` on all of X, y, in eval mode and without a graph."""
    with cr.no_grad():
        model.eval()
        output = model(X)
        loss = loss_fn(output, y).item()
        model.train()
    return loss, float((output._data.argmax(axis=1) == y._data).mean())


class Progress:
    """tqdm when installed; otherwise a plain bar on stderr (redrawn in place on a terminal)."""

    def __init__(self, total: int, quiet: bool):
        self.total, self.quiet, self.done = total, quiet, 0
        self.bar = tqdm(total=total, unit="epoch", leave=False, disable=None) if tqdm and not quiet else None
        self.terminal = sys.stderr.isatty()

    def update(self, postfix: str) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.set_postfix_str(postfix, refresh=False)
            self.bar.update(1)
        elif not self.quiet and self.terminal:
            filled = int(30 * self.done / self.total)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} {postfix}")
            sys.stderr.flush()

    def write(self, line: str) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.write(line)
        else:
            if self.terminal:
                sys.stderr.write("\r" + " " * 78 + "\r")
            print(line, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif not self.quiet and self.terminal:
            sys.stderr.write("\r" + " " * 78 + "\r")


def run(args) -> int:
    check_demo(args)
    started = time.perf_counter()
    cr.manual_seed(args.seed)
    make, noise = GENERATORS[args.dataset]
    X, y = make(n_samples=args.samples, noise=noise, seed=args.seed)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=TEST_FRACTION, seed=args.seed)
    n_classes = int(y._data.max()) + 1
    model = make_mlp([2, *args.hidden, n_classes])
    loader = data.DataLoader(data.TensorDataset(X_train, y_train), batch_size=args.batch_size, shuffle=True,
                             seed=args.seed)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    flow = GradientFlow(model)
    history = {key: [] for key in ("train_loss", "test_loss", "train_accuracy", "test_accuracy")}
    print(_("chainrule demo: {dataset} ({train} train / {test} test points), MLP {widths}, Adam lr={lr}, "
            "{epochs} epochs").format(dataset=args.dataset, train=len(X_train), test=len(X_test),
                                      widths=" → ".join(map(str, [2, *args.hidden, n_classes])), lr=args.lr,
                                      epochs=args.epochs))
    progress = Progress(args.epochs, args.quiet)
    report_every = max(args.epochs // 10, 1)
    try:
        for epoch in range(1, args.epochs + 1):
            for xb, yb in loader:
                optimizer.zero_grad()
                loss_fn(model(xb), yb).backward()
                optimizer.step()
            for split, (X_part, y_part) in (("train", (X_train, y_train)), ("test", (X_test, y_test))):
                loss, correct = evaluate(model, X_part, y_part, loss_fn)
                history[f"{split}_loss"].append(loss)
                history[f"{split}_accuracy"].append(correct)
            last = {key: values[-1] for key, values in history.items()}
            line = _("loss train {train_loss:.4f} test {test_loss:.4f}  accuracy train {train_accuracy:.1%} "
                     "test {test_accuracy:.1%}").format(**last)
            progress.update(line)
            if epoch % report_every == 0 or epoch == args.epochs:
                progress.write(_("epoch {epoch:>4}/{epochs}  {line}").format(epoch=epoch, epochs=args.epochs,
                                                                            line=line))
    finally:
        progress.close()
    seconds = time.perf_counter() - started
    flow_report = flow.report()
    flow.remove()
    summary = {"dataset": args.dataset, "samples": args.samples, "train_points": len(X_train),
               "test_points": len(X_test), "epochs": args.epochs, "hidden": args.hidden, "lr": args.lr,
               "batch_size": args.batch_size, "seed": args.seed,
               "final_loss": history["train_loss"][-1], "final_test_loss": history["test_loss"][-1],
               "train_accuracy": history["train_accuracy"][-1], "test_accuracy": history["test_accuracy"][-1],
               "training_seconds": round(seconds, 2),
               "gradient_flow": sorted(flow_report.kinds) or ["healthy"]}
    print(_("done in {seconds:.1f}s: train accuracy {train:.1%}, test accuracy {test:.1%} ({points} points), "
            "final loss train {train_loss:.4f} test {test_loss:.4f}").format(
                seconds=seconds, train=summary["train_accuracy"], test=summary["test_accuracy"],
                points=len(X_test), train_loss=summary["final_loss"], test_loss=summary["final_test_loss"]))
    files, notes = write_report(args.out, model, flow, flow_report, history, summary,
                                (X_train, y_train, X_test, y_test))
    for note in notes:
        print(_("note: {note}").format(note=note))
    print(_("report written to {folder}/ ({files})").format(
        folder=args.out.resolve(), files=", ".join(files)))
    return 0
