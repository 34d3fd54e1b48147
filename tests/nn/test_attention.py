"""scaled_dot_product_attention (the fused primitive) and MultiheadAttention against PyTorch 2.13 in
float64: outputs, every input gradient and every parameter gradient, for bool and float masks,
broadcast batch dims, causal masks, grouped heads, fully masked rows; plus finite-difference checks
of first and second derivatives."""

import numpy as np
import pytest
from tests.conftest import leaf

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.errors import DTypeError, ShapeError

torch = pytest.importorskip("torch")


pytestmark = pytest.mark.usefixtures("torch_on_one_thread")   # tests/conftest.py
TF = torch.nn.functional


def arrays(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def both(array, grad=True):
    """The same float64 values as a chainrule and a torch tensor (bool arrays stay bool, no grad)."""
    if array.dtype == bool:
        return cr.tensor(array), torch.tensor(array)
    return (cr.tensor(array, dtype=cr.float64, requires_grad=grad),
            torch.tensor(array, dtype=torch.float64, requires_grad=grad))


def backward_both(ours, theirs, seed=5):
    weights = np.random.default_rng(seed).standard_normal(tuple(theirs.shape))
    (ours * cr.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()


def close(ours, theirs, atol=1e-12):
    expected = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-10, atol=atol)


# --- scaled_dot_product_attention -------------------------------------------------------------
def _sdpa_case(shapes, mask=None, **kwargs):
    q, k, v = (both(a) for a in arrays(*shapes))
    mask_pair = both(mask) if mask is not None else (None, None)
    ours = F.scaled_dot_product_attention(q[0], k[0], v[0], attn_mask=mask_pair[0], **kwargs)
    theirs = TF.scaled_dot_product_attention(q[1], k[1], v[1], attn_mask=mask_pair[1], **kwargs)
    close(ours, theirs)
    backward_both(ours, theirs)
    for a, b in (q, k, v) + ((mask_pair,) if mask is not None and mask.dtype != bool else ()):
        close(a.grad, b.grad)
    return ours


BASE = ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7))


def test_sdpa_plain_and_with_scale():
    _sdpa_case(BASE)
    _sdpa_case(BASE, scale=0.37)


@pytest.mark.parametrize("mask_shape", [(4, 6), (3, 4, 6), (2, 1, 4, 6), (2, 3, 4, 6), (1, 6)])
def test_sdpa_bool_masks_broadcast(mask_shape):
    mask = np.random.default_rng(1).random(mask_shape) > 0.35
    _sdpa_case(BASE, mask)


@pytest.mark.parametrize("mask_shape", [(4, 6), (2, 1, 4, 6), (3, 1, 6)])
def test_sdpa_float_masks_and_their_gradient(mask_shape):
    mask = np.random.default_rng(2).standard_normal(mask_shape)
    _sdpa_case(BASE, mask)


def test_sdpa_fully_masked_rows_give_zero_like_torch():
    mask = np.random.default_rng(3).random((4, 6)) > 0.3
    mask[1] = False
    ours = _sdpa_case(BASE, mask)
    assert np.all(ours.numpy()[:, :, 1] == 0) and np.isfinite(ours.numpy()).all()
    float_mask = np.where(mask, 0.0, -np.inf)
    float_mask[2, 0] = 0.5
    _sdpa_case(BASE, float_mask)


@pytest.mark.parametrize("shapes", [BASE, ((2, 3, 6, 5), (2, 3, 4, 5), (2, 3, 4, 7)),
                                    ((5, 4), (5, 4), (5, 3))])
def test_sdpa_causal_top_left(shapes):
    _sdpa_case(shapes, is_causal=True)


def test_sdpa_grouped_query_heads_and_broadcast_batch():
    _sdpa_case(((2, 6, 4, 5), (2, 2, 6, 5), (2, 2, 6, 7)), enable_gqa=True)
    _sdpa_case(((2, 3, 4, 5), (1, 1, 6, 5), (1, 3, 6, 7)))
    _sdpa_case(((4, 5), (6, 5), (6, 3)))


