"""The notebooks in notebooks/: committed clean (no outputs, no execution counts) and each one
runs from top to bottom in a fresh kernel, in seconds, without an error (nbclient)."""

import json
import os
import re
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


def execute(notebook, monkeypatch, tmp_path):
    """Run ``notebook`` in a fresh kernel that imports the chainrule under test, in English."""
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [SOURCE, os.environ.get("PYTHONPATH")])))
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = nbclient.NotebookClient(notebook, timeout=TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()          # raises CellExecutionError, naming the cell, on any error
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert [output for output in outputs if output.output_type == "error"] == []
    return outputs


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_without_errors(path, monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    outputs = execute(nbformat.read(path, as_version=4), monkeypatch, tmp_path)
    rich = [output for output in outputs if output.output_type in ("execute_result", "display_data")]
    assert rich, "the notebook's last lines show something"


SOLUTION = re.compile(r"^[ \t]*### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION\n?", re.S | re.M)


def test_the_exercise_with_its_solutions_deleted_still_runs(monkeypatch, tmp_path):
    """What a learner starts from (every solution block deleted, as the notebook says; nbgrader's
    markers): the notebook still runs, and the checker says nothing is written yet."""
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(NOTEBOOKS[4], as_version=4)
    exercises = [cell for cell in notebook.cells
                 if cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source]
    assert len(exercises) == 8
    for cell in exercises:
        assert cell.source.count("### BEGIN SOLUTION") == cell.source.count("### END SOLUTION") == 1
        cell.source = SOLUTION.sub("", cell.source)
        assert "SOLUTION" not in cell.source and "= None" in cell.source
    outputs = execute(notebook, monkeypatch, tmp_path)
    shown = "\n".join(str(output.get("data", {}).get("text/markdown", "")) for output in outputs)
    assert "No gradients given yet" in shown
