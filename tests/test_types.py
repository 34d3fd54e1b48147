"""The public API's type annotations: mypy accepts them, they say what the code does, and the
Tensor methods declared for type checkers are the ones chainrule binds.

- mypy (configured in pyproject.toml, [tool.mypy]) checks the public modules and
  tests/typing_usage.py, a training script whose assert_type lines pin what users get
  (``model(x)`` a Tensor, ``loss.item()`` a float...); skipped when mypy is not installed.
- typing_usage.py also runs, so the types it asserts are the types it meets.
- _tensor_methods.pyi (Tensor's bound methods for type checkers) names exactly the methods
  ops/methods.py binds, each as the same function or with the same parameters.
- every function chainrule exports from the op table (cr.*, F.*, cr.linalg.*) is annotated: the
  op table is checked by mypy without disallow_untyped_defs (its derivative helpers stay plain).
"""

from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import Tensor
from chainrule.ops import extra_methods, methods

ROOT = Path(__file__).resolve().parents[1]
STUB = ROOT / "src" / "chainrule" / "_tensor_methods.pyi"


def test_mypy_accepts_the_public_modules_and_a_typed_training_script(tmp_path):
    pytest.importorskip("mypy", reason="mypy is not installed (pip install mypy): the type check is skipped")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache"), "--no-error-summary"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"mypy found errors:\n{result.stdout}{result.stderr}"


def test_the_typed_training_script_runs():
    pytest.importorskip("typing_extensions", reason="typing_usage.py imports assert_type from it")
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "typing_usage.py")], cwd=ROOT,
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert result.returncode == 0, result.stdout + result.stderr


# --- _tensor_methods.pyi against ops/methods.py -----------------------------------------------------
def _stub_entries() -> dict[str, ast.AST]:
    """{name: the stub's declaration} of class TensorMethods (a def, or `name = module.function`)."""
    tree = ast.parse(STUB.read_text())
    body = next(node for node in tree.body if isinstance(node, ast.ClassDef)).body
    entries: dict[str, ast.AST] = {}
    for node in body:
        if isinstance(node, ast.FunctionDef):
            entries[node.name] = node
        elif isinstance(node, ast.Assign):
            entries[node.targets[0].id] = node.value
    return entries


def _bound() -> dict[str, object]:
    """{name: function} of everything methods.bind() attaches to Tensor (its tables)."""
    table = {**methods._OPERATORS, **methods._METHODS, **extra_methods.METHODS}
    for (method_name, operator_name), _ in methods._INPLACE.items():
        table[method_name] = Tensor.__dict__[method_name]
        table[operator_name] = Tensor.__dict__[operator_name]
    for name, function in methods._IN_PLACE_FUNCTIONS.items():
        table[name] = function   # the stub names the function the in-place wrapper applies
    table["T"] = table["mT"] = property
    return table


def test_the_stub_declares_every_bound_method_and_nothing_else():
    declared, bound = set(_stub_entries()), set(_bound())
    missing, extra = sorted(bound - declared), sorted(declared - bound)
    assert not missing, f"bound to Tensor but not declared in {STUB.name}: {missing}"
    assert not extra, f"declared in {STUB.name} but not bound to Tensor: {extra}"


def test_each_declaration_is_the_bound_function_or_has_its_parameters():
    import chainrule.ops as ops
    bound = _bound()
    for name, declaration in _stub_entries().items():
        runtime = bound[name]
        if isinstance(declaration, ast.Attribute):      # `exp = unary.exp`: the very function bound
            module = getattr(ops, declaration.value.id, None) or getattr(cr, declaration.value.id)
            assert getattr(module, declaration.attr) is runtime, f"{name}: the stub names another function"
        elif name not in ("T", "mT"):                 # a def: the same parameters as the bound function
            stub_args = declaration.args
            stub = [a.arg for a in stub_args.posonlyargs + stub_args.args][1:]
            stub += ["*" + stub_args.vararg.arg] if stub_args.vararg else []
            stub += [a.arg for a in stub_args.kwonlyargs]
            params = list(inspect.signature(runtime).parameters.values())[1:]
            real = [("*" + p.name) if p.kind is p.VAR_POSITIONAL else p.name for p in params
                    if p.kind is not p.VAR_KEYWORD]
            assert stub == real, f"Tensor.{name}: the stub says ({', '.join(stub)}), the method takes " \
                                 f"({', '.join(real)})"


# --- the op table's exported functions ------------------------------------------------------------------
def _unannotated(function) -> list[str]:
    signature = inspect.signature(function)
    missing = [p.name for p in signature.parameters.values()
               if p.annotation is inspect.Parameter.empty and p.name not in ("self", "cls")]
    if signature.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


@pytest.mark.parametrize("namespace", [cr, F, cr.linalg], ids=["chainrule", "nn.functional", "linalg"])
def test_every_exported_function_is_annotated(namespace):
    functions = {name: value for name in dir(namespace) if not name.startswith("_")
                 for value in [getattr(namespace, name)] if inspect.isfunction(value)}
    assert len(functions) > 5
    missing = {name: _unannotated(function) for name, function in functions.items() if _unannotated(function)}
    assert not missing, f"functions without annotations (parameter or return): {missing}"