def test_sdpa_gradcheck_first_and_second_order():
    q, k, v = leaf(2, 3, 4, seed=1), leaf(2, 5, 4, seed=2), leaf(2, 5, 3, seed=3)
    float_mask = leaf(3, 5, seed=4)
    bool_mask = cr.tensor(np.random.default_rng(5).random((2, 3, 5)) > 0.3)
    bool_mask._data[0, 1] = False   # one fully masked row
    assert cr.gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m), [q, k, v, float_mask])
    assert cr.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, bool_mask, scale=0.7),
                        [q, k, v])
    assert cr.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), [q, k, v])
    weights = cr.tensor(np.random.default_rng(6).standard_normal((2, 3, 3)))

    def first_gradient(*xs, **kwargs):
        out = F.scaled_dot_product_attention(*xs, **kwargs)
        return cr.grad((out * weights).sum(), xs, create_graph=True)

    assert cr.gradcheck(lambda q, k, v, m: first_gradient(q, k, v, m), [q, k, v, float_mask])
    assert cr.gradcheck(lambda q, k, v: first_gradient(q, k, v, attn_mask=bool_mask), [q, k, v])


def test_sdpa_second_order_matches_torch():
    (q, tq), (k, tk), (v, tv) = (both(a) for a in arrays((2, 3, 4), (2, 5, 4), (2, 5, 3), seed=9))
    mask = np.random.default_rng(2).random((3, 5)) > 0.4
    mask[0] = False
    ours = F.scaled_dot_product_attention(q, k, v, attn_mask=cr.tensor(mask))
    theirs = TF.scaled_dot_product_attention(tq, tk, tv, attn_mask=torch.tensor(mask))
    ours_grads = cr.grad((ours ** 2).sum(), [q, k, v], create_graph=True)
    their_grads = torch.autograd.grad((theirs ** 2).sum(), [tq, tk, tv], create_graph=True)
    sum(((g * g).sum() for g in ours_grads), cr.tensor(0.0, dtype=cr.float64)).backward()
    sum((g * g).sum() for g in their_grads).backward()
    for a, b in ((q, tq), (k, tk), (v, tv)):
        close(a.grad, b.grad, atol=1e-11)


def test_sdpa_dropout_is_a_fixed_mask_scaled_by_keep_probability():
    q, k, v = leaf(2, 4, 3, seed=1), leaf(2, 6, 3, seed=2), leaf(2, 6, 3, seed=3)

    def dropped(q, k, v):
        cr.manual_seed(11)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)

    assert cr.gradcheck(dropped, [q, k, v])
    with cr.no_grad():
        plain = F.scaled_dot_product_attention(q, k, v).numpy()
        runs = np.mean([F.scaled_dot_product_attention(q, k, v, dropout_p=0.4).numpy()
                        for _ in range(3000)], axis=0)
    np.testing.assert_allclose(runs, plain, atol=0.06)   # unbiased: E[mask / (1-p)] = 1
    assert np.all(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy() == 0)


def test_sdpa_float32_stays_float32_and_matches_torch():
    a = arrays(*BASE, seed=4)
    ours = F.scaled_dot_product_attention(*(cr.tensor(x, dtype=cr.float32) for x in a), is_causal=True)
    theirs = TF.scaled_dot_product_attention(*(torch.tensor(x, dtype=torch.float32) for x in a),
                                             is_causal=True)
    assert ours.dtype == cr.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_sdpa_errors_name_the_op_and_shapes():
    q, k, v = (cr.tensor(x) for x in arrays(*BASE))
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=cr.ones(4, 6, dtype=cr.bool), is_causal=True)
    with pytest.raises(ShapeError, match=r"scaled_dot_product_attention: attn_mask of shape \(5, 6\)"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=cr.ones(5, 6, dtype=cr.bool))
    with pytest.raises(DTypeError, match="bool or floating point"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=cr.ones(4, 6, dtype=cr.int64))
    with pytest.raises(ShapeError, match="same feature size"):
        F.scaled_dot_product_attention(q, k[..., :4], v)
    with pytest.raises(ShapeError, match="same sequence length"):
        F.scaled_dot_product_attention(q, k, v[..., :5, :])
    with pytest.raises(DTypeError, match="share a dtype"):
        F.scaled_dot_product_attention(q, k.float(), v)
    with pytest.raises(ShapeError, match="do not broadcast"):
        F.scaled_dot_product_attention(q, k[:, :2], v[:, :2])
    with pytest.raises(ShapeError, match="multiple of the key/value heads"):
        F.scaled_dot_product_attention(q, k[:, :2], v[:, :2], enable_gqa=True)


