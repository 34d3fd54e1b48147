"""Finite-difference checks (float64) of the recurrence ops (every component of their stacked output,
both directions, packed batches, with and without bias, LSTM projection), of their second
derivatives (create_graph=True), and of the layers and cells end to end. A plain composition of
chainrule ops written from the cells' formulas is a second oracle for the forward pass that does
not need PyTorch."""

import numpy as np
import pytest
from tests.conftest import leaf

import chainrule as cr
from chainrule import nn
from chainrule.ops import recurrent

PACKED = np.array([3, 2, 2, 1])   # batch 3, sorted longest first: lengths 4, 3, 1


def second_order(fn, *inputs):
    """gradcheck of the first gradient: checks the second derivatives."""
    def gradient(*xs):
        out = fn(*xs)
        weights = cr.tensor(np.random.default_rng(7).standard_normal(out.shape))
        return cr.grad((out * weights).sum(), [x for x in xs if x.requires_grad], create_graph=True)
    return cr.gradcheck(gradient, inputs)


def op_case(kind, bias=True, proj=False, reverse=False, batch_sizes=None):
    """(function, inputs) for one recurrence op over 4 steps, batch 3, hidden 2."""
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    width = 1 if proj else 2
    inputs = [leaf(4, 3, gates * 2, seed=1), leaf(3, width, seed=2)]
    if kind == "lstm":
        inputs.append(leaf(3, 2, seed=3))
    inputs.append(leaf(gates * 2, width, seed=4))
    if bias:
        inputs.append(leaf(gates * 2, seed=5))
    if proj:
        inputs.append(leaf(1, 2, seed=6))
    options = {"reverse": reverse, "batch_sizes": batch_sizes}

    def fn(*xs):
        if kind == "lstm":
            u, h0, c0, w, *rest = xs
            b = rest.pop(0) if bias else None
            return recurrent.lstm_layer(u, h0, c0, w, b, rest[0] if proj else None, **options)
        layer = recurrent.gru_layer if kind == "gru" else recurrent.rnn_layer
        return layer(*xs, **options)

    return fn, inputs


CASES = [
    ("rnn", {}), ("rnn", {"reverse": True, "bias": False}), ("rnn", {"batch_sizes": PACKED}),
    ("lstm", {}), ("lstm", {"reverse": True}), ("lstm", {"bias": False, "batch_sizes": PACKED}),
    ("lstm", {"proj": True}), ("lstm", {"proj": True, "reverse": True, "batch_sizes": PACKED}),
    ("gru", {}), ("gru", {"reverse": True, "bias": False}), ("gru", {"reverse": True, "batch_sizes": PACKED}),
]


@pytest.mark.parametrize("kind,options", CASES)
def test_recurrence_ops_gradcheck(kind, options):
    fn, inputs = op_case(kind, **options)
    assert cr.gradcheck(fn, inputs)


@pytest.mark.parametrize("kind,options", CASES)
def test_recurrence_ops_second_order(kind, options):
    fn, inputs = op_case(kind, **options)
    assert second_order(fn, *inputs)


def test_relu_rnn_gradcheck_away_from_the_kink():
    fn, inputs = op_case("rnn")
    assert cr.gradcheck(lambda *xs: recurrent.rnn_layer(*xs, nonlinearity="relu"), inputs)


def module_function(module, n_inputs):
    """The module's outputs as a function of (inputs..., *parameters), for gradcheck."""
    def fn(*xs):
        outputs = module(*xs[:n_inputs]) if n_inputs == 1 else module(xs[0], xs[1] if n_inputs == 2
                                                                      else tuple(xs[1:n_inputs]))
        flat = []
        for item in outputs if isinstance(outputs, tuple) else (outputs,):
            flat += list(item) if isinstance(item, tuple) else [item]
        return tuple(flat)
    return fn


@pytest.mark.parametrize("kind,config", [
    ("RNN", {"num_layers": 2, "bidirectional": True}), ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"proj_size": 1, "batch_first": True}), ("GRU", {"num_layers": 2, "bidirectional": True}),
])
def test_layers_gradcheck(kind, config):
    module = getattr(nn, kind)(2, 2, **config).double()
    layers = (1 + config.get("bidirectional", False)) * config.get("num_layers", 1)
    states = [leaf(layers, 2, config.get("proj_size") or 2, seed=2)]
    if kind == "LSTM":
        states.append(leaf(layers, 2, 2, seed=3))
    x = leaf(*((2, 3, 2) if config.get("batch_first") else (3, 2, 2)), seed=1)
    inputs = [x] + states + list(module.parameters())
    assert cr.gradcheck(module_function(module, 1 + len(states)), inputs)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_gradcheck_and_second_order(kind):
    cell = getattr(nn, kind)(3, 2).double()
    states = [leaf(2, 2, seed=2)] + ([leaf(2, 2, seed=3)] if kind == "LSTMCell" else [])
    inputs = [leaf(2, 3, seed=1)] + states + list(cell.parameters())
    fn = module_function(cell, 1 + len(states))
    assert cr.gradcheck(fn, inputs)
    assert second_order(lambda *xs: cr.stack(fn(*xs)) if kind == "LSTMCell" else fn(*xs)[0], *inputs)


# --- a second oracle: the cells written out with plain chainrule ops --------------------------
def reference_lstm_step(x, h, c, cell):
    a = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    i, f, g, o = a.chunk(4, dim=1)
    c = i.sigmoid() * g.tanh() + f.sigmoid() * c
    return o.sigmoid() * c.tanh(), c


def reference_gru_step(x, h, cell):
    u = x @ cell.weight_ih.T + cell.bias_ih
    w = h @ cell.weight_hh.T + cell.bias_hh
    (u_r, u_z, u_n), (w_r, w_z, w_n) = u.chunk(3, dim=1), w.chunk(3, dim=1)
    r, z = (u_r + w_r).sigmoid(), (u_z + w_z).sigmoid()
    n = (u_n + r * w_n).tanh()
    return (1 - z) * n + z * h


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_layers_equal_the_formulas_written_with_plain_ops(kind):
    cr.manual_seed(3)
    layer = getattr(nn, kind)(3, 4).double()
    cell = getattr(nn, kind + "Cell")(3, 4).double()
    cell.load_state_dict({name[:-3]: p for name, p in layer.state_dict().items()})   # drop the "_l0"
    x = leaf(5, 2, 3, seed=4)
    out, _ = layer(x)
    h = c = cr.zeros(2, 4, dtype=cr.float64)
    steps = []
    for t in range(5):
        if kind == "LSTM":
            h, c = reference_lstm_step(x[t], h, c, cell)
        else:
            h = reference_gru_step(x[t], h, cell)
        steps.append(h)
    expected = cr.stack(steps)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12, atol=1e-14)
    grads = cr.grad((out * out).sum(), [x, layer.weight_hh_l0])
    expected_grads = cr.grad((expected * expected).sum(), [x, cell.weight_hh])
    for got, want in zip(grads, expected_grads):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)
