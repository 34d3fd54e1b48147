"""What the ``chainrule`` command accepts: every command's flags, the checks on their values, and
where each command's code lives (``COMMANDS``).

Only light modules are imported here, so that ``chainrule --help`` (or a bad flag) answers
without loading matplotlib, the datasets, the playground server or the torch import hook: the
module that runs a command is imported once that command has been chosen (see ``chainrule.cli``).
The numbers the help quotes (limits, the lesson's example, the demo's test split) are kept here,
beside the flags, and the command modules read them from here.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import chainrule as cr
from chainrule.locale import _
from chainrule.locale.commandline import add_lang_argument
from chainrule.playground import launch as playground_launch

COMMANDS = {  # command -> the module whose run(args) does it
    "demo": "chainrule.cli.demo", "explain": "chainrule.cli.explain",
    "gradient-flow": "chainrule.cli.gradient_flow", "playground": "chainrule.cli.playground",
    "distributed-demo": "chainrule.distributed.demo", "run": "chainrule.cli.run",
}
LESSON_EXPRESSION, LESSON_VALUES, LESSON_WRT = "(w*x - y)**2", ["w=2", "x=3", "y=10"], ["w"]
TEST_FRACTION, MIN_TEST_POINTS = 0.25, 10   # an accuracy on fewer test points says next to nothing
MAX_SAMPLES, MAX_EPOCHS, MAX_WIDTH, MAX_HIDDEN_LAYERS = 1_000_000, 100_000, 4096, 16
MAX_DEPTH, MAX_STEPS = 200, 10_000
MAX_RANKS, MAX_RANK_EPOCHS, MAX_RANK_BATCH = 64, 1000, 1024   # distributed-demo
DATASETS = ("circles", "gaussians", "moons", "spiral", "xor")   # demo.py's generators, by name
TAKES_A_VALUE = ("--lang",)   # the options before a command or a script that take the next word


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


def test_count(samples: int) -> int:
    """Points the demo holds out for testing: a quarter, rounded up (as data.train_test_split does)."""
    return math.ceil(TEST_FRACTION * samples)


def min_samples() -> int:
    """The fewest --samples that leave MIN_TEST_POINTS for the test set."""
    return next(n for n in range(2, 10 * MIN_TEST_POINTS) if test_count(n) >= MIN_TEST_POINTS)


def split_run_arguments(argv) -> tuple:
    """(chainrule's own arguments, the script's arguments or None) for a command line: what
    follows ``chainrule [options] run [options] script.py`` belongs to the script, word for word
    (``--``, ``--lang`` and ``--help`` included), as ``python script.py ...`` would pass it."""
    argv = list(argv)
    i, seen_run = 0, False
    while i < len(argv):
        word = argv[i]
        if word == "--" and seen_run:
            return argv[:i + 2], argv[i + 2:]
        if word in TAKES_A_VALUE:
            i += 2
            continue
        if not word.startswith("-"):
            if seen_run:
                return argv[:i + 1], argv[i + 1:]
            if word != "run":
                return argv, None
            seen_run = True
        i += 1
    return argv, None


def build_parser() -> argparse.ArgumentParser:
    """The parser, its help written in the current language (see ``chainrule.cli.main``)."""
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
    demo.add_argument("--dataset", choices=DATASETS, default="moons")
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

    playground = commands.add_parser("playground", help=_("the neural-network playground in your browser"),
                                     description=_("The neural-network playground in your browser (needs pip "
                                                   "install chainrule[playground])."))
    playground_launch.add_arguments(playground)
    add_lang_argument(playground)

    distributed = commands.add_parser(
        "distributed-demo", help=_("train the digits MLP on N MPI ranks and print each rank's throughput"),
        description=_("Train an MLP on scikit-learn's digits with data-parallel training over MPI: N ranks, "
                      "each on its share of every batch, gradients averaged during backward. Prints each "
                      "rank's throughput. Starts mpirun itself, or runs as the ranks mpirun started."))
    distributed.add_argument("--ranks", type=_number(int, maximum=MAX_RANKS), default=2,
                             help=_("processes to start with mpirun (2; under mpirun, mpirun -n decides)"))
    distributed.add_argument("--epochs", type=_number(int, maximum=MAX_RANK_EPOCHS), default=10,
                             help=_("passes over the data (10)"))
    distributed.add_argument("--batch-size", type=_number(int, maximum=MAX_RANK_BATCH), default=32,
                             help=_("mini-batch size per rank (32; the global batch is ranks × this)"))
    distributed.add_argument("--lr", type=_number(float, maximum=10.0), default=0.003,
                             help=_("Adam learning rate (0.003)"))
    distributed.add_argument("--bucket-cap-mb", type=_number(float, maximum=1024.0), default=25.0,
                             help=_("largest gradient bucket sent as one all-reduce, in MB (25)"))
    distributed.add_argument("--seed", type=SEED, default=0, help=_("random seed (0)"))
    add_lang_argument(distributed)

    run = commands.add_parser("run", help=_("run a PyTorch script unchanged, with chainrule as torch"),
                              description=_("Run a PyTorch script unchanged: `import torch` and its modules "
                                            "are chainrule for that run. A torch name chainrule lacks stops "
                                            "the script with one line naming it."))
    run.add_argument("--traceback", action="store_true",
                     help=_("also show where the script reached an unsupported torch name"))
    add_lang_argument(run)
    run.add_argument("script", help=_("the Python script to run"))
    run.add_argument("script_args", nargs="*", default=[], metavar="ARG", help=_("the script's arguments"))
    return parser
