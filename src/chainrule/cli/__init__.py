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

The files:

    parser.py          every command's flags and the checks on their values (light imports only)
    demo.py            chainrule demo: train, report (matplotlib, graphviz, tqdm when installed)
    explain.py         chainrule explain
    gradient_flow.py   chainrule gradient-flow (matplotlib for the plot)
    playground.py      chainrule playground (the server, Starlette and uvicorn, when it starts)
    run.py             chainrule run (the torch import hook)

``main`` parses the command line with parser.py alone and imports the module of the command
chosen (``parser.COMMANDS``) only then, so ``chainrule --help`` or a bad flag loads none of
what the commands need.
"""

from __future__ import annotations

import importlib
import sys

import chainrule as cr
from chainrule.locale import _, language
from chainrule.locale.commandline import argparse_messages, lang_from_argv

from .parser import COMMANDS, UsageError, build_parser, split_run_arguments


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
        return importlib.import_module(COMMANDS[args.command]).run(args)
    except UsageError as err:   # like a bad flag: one line, status 2, nothing done
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
