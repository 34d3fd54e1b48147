"""nn.RNN / LSTM / GRU and their cells against PyTorch 2.13 in float64: the same weights (through
load_state_dict, which also proves the parameter names and shapes match), then the outputs, the
final states and every gradient (input, h0, c0, each parameter) must agree."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

torch = pytest.importorskip("torch")


pytestmark = pytest.mark.usefixtures("torch_on_one_thread")   # tests/conftest.py

KINDS = ["RNN", "LSTM", "GRU"]


def twins(kind, *args, **kwargs):
    """(ours, theirs) built alike, float64, with PyTorch's weights copied into ours."""
    theirs = getattr(torch.nn, kind)(*args, **kwargs).double()
    ours = getattr(nn, kind)(*args, **kwargs).double()
    result = ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    return ours, theirs


def pair(array):
    return (cr.tensor(array, dtype=cr.float64, requires_grad=True),
            torch.tensor(array, dtype=torch.float64, requires_grad=True))


def flat(outputs):
    """(output, h_n) or (output, (h_n, c_n)) or a cell's h or (h, c), as a flat list."""
    if isinstance(outputs, (tuple, list)):
        return [leaf for item in outputs for leaf in flat(item)]
    return [outputs]


def backward_both(ours_out, theirs_out, seed=0):
    """Backpropagate sum(out_k * v_k) over every output through both libraries."""
    rng = np.random.default_rng(seed)
    ours_total, theirs_total = 0, 0
    for o, t in zip(flat(ours_out), flat(theirs_out)):
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)
        v = rng.standard_normal(t.shape)
        ours_total = ours_total + (o * cr.tensor(v)).sum()
        theirs_total = theirs_total + (t * torch.tensor(v)).sum()
    ours_total.backward()
    theirs_total.backward()


def assert_same_grads(ours_leaves, theirs_leaves, ours, theirs):
    for o, t in zip(ours_leaves, theirs_leaves):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)
    their_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), their_params[name].grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


CONFIGS = [
    {},
    {"num_layers": 2},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True},
    {"batch_first": True},
    {"bias": False, "num_layers": 2},
    {"num_layers": 2, "bidirectional": True, "batch_first": True, "bias": False},
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("with_state", [False, True])
def test_layers_match_pytorch(kind, config, with_state):
    ours, theirs = twins(kind, 3, 5, **config)
    directions, layers = 1 + config.get("bidirectional", False), config.get("num_layers", 1)
    rng = np.random.default_rng(1)
    x_ours, x_theirs = pair(rng.standard_normal((2, 6, 3) if config.get("batch_first") else (6, 2, 3)))
    leaves_ours, leaves_theirs = [x_ours], [x_theirs]
    state_ours = state_theirs = None
    if with_state:
        states = [pair(rng.standard_normal((directions * layers, 2, 5))) for _ in range(1 + (kind == "LSTM"))]
        leaves_ours += [s[0] for s in states]
        leaves_theirs += [s[1] for s in states]
        state_ours = tuple(s[0] for s in states) if kind == "LSTM" else states[0][0]
        state_theirs = tuple(s[1] for s in states) if kind == "LSTM" else states[0][1]
    backward_both(ours(x_ours, state_ours), theirs(x_theirs, state_theirs))
    assert_same_grads(leaves_ours, leaves_theirs, ours, theirs)


@pytest.mark.parametrize("config", [{}, {"batch_first": True, "num_layers": 2, "bidirectional": True}])
def test_lstm_projection_matches_pytorch(config):
    ours, theirs = twins("LSTM", 3, 5, proj_size=2, **config)
    x_ours, x_theirs = pair(np.random.default_rng(2).standard_normal((3, 4, 3) if config else (4, 3, 3)))
    layers = config.get("num_layers", 1) * (1 + config.get("bidirectional", False))
    rng = np.random.default_rng(3)
    (h_ours, h_theirs), (c_ours, c_theirs) = (pair(rng.standard_normal((layers, 3, size))) for size in (2, 5))
    backward_both(ours(x_ours, (h_ours, c_ours)), theirs(x_theirs, (h_theirs, c_theirs)))
    assert_same_grads([x_ours, h_ours, c_ours], [x_theirs, h_theirs, c_theirs], ours, theirs)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("with_state", [False, True])
