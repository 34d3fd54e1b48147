"""The explanations explain the numbers the page shows.

- The last batch's gradient is the average of per-example chain-rule products: replaying the step
  gives autograd's batch gradient, and the per-example products average to it (float precision).
- Each explanation's last line carries the value the page shows for that element, printed as the
  page prints it, in both views, with regularisation and clipping on or off.
- The example written out is the one asked for, and the explanation says which.
- Every transformation from a point on the plot to the network's inputs is said, with numbers
  that agree with the features the network gets.
"""

import re

import numpy as np
import pytest

from chainrule.playground.datasets import features
from chainrule.playground.explain import explain_weight
from chainrule.playground.replay import replay_last_step
from chainrule.playground.session import Session
from chainrule.playground.shown import shown, significant
from chainrule.playground.snapshot import build_state
from chainrule.playground.transforms import input_lines, pipeline

SETUPS = {
    "plain": {"hidden": [4, 3]},
    "l2 and clipping that bites": {"hidden": [4, 3], "regularization": "l2", "reg_rate": 0.03,
                                   "clip_norm": 0.05, "learning_rate": 0.3},
    "l1, relu, residual, batch norm": {"hidden": [3, 3], "activation": "relu", "residual": True,
                                       "batch_norm": True, "regularization": "l1", "reg_rate": 0.01},
    "regression with momentum": {"dataset": "waves", "hidden": [5], "optimizer": "momentum",
                                 "features": ["x1", "x2", "x1x2", "sin_x1"]},
    "adam on xor, batch of 1": {"dataset": "xor", "optimizer": "adam", "batch_size": 1, "hidden": [2]},
}
FINAL = re.compile(r"^So (.+?) = (\S+)", re.MULTILINE)


def trained(settings, epochs=2):
    session = Session("s" * 32, settings)
    session.queue_epochs(epochs)
    while session.wants_training:
        session.advance(1.0)
    return session


def ask(session, **query):
    return explain_weight(session, {k: str(v) for k, v in query.items()})


def final(answer):
    return FINAL.findall(answer["text"])[-1]


@pytest.fixture(scope="module", params=list(SETUPS), ids=list(SETUPS))
def session(request):
    return trained(SETUPS[request.param])


def test_the_batch_average_of_per_example_products_is_autograds_gradient(session):
    replay = replay_last_step(session)
    n = replay.size
    for k, layer in enumerate(replay.layers):
        per_example_dz = layer.z.grad.numpy().astype(np.float64) * n          # ∂ℓₖ/∂z, one row each
        inputs = layer.a_in.numpy().astype(np.float64)
        products = per_example_dz[:, :, None] * inputs[:, None, :]            # ∂ℓₖ/∂W[j, i]
        np.testing.assert_allclose(products.mean(axis=0), replay.data_grads[k], rtol=1e-5, atol=1e-8)
        # with the penalty and the clipping, the replay gives what the optimiser stepped with
        stepped = (replay.data_grads[k] + replay.penalty_grads[k]) * np.float32(replay.clip_coefficient)
        np.testing.assert_allclose(stepped, session.last_grads["weights"][k], rtol=1e-5, atol=1e-9)
        # a neuron's ∂L/∂a on the page is the batch average of the per-example ∂ℓₖ/∂a
        per_example_da = layer.a_out.grad.numpy().astype(np.float64) * n
        np.testing.assert_allclose(per_example_da.mean(axis=0), session.last_grads["neurons"][k],
                                   rtol=1e-5, atol=1e-9)


def test_clipping_and_the_penalty_are_really_exercised():
    session = trained(SETUPS["l2 and clipping that bites"])
    replay = replay_last_step(session)
    assert replay.clip_coefficient < 1 and np.abs(replay.penalty_grads[0]).max() > 0
    answer = ask(session, layer=1, neuron=0, source=1, view="backward")
    assert "Regularisation L2" in answer["text"] and "each gradient was multiplied by" in answer["text"]


def test_every_explanation_ends_on_the_number_the_page_shows(session):
    state = build_state(session)
    net, probe = state["network"], state["probe"]
    n_layers = len(net["widths"]) - 1
    expected = {"backward": {}, "forward": {}}
    for layer in range(1, n_layers + 1):
        for j in range(net["widths"][layer]):
            for i in range(net["widths"][layer - 1]):
                expected["backward"][(layer, j, i)] = ("∂L/∂w", net["weight_grads"][layer - 1][j][i])
                expected["forward"][(layer, j, i)] = ("w", net["weights"][layer - 1][j][i])
            is_output = layer == n_layers
            expected["backward"][(layer, j, None)] = ("∂L/∂ŷ" if is_output else "∂L/∂a",
                                                      net["neuron_grads"][layer - 1][j])
            if is_output:
                regression = probe["probability"] is None
                expected["forward"][(layer, j, None)] = (("ŷ", probe["output"]) if regression
                                                         else ("p", probe["probability"]))
            else:
                expected["forward"][(layer, j, None)] = ("a", probe["a"][layer - 1][j])
    for j, value in enumerate(probe["inputs"]):
        label = net["feature_labels"][j]
        expected["forward"][(0, j, None)] = (label, value)
    for view, targets in expected.items():
        for (layer, j, i), (symbol, page_value) in targets.items():
            query = {"layer": layer, "neuron": j, "view": view, "example": probe["example"]}
            if i is not None:
                query["source"] = i
            answer = ask(session, **query)
            assert final(answer) == (symbol, shown(page_value)), (view, layer, j, i, answer["text"])
            assert answer["shown"] == shown(page_value)


