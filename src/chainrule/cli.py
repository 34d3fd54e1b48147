"""The ``chainrule`` command (also ``python -m chainrule``).

    chainrule demo            train a small MLP on two moons, write a report folder (plots, graph)
    chainrule explain         the lesson's worked example, the chain rule written out
    chainrule gradient-flow   the lesson's experiment: deep sigmoid vs ReLU / residual / batch norm
    chainrule playground      the browser lab (chainrule.playground)
    chainrule distributed-demo    the digits MLP on N MPI ranks (chainrule.distributed.demo)
    chainrule run script.py   a PyTorch script, unchanged, on chainrule (chainrule.torch_compat)

Every subcommand has ``--help``. A bad flag prints one line and exits with status 2.
``--lang ja|en`` (any command; default: LANGUAGE, LC_ALL, LC_MESSAGES or LANG) sets the language
of everything printed, the help included, and of the demo's report and pictures.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import chainrule as cr
from chainrule import data, nn, optim
from chainrule.backend import np
from chainrule.distributed import demo as distributed_demo
from chainrule.insight import flow_plots, plots
from chainrule.insight.diagnosis import KIND_NAMES
from chainrule.insight.expression import ExpressionError, bind, build, parse_assignments
from chainrule.insight.figures import picture_language
from chainrule.insight.flow import GradientFlow, format_table
from chainrule.insight.report import write_report
from chainrule.locale import _, _n, language, pad
from chainrule.locale.commandline import add_lang_argument, argparse_messages, lang_from_argv
from chainrule.playground import launch as playground_launch
from chainrule.torch_compat import run_script, split_run_arguments

try:  # optional extra: pip install chainrule[progress]
    from tqdm import tqdm
except ImportError:  # pragma: no cover - the built-in bar is used instead
    tqdm = None

LESSON_EXPRESSION, LESSON_VALUES, LESSON_WRT = "(w*x - y)**2", ["w=2", "x=3", "y=10"], ["w"]
TEST_FRACTION, MIN_TEST_POINTS = 0.25, 10   # an accuracy on fewer test points says next to nothing
MAX_SAMPLES, MAX_EPOCHS, MAX_WIDTH, MAX_HIDDEN_LAYERS = 1_000_000, 100_000, 4096, 16
MAX_DEPTH, MAX_STEPS = 200, 10_000
DATASETS = {  # name -> (generator, noise)
    "moons": (data.make_moons, 0.2), "circles": (data.make_circles, 0.08), "spiral": (data.make_spiral, 0.15),
    "xor": (data.make_xor, 0.15), "gaussians": (data.make_gaussians, 0.8),
}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and --help says the rest)."""

    def error(self, message: str):
        self.exit(2, _("{prog}: error: {message} (see {prog} --help)").format(prog=self.prog, message=message)
                  + "\n")


class UsageError(ValueError):
    """A bad value or combination of flags, found before any work starts: one line, exit 2."""


def _number(kind, minimum=None, maximum=None):
    """An argparse type: a finite number > 0 (or >= ``minimum``, when given), <= ``maximum``."""
    noun = {"int": "whole number", "float": "number"}[kind.__name__]

    def wanted() -> str:   # said in the language in force when a value is refused
        if kind is int:
            text = _("a whole number >= {minimum}") if minimum is not None else _("a positive whole number")
        else:
            text = _("a number >= {minimum}") if minimum is not None else _("a positive number")
        text = text.format(minimum=minimum)
        return text + (_(" and <= {maximum:,}").format(maximum=maximum) if maximum is not None else "")

    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(_("expected {wanted}, got {text!r}").format(
                wanted=wanted(), text=text)) from None
        too_small = value < minimum if minimum is not None else not value > 0
        if too_small or value != value or value in (float("inf"), float("-inf")) \
                or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(_("expected {wanted}, got {text!r}").format(
                wanted=wanted(), text=text))
        return value
    convert.__name__ = f"{noun}"
    return convert


SEED = _number(int, minimum=0, maximum=2**32 - 1)


def writable_folder(path: Path, flag: str = "--out") -> None:
    """Refuse, before any work, a folder that cannot be written: create it (and its parents) and
    write and delete a probe file there. (Permission bits are not enough: root passes them on
    /proc, and a read-only mount passes them too.)"""
    if path.exists() and not path.is_dir():
        raise UsageError(_("{flag} {path}: exists and is not a folder").format(flag=flag, path=path))
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".chainrule-probe-"):
            pass
    except OSError as err:
        raise UsageError(_("{flag} {path}: cannot write there ({why})").format(
            flag=flag, path=path, why=err.strerror or err)) from None


