"""MkDocs hook (mkdocs.yml: ``hooks``): put the lesson notebooks into the site.

The notebooks live in ``notebooks/`` at the repository root, outside ``docs/``. Each
``notebooks/NAME.ipynb`` is added to the build as the file ``notebooks/NAME.ipynb`` of the site,
copied as it is (the site build does not execute or convert them), so ``docs/notebooks.md`` can
link to them and ``mkdocs build --strict`` checks that those links point at a real file.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def on_files(files, config):
    for notebook in sorted(NOTEBOOKS.glob("*.ipynb")):
        files.append(File.generated(config, f"notebooks/{notebook.name}", abs_src_path=str(notebook)))
    return files