def test_unbatched_input_matches_pytorch(kind, with_state):
    ours, theirs = twins(kind, 3, 4, num_layers=2, bidirectional=True)
    x_ours, x_theirs = pair(np.random.default_rng(4).standard_normal((5, 3)))
    state_ours = state_theirs = None
    leaves_ours, leaves_theirs = [x_ours], [x_theirs]
    if with_state:
        rng = np.random.default_rng(5)
        states = [pair(rng.standard_normal((4, 4))) for _ in range(1 + (kind == "LSTM"))]
        state_ours = tuple(s[0] for s in states) if kind == "LSTM" else states[0][0]
        state_theirs = tuple(s[1] for s in states) if kind == "LSTM" else states[0][1]
        leaves_ours += [s[0] for s in states]
        leaves_theirs += [s[1] for s in states]
    out_ours, out_theirs = ours(x_ours, state_ours), theirs(x_theirs, state_theirs)
    assert [tuple(o.shape) for o in flat(out_ours)] == [tuple(t.shape) for t in flat(out_theirs)]
    backward_both(out_ours, out_theirs)
    assert_same_grads(leaves_ours, leaves_theirs, ours, theirs)


def test_relu_rnn_matches_pytorch():
    ours, theirs = twins("RNN", 3, 4, num_layers=2, nonlinearity="relu", bidirectional=True)
    x_ours, x_theirs = pair(np.random.default_rng(6).standard_normal((5, 2, 3)))
    backward_both(ours(x_ours), theirs(x_theirs))
    assert_same_grads([x_ours], [x_theirs], ours, theirs)


@pytest.mark.parametrize("kind", KINDS)
def test_dropout_is_the_identity_in_eval_mode(kind):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = twins(kind, 3, 4, num_layers=3, dropout=0.5)
    ours.eval()
    theirs.eval()
    x_ours, x_theirs = pair(np.random.default_rng(7).standard_normal((5, 2, 3)))
    backward_both(ours(x_ours), theirs(x_theirs))
    assert_same_grads([x_ours], [x_theirs], ours, theirs)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_cells_match_pytorch(kind, batched, bias):
    ours, theirs = twins(kind, 3, 4, bias=bias)
    rng = np.random.default_rng(8)
    batch = (2,) if batched else ()
    x_ours, x_theirs = pair(rng.standard_normal(batch + (3,)))
    states = [pair(rng.standard_normal(batch + (4,))) for _ in range(1 + (kind == "LSTMCell"))]
    state_ours = tuple(s[0] for s in states) if kind == "LSTMCell" else states[0][0]
    state_theirs = tuple(s[1] for s in states) if kind == "LSTMCell" else states[0][1]
    # two steps, so the state passed back in is part of the graph too
    out_ours, out_theirs = ours(x_ours, state_ours), theirs(x_theirs, state_theirs)
    out_ours, out_theirs = ours(x_ours * 2, out_ours), theirs(x_theirs * 2, out_theirs)
    backward_both(out_ours, out_theirs)
    assert_same_grads([x_ours] + [s[0] for s in states], [x_theirs] + [s[1] for s in states], ours, theirs)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_start_from_zero_states(kind):
    extra = {"nonlinearity": "relu"} if kind == "RNNCell" else {}
    ours, theirs = twins(kind, 3, 4, **extra)
    x_ours, x_theirs = pair(np.random.default_rng(9).standard_normal((2, 3)))
    backward_both(ours(x_ours), theirs(x_theirs))
    assert_same_grads([x_ours], [x_theirs], ours, theirs)


@pytest.mark.parametrize("build", [
    lambda m: m.RNN(3, 4), lambda m: m.RNN(3, 4, 2, nonlinearity="relu", bias=False),
    lambda m: m.LSTM(3, 4, num_layers=2, batch_first=True, dropout=0.5, bidirectional=True, proj_size=2),
    lambda m: m.GRU(10, 20, 3), lambda m: m.RNNCell(3, 4, nonlinearity="relu"),
    lambda m: m.LSTMCell(3, 4, bias=False), lambda m: m.GRUCell(3, 4),
])
def test_reprs_and_parameter_names_are_pytorchs(build):
    ours, theirs = build(nn), build(torch.nn)
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
           [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]


@pytest.mark.parametrize("kind", KINDS + ["RNNCell", "LSTMCell", "GRUCell"])
def test_default_init_is_uniform_in_one_over_sqrt_hidden(kind):
    module = getattr(nn, kind)(8, 25)
    for name, p in module.named_parameters():
        assert np.abs(p.numpy()).max() <= 0.2, name                     # 1/sqrt(25) = 0.2
    values = np.concatenate([p.numpy().ravel() for p in module.parameters()])   # 1,000+ values
    assert np.abs(values).max() > 0.19 and abs(values.mean()) < 0.02 and 0.1 < values.std() < 0.13
    assert all(p.dtype == cr.float32 for p in module.parameters())


def test_all_weights_and_flatten_parameters():
    ours, theirs = twins("LSTM", 3, 4, num_layers=2, bidirectional=True, proj_size=2)
    ours.flatten_parameters()
    assert [[tuple(p.shape) for p in layer] for layer in ours.all_weights] == \
           [[tuple(p.shape) for p in layer] for layer in theirs.all_weights]
    assert ours._flat_weights_names == theirs._flat_weights_names