def build_parser() -> argparse.ArgumentParser:
    """The parser, its help written in the current language (see ``main``)."""
    parser = OneLineParser(prog="chainrule", description=_("chainrule: a readable backpropagation engine. "
                                                           "Start with `chainrule demo` or `chainrule "
                                                           "explain`."))
    parser.add_argument("--version", action="version", version=f"chainrule {cr.__version__}",
                        help=_("show program's version number and exit"))
    add_lang_argument(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    demo = commands.add_parser("demo", help=_("train a small MLP on a 2-D dataset and write a report"),
                               description=_(
                                   "Train a small MLP on built-in 2-D data (two moons by default) and write "
                                   "a report folder: loss curve, decision boundary, gradient flow, the graph "
                                   "of one training step, summary.json and report.md. A quarter of the "
                                   "points is held out as the test set (at "
                                   "least {points}).").format(points=MIN_TEST_POINTS))
    demo.add_argument("--dataset", choices=sorted(DATASETS), default="moons")
    demo.add_argument("--samples", type=_number(int, maximum=MAX_SAMPLES), default=400,
                      help=_("points to generate (400; at least {least}, a quarter kept for testing)").format(
                          least=min_samples()))
    demo.add_argument("--epochs", type=_number(int, maximum=MAX_EPOCHS), default=100,
                      help=_("passes over the data (100)"))
    demo.add_argument("--hidden", type=_number(int, maximum=MAX_WIDTH), nargs="+", default=[16, 16],
                      help=_("hidden layer widths (16 16; at most {layers} layers)").format(
                          layers=MAX_HIDDEN_LAYERS))
    demo.add_argument("--lr", type=_number(float, maximum=10.0), default=0.01,
                      help=_("Adam learning rate (0.01)"))
    demo.add_argument("--batch-size", type=_number(int), default=32,
                      help=_("mini-batch size (32; at most the number of training points)"))
    demo.add_argument("--seed", type=SEED, default=0, help=_("random seed (0)"))
    demo.add_argument("--out", type=Path, default=Path("chainrule-report"),
                      help=_("report folder (./chainrule-report)"))
    demo.add_argument("--quiet", action="store_true", help=_("no progress bar or per-epoch lines"))
    add_lang_argument(demo)
    demo.set_defaults(run=run_demo)

    explain = commands.add_parser("explain", help=_("write out the chain rule for an expression"),
                                  description=_("Write out forward and backward pass of an expression, node "
                                                "by node. Default: the lesson's L = (w*x - y)**2 at w=2, "
                                                "x=3, y=10."))
    explain.add_argument("--expr", default=None,
                         help=_("the expression (default: the lesson's {expression!r}); numbers, names, + - "
                                "* / **, unary minus, exp log sin cos tanh sigmoid relu sqrt abs").format(
                                    expression=LESSON_EXPRESSION))
    explain.add_argument("--set", nargs="+", default=None, metavar="NAME=NUMBER",
                         help=_("values of the names; without --expr they change the lesson's w=2 x=3 y=10 "
                                "(the others keep theirs)"))
    explain.add_argument("--wrt", nargs="+", default=None, metavar="NAME",
                         help=_("differentiate with respect to these names (default: w for the lesson's "
                                "example, every name otherwise)"))
    explain.add_argument("--style", choices=["text", "markdown", "latex"], default="text")
    explain.add_argument("--mode", choices=["reverse", "forward"], default="reverse",
                         help=_("reverse: the backward pass (backpropagation); forward: forward mode, "
                                "tangents pushed from the inputs to the output, and when each mode is "
                                "cheaper"))
    add_lang_argument(explain)
    explain.set_defaults(run=run_explain)

    flow = commands.add_parser("gradient-flow", help=_("deep sigmoid vs ReLU / residual / batch norm / "
                                                       "clipped"),
                               description=_("The lesson's experiment: train deep MLP variants for a few "
                                             "steps, print each layer's gradient norm and save a plot."))
    flow.add_argument("--depth", type=_number(int, minimum=2, maximum=MAX_DEPTH), default=20,
                      help=_("Linear layers per network (20)"))
    flow.add_argument("--width", type=_number(int, maximum=MAX_WIDTH), default=32,
                      help=_("units per hidden layer (32)"))
    flow.add_argument("--steps", type=_number(int, maximum=MAX_STEPS), default=20,
                      help=_("SGD steps per variant (20)"))
    flow.add_argument("--lr", type=_number(float, maximum=100.0), default=0.1,
                      help=_("SGD learning rate (0.1)"))
    flow.add_argument("--seed", type=SEED, default=0, help=_("random seed (0)"))
    flow.add_argument("--out", type=Path, default=Path("chainrule-report"), help=_("folder for the plot"))
    add_lang_argument(flow)
    flow.set_defaults(run=run_gradient_flow)

    playground = commands.add_parser("playground", help=_("the neural-network playground in your browser"),
                                     description=_("The neural-network playground in your browser (needs pip "
                                                   "install chainrule[playground])."))
    playground_launch.add_arguments(playground)
    add_lang_argument(playground)
    playground.set_defaults(run=lambda args: playground_launch.serve(args.host, args.port, args.open,
                                                                     args.max_sessions, lang=args.lang))
    distributed_demo.add_command(commands, _number, SEED)

    run = commands.add_parser("run", help=_("run a PyTorch script unchanged, with chainrule as torch"),
                              description=_("Run a PyTorch script unchanged: `import torch` and its modules "
                                            "are chainrule for that run. A torch name chainrule lacks stops "
                                            "the script with one line naming it."))
    run.add_argument("--traceback", action="store_true",
                     help=_("also show where the script reached an unsupported torch name"))
    add_lang_argument(run)
    run.add_argument("script", help=_("the Python script to run"))
    run.add_argument("script_args", nargs="*", default=[], metavar="ARG", help=_("the script's arguments"))
    run.set_defaults(run=lambda args: run_script(args.script, args.script_args, args.traceback))
    return parser


def main(argv=None) -> int:
    """Run a command; ``--lang`` is read first, so the help and argparse's errors use it too."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")  # × and − on a console that cannot show them
    argv = sys.argv[1:] if argv is None else list(argv)
    argv, script_args = split_run_arguments(argv)   # `run script.py ...`: the rest is the script's
    with language(lang_from_argv(argv)), argparse_messages():
        parser = build_parser()
        args = parser.parse_args(argv)
        if script_args is not None:
            args.script_args = script_args
        return _run(parser, args)


def _run(parser, args) -> int:
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except (UsageError, ExpressionError) as err:   # like a bad flag: one line, status 2, nothing done
        print(_("chainrule {command}: error: {message}").format(command=args.command, message=err)
              .splitlines()[0], file=sys.stderr)
        return 2
    except (cr.ChainruleError, OSError) as err:
        print(_("chainrule {command}: error: {message}").format(command=args.command, message=err)
              .splitlines()[0], file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(_("chainrule {command}: interrupted").format(command=args.command), file=sys.stderr)
        return 130


# --- explain --------------------------------------------------------------------------------------
def run_explain(args) -> int:
    """The lesson's example unless --expr is given; --set changes some values and keeps the rest."""
    lesson = args.expr is None
    expression = LESSON_EXPRESSION if lesson else args.expr
    defaults = parse_assignments(LESSON_VALUES) if lesson else None
    values = bind(expression, parse_assignments(args.set), defaults)
    wrt = args.wrt if args.wrt is not None else (LESSON_WRT if lesson else None)
    with np.errstate(all="ignore"):
        result = build(expression, values, wrt)
        print(cr.explain(result, style=args.style, mode=args.mode), end="")
    return 0


# --- demo -----------------------------------------------------------------------------------------
def test_count(samples: int) -> int:
    """Points held out for testing: a quarter, rounded up (as data.train_test_split does)."""
    return math.ceil(TEST_FRACTION * samples)


def min_samples() -> int:
    """The fewest --samples that leave MIN_TEST_POINTS for the test set."""
    return next(n for n in range(2, 10 * MIN_TEST_POINTS) if test_count(n) >= MIN_TEST_POINTS)


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


def run_demo(args) -> int:
    check_demo(args)
    started = time.perf_counter()
    cr.manual_seed(args.seed)
    make, noise = DATASETS[args.dataset]
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


# --- gradient-flow --------------------------------------------------------------------------------
def deep_variant(depth: int, width: int, activation, residual=False, batch_norm=False) -> nn.Sequential:
    """depth Linear layers: 2 → width, (depth − 2) hidden blocks, width → 2 (ReLU nets He-initialised)."""
    layers = [nn.Linear(2, width), activation()]
    for _block in range(depth - 2):
        block = nn.Sequential(nn.Linear(width, width), *([nn.BatchNorm1d(width)] if batch_norm else []),
                              activation())
        layers.append(nn.Residual(block) if residual else block)
    layers.append(nn.Linear(width, 2))
    model = nn.Sequential(*layers)
    if activation is nn.ReLU:   # He initialisation: keeps a ReLU stack's signal from shrinking
        for module in model.modules():
            if isinstance(module, nn.Linear):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)
    return model