# --- MultiheadAttention ---------------------------------------------------------------------
def twins(**kwargs):
    theirs = torch.nn.MultiheadAttention(**kwargs).double()
    ours = nn.MultiheadAttention(**kwargs).double()
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _mha_case(kwargs, forward=None, self_attention=False, unbatched=False, train=True, length=4, source=5,
              batch=2, seed=0):
    ours, theirs = twins(**kwargs)
    if not train:
        ours.eval(), theirs.eval()
    e = kwargs["embed_dim"]
    kdim, vdim = kwargs.get("kdim") or e, kwargs.get("vdim") or e

    def shape(t, d):
        if unbatched:
            return (t, d)
        return (batch, t, d) if kwargs.get("batch_first") else (t, batch, d)

    if self_attention:
        pair = both(arrays(shape(length, e), seed=seed)[0])
        inputs = [pair, pair, pair]
    else:
        shapes = shape(length, e), shape(source, kdim), shape(source, vdim)
        inputs = [both(a) for a in arrays(*shapes, seed=seed)]
    forward = forward or {}
    ours_kw = {k: (cr.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in forward.items()}
    their_kw = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in forward.items()}
    out, weights = ours(*(p[0] for p in inputs), **ours_kw)
    t_out, t_weights = theirs(*(p[1] for p in inputs), **their_kw)
    close(out, t_out)
    assert (weights is None) == (t_weights is None)
    rng = np.random.default_rng(3)
    pulls = [(out, t_out)] + ([(weights, t_weights)] if weights is not None else [])
    loss, t_loss = 0, 0
    for ours_value, their_value in pulls:   # sum(out * a) (+ sum(weights * b)): every path gets a gradient
        close(ours_value, their_value)
        direction = rng.standard_normal(tuple(their_value.shape))
        loss = loss + (ours_value * cr.tensor(direction)).sum()
        t_loss = t_loss + (their_value * torch.tensor(direction)).sum()
    loss.backward()
    t_loss.backward()
    for a, b in (inputs[:1] if self_attention else inputs):
        close(a.grad, b.grad)
    their_params = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(their_params)
    for name, p in ours.named_parameters():
        close(p.grad, their_params[name].grad)
    return ours, out, weights


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("self_attention", [False, True])
def test_mha_matches_torch(batch_first, need_weights, self_attention):
    _mha_case(dict(embed_dim=8, num_heads=2, batch_first=batch_first), dict(need_weights=need_weights),
              self_attention=self_attention, length=5 if self_attention else 4)


@pytest.mark.parametrize("train", [True, False])
def test_mha_eval_and_train_mode_with_zero_dropout(train):
    _mha_case(dict(embed_dim=8, num_heads=4, dropout=0.0, batch_first=True), self_attention=True, length=5,
              train=train)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_kdim_vdim_separate_projections(need_weights):
    ours, _, _ = _mha_case(dict(embed_dim=8, num_heads=2, kdim=3, vdim=5), dict(need_weights=need_weights))
    assert ours.in_proj_weight is None and ours.k_proj_weight.shape == (8, 3)


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_masks_of_each_kind(kind, need_weights):
    rng = np.random.default_rng(7)
    if kind == "bool":
        attn, padding, heads_mask = (rng.random(s) > 0.7 for s in ((4, 5), (2, 5), (8, 4, 5)))
    else:
        attn, padding, heads_mask = (rng.standard_normal(s) for s in ((4, 5), (2, 5), (8, 4, 5)))
    for forward in (dict(attn_mask=attn), dict(key_padding_mask=padding), dict(attn_mask=heads_mask),
                    dict(attn_mask=attn, key_padding_mask=padding)):
        _mha_case(dict(embed_dim=8, num_heads=4), dict(forward, need_weights=need_weights))


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_bias_kv_zero_attn_and_no_bias(need_weights):
    padding = np.random.default_rng(1).random((2, 5)) > 0.6
    attn = np.random.default_rng(2).random((4, 5)) > 0.7
    _mha_case(dict(embed_dim=8, num_heads=2, add_bias_kv=True, add_zero_attn=True),
              dict(need_weights=need_weights, key_padding_mask=padding, attn_mask=attn))
    _mha_case(dict(embed_dim=8, num_heads=2, bias=False, add_zero_attn=True), dict(need_weights=need_weights))


def test_mha_unbatched_and_per_head_weights():
    _, _, weights = _mha_case(dict(embed_dim=6, num_heads=3), dict(average_attn_weights=False),
                              unbatched=True)
    assert weights.shape == (3, 4, 5)
    per_head = np.random.default_rng(0).random((3, 4, 5)) > 0.7
    _mha_case(dict(embed_dim=6, num_heads=3), dict(attn_mask=per_head), unbatched=True)


