"""check_manual_grads: a hand-written backward pass of an MLP with batch norm against autograd,
and a planted mistake in each of nine local derivatives found and named."""

import pickle

import numpy as np
import pytest
from tests.insight.backprop_exercise import N, by_hand, forward

import chainrule as cr
from chainrule.insight import check_manual_grads


@pytest.fixture(scope="module")
def exercise():
    loss, values, y = forward()
    return loss, values, y


def test_a_right_backward_pass_agrees_everywhere_in_backward_order(exercise):
    loss, values, y = exercise
    report = check_manual_grads(loss, values, by_hand(values, y))
    assert report.ok and report.first_wrong is None and report.explanation is None
    names = [row["name"] for row in report.rows]
    assert names[0] == "logits" and names.index("bnvar_inv") < names.index("bnvar") < names.index("bndiff2")
    assert names.index("bndiff") < names.index("bnmeani") < names.index("hprebn") < names.index("W1")
    assert {row["status"] for row in report.rows} <= {"exact", "approximate"}
    assert "All 16 gradients agree with autograd." in str(report)


def test_float_rounding_is_approximate_and_a_small_error_is_wrong(exercise):
    loss, values, y = exercise
    grads = by_hand(values, y)
    grads["W1"] = grads["W1"].astype(np.float64) * (1 + 1e-7)        # rounding-sized
    assert check_manual_grads(loss, values, grads).status("dW1") == "approximate"
    grads["W1"] = grads["W1"] * 1.01
    report = check_manual_grads(loss, values, grads)
    assert report.status("W1") == "wrong" and report.first_wrong == "W1"
    row = next(r for r in report.rows if r["name"] == "W1")
    assert row["max_diff"] == pytest.approx(float(np.max(np.abs(grads["W1"] - grads["W1"] / 1.01))), rel=1e-3)


PLANTED = {  # the local derivative that goes wrong -> (the slip, words the diagnosis must contain)
    "logits": (lambda g, a: g["logits"] * N, ["32 × the right value", "factor 1/32 is missing",
                                              "logits → loss"]),
    "W2": (lambda g, a: g["logits"].T @ a["h"], ["transposed", "dB = Aᵀ @ dC"]),
    "hpreact": (lambda g, a: (1 - a["hpreact"] ** 2) * g["h"],
                ["local derivative of tanh", "written 1 − hpreact²", "∂h/∂(hpreact) = 1 − h²"]),
    "bngain": (lambda g, a: a["bnraw"] * g["hpreact"],
               ["broadcast", "sum over its copies", ".sum(0, keepdim=True)"]),
    "bnvar": (lambda g, a: -(a["bnvar"] + 1e-5) ** -1.5 * g["bnvar_inv"],
              ["2 × the right value", "factor 1/2 is missing",
               "∂(bnvar_inv)/∂(bnvar) = (−0.5) × (bnvar + 1.000e−05)^(−1.5)"]),
    "bndiff2": (lambda g, a: 1 / N * np.ones_like(a["bndiff2"]) * g["bnvar"],
                ["divides by 32 where the forward pass divides by 31", "Bessel"]),
    "bndiff": (lambda g, a: a["bnvar_inv"] * g["bnraw"],
               ["read by 2 steps", "path through bndiff2 is missing", "multivariable chain rule"]),
    "bnmeani": (lambda g, a: g["bndiff"].sum(0, keepdims=True),
                ["sign is wrong", "∂(bndiff)/∂(bnmeani) = −1"]),
    "bnraw": (lambda g, a: a["bnraw"] * g["hpreact"],
              ["local derivative of mul", "OTHER factor", "∂(hpreact)/∂(bnraw) = bngain"]),
}


@pytest.mark.parametrize("name", list(PLANTED))
def test_a_planted_mistake_is_found_first_and_its_local_derivative_named(exercise, name):
    loss, values, y = exercise
    slip, words = PLANTED[name]
    report = check_manual_grads(loss, values, by_hand(values, y, {name: slip}))
    assert report.first_wrong == name
    assert report.status(name) in ("wrong", "wrong shape")
    text = "\n".join(report.diagnosis)
    for phrase in words:
        assert phrase in text, (phrase, text)
    assert "upstream" in text                       # the step is named: the upstream was right
    # the step's chain rule, written out by explain, ends at the value's gradient
    assert f"d{name}" in str(report) and "Backward pass" in str(report.explanation)
    assert f"dL/d({name})" in str(report.explanation) or f"dL/d{name}" in str(report.explanation)


