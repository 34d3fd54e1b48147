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
from ..locale import _
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
            raise ExpressionError(_("--set expects NAME=NUMBER pairs such as w=2, got {pair!r}").format(
                pair=pair))
        try:
            value = float(number)
        except ValueError:
            raise ExpressionError(_("--set {name}: {number!r} is not a number").format(
                name=name, number=number.strip())) from None
        if not math.isfinite(value):
            raise ExpressionError(_("--set {name}: {number!r} is not a finite number").format(
                name=name, number=number.strip()))
        if name in values:
            raise ExpressionError(_("--set {name}: given twice ({first:g} and {second:g})").format(
                name=name, first=values[name], second=value))
        values[name] = value
    return values


def bind(text: str, given: dict, defaults: dict | None = None) -> dict:
    """The values for the names of ``text``: ``defaults`` (e.g. the lesson's w=2, x=3, y=10)
    overridden by ``given``. A given name the expression does not use is an error, not a silent
    no-op (a typo such as --set z=5 would otherwise change nothing without a word)."""
    names = variables(text)
    unused = [name for name in given if name not in names]
    if unused:
        raise ExpressionError(_("--set {unused}: not used in {expression!r} (its names: {names})").format(
            unused=", ".join(unused), expression=text.strip(), names=", ".join(names) or _("none")))
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
        raise ExpressionError(_("the expression is too long ({length} characters; at most {limit})").format(
            length=len(text), limit=MAX_LENGTH))
    try:
        return ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(_("cannot parse {text!r}: {why}").format(text=text, why=err.msg)) from None


def build(text: str, values: dict, wrt=None) -> Tensor:
    """The expression computed on tensors (float64): the names in ``wrt`` require grad (all
    names when ``wrt`` is None), so the result carries the graph that ``explain`` writes out."""
    tree = _parse(text)
    names = variables(text)
    missing = [n for n in names if n not in values]
    if missing:
        raise ExpressionError(_("no value for {names}: give one with --set {pairs}").format(
            names=", ".join(missing), pairs=" ".join(f"{n}=NUMBER" for n in missing)))
    wrt = names if wrt is None else list(wrt)
    unknown = [n for n in wrt if n not in names]
    if unknown:
        raise ExpressionError(_("--wrt {unknown}: not in the expression (its names: {names})").format(
            unknown=", ".join(unknown), names=", ".join(names) or _("none")))
    leaves = {n: tensor(values[n], dtype="float64", requires_grad=n in wrt, name=n) for n in names}
    result = _evaluate(tree.body, leaves)
    if not isinstance(result, Tensor) or not result.requires_grad:
        raise ExpressionError(_("the expression does not depend on any variable it is differentiated "
                                "with respect to (--wrt), so there is no backward pass to explain"))
    return result


def _evaluate(node, leaves: dict):
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(_("only numbers are allowed as constants, got {value!r}").format(
                value=node.value))
        try:
            return float(node.value)   # a plain number: `diff ** 2` stays a power with a constant
        except OverflowError:
            raise ExpressionError(_("the number {digits}… is too large").format(
                digits=str(node.value)[:20])) from None
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(_("{name} is a function: write {name}(...)").format(name=node.id))
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
            raise ExpressionError(_("unknown function {name!r}; allowed: {functions}").format(
                name=ast.unparse(node.func), functions=", ".join(FUNCTIONS)))
        if len(node.args) != 1 or node.keywords:
            raise ExpressionError(_("{name}() takes exactly one argument").format(name=name))
        argument = _evaluate(node.args[0], leaves)
        if not isinstance(argument, Tensor):
            argument = tensor(argument, dtype="float64")
        return FUNCTIONS[name](argument)
    raise ExpressionError(_("{text!r} is not allowed: use numbers, names, + - * / **, unary minus and the "
                            "functions {functions}").format(text=ast.unparse(node),
                                                            functions=", ".join(FUNCTIONS)))
