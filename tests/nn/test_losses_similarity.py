"""cosine_similarity, pairwise_distance and the cosine embedding loss against PyTorch in float64
(values and gradients, with broadcasting, every dim, PyTorch 2.x's per-norm eps clamp, zero
vectors), and finite-difference checks of their first and second derivatives."""

import math

import numpy as np
import pytest
from tests.conftest import leaf
from tests.nn.test_losses_regression import compare, second_order

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def values(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


COSINE_CASES = [
    ((4, 5), (4, 5), {}),
    ((4, 5), (4, 5), {"dim": 0}),
    ((4, 5), (4, 5), {"dim": -1}),
    ((2, 3, 4), (2, 3, 4), {}),
    ((2, 3, 4), (2, 3, 4), {"dim": 2, "eps": 1e-3}),
    ((4, 1, 5), (3, 5), {"dim": -1}),
    ((6,), (1, 6), {"dim": 1}),
    ((3, 4), (4,), {"dim": 1}),
    ((5,), (5,), {"dim": 0}),
]


@pytest.mark.parametrize("shape1,shape2,options", COSINE_CASES)
def test_cosine_similarity_matches_torch(shape1, shape2, options):
    compare(lambda a, b: F.cosine_similarity(a, b, **options),
            lambda a, b: TF.cosine_similarity(a, b, **options), [values(*shape1), values(*shape2, seed=1)])
    module = nn.CosineSimilarity(**options)
    compare(lambda a, b: module(a, b), lambda a, b: torch.nn.CosineSimilarity(**options)(a, b),
            [values(*shape1, seed=2), values(*shape2, seed=3)])


@pytest.mark.parametrize("eps", [1e-8, 0.5, 2.0])
def test_cosine_similarity_clamps_each_norm_as_torch_2(eps):
    """Rows with a zero vector, a norm below eps on one side, on both sides, and ordinary rows:
    the value and the gradient (which, as in PyTorch, differentiates the unclamped norm)."""
    x1, x2 = values(5, 3) * 0.2, values(5, 3, seed=4)
    x1[0] = 0.0                       # ||x1|| = 0
    x2[1] = [0.1, -0.2, 0.05]         # ||x2|| small
    x1[2] *= 0.05
    x2[2] *= 0.05                     # both small
    x1[3] *= 20                       # one large
    compare(lambda a, b: F.cosine_similarity(a, b, eps=eps),
            lambda a, b: TF.cosine_similarity(a, b, eps=eps), [x1, x2])


def test_cosine_similarity_of_zero_vectors_is_zero_not_nan():
    zero = cr.zeros(2, 3, dtype=cr.float64, requires_grad=True)
    s = F.cosine_similarity(zero, cr.ones(2, 3, dtype=cr.float64))
    s.sum().backward()
    np.testing.assert_array_equal(s.numpy(), [0.0, 0.0])
    assert np.isfinite(zero.grad.numpy()).all()


def test_cosine_similarity_of_huge_vectors_agrees_with_torch():
    big = np.random.default_rng(9).uniform(0.5, 1.0, (50, 3)) * 1e150
    ours = F.cosine_similarity(cr.tensor(big, dtype=cr.float64), cr.tensor(big * 3, dtype=cr.float64)).numpy()
    np.testing.assert_allclose(ours, TF.cosine_similarity(torch.tensor(big), torch.tensor(big * 3)).numpy(),
                               rtol=1e-15)
    assert np.abs(ours).max() <= 1.0 + 4 * np.finfo(np.float64).eps   # no overflow to inf/inf, no drift


def test_cosine_similarity_dtypes_and_errors():
    s = F.cosine_similarity(cr.tensor([1, 2, 3]), cr.tensor([1.0, 2.0, 4.0], dtype=cr.float64), dim=0)
    assert s.dtype == np.float64
    assert s.item() == pytest.approx(TF.cosine_similarity(torch.tensor([1, 2, 3]),
                                                          torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64),
                                                          dim=0).item(), rel=1e-14)
    assert F.cosine_similarity(cr.randn(3, 4), cr.randn(3, 4)).dtype == np.float32
    with pytest.raises(cr.DTypeError, match="cosine_similarity: needs floating-point inputs"):
        F.cosine_similarity(cr.tensor([1, 2]), cr.tensor([1, 2]), dim=0)
    with pytest.raises(cr.ShapeError, match=r"cosine_similarity: inputs of shape \(3, 4\) and \(3, 5\)"):
        F.cosine_similarity(cr.randn(3, 4), cr.randn(3, 5))
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        F.cosine_similarity(cr.randn(3, 4), cr.randn(3, 4), dim=2)


