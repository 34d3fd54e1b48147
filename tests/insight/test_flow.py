"""GradientFlow: the lesson's failure modes, diagnosed on real training runs."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import data, nn, optim
from chainrule.cli.gradient_flow import deep_variant
from chainrule.insight.flow import GradientFlow


def deep_mlp(depth, width=32, activation=nn.Sigmoid, residual=False, batch_norm=False):
    """The CLI's gradient-flow experiment network (one definition for both)."""
    return deep_variant(depth, width, activation, residual=residual, batch_norm=batch_norm)


def train(model, steps=15, lr=0.1, loss_fn=None, targets=None):
    X, y = data.make_moons(128, noise=0.2, seed=0)
    targets = y if targets is None else targets(X)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=lr)
    flow = GradientFlow(model)
    try:
        for _ in range(steps):
            optimizer.zero_grad()
            loss_fn(model(X), targets).backward()
            optimizer.step()
    except cr.ChainruleError:      # a diverging run stops with a NaN/Inf loss error
        pass
    return flow


def test_twenty_layer_sigmoid_mlp_vanishes_and_names_the_first_layers():
    flow = train(deep_mlp(20))
    report = flow.report()
    assert "vanishing" in report.kinds
    finding = next(f for f in report.findings if f.kind == "vanishing")
    assert finding.layers[:2] == ["0 (Linear)", "2.0 (Linear)"]
    text = str(report)
    assert "VANISHING" in text and "first layers (0 (Linear), 2.0 (Linear)" in text
    for remedy in ("ReLU", "residual", "batch normalisation"):
        assert remedy in text
    norms = [n for _, n in flow.layer_norms()]
    assert norms[0] < 1e-6 * norms[-1]


def test_relu_residual_batch_norm_does_not_vanish():
    report = train(deep_mlp(20, activation=nn.ReLU, residual=True, batch_norm=True)).report()
    assert "vanishing" not in report.kinds and "exploding" not in report.kinds
    assert "VANISHING" not in str(report)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # the diverging model overflows, as it should
def test_learning_rate_far_too_high_explodes():
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
    flow = train(model, steps=30, lr=2.0, loss_fn=nn.MSELoss(),
                 targets=lambda X: cr.tensor(np.sin(3 * X.numpy()[:, :1])))
    report = flow.report()
    assert "exploding" in report.kinds
    assert "clip" in str(report) and "learning rate" in str(report)


def test_dead_relus_are_reported():
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    with cr.no_grad():
        model[0].bias.numpy()[...] = -100.0        # every unit starts (and stays) dead
    report = train(model, steps=3).report()
    assert "dead_relu" in report.kinds
    assert "100% dead" in str(report)


def test_records_update_ratios_and_leaves_the_model_as_it_was():
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    before = [list(p._hooks or []) for p in model.parameters()]
    flow = train(model, steps=4, lr=0.05)
    assert flow.steps == 4
    assert all(len(v) == 4 for v in flow.grad_norms.values())
    flow.report()
    ratios = flow.update_ratios["0.weight"]
    assert len(ratios) == 4 and all(0 < r < 1 for r in ratios)
    history = flow.history()
    assert history["grad_norms"].shape == (4, 2) and history["layers"] == ["0 (Linear)", "2 (Linear)"]
    flow.remove()
    assert [list(p._hooks or []) for p in model.parameters()] == before
    assert not model[0]._forward_hooks
    X, y = data.make_moons(16, seed=1)          # a removed recorder records nothing more
    nn.CrossEntropyLoss()(model(X), y).backward()
    assert flow.steps == 4


def test_not_a_module_is_refused():
    with pytest.raises(TypeError, match="nn.Module"):
        GradientFlow(cr.tensor([1.0]))


def test_diagnose_norms_from_one_reading():
    from chainrule.insight.flow import diagnose_norms

    labels = ["h1", "h2", "h3", "out"]
    assert diagnose_norms(labels, [0.4, 0.3, 0.3, 0.2]) == []
    (vanishing,) = diagnose_norms(labels, [1e-9, 1e-6, 1e-3, 0.2])
    assert vanishing.kind == "vanishing" and vanishing.layers[0] == "h1"
    (huge,) = diagnose_norms(labels, [1e6, 1.0, 1.0, 1.0])
    assert huge.kind == "exploding" and "h1" in huge.message
    (broken,) = diagnose_norms(labels, [float("nan"), 1.0, 1.0, 1.0])
    assert broken.kind == "exploding" and "not finite" in broken.message


def test_playground_words_the_insight_diagnosis():
    from chainrule.playground.diagnostics import diagnose

    vanishing = diagnose([5e-7, 3e-6, 2e-5, 1e-4, 1e-3, 2e-2, 0.2], "sigmoid")
    assert vanishing["status"] == "vanishing" and "sigmoid" in vanishing["message"]
    assert diagnose([0.5, 0.3, 0.2], "relu")["status"] == "healthy"
    assert diagnose([], "relu")["status"] == "idle"


def test_one_layer_far_above_the_rest_is_uneven_and_named():
    from chainrule.insight.flow import SPREAD_RATIO, diagnose_norms, spread_findings

    labels = [f"layer {i}" for i in range(19)] + ["layer 19 (output)"]
    norms = [0.4] * 19 + [13.7]                       # the sigmoid+residual net of the issue
    (uneven,) = spread_findings(labels, norms)
    assert uneven.kind == "uneven" and uneven.layers == ["layer 19 (output)"]
    assert "layer 19 (output) gets 1.37e+01, 34× the median of the other layers (4.00e-01)" in uneven.message
    assert spread_findings(labels, [0.4] * 19 + [0.99 * SPREAD_RATIO * 0.4]) == []   # just under: fine
    assert spread_findings(labels, [0.1, 0.3] * 10) == []                              # 3× is healthy
    assert diagnose_norms(labels, norms, spread=True)[0].kind == "uneven"
    assert diagnose_norms(labels, norms) == []       # the playground's call: unchanged without spread=True


def test_sigmoid_residual_net_is_not_called_healthy():
    flow = train(deep_mlp(20, residual=True), steps=10)
    names = [f"layer {i}" for i in range(20)]
    report = flow.report(labels=names)
    assert report.kinds == {"uneven"} and report.findings[0].layers == ["layer 19"]
    text = str(report)
    assert "UNEVEN" in text and "Healthy" not in text and "layer 19 gets" in text
    assert report.table[0]["layer"] == "layer 0"
    with pytest.raises(ValueError, match="labels"):
        flow.report(labels=["too few"])
