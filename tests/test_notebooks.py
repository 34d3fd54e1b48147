"""The notebooks in notebooks/: committed clean (no outputs, no execution counts) and each one
runs from top to bottom in a fresh kernel, in seconds, without an error (nbclient)."""

import json
import os
from pathlib import Path

import pytest

import chainrule

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
SOURCE = str(Path(chainrule.__file__).resolve().parents[1])   # the chainrule these tests import
TIMEOUT = 120   # seconds per cell: generous for a slow machine; each notebook takes a few seconds


def test_there_are_five_lesson_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs_or_execution_counts(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name}: a cell has outputs (clear them before committing)"
            assert cell["execution_count"] is None, f"{path.name}: a cell has an execution count"
        assert "attachments" not in cell or not cell["attachments"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_without_errors(path, monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    # the kernel is a new process: it must import the chainrule under test, in English
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [SOURCE, os.environ.get("PYTHONPATH")])))
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()          # raises CellExecutionError, naming the cell, on any error
    errors = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
              if output.output_type == "error"]
    assert errors == []
    rich = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
            if output.output_type in ("execute_result", "display_data")]
    assert rich, "the notebook's last lines show something"
