"""A small arithmetic expression, parsed safely, turned into a chainrule graph to explain.

    tensor = build("(w*x - y)**2", {"w": 2, "x": 3, "y": 10}, wrt=["w"])   # L = 16, graph recorded

Python's ``ast`` parses the text; only this grammar is accepted, everything else is refused
with a message naming what was found (nothing is ever evaluated as Python code):

    expression := number | name | expression (+ - * / **) expression | -expression | +expression
                | function(expression)        function ∈ exp log sin cos tanh sigmoid relu sqrt abs
"""

from __future__ import annotations

import ast
import math

from ..creation import tensor
from ..ops.activations import relu, sigmoid, tanh
from ..ops.unary import abs as absolute
from ..ops.unary import cos, exp, log, sin, sqrt
from ..tensor import Tensor

MAX_LENGTH = 500
FUNCTIONS = {"exp": exp, "log": log, "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid,
             "relu": relu, "sqrt": sqrt, "abs": absolute}
OPERATORS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
             ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b}


class ExpressionError(ValueError):
    """The expression is not in the small grammar, or a value is missing or malformed."""


def parse_assignments(pairs) -> dict:
    """["w=2", "x=3"] -> {"w": 2.0, "x": 3.0}; a name given twice, or a value that is not a
    finite number (nan, inf), is refused."""
    values = {}
    for pair in pairs or []:
        name, sep, number = pair.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ExpressionError(f"--set expects NAME=NUMBER pairs such as w=2, got {pair!r}")
        try:
            value = float(number)
        except ValueError:
            raise ExpressionError(f"--set {name}: {number.strip()!r} is not a number") from None
        if not math.isfinite(value):
            raise ExpressionError(f"--set {name}: {number.strip()!r} is not a finite number")
        if name in values:
            raise ExpressionError(f"--set {name}: given twice ({values[name]:g} and {value:g})")
        values[name] = value
    return values


def bind(text: str, given: dict, defaults: dict | None = None) -> dict:
    """The values for the names of ``text``: ``defaults`` (e.g. the lesson's w=2, x=3, y=10)
    overridden by ``given``. A given name the expression does not use is an error, not a silent
    no-op (a typo such as --set z=5 would otherwise change nothing without a word)."""
    names = variables(text)
    unused = [name for name in given if name not in names]
    if unused:
        raise ExpressionError(f"--set {', '.join(unused)}: not used in {text.strip()!r} "
                              f"(its names: {', '.join(names) or 'none'})")
    return {name: value for name, value in (defaults or {}).items() if name in names} | dict(given)


def variables(text: str) -> list:
    """The names used in the expression (functions excluded), in order of first appearance."""
    tree = _parse(text)
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    found = []
    names = sorted((node for node in ast.walk(tree) if isinstance(node, ast.Name)),
                   key=lambda node: (node.lineno, node.col_offset))     # as written, left to right
    for node in names:
        if id(node) not in called and node.id not in FUNCTIONS and node.id not in found:
            found.append(node.id)
    return found


def _parse(text: str) -> ast.Expression:
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is too long ({len(text)} characters; at most {MAX_LENGTH})")
    try:
        return ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"cannot parse {text!r}: {err.msg}") from None


def build(text: str, values: dict, wrt=None) -> Tensor:
    """The expression computed on tensors (float64): the names in ``wrt`` require grad (all
    names when ``wrt`` is None), so the result carries the graph that ``explain`` writes out."""
    tree = _parse(text)
    names = variables(text)
    missing = [n for n in names if n not in values]
    if missing:
        raise ExpressionError(f"no value for {', '.join(missing)}: give one with --set "
                              + " ".join(f"{n}=NUMBER" for n in missing))
    wrt = names if wrt is None else list(wrt)
    unknown = [n for n in wrt if n not in names]
    if unknown:
        raise ExpressionError(f"--wrt {', '.join(unknown)}: not in the expression (its names: "
                              f"{', '.join(names) or 'none'})")
    leaves = {n: tensor(values[n], dtype="float64", requires_grad=n in wrt, name=n) for n in names}
    result = _evaluate(tree.body, leaves)
    if not isinstance(result, Tensor) or not result.requires_grad:
        raise ExpressionError("the expression does not depend on any variable it is differentiated "
                              "with respect to (--wrt), so there is no backward pass to explain")
    return result


def _evaluate(node, leaves: dict):
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"only numbers are allowed as constants, got {node.value!r}")
        try:
            return float(node.value)   # a plain number: `diff ** 2` stays a power with a constant
        except OverflowError:
            raise ExpressionError(f"the number {str(node.value)[:20]}… is too large") from None
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(f"{node.id} is a function: write {node.id}(...)")
        return leaves[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        left, right = _evaluate(node.left, leaves), _evaluate(node.right, leaves)
        if not isinstance(left, Tensor) and not isinstance(right, Tensor):
            left = tensor(left, dtype="float64")   # numbers combine as tensors: no Python overflow
        return OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _evaluate(node.operand, leaves)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS:
            raise ExpressionError(f"unknown function {ast.unparse(node.func)!r}; allowed: "
                                  f"{', '.join(FUNCTIONS)}")
        if len(node.args) != 1 or node.keywords:
            raise ExpressionError(f"{name}() takes exactly one argument")
        argument = _evaluate(node.args[0], leaves)
        if not isinstance(argument, Tensor):
            argument = tensor(argument, dtype="float64")
        return FUNCTIONS[name](argument)
    raise ExpressionError(f"{ast.unparse(node)!r} is not allowed: use numbers, names, + - * / **, unary "
                          f"minus and the functions {', '.join(FUNCTIONS)}")
