"""Forward mode of the primitives merged last (attention, transposed convolution, the recurrences,
the hard activations, interpolate, setitem) against torch.func.jvp (2.13) in float64: the same
function written for both libraries, the same values and tangents, and the tangents of every
input at once (weights, biases, masks, initial states included)."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import func
from chainrule.ops import recurrent as R
from chainrule.ops.indexing import setitem

torch = pytest.importorskip("torch")
TF = torch.nn.functional


pytestmark = pytest.mark.usefixtures("torch_on_one_thread")   # tests/conftest.py


def jvp_both(ours, theirs, shapes, seed=0, scale=1.0, pick=None):
    """(value, tangent) of ``ours`` by chainrule and of ``theirs`` by torch.func from the same random
    primals and tangents; ``pick`` maps torch's result to the layout chainrule gives."""
    rng = np.random.default_rng(seed)
    primals = [rng.standard_normal(shape) * scale for shape in shapes]
    tangents = [rng.standard_normal(shape) for shape in shapes]
    value, tangent = func.jvp(ours, tuple(cr.tensor(p, dtype=cr.float64) for p in primals),
                              tuple(cr.tensor(t, dtype=cr.float64) for t in tangents))
    their_value, their_tangent = torch.func.jvp(theirs, tuple(torch.tensor(p) for p in primals),
                                                tuple(torch.tensor(t) for t in tangents))
    if pick is not None:
        their_value, their_tangent = pick(their_value), pick(their_tangent)
    return (value.numpy(), tangent.numpy()), (their_value.detach().numpy(), their_tangent.detach().numpy())


def assert_same(ours, theirs, rtol=1e-10, atol=1e-12):
    for a, b, what in zip(ours, theirs, ("values", "tangents")):
        assert a.shape == b.shape, (what, a.shape, b.shape)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


# --- element-wise and linear maps -----------------------------------------------------------------
@pytest.mark.parametrize("name,args", [("hardtanh", (-0.5, 2.0)), ("relu6", ()), ("hardsigmoid", ()),
                                       ("hardswish", ())])
def test_hard_activations_on_both_sides_of_every_kink(name, args):
    # PyTorch's hardsigmoid slope is float32(1/6) = 0.16666667163 even in float64, ours 1/6
    rtol = 1e-7 if name == "hardsigmoid" else 1e-10
    assert_same(*jvp_both(lambda x: getattr(F, name)(x, *args), lambda x: getattr(TF, name)(x, *args),
                          [(6, 7)], scale=4.0), rtol=rtol)


@pytest.mark.parametrize("mode,options", [
    ("nearest", {"scale_factor": 2.5}), ("nearest-exact", {"size": (5, 7)}), ("area", {"size": (2, 3)}),
    ("bilinear", {"scale_factor": 1.7}), ("bilinear", {"size": (5, 2), "align_corners": True}),
    ("bicubic", {"size": (6, 5)}), ("bicubic", {"scale_factor": 2, "align_corners": True}),
])
def test_interpolate(mode, options):
    assert_same(*jvp_both(lambda x: F.interpolate(x, mode=mode, **options),
                          lambda x: TF.interpolate(x, mode=mode, **options), [(2, 3, 4, 5)]))


@pytest.mark.parametrize("mode", ["linear", "nearest", "area"])
def test_interpolate_1d_and_3d(mode):
    assert_same(*jvp_both(lambda x: F.interpolate(x, size=7, mode=mode),
                          lambda x: TF.interpolate(x, size=7, mode=mode), [(2, 3, 4)]))
    three = "trilinear" if mode == "linear" else mode
    assert_same(*jvp_both(lambda x: F.interpolate(x, size=(3, 5, 2), mode=three),
                          lambda x: TF.interpolate(x, size=(3, 5, 2), mode=three), [(1, 2, 2, 3, 4)]))


@pytest.mark.parametrize("options", [
    {"stride": 2, "padding": 1, "output_padding": 1},
    {"stride": (1, 2), "dilation": 2, "groups": 2},
    {"stride": 3, "padding": (0, 1), "output_padding": (2, 0)},
])
def test_conv_transpose2d_in_input_weight_and_bias(options):
    assert_same(*jvp_both(lambda x, w, b: F.conv_transpose2d(x, w, b, **options),
                          lambda x, w, b: TF.conv_transpose2d(x, w, b, **options),
                          [(2, 4, 3, 4), (4, 3, 2, 3), (3 * options.get("groups", 1),)]))


def test_conv_transpose1d_unbatched():
    assert_same(*jvp_both(lambda x, w: F.conv_transpose1d(x, w, stride=2, padding=1),
                          lambda x, w: TF.conv_transpose1d(x, w, stride=2, padding=1), [(3, 5), (3, 2, 4)]))


@pytest.mark.parametrize("index", [(slice(1, None), [0, 2]), (0,), (Ellipsis, 1)])
def test_setitem_as_an_op_against_a_write_into_a_clone(index):
    shape = np.empty((3, 4))[index].shape

    def theirs(x, v):
        y = x.clone()
        y[index] = v
        return y

    assert_same(*jvp_both(lambda x, v: setitem(x, index, v), theirs, [(3, 4), shape]))


def test_an_in_place_write_under_forward_mode():
    def write(x, v):   # the same code for both libraries
        y = x.clone()
        y[1:, [0, 2]] = v
        return y

    assert_same(*jvp_both(write, write, [(3, 4), (2, 2)]))


