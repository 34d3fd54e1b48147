"""The documentation site (mkdocs.yml, docs/): its examples print what the pages say they print,
and ``mkdocs build --strict`` passes (every page, link, API page and docstring renders without a
warning).

The examples: every ```pycon block of a page is a doctest (``>>>`` lines and the output shown
under them); a page's blocks run in order in one namespace, as a reader would type them. The
build: skipped when MkDocs, Material or mkdocstrings are not installed (``pip install -e
".[docs]"``; the ``test`` extra brings them too).
"""

import doctest
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import chainrule

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
PYCON = re.compile(r"^```pycon\n(.*?)^```$", re.S | re.M)
SOURCE = str(Path(chainrule.__file__).resolve().parents[1])   # the chainrule these tests import
BUILD_TIMEOUT = 600   # seconds: the build takes ~15 s; generous for a slow, shared machine


def examples(page: Path) -> str:
    """The page's pycon blocks, every other line blanked: a doctest's line numbers are the page's."""
    text = page.read_text(encoding="utf-8")
    kept = ["" for _ in text.split("\n")]
    for block in PYCON.finditer(text):
        first = text.count("\n", 0, block.start(1))
        for offset, line in enumerate(block.group(1).rstrip("\n").split("\n")):
            kept[first + offset] = line
    return "\n".join(kept) if any(kept) else ""


def test_the_site_has_its_pages_and_its_config():
    assert (ROOT / "mkdocs.yml").is_file()
    names = {p.relative_to(DOCS).as_posix() for p in PAGES}
    for wanted in ("index.md", "getting-started.md", "lesson.md", "pytorch.md", "notebooks.md",
                   "guide/autograd.md", "guide/cli.md", "guide/compile.md", "guide/func.md",
                   "guide/distributed.md", "reference/index.md", "reference/ops.md", "reference/compiler.md",
                   "reference/func.md", "reference/distributed.md"):
        assert wanted in names
    # the README's pictures stay where the README expects them, and it says how to build the site
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for picture in re.findall(r"\]\((docs/[^)]+\.png)\)", readme):
        assert (ROOT / picture).is_file(), picture
    assert {"docs/gradient_flow_layers.png", "docs/playground.png", "docs/site_home.png"} <= set(
        re.findall(r"\]\((docs/[^)]+\.png)\)", readme))
    assert 'pip install -e ".[docs]" && mkdocs serve' in readme


@pytest.mark.parametrize("page", [p for p in PAGES if examples(p)],
                         ids=lambda p: p.relative_to(DOCS).as_posix())
def test_page_examples_print_what_the_page_shows(page, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)          # an example that writes a file writes it here
    monkeypatch.setenv("LANGUAGE", "en")
    test = doctest.DocTestParser().get_doctest(examples(page), {"__name__": "__docs__"}, page.name,
                                               str(page), 0)
    assert test.examples, "a pycon block without >>> lines"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, f"{runner.failures} example(s) of {page.name} differ:\n" + "".join(report)


def test_each_api_object_has_one_place_in_the_reference():
    targets = [line.split()[1] for page in (DOCS / "reference").glob("*.md")
               for line in page.read_text(encoding="utf-8").splitlines() if line.startswith("::: ")]
    assert targets and len(targets) == len(set(targets)), sorted(t for t in targets if targets.count(t) > 1)


def test_pycon_blocks_are_found():
    """The pattern above must see the blocks as MkDocs does (a test of the test)."""
    assert "loss.backward()" in examples(DOCS / "getting-started.md")


def _have(*modules) -> bool:
    return all(importlib.util.find_spec(name) is not None for name in modules)


@pytest.mark.skipif(not _have("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"),
                    reason="needs the docs tools: pip install -e '.[docs]'")
