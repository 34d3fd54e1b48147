"""Griffe extension (mkdocs.yml: mkdocstrings' ``extensions``): chainrule's docstrings as Markdown.

chainrule's docstrings are plain text written to be read in the source: prose paragraphs,
formula tables aligned in columns, and indented code, with no Google/NumPy sections. Read as
Markdown directly they break in two ways:

- ``inspect.cleandoc`` (which griffe applies) removes the indentation common to every line after
  the first, so a docstring whose summary is followed only by an indented table or example loses
  the indentation that made it a block;
- an aligned table written at the prose's own indentation (``name    what it holds``) runs
  together into one paragraph, and ``<``, ``*``, ``[`` in prose are read as HTML or emphasis.

So each docstring is re-read from the source (``ast.get_docstring(clean=False)``), its lines are
measured against the column of the docstring itself, and it is written out as Markdown:

    prose at that column                 a paragraph (Markdown's special characters escaped)
    lines indented deeper, or aligned    a preformatted block, shown exactly as written
      columns (two or more spaces after
      the first word or two)
    "- item" lines                       a list

Nothing in the source changes; the text shown is the text written.

It also decides which module-level names of chainrule are public (what mkdocstrings' ``filters:
public`` shows): a package's ``__init__`` re-exports what users import (``from .creation import
tensor, zeros``), so in a module some of whose names a package re-exports, exactly those are
public and the rest are its helpers (``creation.finish``); a module none of whose names are
re-exported is used by its own path (``nn.functional``, ``nn.init``, ``cuda``) and shows every
name without a leading underscore.
"""

from __future__ import annotations

import ast
import re

import griffe

ALIGNED = re.compile(r"^\S+(?: \S+)?\s{2,}\S")        # "name    meaning": a column of a table
LIST_ITEM = re.compile(r"^(?:[-*•]|\d+[.)])\s+\S")
CODE_SPAN = re.compile(r"(``.+?``|`[^`]+`)")
ESCAPED = re.compile(r"([\\*_\[\]#])")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _escape_prose(line: str) -> str:
    """Markdown-escape the characters that would change what a prose line shows, leaving code
    spans (``code`` or `code`) as they are; a closing ``::`` (reStructuredText's "a literal
    block follows") becomes ":"."""
    if line.endswith("::"):
        line = line[:-1]
    parts = CODE_SPAN.split(line)
    text = "".join(part if index % 2 else ESCAPED.sub(r"\\\1", part).replace("<", "&lt;")
                   for index, part in enumerate(parts))
    return "\\" + text if text.startswith(">") else text


def _fence(block: list) -> list:
    """A preformatted block, its common indentation removed (relative indentation kept)."""
    while block and not block[-1].strip():
        block.pop()
    common = min(_indent(line) for line in block if line.strip())
    fence = "````" if any("```" in line for line in block) else "```"
    return ["", fence + "text", *(line[common:] for line in block), fence, ""]


def to_markdown(lines: list, column: int) -> str:
    """The docstring ``lines`` (raw, not dedented; prose starts at ``column``) as Markdown."""
    relative = [line[column:] if not line[:column].strip() else line.lstrip() for line in lines]
    out, block, in_list = [], [], False
    for line in relative:
        if not line.strip():
            if block:
                block.append("")
            else:
                out.append("")
                in_list = False
            continue
        indent = _indent(line)
        continues_item = in_list and not block and 0 < indent <= 4
        aligned = indent == 0 and ALIGNED.match(line) and not LIST_ITEM.match(line)
        if (indent > 0 and not continues_item) or aligned:
            block.append(line)
            continue
        if block:
            out.extend(_fence(block))
            block, in_list = [], False
        text = _escape_prose(line.strip())
        if continues_item:
            out.append("    " + text)
            continue
        if LIST_ITEM.match(line):
            if not in_list and out and out[-1].strip():
                out.append("")      # Markdown starts a list only after a blank line
            in_list = True
        elif in_list:
            out.append("")
            in_list = False
        out.append(text)
    if block:
        out.extend(_fence(block))
    return "\n".join(out).strip("\n")


# modules that users reach by their path although a package also re-exports some of their names
# (cr.autograd.Function, cr.autograd.backward): every name of theirs is public
USED_BY_PATH = {"chainrule.autograd"}


def _reexported(package) -> set:
    """The full paths of the names a package's ``__init__`` imports from its own modules
    (``from .creation import tensor`` in chainrule: ``chainrule.creation.tensor``). Read from the
    source: griffe lets a submodule shadow a name imported under the same name (chainrule.tensor)."""
    names = set()
    for node in ast.walk(ast.parse(package.filepath.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level and node.module:
            parts = package.path.split(".")
            base = ".".join([*parts[: len(parts) - node.level + 1], node.module])
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def _modules(module):
    yield module
    for member in module.members.values():
        if not member.is_alias and member.is_module:
            yield from _modules(member)


class ProseDocstrings(griffe.Extension):
    """Rewrite every docstring griffe reads as Markdown, and mark chainrule's helpers as not
    public (see the module's docstring)."""

    def on_package(self, *, pkg, **kwargs) -> None:
        if pkg.name != "chainrule":
            return
        exported = set()
        for module in _modules(pkg):
            if module.filepath is not None and module.filepath.name == "__init__.py":
                exported.update(_reexported(module))
        exporting = {path.rpartition(".")[0] for path in exported} - USED_BY_PATH
        for module in _modules(pkg):
            if module.path in exporting:
                for member in module.members.values():
                    if not member.is_alias and not member.is_module:
                        member.public = member.path in exported and not member.name.startswith("_")

    def on_instance(self, *, node, obj, **kwargs) -> None:
        if obj.docstring is None:
            return
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            raw = ast.get_docstring(node, clean=False)
            column = 0 if isinstance(node, ast.Module) else node.body[0].col_offset
        else:   # an attribute's docstring: only griffe's cleaned text is at hand
            raw, column = obj.docstring.value, 0
        if raw is None:
            return
        lines = raw.expandtabs().split("\n")
        first, rest = lines[0].strip(), lines[1:]
        obj.docstring.value = to_markdown([" " * column + first, *rest], column)
