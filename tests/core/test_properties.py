"""Property-based tests: hypothesis draws shapes, including broadcast pairs."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def _leaf(shape, seed):
    rng = np.random.default_rng(seed)
    return cr.tensor(rng.uniform(-1, 1, shape), dtype=cr.float64, requires_grad=True)


@settings(max_examples=40, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4),
       op=st.sampled_from(["add", "sub", "mul", "div", "maximum"]), seed=st.integers(0, 2**16))
def test_broadcast_binary_gradients(shapes, op, seed):
    a_shape, b_shape = shapes.input_shapes
    a, b = _leaf(a_shape, seed), _leaf(b_shape, seed + 1)
    functions = {"add": lambda p, q: p + q, "sub": lambda p, q: p - q, "mul": lambda p, q: p * q,
                 "div": lambda p, q: p / (q * q + 1), "maximum": cr.maximum}
    assert cr.gradcheck(functions[op], [a, b])
    out = functions[op](a, b)
    out.sum().backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape


@settings(max_examples=30, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16), keep=st.booleans(), data=st.data())
def test_reductions_over_any_dims(shape, seed, keep, data):
    x = _leaf(shape, seed)
    dims = data.draw(st.lists(st.integers(0, max(len(shape) - 1, 0)), unique=True, max_size=len(shape)))
    dim = tuple(dims) if dims else None
    for function in (lambda t: t.sum(dim=dim, keepdim=keep), lambda t: t.mean(dim=dim, keepdim=keep),
                     lambda t: cr.logsumexp(t, dim=dim, keepdim=keep)):
        assert cr.gradcheck(function, [x])
        expected = np.sum(x.numpy(), axis=dim, keepdims=keep).shape
        assert function(x).shape == expected


@settings(max_examples=30, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 2**16),
       data=st.data())
def test_indexing_with_repeats_matches_numpy_scatter(shape, seed, data):
    x = _leaf(shape, seed)
    index = data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=6))
    y = x[index]
    weights = np.random.default_rng(seed).standard_normal(y.shape)
    (y * cr.tensor(weights)).sum().backward()
    expected = np.zeros(shape)
    np.add.at(expected, np.array(index), weights)
    np.testing.assert_allclose(x.grad.numpy(), expected)


@settings(max_examples=25, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 2**16),
       data=st.data())
def test_permute_reshape_round_trip(shape, seed, data):
    x = _leaf(shape, seed)
    order = data.draw(st.permutations(range(len(shape))))
    assert cr.gradcheck(lambda t: t.permute(*order).reshape(-1) * 2, [x])