def test_the_example_is_the_one_asked_for_and_is_named():
    session = trained(SETUPS["plain"])
    batch = [int(i) for i in session.last_step["batch"]]
    third = batch[2]
    answer = ask(session, layer=2, neuron=1, source=0, example=third)
    assert answer["example"] == third
    assert "the 3rd of the 10 examples in the last batch" in answer["example_note"]
    assert answer["text"].startswith(f"Example #{third} of the 250 training points")
    assert f"#{third}" in answer["text"].split("The whole batch")[1]
    assert session.probe_example == third, "the page's tooltips follow the example shown"
    outside = next(i for i in range(len(session.train_y)) if i not in batch)
    answer = ask(session, layer=2, neuron=1, source=0, example=outside)
    assert f"Example #{outside} was not in the last batch" in answer["text"]
    assert answer["example"] == batch[0]
    answer = ask(session, layer=1, neuron=0, view="forward", example=outside)
    assert answer["example"] == outside and answer["example_note"].startswith(f"Example #{outside} ")
    assert build_state(session)["probe"]["example"] == outside
    # different examples, the same batch gradient
    first, second = (ask(session, layer=2, neuron=0, source=1, example=e) for e in batch[:2])
    assert final(first) == final(second) and first["text"] != second["text"]


def test_the_one_example_written_out_is_autograds_value_for_it():
    session = trained(SETUPS["plain"])
    answer = ask(session, layer=1, neuron=2, source=1)
    by_hand = re.search(r"∂ℓ/∂w = ∂ℓ/∂z · ∂z/∂w = \S+ × \S+ = (\S+)", answer["text"]).group(1)
    assert f"(autograd for this example: {by_hand}  ✓ the same)" in answer["text"]


def test_before_training_the_backward_view_says_so():
    session = Session("s" * 32, {})
    answer = ask(session, layer=1, neuron=0, source=0)
    assert answer["value"] is None and "Press Step" in answer["text"]
    answer = ask(session, layer=1, neuron=0, source=0, view="forward")
    assert "starting value" in answer["text"]


@pytest.mark.parametrize("names", [["x1", "x2"], ["x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"]])
def test_the_inputs_are_derived_from_the_point_as_the_network_gets_them(names):
    point = np.array([[1.5, -4.25]], dtype=np.float32)
    settings = {"features": names}
    values = features(point, names)[0]
    lines = input_lines(settings, tuple(point[0]), list(values), shown)
    for line, value in zip(lines, values):
        formula_with_numbers, printed = line.rsplit(" = ", 1)
        assert printed == shown(float(value))
        expression = formula_with_numbers.split(" = ")[2]
        python = (expression.replace("²", "**2").replace("·", "*").replace("sin(", "np.sin("))
        assert float(eval(python)) == pytest.approx(float(value), rel=1e-5, abs=1e-6), line


def test_every_transformation_is_said():
    steps = pipeline({"dataset": "circle", "noise": 20, "features": ["x1", "sin_x2"]})
    said = " ".join(steps)
    assert "moved by up to ±1" in said and "edge" in said and "x₁/3" in said and "sin(x₂)" in said
    assert "divides" in said or "Dividing by 3" in said
    session = trained({"dataset": "spiral", "noise": 10, "features": ["x1", "x1^2"]}, epochs=1)
    answer = ask(session, layer=1, neuron=0, source=1, view="backward")
    assert "Noise 10: each point was moved" in answer["text"]
    assert re.search(r"input x₁² = \(x₁/3\)² = \(\S+/3\)² = \S+", answer["text"])
    assert "∂z/∂w = the input this weight multiplies, a of input x₁²" in answer["text"]
    assert all(significant(v) == v for v in build_state(session)["probe"]["inputs"])


def test_values_sent_are_the_same_doubles_whichever_path_rounds_them():
    rng = np.random.default_rng(3)
    values = rng.standard_normal(5000) * 10.0 ** rng.integers(-12, 12, 5000)
    by_array = significant(values)                              # numpy path
    by_number = [significant(float(v)) for v in values]          # one number at a time
    assert by_array == by_number == [float(f"{v:.5e}") for v in values]
    assert significant([0.0, float("inf")]) == [0.0, float("inf")]
    assert shown(1.5625) == "1.563" and shown(-2.5e-7) == "-2.500e-7" and shown(9.9996) == "10"
