"""The command line in the user's language: ``--lang`` read before the parser is built, and
argparse's own words ("usage:", "options", "invalid choice: ...") from chainrule's catalogue.

    lang = lang_from_argv(sys.argv[1:])          # "ja", "en" or None (then the environment's)
    with language(lang), argparse_messages():
        parser = build_parser()                   # help texts written in that language
        args = parser.parse_args(argv)            # argparse's errors too

argparse looks its words up through the module-level ``_`` and ``ngettext`` it imported from
``gettext`` (Python ships no catalogue for them). ``argparse_messages`` points those two names
at chainrule's catalogue for the length of the block and puts the originals back after it; the
msgids below are argparse's own, so the catalogue holds their translations.
"""

from __future__ import annotations

import argparse
import contextlib

from . import LANGUAGES, N_, _, _n, normalise

ARGPARSE_MESSAGES = (   # argparse's words a chainrule user can meet (Python 3.10-3.13)
    N_("usage: "), N_("positional arguments"), N_("options"), N_("show this help message and exit"),
    N_("show program's version number and exit"), N_("argument %(argument_name)s: %(message)s"),
    N_("unrecognized arguments: %s"), N_("not allowed with argument %s"), N_("ignored explicit argument %r"),
    N_("the following arguments are required: %s"), N_("one of the arguments %s is required"),
    N_("expected one argument"), N_("expected at most one argument"), N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"), N_("unexpected option string: %s"),
    N_("invalid %(type)s value: %(value)r"), N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"), N_("%(prog)s: error: %(message)s\n"),
)


def N_n(singular: str, plural: str) -> tuple:
    """Mark a plural message for the catalogue (Babel's keyword N_n:1,2) without translating it."""
    return singular, plural


ARGPARSE_PLURALS = (N_n("expected %s argument", "expected %s arguments"),)


def lang_from_argv(argv) -> str | None:
    """The language ``--lang X`` or ``--lang=X`` asks for, or None (absent or not a language:
    the parser then reports a bad value in the environment's language)."""
    argv = list(argv)
    for i, word in enumerate(argv):
        if word == "--":
            break
        value = argv[i + 1] if word == "--lang" and i + 1 < len(argv) else \
            word.split("=", 1)[1] if word.startswith("--lang=") else None
        if value is not None and value in LANGUAGES:
            return normalise(value)
    return None


def add_lang_argument(parser, top: bool = False) -> None:
    """``--lang ja|en`` on a parser; on subcommands it does not overwrite the top level's value."""
    parser.add_argument("--lang", choices=LANGUAGES, default=None if top else argparse.SUPPRESS,
                        help=_("language of the output: ja or en (default: from LANGUAGE, LC_ALL or LANG)"))


@contextlib.contextmanager
def argparse_messages():
    """argparse's own words in the current language, inside the block."""
    saved = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = _, _n
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved
