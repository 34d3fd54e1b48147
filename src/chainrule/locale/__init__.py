"""The language of chainrule's teaching surfaces: English (the source) or Japanese.

Standard ``gettext``: every user-facing sentence of explain, the gradient-flow diagnosis, the
demo report and its pictures, the command line and the playground is written in English in the
code, marked ``_("...")``, and looked up in the compiled catalogue ``ja/LC_MESSAGES/chainrule.mo``
beside this file. Only Python's own ``gettext`` runs here; Babel, which extracts and compiles the
catalogues, is a development tool (``python -m chainrule.locale.build``, see build.py).

Which language, from the most specific to the least:

    explain(t, lang="ja"), flow.report(lang="ja"), chainrule --lang ja ...   (an explicit choice)
    with chainrule.locale.language("ja"): ...                              (a block of code)
    LANGUAGE, LC_ALL, LC_MESSAGES, LANG   (the environment, in gettext's order: "ja_JP.UTF-8" → ja)
    English otherwise

Error messages of the core library (tensor, ops, nn: ShapeError, DTypeError, ...) stay English:
they are for programmers and searchable as they are. Numbers and formulas are written the same
way in every language (dL/dw = −24 in both).

Messages use ``str.format`` fields (``_("{count} layers").format(count=n)``), never f-strings,
so the translation can move the numbers around; ``_n`` picks a plural form (Japanese has one).
"""

from __future__ import annotations

import contextlib
import functools
import gettext as _gettext
import os
import unicodedata
from contextvars import ContextVar
from pathlib import Path

LOCALE_DIR = Path(__file__).parent
DOMAIN = "chainrule"
LANGUAGES = ("en", "ja")
SOURCE_LANGUAGE = "en"
ENVIRONMENT = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")   # gettext's order

_chosen: ContextVar[str | None] = ContextVar("chainrule_language", default=None)


def normalise(lang) -> str:
    """"ja", "ja_JP.UTF-8", "JA", "en-GB" → "ja" / "en"; anything else is a ValueError naming
    the languages there are."""
    code = str(lang).strip().replace("-", "_").split(".")[0].split("@")[0].split("_")[0].lower()
    if code not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}; got {str(lang)[:20]!r}")
    return code


def environment_language(environ=None) -> str:
    """The language the environment asks for: the first of LANGUAGE, LC_ALL, LC_MESSAGES, LANG
    that is set (LANGUAGE may list several, "ja:en"); a language chainrule lacks, "C" or "POSIX"
    means English."""
    environ = os.environ if environ is None else environ
    for name in ENVIRONMENT:
        value = environ.get(name, "").strip()
        if not value:
            continue
        for part in value.split(":"):
            try:
                return normalise(part)
            except ValueError:
                continue
        return SOURCE_LANGUAGE
    return SOURCE_LANGUAGE


def current_language() -> str:
    """The language in force here: the innermost ``language(...)`` block, else the environment's."""
    return _chosen.get() or environment_language()


@contextlib.contextmanager
def language(lang):
    """Write in ``lang`` inside the block (None: leave the language as it is)."""
    if lang is None:
        yield current_language()
        return
    token = _chosen.set(normalise(lang))
    try:
        yield _chosen.get()
    finally:
        _chosen.reset(token)


@functools.lru_cache(maxsize=None)
def translation(lang: str) -> _gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (English: the identity)."""
    lang = normalise(lang)
    if lang == SOURCE_LANGUAGE:
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang], fallback=True)


def _(message: str) -> str:
    """``message`` in the current language."""
    return translation(current_language()).gettext(message)


def _n(singular: str, plural: str, count: int) -> str:
    """The form of ``singular``/``plural`` for ``count``, in the current language."""
    return translation(current_language()).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it now (a table of words
    translated where it is shown)."""
    return message


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1
               for c in text)


def pad(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal columns (``str.ljust`` counting wide characters)."""
    return text + " " * max(0, width - display_width(text))


__all__ = ["LANGUAGES", "N_", "_", "_n", "current_language", "display_width", "environment_language",
           "language", "normalise", "pad", "translation"]