VARIANTS = {  # name -> (activation, residual, batch norm, clip gradients at norm CLIP_NORM)
    "sigmoid": (nn.Sigmoid, False, False, False),
    "relu (He init)": (nn.ReLU, False, False, False),
    "sigmoid+residual": (nn.Sigmoid, True, False, False),
    "sigmoid+batchnorm": (nn.Sigmoid, False, True, False),
    "sigmoid+clipped": (nn.Sigmoid, False, False, True),
    "relu+residual+bn": (nn.ReLU, True, True, False),
}
CLIP_NORM = 1.0


def layer_names(depth: int) -> list:
    """The experiment's names for its Linear layers, in the table, the verdicts and the plot."""
    return [(_("layer {i} (input)") if i == 0 else _("layer {i} (output)") if i == depth - 1
             else _("layer {i}")).format(i=i) for i in range(depth)]


def train_variant(args, X, y, activation, residual, batch_norm, clip) -> tuple:
    """Median gradient norm per Linear layer, the flow report, and the steps where clipping acted."""
    cr.manual_seed(args.seed)
    model = deep_variant(args.depth, args.width, activation, residual, batch_norm)
    optimizer = optim.SGD(model.parameters(), lr=args.lr)
    clipped, largest = 0, 0.0
    with GradientFlow(model) as flow, np.errstate(all="ignore"):
        try:
            for _ in range(args.steps):
                optimizer.zero_grad()
                nn.CrossEntropyLoss()(model(X), y).backward()
                if clip:
                    total = nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM).item()
                    clipped, largest = clipped + (total > CLIP_NORM), max(largest, total)
                optimizer.step()
        except cr.ChainruleError:     # a diverging variant: its report says so
            pass
        norms = [norm for _, norm in flow.layer_norms()]
        names = layer_names(args.depth)
        report = flow.report(labels=names if len(norms) == len(names) else None)
    return norms, report, (clipped, largest)


