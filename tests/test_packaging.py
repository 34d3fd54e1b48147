"""The wheel: built from a copy of the project, it holds every data file chainrule reads at run
time (the playground's page, the translations, py.typed), and installed alone into a fresh
virtual environment it imports, serves its static files, speaks Japanese and answers
``chainrule --version``.

Runs only where ``build`` is installed (the ``test`` extra brings it). The build uses the
installed setuptools (``--no-isolation``: nothing is downloaded) on a copy of the project in a
temporary folder, so the checkout gets no build/ or egg-info. The fresh venv sees the outer
site-packages for NumPy (``--system-site-packages``; the wheel goes in with ``--no-deps``) and the
test checks that the chainrule it imports is the installed wheel, not the checkout.
"""

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

import chainrule

pytest.importorskip("build", reason="needs the build package (pip install build; the test extra has it)")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "chainrule"
TIMEOUT = 600   # seconds per command: the build takes a few; generous for a slow, shared machine


def data_files() -> set:
    """Every file under src/chainrule that is not Python source or a cache."""
    return {path.relative_to(PACKAGE.parent).as_posix() for path in PACKAGE.rglob("*")
            if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    project = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "pyproject.toml", project)
    shutil.copy(ROOT / "README.md", project)                    # pyproject's readme
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out),
                             str(project)], capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (built,) = out.glob("*.whl")
    return built


def test_the_package_has_its_data_files_and_py_typed():
    files = data_files()
    assert "chainrule/py.typed" in files
    assert "chainrule/playground/static/index.html" in files
    assert "chainrule/playground/static/locale/ja.json" in files
    assert "chainrule/locale/ja/LC_MESSAGES/chainrule.mo" in files


def test_the_wheel_holds_every_data_file(wheel):
    assert wheel.name == f"chainrule-{chainrule.__version__}-py3-none-any.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(data_files() - names)
    assert not missing, f"not in the wheel (add them to [tool.setuptools.package-data]): {missing}"
    sources = {p.relative_to(PACKAGE.parent).as_posix() for p in PACKAGE.rglob("*.py")}
    assert not sources - names, f"Python files left out of the wheel: {sorted(sources - names)}"
    assert not [n for n in names if n.startswith(("tests/", "docs/", "notebooks/", "benchmarks/"))]
    metadata = zipfile.ZipFile(wheel).read(f"chainrule-{chainrule.__version__}.dist-info/METADATA").decode()
    assert f"Version: {chainrule.__version__}" in metadata       # one version, read from __init__.py
    assert "Requires-Dist: numpy" in metadata and "Provides-Extra: docs" in metadata


INSTALLED_CHECK = r"""
import json, sys
from importlib import resources
import chainrule as cr
assert sys.prefix in cr.__file__, f"imported {cr.__file__}, not the installed wheel"
static = resources.files("chainrule.playground") / "static"
assert "<html" in (static / "index.html").read_text(encoding="utf-8").lower()
catalogue = json.loads((static / "locale" / "ja.json").read_text(encoding="utf-8"))
assert (resources.files("chainrule") / "py.typed").is_file()
w = cr.tensor(2.0, requires_grad=True, name="w")
loss = (w * 3.0 - 10.0) ** 2
print(json.dumps({"version": cr.__version__, "static_entries": len(catalogue),
                  "ja": cr.explain(loss, lang="ja").splitlines()[0]}))
"""


def test_the_wheel_installs_alone_and_works(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    environ["LANGUAGE"] = "en"
    # the outer pip (seen through the system site-packages) installs into the venv it runs in
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                              "--disable-pip-version-check", str(wheel)], capture_output=True, text=True,
                             env=environ, timeout=TIMEOUT)
    assert install.returncode == 0, install.stdout + install.stderr
    check = subprocess.run([str(python), "-c", INSTALLED_CHECK], capture_output=True, text=True, env=environ,
                           cwd=tmp_path, timeout=TIMEOUT)
    assert check.returncode == 0, check.stdout + check.stderr
    found = json.loads(check.stdout)
    assert found["version"] == chainrule.__version__
    assert found["static_entries"] > 0
    assert found["ja"] == "順伝播（入力から出力へ）"      # the compiled .mo was found and read
    script = env_dir / ("Scripts" if os.name == "nt" else "bin") / "chainrule"
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True, env=environ,
                             timeout=TIMEOUT)
    assert version.returncode == 0 and version.stdout.strip() == f"chainrule {chainrule.__version__}"