def test_mkdocs_build_strict_passes(tmp_path):
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONPATH=SOURCE)
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-8000:]
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "A backpropagation engine you can read" in home
    # the API pages come from the docstrings: the derivative table's formulas are there
    ops = (site / "reference" / "ops" / "index.html").read_text(encoding="utf-8")
    assert "dL/dx = g * y" in ops and 'id="chainrule.ops.unary"' in ops
    tensor = (site / "reference" / "tensor" / "index.html").read_text(encoding="utf-8")
    assert 'id="chainrule.tensor.Tensor"' in tensor and 'id="chainrule.creation.tensor"' in tensor
    # functions a package re-exports under the name of their own module (insight.explain,
    # onnx.export) have their own blocks: griffe sees the module under that name, not the function
    for page, anchor in (("insight", "chainrule.insight.explain.explain"),
                         ("io", "chainrule.onnx.export.export")):
        assert f'id="{anchor}"' in (site / "reference" / page / "index.html").read_text(encoding="utf-8")
    # the features merged after the site was first written have their API blocks
    merged_later = (("compiler", "chainrule.compiler.compile"),
                    ("compiler", "chainrule.compiler.CompileStats"),
                    ("func", "chainrule.func.jvp"), ("func", "chainrule.func.vmap.vmap"),
                    ("func", "chainrule.forward_ad.make_dual"),
                    ("distributed", "chainrule.distributed.all_reduce"),
                    ("distributed", "chainrule.nn.parallel.distributed.DistributedDataParallel"),
                    ("optim", "chainrule.optim.fused"))
    for page, anchor in merged_later:
        html = (site / "reference" / page / "index.html").read_text(encoding="utf-8")
        assert f'id="{anchor}"' in html, anchor
    # helpers a package does not re-export stay out of the reference (docs/prose_docstrings.py)
    assert 'id="chainrule.creation.finish"' not in tensor
    # an annotation shows as written: `bool` is not resolved to chainrule.bool (the dtype, bool_)
    optim_page = (site / "reference" / "optim" / "index.html").read_text(encoding="utf-8")
    assert '<span class="n">set_to_none</span>' in optim_page
    for page in (site / "reference").glob("*/index.html"):
        assert '<span class="n">bool_</span>' not in page.read_text(encoding="utf-8"), page
    # the notebooks are in the site, as they are in the repository
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        assert (site / "notebooks" / notebook.name).read_bytes() == notebook.read_bytes()
    # build machinery is not published as pages
    assert not (site / "hooks.py").exists() and not (site / "prose_docstrings.py").exists()


def _prose_docstrings():
    pytest.importorskip("griffe")
    spec = importlib.util.spec_from_file_location("prose_docstrings", DOCS / "prose_docstrings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docstring_tables_and_code_are_shown_as_written():
    to_markdown = _prose_docstrings().to_markdown
    docstring = '''The derivative table.

        exp.py    y = exp(x)    dL/dx = g * y
        log.py    y = log(x)    dL/dx = g / x
    '''.split("\n")
    # a class's docstring (column 4): only an indented table follows the summary, which
    # inspect.cleandoc would have dedented into a paragraph
    assert to_markdown(["    " + docstring[0], *docstring[1:]], 4).split("\n") == [
        "The derivative table.", "", "", "```text", "exp.py    y = exp(x)    dL/dx = g * y",
        "log.py    y = log(x)    dL/dx = g / x", "```"]
    aligned = ["Arguments:", "", "loss    the scalar", "values  {name: Tensor}", "        continued", "",
               "Then x < y and a*b*c; see ``x[0][1]``."]
    assert to_markdown(aligned, 0).split("\n") == [
        "Arguments:", "", "", "```text", "loss    the scalar", "values  {name: Tensor}", "        continued",
        "```", "", "Then x &lt; y and a\\*b\\*c; see ``x[0][1]``."]


def test_docstring_lists_and_literal_markers():
    to_markdown = _prose_docstrings().to_markdown
    assert to_markdown(["Two ways::", "- one", "  still one", "- two"], 0).split("\n") == [
        "Two ways:", "", "- one", "    still one", "- two"]
