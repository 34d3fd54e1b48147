"""The Transformer layers, stacks and nn.Transformer against PyTorch 2.13 in float64: the same weights
(through load_state_dict, which also proves the parameter names match), then the output, every
input gradient and every parameter gradient, in train mode (dropout 0) and eval mode, batch_first
both ways, norm_first both ways, relu / gelu / a callable activation, masks of each kind."""

import warnings

import numpy as np
import pytest
from tests.conftest import leaf

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.errors import ShapeError

torch = pytest.importorskip("torch")


pytestmark = pytest.mark.usefixtures("torch_on_one_thread")   # tests/conftest.py
TNN = torch.nn
D, HEADS, FF = 8, 2, 16


def copy_weights(ours, theirs):
    theirs.double()
    ours.double()
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def convert(value, lib):
    if isinstance(value, np.ndarray):
        return cr.tensor(value) if lib is cr else torch.tensor(value)
    return value


def assert_same(ours, theirs, inputs, kwargs=None, train=True, seed=0):
    """Run both on the same float64 inputs; compare output, input grads and parameter grads."""
    kwargs = kwargs or {}
    if not train:
        ours.eval(), theirs.eval()
    ours_in = [cr.tensor(x, dtype=cr.float64, requires_grad=True) for x in inputs]
    their_in = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch's mask dtype-mismatch deprecation notes
        out = ours(*ours_in, **{k: convert(v, cr) for k, v in kwargs.items()})
        t_out = theirs(*their_in, **{k: convert(v, torch) for k, v in kwargs.items()})
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-9, atol=1e-11)
    direction = np.random.default_rng(seed).standard_normal(tuple(t_out.shape))
    (out * cr.tensor(direction)).sum().backward()
    (t_out * torch.tensor(direction)).sum().backward()
    for a, b in zip(ours_in, their_in):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11)
    their_params = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(their_params)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), their_params[name].grad.numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=name)
    return out


def data(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


def sequences(batch_first, length, batch=2, seed=1):
    return data(*((batch, length, D) if batch_first else (length, batch, D)), seed=seed)


def masks(length, source, batch=2, seed=3):
    """One attention mask and one key padding mask of each kind (bool and float)."""
    rng = np.random.default_rng(seed)
    causal_float = np.triu(np.full((length, source), -np.inf), 1)
    bool_mask = rng.random((length, source)) > 0.7
    bool_mask[:, 0] = False     # every query keeps a key
    padding = np.zeros((batch, source), dtype=bool)
    padding[1, source - 2:] = True
    return {"float": (causal_float, np.where(padding, -1e4, 0.0)), "bool": (bool_mask, padding)}


ACTIVATIONS = {"relu": ("relu", "relu"), "gelu": ("gelu", "gelu"),
               "callable": (nn.GELU(approximate="tanh"), TNN.GELU(approximate="tanh")),
               "function": (F.silu, TNN.functional.silu)}


def layer_kwargs(batch_first, norm_first, activation):
    ours_act, their_act = ACTIVATIONS[activation]
    shared = dict(d_model=D, nhead=HEADS, dim_feedforward=FF, dropout=0.0, batch_first=batch_first,
                  norm_first=norm_first)
    return dict(shared, activation=ours_act), dict(shared, activation=their_act)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu", "callable", "function"])
@pytest.mark.parametrize("kind", ["float", "bool"])
def test_encoder_layer(batch_first, norm_first, activation, kind):
    ours_kw, their_kw = layer_kwargs(batch_first, norm_first, activation)
    attn_mask, padding = masks(5, 5)[kind]
    for train in (True, False):
        ours, theirs = copy_weights(nn.TransformerEncoderLayer(**ours_kw),
                                    TNN.TransformerEncoderLayer(**their_kw))
        assert_same(ours, theirs, [sequences(batch_first, 5)],
                    dict(src_mask=attn_mask, src_key_padding_mask=padding), train=train)
        assert_same(ours, theirs, [sequences(batch_first, 5)], train=train)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("kind", ["float", "bool"])
def test_decoder_layer(batch_first, norm_first, activation, kind):
    ours_kw, their_kw = layer_kwargs(batch_first, norm_first, activation)
    tgt_mask, tgt_padding = masks(4, 4)[kind]
    memory_mask, memory_padding = masks(4, 6, seed=4)[kind]
    for train in (True, False):
        ours, theirs = copy_weights(nn.TransformerDecoderLayer(**ours_kw),
                                    TNN.TransformerDecoderLayer(**their_kw))
        assert_same(ours, theirs, [sequences(batch_first, 4), sequences(batch_first, 6, seed=2)],
                    dict(tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_padding,
                         memory_key_padding_mask=memory_padding), train=train)


@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer_causal_hint_and_unbatched(batch_first):
    ours_kw, their_kw = layer_kwargs(batch_first, False, "relu")
    ours, theirs = copy_weights(nn.TransformerDecoderLayer(**ours_kw),
                                TNN.TransformerDecoderLayer(**their_kw))
    causal = np.triu(np.full((4, 4), -np.inf), 1)
    assert_same(ours, theirs, [sequences(batch_first, 4), sequences(batch_first, 6, seed=2)],
                dict(tgt_mask=causal, tgt_is_causal=True))
    assert_same(ours, theirs, [data(4, D), data(6, D, seed=2)], dict(tgt_mask=causal))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_stack_with_norm_and_causal_detection(batch_first, norm_first):
    ours_kw, their_kw = layer_kwargs(batch_first, norm_first, "gelu")
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(**ours_kw), 2, nn.LayerNorm(D))
    theirs = TNN.TransformerEncoder(TNN.TransformerEncoderLayer(**their_kw), 2, TNN.LayerNorm(D),
                                    enable_nested_tensor=False)
    copy_weights(ours, theirs)
    causal = nn.Transformer.generate_square_subsequent_mask(5, dtype=cr.float64).numpy()
    padding = masks(5, 5)["bool"][1]
    for train in (True, False):
        assert_same(ours, theirs, [sequences(batch_first, 5)], dict(mask=causal), train=train)
        assert_same(ours, theirs, [sequences(batch_first, 5)],
                    dict(mask=causal, src_key_padding_mask=padding), train=train)
        assert_same(ours, theirs, [sequences(batch_first, 5)], dict(mask=causal, is_causal=True), train=train)


