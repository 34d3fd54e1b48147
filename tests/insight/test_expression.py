"""The --expr parser: the small grammar is built into a graph; anything else is refused, never run."""

import pytest

import chainrule as cr
from chainrule.insight.expression import ExpressionError, bind, build, parse_assignments, variables


def test_lesson_expression_builds_the_lessons_graph():
    L = build("(w*x - y)**2", {"w": 2, "x": 3, "y": 10}, wrt=["w"])
    assert L.item() == 16.0
    (dw,) = cr.grad(L, [L._node.inputs[0]._node.inputs[0]._node.inputs[0]])
    assert dw.item() == -24.0


def test_functions_unary_minus_and_constants():
    value = build("-a + exp(0) * sigmoid(a) + relu(-2) + 3**2", {"a": 0.0})
    assert value.item() == pytest.approx(0.5 + 9)
    assert variables("sin(x) * y + x") == ["x", "y"]
    assert parse_assignments(["w=2", " x = -3.5"]) == {"w": 2.0, "x": -3.5}


@pytest.mark.parametrize("text", ["__import__('os')", "open('f')", "w.real", "w[0]", "lambda: 1", "'s'",
                                  "True", "w if w else w", "[w]", "w == w", "exp(w, w)", "exp(x=w)", "exp",
                                  "(lambda: 0)()", "w @ w", "w // 2", "1 +", "x" * 600])
def test_anything_outside_the_grammar_is_refused(text):
    with pytest.raises(ExpressionError):
        build(text, {"w": 1.0, "x": 1.0})


def test_missing_values_and_unknown_wrt_are_named():
    with pytest.raises(ExpressionError, match="no value for y: give one with --set y=NUMBER"):
        build("x * y", {"x": 1})
    with pytest.raises(ExpressionError, match="--wrt z: not in the expression"):
        build("x * 2", {"x": 1}, wrt=["z"])
    with pytest.raises(ExpressionError, match="NAME=NUMBER"):
        parse_assignments(["w"])


def test_names_are_listed_as_written():
    assert variables("(w*x - y)**2") == ["w", "x", "y"]


def test_bind_keeps_the_defaults_it_is_not_told_to_change():
    lesson = {"w": 2.0, "x": 3.0, "y": 10.0}
    assert bind("(w*x - y)**2", {"w": 5.0}, lesson) == {"w": 5.0, "x": 3.0, "y": 10.0}
    assert bind("(w*x - y)**2", {}, lesson) == lesson
    assert bind("a + 1", {"a": 1.0}) == {"a": 1.0}


def test_bind_refuses_a_name_the_expression_does_not_use():
    with pytest.raises(ExpressionError,
                       match=r"--set z: not used in '\(w\*x - y\)\*\*2' \(its names: w, x, y\)"):
        bind("(w*x - y)**2", {"z": 5.0}, {"w": 2.0, "x": 3.0, "y": 10.0})


@pytest.mark.parametrize("pairs, message", [(["x=nan"], "not a finite number"),
                                            (["x=inf"], "not a finite number"),
                                            (["x=1", "x=2"], "given twice")])
def test_non_finite_and_repeated_values_are_refused(pairs, message):
    with pytest.raises(ExpressionError, match=message):
        parse_assignments(pairs)