# --- attention ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shapes,options", [
    ([(2, 3, 4), (2, 5, 4), (2, 5, 3), (3, 5)], {}),                         # a float mask, learned too
    ([(2, 1, 3, 4), (2, 5, 4), (5, 3), (1, 5)], {"scale": 0.4}),              # broadcast batch dims
    ([(2, 4, 3, 4), (2, 4, 3, 4), (2, 4, 3, 2)], {"is_causal": True}),
    ([(1, 4, 3, 4), (1, 2, 5, 4), (1, 2, 5, 3)], {"enable_gqa": True}),
])
def test_scaled_dot_product_attention(shapes, options):
    def call(M):
        sdpa = (F if M is cr else TF).scaled_dot_product_attention
        if len(shapes) == 4:
            return lambda q, k, v, m: sdpa(q, k, v, attn_mask=m, **options)
        return lambda q, k, v: sdpa(q, k, v, **options)

    assert_same(*jvp_both(call(cr), call(torch), shapes))


def test_attention_with_a_bool_mask():
    allowed = np.array([[True, False, True, True, False], [False, True, True, False, True], [True] * 5])
    assert_same(*jvp_both(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=cr.tensor(allowed)),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor(allowed)),
        [(2, 3, 4), (2, 5, 4), (2, 5, 3)]))


# --- the recurrences: our ops after the input projection, against torch's layers ----------------------
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def recurrence(kind, u, states, w_hh, b_hh, w_hr=None, reverse=False, batch_sizes=None):
    """The layer's outputs (T, B, H) by our op over u = x W_ih^T + b_ih."""
    options = {"reverse": reverse, "batch_sizes": batch_sizes}
    if kind == "LSTM":
        y = R.lstm_layer(u, states[0], states[1], w_hh, b_hh, w_hr, **options)
        return y[0][..., :states[0].shape[-1]]
    layer = R.rnn_layer if kind == "RNN" else R.gru_layer
    return layer(u, states[0], w_hh, b_hh, **options)[0]


def layer_shapes(kind, inputs, hidden, proj=0, directions=1):
    """Shapes of (x, h0[, c0], then per direction W_ih, W_hh, b_ih, b_hh[, W_hr]) and torch's names."""
    width = proj or hidden
    states = [(directions, 3, width)] + ([(directions, 3, hidden)] if kind == "LSTM" else [])
    shapes, names = [(4, 3, inputs)] + states, []
    for suffix in ["", "_reverse"][:directions]:
        rows = GATES[kind] * hidden
        shapes += [(rows, inputs), (rows, width), (rows,), (rows,)] + ([(proj, hidden)] if proj else [])
        names += [f"{n}_l0{suffix}" for n in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
                  + (["weight_hr"] if proj else [])]
    return shapes, names


def ours_layer(kind, proj, directions, batch_sizes=None):
    def run(x, *rest):
        count = 2 if kind == "LSTM" else 1
        states, weights = rest[:count], rest[count:]
        per = len(weights) // directions
        outputs = []
        for d in range(directions):
            w_ih, w_hh, b_ih, b_hh, *w_hr = weights[d * per:(d + 1) * per]
            outputs.append(recurrence(kind, F.linear(x, w_ih, b_ih), [s[d] for s in states], w_hh, b_hh,
                                      w_hr[0] if w_hr else None, reverse=d == 1, batch_sizes=batch_sizes))
        return cr.cat(outputs, -1) if directions == 2 else outputs[0]
    return run


def theirs_layer(kind, inputs, hidden, proj, directions, names, lengths=None):
    options = {"proj_size": proj} if proj else {}
    module = getattr(torch.nn, kind)(inputs, hidden, bidirectional=directions == 2, **options).double()

    def run(x, *rest):
        count = 2 if kind == "LSTM" else 1
        states, weights = rest[:count], rest[count:]
        params = dict(zip(names, weights))
        if lengths is None:
            hidden_state = tuple(states) if kind == "LSTM" else states[0]
            return torch.func.functional_call(module, params, (x, hidden_state))[0]
        # torch 2.13's packed recurrences have no forward AD ("Tensor that doesn't have storage"), so each
        # sequence runs alone over its own length and the rows are laid out as PackedSequence.data
        outs = []
        for b, n in enumerate(lengths):
            own = [s[:, b:b + 1] for s in states]
            hidden_state = tuple(own) if kind == "LSTM" else own[0]
            outs.append(torch.func.functional_call(module, params, (x[:n, b:b + 1], hidden_state))[0])
        return torch.cat([outs[b][t, 0:1] for t in range(max(lengths))
                          for b, n in enumerate(lengths) if n > t])
    return run


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("directions", [1, 2])
def test_recurrences_in_every_input_and_weight(kind, directions):
    shapes, names = layer_shapes(kind, 2, 3, directions=directions)
    assert_same(*jvp_both(ours_layer(kind, 0, directions), theirs_layer(kind, 2, 3, 0, directions, names),
                          shapes))


def test_lstm_with_a_projection_both_directions():
    shapes, names = layer_shapes("LSTM", 2, 3, proj=2, directions=2)
    assert_same(*jvp_both(ours_layer("LSTM", 2, 2), theirs_layer("LSTM", 2, 3, 2, 2, names), shapes))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_packed_sequences_both_directions(kind):
    lengths, batch_sizes = [4, 3, 1], np.array([3, 2, 2, 1])
    shapes, names = layer_shapes(kind, 2, 3, directions=2)

    def packed(out):   # (T, B, F) -> the rows still running at each step, as PackedSequence.data
        return cr.cat([out[t, :int(n)] for t, n in enumerate(batch_sizes)], 0)

    ours = ours_layer(kind, 0, 2, batch_sizes=batch_sizes)
    assert_same(*jvp_both(lambda *xs: packed(ours(*xs)), theirs_layer(kind, 2, 3, 0, 2, names, lengths),
                          shapes))
