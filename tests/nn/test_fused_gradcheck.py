"""Finite-difference checks (float64) of every fused primitive the nn library adds to the op table
(linear, embedding, cross_entropy, nll, the binary cross-entropies, mse, batch/layer norm), with
broadcast and batched shapes, and of their gradients' gradients (create_graph=True)."""

import numpy as np
import pytest
from tests.conftest import leaf

import chainrule as cr
from chainrule.nn import functional as F


def const(array, dtype=cr.float64):
    return cr.tensor(array, dtype=dtype)


def second_order(fn, *inputs):
    """A function whose value is the first gradient, so gradcheck checks the second derivatives."""
    def gradient(*xs):
        out = fn(*xs)
        weights = const(np.random.default_rng(7).standard_normal(out.shape))
        return cr.grad((out * weights).sum(), [x for x in xs if x.requires_grad], create_graph=True)
    return cr.gradcheck(gradient, inputs)


@pytest.mark.parametrize("x_shape", [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(x_shape, bias):
    inputs = [leaf(*x_shape, seed=1), leaf(4, 3, seed=2)] + ([leaf(4, seed=3)] if bias else [])
    assert cr.gradcheck(F.linear, inputs)
    assert second_order(lambda x, w, *b: F.linear(x, w, *b) ** 2, *inputs)


def test_embedding_repeated_rows_and_padding():
    weight = leaf(5, 3, seed=4)
    index = cr.tensor([[0, 1, 1], [4, 0, 0]])
    assert cr.gradcheck(lambda w: F.embedding(index, w), [weight])
    out = F.embedding(index, weight, padding_idx=0)
    out.sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy()[:, 0], [0, 2, 0, 0, 1])


CE_OPTIONS = [
    {}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.2},
    {"weight": [0.3, 1.0, 2.0, 0.5], "label_smoothing": 0.1, "ignore": True},
    {"ignore": True}, {"reduction": "none", "ignore": True},
]


@pytest.mark.parametrize("shape", [(4, 4), (2, 4, 3)])
@pytest.mark.parametrize("options", CE_OPTIONS)
def test_cross_entropy(shape, options):
    options = dict(options)
    target = np.random.default_rng(0).integers(0, 4, shape[:1] + shape[2:])
    if options.pop("ignore", False):
        target.flat[1] = -100
    if "weight" in options:
        options["weight"] = const(options["weight"])
    x = leaf(*shape, seed=5, low=-3, high=3)
    fn = lambda x: F.cross_entropy(x, cr.tensor(target), **options)  # noqa: E731
    assert cr.gradcheck(fn, [x])
    assert second_order(fn, x)


def test_cross_entropy_with_probabilities():
    q = np.random.default_rng(1).dirichlet(np.ones(3), size=4)
    fn = lambda x: F.cross_entropy(x, const(q), label_smoothing=0.1)  # noqa: E731
    x = leaf(4, 3, seed=6)
    assert cr.gradcheck(fn, [x]) and second_order(fn, x)


def test_nll_loss():
    target = cr.tensor([0, 2, 1, 2])
    assert cr.gradcheck(lambda x: F.nll_loss(x, target, weight=const([1.0, 2.0, 0.5])), [leaf(4, 3, seed=7)])


@pytest.mark.parametrize("options", [
    {}, {"reduction": "none"}, {"weight": np.array([0.5, 2.0, 1.0])},
    {"pos_weight": np.array([3.0, 0.5, 1.0]), "reduction": "sum"},
    {"weight": np.array([[2.0], [0.5]]), "pos_weight": np.array([2.0, 1.0, 0.3])},
])
def test_bce_with_logits_both_inputs(options):
    options = {k: const(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    x, y = leaf(2, 3, seed=8, low=-4, high=4), leaf(2, 3, seed=9, low=0, high=1)
    fn = lambda a, b: F.binary_cross_entropy_with_logits(a, b, **options)  # noqa: E731
    assert cr.gradcheck(fn, [x, y])
    assert second_order(fn, x, y)


def test_bce_on_probabilities_both_inputs():
    p, y = leaf(3, 2, seed=10, low=0.05, high=0.95), leaf(3, 2, seed=11, low=0, high=1)
    fn = lambda a, b: F.binary_cross_entropy(a, b, weight=const([2.0, 0.5]))  # noqa: E731
    assert cr.gradcheck(fn, [p, y]) and second_order(fn, p, y)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_with_broadcast_target(reduction):
    x, y = leaf(3, 4, seed=12), leaf(4, seed=13)
    fn = lambda a, b: F.mse_loss(a, b, reduction=reduction)  # noqa: E731
    assert cr.gradcheck(fn, [x, y]) and second_order(fn, x, y)


@pytest.mark.parametrize("shape", [(5, 3), (3, 3, 4), (2, 3, 2, 3)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm(shape, training):
    x, w, b = leaf(*shape, seed=14, low=-2, high=2), leaf(3, seed=15), leaf(3, seed=16)
    running_mean, running_var = const(np.full(3, 0.2)), const(np.full(3, 1.5))

    def fn(x, w, b):  # fresh running statistics each call, so every evaluation sees the same ones
        return F.batch_norm(x, running_mean * 1, running_var * 1, w, b, training=training)

    assert cr.gradcheck(fn, [x, w, b])
    assert second_order(lambda x, w, b: fn(x, w, b) ** 2, x, w, b)


def test_batch_norm_without_affine():
    x = leaf(4, 2, seed=17)
    assert cr.gradcheck(lambda x: F.batch_norm(x, None, None, training=True) ** 3, [x])


@pytest.mark.parametrize("shape,normalized", [((4, 3), (3,)), ((2, 3, 4), (3, 4)), ((5,), (5,))])
def test_layer_norm(shape, normalized):
    x, w, b = leaf(*shape, seed=18, low=-2, high=2), leaf(*normalized, seed=19), leaf(*normalized, seed=20)
    fn = lambda x, w, b: F.layer_norm(x, normalized, w, b)  # noqa: E731
    assert cr.gradcheck(fn, [x, w, b])
    assert second_order(lambda x, w, b: fn(x, w, b) ** 2, x, w, b)


def test_dropout_gradient_is_the_mask():
    x = leaf(4, 5, seed=21)
    cr.manual_seed(0)
    y = F.dropout(x, 0.5)
    y.backward(cr.ones(4, 5, dtype=cr.float64))
    np.testing.assert_array_equal(x.grad.numpy(), (y.numpy() != 0) * 2.0)
