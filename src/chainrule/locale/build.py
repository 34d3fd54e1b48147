"""Extract, update and compile chainrule's message catalogues (a development tool: needs Babel).

    python -m chainrule.locale.build            extract every marked message, update each
                                                language's .po, compile the .mo and the page's JSON
    python -m chainrule.locale.build --check    change nothing; exit 1, listing what is wrong,
                                                when a file is stale or a message untranslated

The one place translators edit is ``src/chainrule/locale/<lang>/LC_MESSAGES/chainrule.po``.
Everything else is generated from it and committed, so that a fresh ``pip install -e .`` works
without Babel (the runtime needs only Python's gettext):

    locale/chainrule.pot                      every message, from the sources below
    locale/<lang>/LC_MESSAGES/chainrule.mo    the compiled catalogue Python's gettext reads
    playground/static/locale/<lang>.json      the page's messages only: {msgid: msgstr}, or
                                              {msgid: [forms]} for a plural (Japanese: one form)

Where messages come from:

    Python   insight/, cli/, display.py, distributed/demo.py,     _("..."), N_("..."), _n("...", "...", n)
             playground/, locale/, torch_compat/
    JS       playground/static/*.js                    t("..."), tn("...", "...", n)
    HTML     playground/static/index.html              every text with a Latin letter, and the
                                                       title / aria-label / placeholder
                                                       attributes, outside translate="no"
                                                       (i18n.js translates the same texts)

Messages use ``{name}`` fields (Python's str.format, the page's fill) and the translation must
keep the same fields; ``--check`` also says when one is missing or extra.
"""

from __future__ import annotations

import argparse
import datetime
import html.parser
import io
import json
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from . import DOMAIN, LOCALE_DIR

PACKAGE = LOCALE_DIR.parent
STATIC = PACKAGE / "playground" / "static"
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
PYTHON_SOURCES = ("insight/**/*.py", "cli/*.py", "display.py", "distributed/demo.py", "playground/**/*.py",
                  "locale/*.py", "torch_compat/*.py")
PYTHON_KEYWORDS = {"_": None, "N_": None, "_n": (1, 2), "N_n": (1, 2)}
JS_KEYWORDS = {"t": None, "tn": (1, 2)}
CREATED = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)   # fixed: no churn in the .pot
FIELD = re.compile(r"(?<!\{)\{(\w*)[^{}]*\}(?!\})|%\((\w+)\)\w|%[sdrf]")
TRANSLATED_ATTRIBUTES = ("title", "aria-label", "placeholder")
SKIPPED_ELEMENTS = ("script", "style")


class _HtmlTexts(html.parser.HTMLParser):
    """The page's translatable texts: text with a Latin letter (whitespace collapsed) and the
    title / aria-label / placeholder attributes, except inside translate="no", script, style."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
            "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.stack = [], []

    def _skipping(self) -> bool:
        return any(no for _, no in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skip = attrs.get("translate") == "no" or tag in SKIPPED_ELEMENTS
        if tag not in self.VOID:
            self.stack.append((tag, skip))
        if not (skip or self._skipping()):
            for name in TRANSLATED_ATTRIBUTES:
                if attrs.get(name):
                    self._add(attrs[name])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if not self._skipping():
            self._add(data)

    def _add(self, text):
        text = " ".join(text.split())
        if re.search("[A-Za-z]", text):
            self.found.append((self.getpos()[0], text))


def extract_html(fileobj, keywords, comment_tags, options):
    """A Babel extraction method for the playground's index.html (see _HtmlTexts)."""
    parser = _HtmlTexts()
    parser.feed(fileobj.read().decode("utf-8"))
    for lineno, text in parser.found:
        yield lineno, None, text, []


def _sources() -> list:
    """(path, method, keywords) of every file with messages, in a fixed order."""
    found = []
    for pattern in PYTHON_SOURCES:
        found += [(path, "python", PYTHON_KEYWORDS) for path in sorted(PACKAGE.glob(pattern))]
    found += [(path, "javascript", JS_KEYWORDS) for path in sorted(STATIC.glob("*.js"))]
    found += [(path, extract_html, {}) for path in sorted(STATIC.glob("*.html"))]
    return found


def extract() -> tuple[Catalog, set]:
    """The template catalogue, and the msgids the page (static files) uses."""
    catalog = Catalog(project="chainrule", domain=DOMAIN, creation_date=CREATED, revision_date=CREATED,
                      charset="utf-8", fuzzy=False)
    page = set()
    for path, method, keywords in _sources():
        where = str(path.relative_to(PACKAGE.parent))
        options = {"jsx": False, "parse_template_string": True}   # (t() inside `...${t("...")}...`)
        for lineno, message, comments, context in extract_from_file(method, str(path), keywords=keywords,
                                                                    options=options):
            catalog.add(message, locations=[(where, lineno)], auto_comments=comments, context=context)
            if path.parent == STATIC:
                page.add(message[0] if isinstance(message, tuple) else message)
    return catalog, page


def _languages() -> list:
    return sorted(path.parent.parent.name for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def _po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _po_text(catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, include_lineno=False, ignore_obsolete=True)
    return buffer.getvalue()


def _mo_bytes(catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def _page_json(catalog, page: set) -> bytes:
    table = {}
    for message in catalog:
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if key and key in page and message.string and not message.fuzzy:
            table[key] = list(message.string) if isinstance(message.string, tuple) else message.string
    return (json.dumps(table, ensure_ascii=False, indent=0, sort_keys=True) + "\n").encode("utf-8")


def _fields(text: str) -> list:
    """The fields of a message ({name}, %(name)s, %s), by name, sorted."""
    return sorted((match.group(1) or match.group(2)) or match.group(0) for match in FIELD.finditer(text))


def problems_of(catalog, lang: str) -> list:
    """Untranslated, fuzzy, and field-mismatched messages of one language's catalogue."""
    found = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        name = ids[0][:70]
        if message.fuzzy:
            found.append(f"{lang}: fuzzy (check it, then remove the flag): {name!r}")
        if not all(strings):
            found.append(f"{lang}: no translation for {name!r}")
            continue
        for string in strings:
            if _fields(string) not in (_fields(i) for i in ids):
                found.append(f"{lang}: the fields of {name!r} differ in the translation {string[:50]!r}")
    return found


def updated(lang: str, template: Catalog) -> Catalog:
    """``lang``'s .po brought up to the template: new messages added empty, gone ones dropped."""
    with open(_po_path(lang), "rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
    catalog.obsolete.clear()
    catalog.creation_date = CREATED
    return catalog


def build(check: bool = False) -> list:
    """Write (or, with ``check``, compare) every generated file; returns the problems found."""
    template, page = extract()
    outputs = {TEMPLATE: _po_text(template)}
    problems = []
    for lang in _languages():
        catalog = updated(lang, template)
        problems += problems_of(catalog, lang)
        outputs[_po_path(lang)] = _po_text(catalog)
        outputs[_po_path(lang).with_suffix(".mo")] = _mo_bytes(catalog)
        outputs[STATIC / "locale" / f"{lang}.json"] = _page_json(catalog, page)
    for path, data in outputs.items():
        if check:
            if not path.exists() or path.read_bytes() != data:
                problems.append(f"{path.relative_to(PACKAGE.parent)} is not up to date: run "
                                "python -m chainrule.locale.build")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chainrule.locale.build",
        description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when anything is stale")
    args = parser.parse_args(argv)
    problems = build(check=args.check)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not args.check:
        print(f"catalogues written ({', '.join(_languages()) or 'no language yet'}); "
              f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