def test_mha_is_causal_hint_uses_the_fused_causal_path():
    causal = np.triu(np.ones((5, 5), dtype=bool), 1)
    _mha_case(dict(embed_dim=8, num_heads=2, batch_first=True),
              dict(attn_mask=causal, is_causal=True, need_weights=False), self_attention=True, length=5)
    ours, _ = twins(embed_dim=8, num_heads=2)
    x = cr.randn(3, 2, 8, dtype=cr.float64)
    with pytest.raises(ValueError, match="is_causal"):
        ours(x, x, x, is_causal=True)


def test_mha_fully_masked_row_zero_without_weights_nan_with_weights_like_torch():
    padding = np.zeros((2, 3), dtype=bool)
    padding[1] = True
    _mha_case(dict(embed_dim=8, num_heads=2), dict(need_weights=False, key_padding_mask=padding),
              self_attention=True, length=3)
    ours, theirs = twins(embed_dim=8, num_heads=2)
    x = np.random.default_rng(0).standard_normal((3, 2, 8))
    out, weights = ours(*(cr.tensor(x),) * 3, key_padding_mask=cr.tensor(padding))
    t_out, t_weights = theirs(*(torch.tensor(x),) * 3, key_padding_mask=torch.tensor(padding))
    assert np.isnan(out.numpy()[:, 1]).all() and torch.isnan(t_out[:, 1]).all()
    np.testing.assert_allclose(out.numpy()[:, 0], t_out.detach().numpy()[:, 0], rtol=1e-10)


def test_functional_multi_head_attention_forward_matches_torch():
    ours, theirs = twins(embed_dim=8, num_heads=2, add_bias_kv=True)
    x, m = arrays((4, 2, 8), (5, 2, 8), seed=3)
    args = lambda mod, lib, q, k: (q, k, k, 8, 2, mod.in_proj_weight, mod.in_proj_bias, mod.bias_k,  # noqa: E731
                                   mod.bias_v, False, 0.0, mod.out_proj.weight, mod.out_proj.bias)
    (cx, tx), (cm, tm) = both(x), both(m)
    out, weights = F.multi_head_attention_forward(*args(ours, cr, cx, cm), training=False)
    t_out, t_weights = TF.multi_head_attention_forward(*args(theirs, torch, tx, tm), training=False)
    close(out, t_out)
    close(weights, t_weights)
    backward_both(out, t_out)
    close(cx.grad, tx.grad)
    close(ours.in_proj_weight.grad, theirs.in_proj_weight.grad)


def test_mha_gradcheck_first_and_second_order():
    cr.manual_seed(0)
    layer = nn.MultiheadAttention(4, 2, add_bias_kv=True, batch_first=True).double()
    padding = cr.tensor(np.array([[False, False, True], [False, False, False]]))
    q, kv = leaf(2, 2, 4, seed=1), leaf(2, 3, 4, seed=2)
    for need_weights in (True, False):
        def attention(q, kv, need_weights=need_weights):
            out, weights = layer(q, kv, kv, key_padding_mask=padding, need_weights=need_weights)
            return out if weights is None else out.sum() + (weights * weights).sum()
        assert cr.gradcheck(attention, [q, kv])
    direction = cr.tensor(np.random.default_rng(3).standard_normal((2, 2, 4)))

    def first_gradient(q, kv):
        out = layer(q, kv, kv, key_padding_mask=padding, need_weights=False)[0]
        return cr.grad((out * direction).sum(), [q, kv], create_graph=True)

    assert cr.gradcheck(first_gradient, [q, kv])


def test_mha_init_names_and_repr_like_torch():
    cr.manual_seed(0)
    layer = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    theirs = torch.nn.MultiheadAttention(64, 4, add_bias_kv=True)
    assert repr(layer) == repr(theirs)
    assert list(layer.state_dict()) == list(theirs.state_dict())
    bound = np.sqrt(6 / (64 + 192))   # xavier_uniform_ on (3E, E)
    w = layer.in_proj_weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.all(layer.in_proj_bias.numpy() == 0) and np.all(layer.out_proj.bias.numpy() == 0)
    assert isinstance(layer.out_proj, nn.Linear)
    with pytest.raises(ShapeError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ShapeError, match="last dim 64"):
        layer(cr.randn(3, 2, 63), cr.randn(3, 2, 63), cr.randn(3, 2, 63))