def test_the_explained_step_has_the_true_gradient(exercise):
    loss, values, y = exercise
    report = check_manual_grads(loss, values, by_hand(values, y, {"bnvar": PLANTED["bnvar"][0]}))
    right = cr.grad(loss, values["bnvar"], retain_graph=True)[0].numpy()
    first = float(right.reshape(-1)[0])
    assert f"dL/d(bnvar) = [1×64: {first:.4g}".replace("-", "−") in str(report.explanation)


def test_only_the_first_of_two_mistakes_is_diagnosed(exercise):
    loss, values, y = exercise
    slips = {"bnmeani": PLANTED["bnmeani"][0], "bngain": PLANTED["bngain"][0]}
    report = check_manual_grads(loss, values, by_hand(values, y, slips))
    assert report.first_wrong == "bngain"          # bngain comes first going backward
    assert report.status("bnmeani") == "wrong"
    assert "bnmeani" not in "\n".join(report.diagnosis)


def test_an_unknown_slip_still_names_the_step(exercise):
    loss, values, y = exercise
    grads = by_hand(values, y, {"W1": lambda g, a: a["x"].T @ g["hprebn"] + 0.01})
    text = "\n".join(check_manual_grads(loss, values, grads).diagnosis)
    assert "No common slip" in text and "dhprebn" in text and "∂(hprebn)/∂(W1)" in text


def test_some_gradients_may_be_left_out_and_keys_may_carry_the_d(exercise):
    loss, values, y = exercise
    grads = by_hand(values, y, {"bnvar": PLANTED["bnvar"][0]})
    partial = {"dbnvar": grads["bnvar"], "dlogits": grads["logits"]}
    report = check_manual_grads(loss, values, partial)
    assert [row["name"] for row in report.rows] == ["logits", "bnvar"]
    assert "not given: autograd's" in "\n".join(report.diagnosis)


def test_markdown_view_has_the_table_the_diagnosis_and_typeset_formulas(exercise):
    loss, values, y = exercise
    report = check_manual_grads(loss, values, by_hand(values, y, {"bnvar": PLANTED["bnvar"][0]}))
    markdown = report._repr_markdown_()
    assert "| gradient | shape | result | max difference |" in markdown
    assert "| dbnvar | 1×64 | wrong |" in markdown and "factor 1/2 is missing" in markdown
    assert "\\frac{dL}{d \\mathrm{bnvar}}" in markdown


def test_japanese_words(exercise):
    loss, values, y = exercise
    report = check_manual_grads(loss, values, by_hand(values, y, {"bndiff": PLANTED["bndiff"][0]}), lang="ja")
    text = str(report)
    assert "経路" in text and "dbndiff" in text and "多変数の連鎖律" in text
    assert "the path" not in text


def test_clear_errors(exercise):
    loss, values, y = exercise
    grads = by_hand(values, y)
    with pytest.raises(cr.ArgumentError, match="no value named 'dz'"):
        check_manual_grads(loss, values, {"dz": grads["h"]})
    with pytest.raises(cr.ArgumentError, match="x does not require grad"):
        check_manual_grads(loss, values, {"x": np.zeros((N, 10))})
    with pytest.raises(cr.ArgumentError, match="scalar"):
        check_manual_grads(values["h"], values, grads)
    with pytest.raises(cr.ArgumentError, match="not a Tensor"):
        check_manual_grads(loss, {"h": values["h"].numpy()}, grads)
    with pytest.raises(cr.ArgumentError, match="not an array"):
        check_manual_grads(loss, values, {"h": object()})


def test_a_freed_graph_is_a_clear_error():
    loss, values, y = forward()
    grads = by_hand(values, y)
    loss.backward()
    with pytest.raises(cr.GraphError, match="retain_graph=True"):
        check_manual_grads(loss, values, grads)


def test_the_learners_graph_is_untouched(exercise):
    loss, values, y = exercise
    check_manual_grads(loss, values, by_hand(values, y, {"bnvar": PLANTED["bnvar"][0]}))
    assert values["W1"].grad is None
    loss.backward(retain_graph=True)              # the graph is still whole
    assert values["W1"].grad is not None
    values["W1"].grad = None


def test_the_report_pickles_as_text(exercise):
    loss, values, y = exercise
    report = check_manual_grads(loss, values, by_hand(values, y, {"bnvar": PLANTED["bnvar"][0]}))
    explanation = pickle.loads(pickle.dumps(report.explanation))
    assert explanation == report.explanation and explanation.notebook == report.explanation.notebook