def test_decoder_stack():
    ours_kw, their_kw = layer_kwargs(True, True, "relu")
    ours = nn.TransformerDecoder(nn.TransformerDecoderLayer(**ours_kw), 2, nn.LayerNorm(D))
    theirs = TNN.TransformerDecoder(TNN.TransformerDecoderLayer(**their_kw), 2, TNN.LayerNorm(D))
    copy_weights(ours, theirs)
    causal = np.triu(np.ones((4, 4), dtype=bool), 1)
    assert_same(ours, theirs, [sequences(True, 4), sequences(True, 6, seed=2)], dict(tgt_mask=causal))
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("train", [True, False])
def test_transformer_model(batch_first, norm_first, train):
    shared = dict(d_model=D, nhead=HEADS, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=FF,
                  dropout=0.0, batch_first=batch_first, norm_first=norm_first)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch: "enable_nested_tensor is True, but ..."
        theirs = TNN.Transformer(**shared, activation="gelu")
    ours, theirs = copy_weights(nn.Transformer(**shared, activation="gelu"), theirs)
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=cr.float64).numpy()
    src_padding = masks(6, 6)["bool"][1]
    assert_same(ours, theirs, [sequences(batch_first, 6), sequences(batch_first, 4, seed=2)],
                dict(tgt_mask=tgt_mask, src_key_padding_mask=src_padding,
                     memory_key_padding_mask=src_padding), train=train)


def test_eval_without_gradient_matches_torch_fast_path():
    """PyTorch takes its fused inference kernels here (eval, no grad, batch_first); same numbers."""
    ours, theirs = copy_weights(nn.TransformerEncoderLayer(D, HEADS, FF, batch_first=True),
                                TNN.TransformerEncoderLayer(D, HEADS, FF, batch_first=True))
    ours.eval(), theirs.eval()
    x = sequences(True, 5)
    with cr.no_grad(), torch.no_grad():
        np.testing.assert_allclose(ours(cr.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-9,
                                   atol=1e-11)


def test_generate_square_subsequent_mask_and_repr_like_torch():
    for n in (1, 4):
        np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(n).numpy(),
                                      TNN.Transformer.generate_square_subsequent_mask(n).numpy())
    assert nn.Transformer.generate_square_subsequent_mask(3).dtype == cr.float32
    cr.manual_seed(0)
    kwargs = dict(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = nn.Transformer(**kwargs), TNN.Transformer(**kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    layer = nn.TransformerEncoderLayer(16, 4, activation=nn.GELU())
    assert repr(layer) == repr(TNN.TransformerEncoderLayer(16, 4, activation=TNN.GELU()))
    assert layer.activation_relu_or_gelu == 2


def test_transformer_initialises_matrices_xavier_uniform():
    cr.manual_seed(0)
    model = nn.Transformer(d_model=32, nhead=4, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=64)
    weight = model.encoder.layers[0].linear1.weight.numpy()
    bound = np.sqrt(6 / (32 + 64))
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.95 * bound
    assert np.all(model.decoder.norm.weight.numpy() == 1)
    first, second = model.encoder.layers[0], nn.TransformerEncoder(model.encoder.layers[0], 2).layers[1]
    assert first.linear1.weight is not second.linear1.weight   # the stack holds independent copies
    np.testing.assert_array_equal(first.linear1.weight.numpy(), second.linear1.weight.numpy())


def test_encoder_layer_gradcheck_first_and_second_order():
    cr.manual_seed(0)
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, batch_first=True, norm_first=True,
                                       activation="gelu").double()
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=cr.float64)
    x = leaf(2, 3, 4, seed=1)
    assert cr.gradcheck(lambda x: layer(x, src_mask=mask, is_causal=True), [x])
    direction = cr.tensor(np.random.default_rng(2).standard_normal((2, 3, 4)))

    def first_gradient(x):
        return cr.grad((layer(x, src_mask=mask) * direction).sum(), [x], create_graph=True)

    assert cr.gradcheck(first_gradient, [x])


def test_bad_input_gets_clear_errors():
    model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8)
    with pytest.raises(ShapeError, match="batch sizes"):
        model(cr.randn(5, 2, 8), cr.randn(4, 3, 8))
    with pytest.raises(ShapeError, match="d_model=8"):
        model(cr.randn(5, 2, 8), cr.randn(4, 2, 6))
    with pytest.raises(ValueError, match="relu' or 'gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    layer = nn.TransformerEncoderLayer(8, 2, 8)
    with pytest.raises(ShapeError, match="2-D attn_mask"):
        layer(cr.randn(5, 2, 8), src_mask=cr.zeros(4, 4))