DISTANCE_CASES = [
    ((4, 5), (4, 5), {}),
    ((4, 5), (4, 5), {"keepdim": True}),
    ((4, 5), (5,), {"p": 1.0}),
    ((2, 3, 4), (3, 4), {"p": 3.0, "eps": 1e-3}),
    ((4, 5), (4, 5), {"p": 0.5}),
    ((4, 5), (4, 5), {"p": 1.5, "keepdim": True}),
    ((4, 5), (4, 5), {"p": math.inf}),
    ((4, 5), (4, 5), {"p": -math.inf}),
    ((4, 5), (4, 5), {"p": 0.0}),
    ((4, 5), (4, 5), {"p": -1.0}),
    ((5,), (5,), {}),
]


@pytest.mark.parametrize("shape1,shape2,options", DISTANCE_CASES)
def test_pairwise_distance_matches_torch(shape1, shape2, options):
    grad_of = [] if options.get("p") == 0 else None   # PyTorch leaves no gradient for p = 0; ours is 0
    compare(lambda a, b: F.pairwise_distance(a, b, **options),
            lambda a, b: TF.pairwise_distance(a, b, **options), [values(*shape1), values(*shape2, seed=1)],
            grad_of=grad_of)
    module = nn.PairwiseDistance(**options)
    compare(lambda a, b: module(a, b), lambda a, b: torch.nn.PairwiseDistance(**options)(a, b),
            [values(*shape1, seed=2), values(*shape2, seed=3)], grad_of=grad_of)
    if grad_of == []:
        x = cr.tensor(values(*shape1), requires_grad=True)
        F.pairwise_distance(x, cr.tensor(values(*shape2)), **options).sum().backward()
        assert not x.grad.numpy().any()


def test_pairwise_distance_of_equal_rows_is_eps_scaled_and_finite():
    x = values(3, 4)
    compare(lambda a, b: F.pairwise_distance(a, b), lambda a, b: TF.pairwise_distance(a, b), [x, x.copy()])
    compare(lambda a, b: F.pairwise_distance(a, b, eps=0.0), lambda a, b: TF.pairwise_distance(a, b, eps=0.0),
            [x, x.copy()])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("margin", [0.0, 0.3, -0.5])
def test_cosine_embedding_loss_matches_torch(margin, reduction):
    target = np.array([1, -1, -1, 1, -1, 1])
    ours_y, theirs_y = cr.tensor(target), torch.tensor(target)
    compare(lambda a, b: F.cosine_embedding_loss(a, b, ours_y, margin=margin, reduction=reduction),
            lambda a, b: TF.cosine_embedding_loss(a, b, theirs_y, margin=margin, reduction=reduction),
            [values(6, 4), values(6, 4, seed=5)])
    compare(lambda a, b: nn.CosineEmbeddingLoss(margin, reduction=reduction)(a, b, ours_y),
            lambda a, b: torch.nn.CosineEmbeddingLoss(margin, reduction=reduction)(a, b, theirs_y),
            [values(6, 4, seed=6), values(6, 4, seed=7)])


def test_cosine_embedding_loss_unbatched_and_errors():
    for label in (1, -1):
        compare(lambda a, b, y=label: F.cosine_embedding_loss(a, b, cr.tensor(y), margin=0.1),
                lambda a, b, y=label: TF.cosine_embedding_loss(a, b, torch.tensor(y), margin=0.1),
                [values(4), values(4, seed=8)])
    with pytest.raises(cr.ShapeError, match="cosine_embedding_loss: expects inputs"):
        F.cosine_embedding_loss(cr.randn(3, 4), cr.randn(3, 4), cr.ones(3, 1))


@pytest.mark.parametrize("shape1,shape2,dim", [((3, 4), (3, 4), 1), ((3, 1, 4), (2, 4), -1),
                                               ((4,), (3, 4), 0)])
def test_cosine_similarity_gradcheck(shape1, shape2, dim):
    x1, x2 = leaf(*shape1, seed=20), leaf(*shape2, seed=21)
    fn = lambda a, b: F.cosine_similarity(a, b, dim=dim)  # noqa: E731
    assert cr.gradcheck(fn, [x1, x2])
    assert second_order(fn, x1, x2)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.7, math.inf])
def test_pairwise_distance_gradcheck(p):
    x1, x2 = leaf(3, 4, seed=22), leaf(4, seed=23)
    fn = lambda a, b: F.pairwise_distance(a, b, p=p, keepdim=True)  # noqa: E731
    assert cr.gradcheck(fn, [x1, x2])
    if p not in (1.0, math.inf):  # piecewise linear: no second derivative to check
        assert second_order(fn, x1, x2)


def test_cosine_embedding_loss_gradcheck():
    target = cr.tensor([1, -1, -1, 1])
    x1, x2 = leaf(4, 3, seed=24), leaf(4, 3, seed=25)
    fn = lambda a, b: F.cosine_embedding_loss(a, b, target, margin=-0.2, reduction="sum")  # noqa: E731
    assert cr.gradcheck(fn, [x1, x2])