def run_gradient_flow(args) -> int:
    writable_folder(args.out)
    X, y = data.make_moons(256, noise=0.2, seed=args.seed)
    norms, reports, reasons = {}, {}, {}
    for name, (activation, residual, batch_norm, clip) in VARIANTS.items():
        norms[name], reports[name], (clipped, largest) = train_variant(args, X, y, activation, residual,
                                                                      batch_norm, clip)
        if clip and clipped == 0:
            reasons[name] = _("clipping at norm {clip:g} never acted: the total gradient norm stayed at most "
                              "{largest:.1e}").format(clip=CLIP_NORM, largest=largest)
    names = layer_names(args.depth)
    rows = [{"Linear layer": names[i]} | {name: norms[name][i] if i < len(norms[name]) else None
                                          for name in VARIANTS} for i in range(args.depth)]
    print(_("Median gradient norm ‖dL/dW‖ per Linear layer over {steps} SGD steps (lr {lr}), {depth} layers "
            "of width {width}, two moons:").format(steps=args.steps, lr=args.lr, depth=args.depth,
                                                   width=args.width))
    print(format_table(rows))
    print()
    same, flags = flow_plots.coinciding(norms), {}
    for name in VARIANTS:
        first, last = norms[name][0], norms[name][-1]
        ratio = _("first/last layer {ratio:.1e}").format(ratio=first / last) if first and last \
            else _("no gradient")
        flags[name] = ", ".join(_(KIND_NAMES[kind]) for kind in sorted(reports[name].kinds)) or _("healthy")
        print(f"{pad(name, 18)} {pad(flags[name], 10)} ({ratio})")
        for finding in reports[name].findings:
            if finding.kind == "uneven":
                print(f"{'':<18} {finding.message}")
                flags[name] += _(": {layers} far above the rest").format(layers=", ".join(finding.layers))
        if name in same:
            why = f": {reasons[name]}" if name in reasons else ""
            print(f"{'':<18} " + _("the same numbers as {variant}").format(variant=same[name]) + why)
    print("\n" + _("Sigmoid's derivative is at most 0.25, so the gradient shrinks layer after layer "
                   "(vanishing). ReLU (He-initialised), residual connections and batch normalisation keep it "
                   "flowing; clipping only caps large gradients (exploding) and cannot revive vanishing "
                   "ones. A layer far above the others (uneven) is a warning too: it takes much larger steps "
                   "than the rest."))
    try:
        with picture_language():
            path = plots.plot_layer_norms(
                norms, args.out / "gradient_flow_layers.png", reasons=reasons, flags=flags,
                title=_("{depth}-layer MLPs: median gradient norm per Linear layer").format(depth=args.depth),
                xlabel=_("Linear layer, 0 = input … {last} = output").format(last=args.depth - 1))
        print(_("plot saved to {path}").format(path=path.resolve()))
    except plots.MissingExtraError as err:
        print(_("note: skipped the plot: {why}").format(why=err))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
