"""The ops without a gradient (indices, counts, sets) against torch 2.13, the small Tensor
conveniences (t, nelement, new_*), and the errors: each names the op and the shapes."""

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def same(ours, theirs, exact=True):
    """Equal values, shapes and dtypes; structures (tuples, named tuples) compared item by item."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            same(a, b, exact)
        return
    mine = ours.numpy() if isinstance(ours, cr.Tensor) else np.asarray(ours)
    reference = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert mine.shape == reference.shape, (mine.shape, reference.shape)
    assert mine.dtype == reference.dtype, (mine.dtype, reference.dtype)
    if exact:
        np.testing.assert_array_equal(mine, reference)
    else:
        np.testing.assert_allclose(mine, reference, rtol=1e-6)


def both(function, *arrays, exact=True):
    """function(M, *tensors) for chainrule and torch, compared."""
    same(function(cr, *[cr.tensor(a) for a in arrays]), function(torch, *[torch.tensor(a) for a in arrays]),
         exact)


TIES = np.array([[3.0, 1.0, 3.0, 2.0, 1.0, np.nan], [0.5, 0.5, -1.0, 2.0, 2.0, 0.5]])
INTS = np.array([[3, 1, 2, 1, 3, 3], [0, 0, 5, 5, 0, 7]])


@pytest.mark.parametrize("data", [TIES, INTS], ids=["float_ties_nan", "int_ties"])
def test_sort_argsort_stable_with_ties_and_nan(data):
    for dim in (0, 1, -1):
        for down in (False, True):
            both(lambda M, x, d=dim, down=down: M.sort(x, dim=d, descending=down, stable=True), data)
            both(lambda M, x, d=dim, down=down: M.argsort(x, dim=d, descending=down, stable=True), data)


def test_order_statistics_indices():
    distinct = np.random.default_rng(0).permutation(24).reshape(4, 6).astype(np.float64)
    both(lambda M, x: M.topk(x, 3, dim=1), distinct)
    both(lambda M, x: x.topk(2, 0, largest=False), distinct)
    both(lambda M, x: M.kthvalue(x, 2, 0, keepdim=True), distinct)
    both(lambda M, x: M.median(x, 1), distinct)
    both(lambda M, x: M.median(x), distinct)
    both(lambda M, x: M.median(x, 0), np.array([1.0, np.nan, 2.0, np.nan]))
    with_nan = np.array([[1.0, np.nan, 2.0, 5.0, np.nan], [4.0, 3.0, 1.0, 2.0, 0.0]])
    both(lambda M, x: M.nanmedian(x, 1), with_nan)
    assert np.isnan(cr.nanmedian(cr.tensor([np.nan] * 4), 0).values.item())  # torch's index here varies
    both(lambda M, x: M.nanmedian(x), np.array([1.0, np.nan, 2.0, 5.0]))
    both(lambda M, x: M.median(x, 0), np.array(3.0))
    both(lambda M, x: M.topk(x, 0), distinct)


def test_mode_and_its_gradient_go_to_the_last_occurrence():
    data = np.array([[3.0, 1.0, 2.0, 2.0, 1.0, 3.0], [5.0, 5.0, 1.0, 7.0, 7.0, 7.0]])
    both(lambda M, x: M.mode(x, 1), data)
    both(lambda M, x: x.mode(0, keepdim=True), data)
    both(lambda M, x: M.mode(x), INTS)
    grads = []
    for M in (cr, torch):
        x = M.tensor(data, dtype=M.float64, requires_grad=True)
        (M.mode(x, 1).values * M.tensor([2.0, 3.0], dtype=M.float64)).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_median_of_all_shares_the_gradient_among_ties_as_torch():
    for data in ([[2.0, 1.0, 2.0], [3.0, 2.0, 0.0]], [1.0, np.nan, 3.0, np.nan], [4.0, 4.0]):
        grads = []
        for M in (cr, torch):
            for name in ("median", "nanmedian"):
                x = M.tensor(data, dtype=M.float64, requires_grad=True)
                (getattr(M, name)(x) * 3.0).backward()
                grads.append(x.grad.numpy())
        np.testing.assert_array_equal(grads[0], grads[2])
        np.testing.assert_array_equal(grads[1], grads[3])


def test_cummax_cummin_indices_with_ties_and_nan():
    data = np.array([[1.0, 3.0, 3.0, 2.0, 5.0, 5.0], [2.0, np.nan, 1.0, 4.0, np.nan, 0.0]])
    for name in ("cummax", "cummin"):
        both(lambda M, x, name=name: getattr(M, name)(x, 1), data)
        both(lambda M, x, name=name: getattr(M, name)(x, 0), data)
        both(lambda M, x, name=name: getattr(M, name)(x, -1), INTS)


@pytest.mark.parametrize("kwargs", [{}, {"return_inverse": True}, {"return_counts": True},
                                    {"return_inverse": True, "return_counts": True, "dim": 0},
                                    {"return_inverse": True, "dim": 1}])
def test_unique(kwargs):
    data = np.array([[3, 1, 3], [3, 1, 3], [0, 2, 0]])
    both(lambda M, x: M.unique(x, **kwargs), data)
    both(lambda M, x: x.unique(sorted=True, **kwargs), data.astype(np.float64))


@pytest.mark.parametrize("kwargs", [{}, {"return_inverse": True, "return_counts": True},
                                    {"return_counts": True, "dim": 0}, {"return_inverse": True, "dim": 1}])
def test_unique_consecutive(kwargs):
    both(lambda M, x: M.unique_consecutive(x, **kwargs), np.array([[1, 1, 2], [1, 1, 2], [3, 1, 1]]))


def test_nonzero_and_argwhere():
    data = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    both(lambda M, x: M.nonzero(x), data)
    both(lambda M, x: x.nonzero(as_tuple=True), data)
    both(lambda M, x: M.argwhere(x), data)
    both(lambda M, x: M.nonzero(x), np.array(5.0))
    both(lambda M, x: M.nonzero(x, as_tuple=True), np.array(5.0))
    both(lambda M, x: M.nonzero(x), np.zeros((0, 2)))


def test_repeat_interleave_counts_and_meshgrid_default():
    both(lambda M, c: M.repeat_interleave(c), np.array([2, 0, 3]))
    both(lambda M, a, b: M.meshgrid(a, b, indexing="ij"), np.arange(3), np.arange(2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_histc(dtype):
    data = np.concatenate([np.random.default_rng(1).standard_normal(200), [0.0, 1.0, -1.0, 3.0, np.nan]])
    data = data.astype(dtype)
    both(lambda M, x: M.histc(x, bins=10, min=-1, max=1), data)
    both(lambda M, x: x.histc(7), data[np.isfinite(data)])
    both(lambda M, x: M.histc(x, bins=4, min=2, max=2), np.array([0.5, 1.5, 2.5, 10.0], dtype))
    both(lambda M, x: M.histc(x, bins=4), np.array([1.0, 1.0, 1.0], dtype))
    both(lambda M, x: M.histc(x, bins=3, min=0, max=3), np.arange(4, dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_histogram(dtype):
    data = np.concatenate([np.random.default_rng(2).standard_normal(300), [-1.0, 1.0, 2.0]]).astype(dtype)
    weights = np.random.default_rng(3).uniform(0, 2, data.size).astype(dtype)
    both(lambda M, x: M.histogram(x, bins=8), data)
    both(lambda M, x: M.histogram(x, 5, range=(-1.0, 1.0)), data)
    both(lambda M, x, w: M.histogram(x, 6, weight=w, density=True), data, weights, exact=False)
    both(lambda M, x, e: M.histogram(x, bins=e), data, np.array([-2.0, -0.5, 0.0, 0.3, 1.0], dtype))
    both(lambda M, x: x.histogram(4), np.array([1.0, 1.0, 1.0], dtype))
    both(lambda M, x: M.histogram(x, 7), np.linspace(-0.3, 2.7, 50).astype(dtype))  # values on the edges


def test_bincount_bucketize_searchsorted():
    values = np.array([0, 1, 1, 4, 2, 1])
    both(lambda M, x: M.bincount(x), values)
    both(lambda M, x: x.bincount(minlength=8), values)
    both(lambda M, x, w: M.bincount(x, w), values, np.linspace(0, 1, 6))
    both(lambda M, x, w: M.bincount(x, weights=w), values, np.linspace(0, 1, 6).astype(np.float32))
    both(lambda M, x: M.bincount(x), np.zeros(0, dtype=np.int64))
    edges = np.array([1, 3, 5, 7])
    both(lambda M, x, e: M.bucketize(x, e), np.array([[0, 1, 3], [5, 6, 9]]), edges)
    both(lambda M, x, e: M.bucketize(x, e, right=True, out_int32=True), np.array([1, 3, 5, 7]), edges)
    both(lambda M, s, v: M.searchsorted(s, v), edges, np.array([3, 4, 8]))
    both(lambda M, s, v: M.searchsorted(s, v, side="right"), edges, np.array([3, 4, 8]))
    both(lambda M, s, v: M.searchsorted(s, v, right=True),
         np.array([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]), np.array([[3.0, 0.0], [3.0, 7.0]]))
    unsorted, order = np.array([5, 1, 3]), np.array([1, 2, 0])
    both(lambda M, s, v, o: M.searchsorted(s, v, sorter=o), unsorted, np.array([2, 3]), order)
    assert cr.bucketize(3, cr.tensor([1, 3, 5])).item() == torch.bucketize(3, torch.tensor([1, 3, 5])).item()


def test_tensor_conveniences():
    x = cr.tensor([[1.0, 2.0, 3.0]], dtype=cr.float64)
    assert x.t().shape == (3, 1) and x[0].t().shape == (3,) and cr.tensor(2.0).t().shape == ()
    assert x.nelement() == 3 and x.ndimension() == 2 and x.element_size() == 8
    assert x.is_floating_point() and not cr.tensor([1]).is_floating_point() and x.is_contiguous()
    for made, shape in ((x.new_zeros(2, 3), (2, 3)), (x.new_ones((4,)), (4,)), (x.new_empty([1, 2]), (1, 2)),
                        (x.new_full((2,), 7.0), (2,)), (x.new_tensor([1, 2]), (2,))):
        assert made.shape == shape and made.dtype == cr.float64 and not made.requires_grad
    assert x.new_zeros(2, dtype=cr.int64).dtype == cr.int64
    assert x.new_ones(2, requires_grad=True).requires_grad
    np.testing.assert_array_equal(x.new_full((2,), 7.0).numpy(), [7.0, 7.0])
    source = cr.tensor([1.0, 2.0])
    copied = x.new_tensor(source)
    copied.numpy()[0] = 9.0
    assert source[0].item() == 1.0
    y = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y.t().sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), np.ones((2, 3)))


def test_the_registry_exports_functions_and_methods():
    functions = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "prod", "sort", "argsort", "topk",
                 "kthvalue", "median", "mode", "unique", "tril", "triu", "diag", "diagonal", "diag_embed",
                 "trace", "outer", "einsum", "bmm", "mm", "mv", "dot", "addmm", "baddbmm", "kron", "norm",
                 "roll", "flip", "fliplr", "flipud", "narrow", "tile", "repeat_interleave", "index_select",
                 "masked_select", "take_along_dim", "nonzero", "movedim", "moveaxis", "unbind", "meshgrid",
                 "select", "log10", "log2", "exp2", "expm1", "rsqrt", "reciprocal", "square", "tan", "asin",
                 "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh", "trunc", "frac", "lerp",
                 "hypot", "logaddexp", "xlogy", "sgn", "clamp_min", "clamp_max", "isclose", "isinf",
                 "isneginf", "isposinf", "nan_to_num", "histc", "histogram", "bincount", "bucketize",
                 "searchsorted"]
    missing = [name for name in functions if not callable(getattr(cr, name, None))]
    assert not missing
    for name in ("vector_norm", "matrix_norm", "norm", "vecdot"):
        assert callable(getattr(cr.linalg, name))
    not_methods = {"einsum", "meshgrid", "bucketize", "searchsorted", "isneginf", "isposinf"} - {"isneginf"}
    absent = [name for name in functions if name not in not_methods and not hasattr(cr.Tensor, name)]
    assert absent == []
    for name in ("repeat", "t", "nelement", "new_zeros", "new_ones", "new_full", "new_empty", "new_tensor"):
        assert hasattr(cr.Tensor, name)


ERRORS = [
    (lambda: cr.mm(cr.ones(2, 3), cr.ones(4, 2)), cr.ShapeError, r"mm: shapes \(2, 3\) and \(4, 2\)"),
    (lambda: cr.mm(cr.ones(2, 3, 4), cr.ones(4, 2)), cr.ShapeError, r"mm: needs 2-D and 2-D"),
    (lambda: cr.bmm(cr.ones(2, 3, 4), cr.ones(3, 4, 2)), cr.ShapeError,
     r"bmm: shapes \(2, 3, 4\) and \(3, 4"),
    (lambda: cr.mv(cr.ones(2, 3), cr.ones(2)), cr.ShapeError, r"mv: shapes \(2, 3\) and \(2,\)"),
    (lambda: cr.dot(cr.ones(3), cr.ones(4)), cr.ShapeError, r"dot: .*\(3,\) and \(4,\)"),
    (lambda: cr.addmm(cr.ones(4), cr.ones(2, 3), cr.ones(3, 2)), cr.ShapeError,
     r"addmm: input of shape \(4,\) does not broadcast to the product's shape \(2, 2\)"),
    (lambda: cr.einsum("ij,jk->ik", cr.ones(2, 3), cr.ones(4, 2)), cr.ShapeError,
     r"einsum: subscript 'j' has size 3 in operand 0 but 4 in operand 1"),
    (lambda: cr.einsum("ij,jk", cr.ones(2, 3)), cr.ShapeError, r"einsum: 'ij,jk' names 2 operands but 1"),
    (lambda: cr.einsum("ij->ik", cr.ones(2, 3)), cr.ShapeError, r"einsum: output subscripts 'ik'"),
    (lambda: cr.einsum("ijk", cr.ones(2, 3)), cr.ShapeError,
     r"einsum: subscripts 'ijk' do not fit .*\(2, 3\)"),
    (lambda: cr.einsum("i1", cr.ones(2, 3)), ValueError, r"einsum: .* must be letters"),
    (lambda: cr.tril(cr.ones(3)), cr.ShapeError, r"tril: needs a tensor with at least 2 dims.*\(3,\)"),
    (lambda: cr.diag(cr.ones(2, 2, 2)), cr.ShapeError,
     r"diag: needs a 1-D or 2-D tensor, got shape \(2, 2, 2\)"),
    (lambda: cr.trace(cr.ones(3)), cr.ShapeError, r"trace: needs a matrix"),
    (lambda: cr.diagonal(cr.ones(2, 3), 0, 1, -1), cr.ShapeError, r"diagonal: dim1 and dim2 must differ"),
    (lambda: cr.outer(cr.ones(2, 2), cr.ones(2)), cr.ShapeError, r"outer: needs two 1-D tensors"),
    (lambda: cr.flip(cr.ones(2, 3), (0, 2)), cr.ShapeError, r"flip: dim 2 is out of range .*\(2, 3\)"),
    (lambda: cr.flip(cr.ones(2, 3), (0, -2)), cr.ShapeError, r"flip: dims \(0, -2\) repeat a dim"),
    (lambda: cr.roll(cr.ones(2, 3), (1, 2), 0), cr.ShapeError, r"roll: shifts \(1, 2\) and dims 0"),
    (lambda: cr.ones(2, 3).repeat(2), cr.ShapeError, r"repeat: 1 repeat counts \(2,\) cannot be fewer"),
    (lambda: cr.narrow(cr.ones(2, 3), 1, 2, 2), cr.ShapeError,
     r"narrow: start \(2\) \+ length \(2\) exceeds"),
    (lambda: cr.select(cr.ones(2, 3), 1, 3), IndexError,
     r"select: index 3 is out of range for dim 1 of size 3"),
    (lambda: cr.index_select(cr.ones(2, 3), 1, cr.tensor([0, 5])), IndexError, r"index_select: index 5"),
    (lambda: cr.index_select(cr.ones(2, 3), 0, cr.tensor([0.0])), cr.DTypeError,
     r"index_select: index must be an integer tensor, got float32"),
    (lambda: cr.take_along_dim(cr.ones(2, 3), cr.tensor([0, 1]), 1), cr.ShapeError,
     r"take_along_dim: indices of shape \(2,\) need as many dims as input \(2, 3\)"),
    (lambda: cr.masked_select(cr.ones(2, 3), cr.tensor([1, 0])), TypeError,
     r"masked_select: mask must be a bool"),
    (lambda: cr.masked_select(cr.ones(2, 3), cr.tensor([True, False])), cr.ShapeError,
     r"masked_select: input \(2, 3\) and mask \(2,\) do not broadcast"),
    (lambda: cr.repeat_interleave(cr.ones(3), cr.tensor([1, 2])), cr.ShapeError,
     r"repeat_interleave: 2 repeat counts for dim 0 of size 3"),
    (lambda: cr.meshgrid(cr.ones(2, 2), cr.ones(2)), cr.ShapeError, r"meshgrid: tensor 0 must be 0-d or 1-D"),
    (lambda: cr.movedim(cr.ones(2, 3), 0, 5), cr.ShapeError, r"movedim: dim 5 is out of range"),
    (lambda: cr.topk(cr.ones(2, 3), 4), cr.ShapeError, r"topk: k \(4\) is out of range for dim 1 of size 3"),
    (lambda: cr.kthvalue(cr.ones(3), 0), cr.ShapeError, r"kthvalue: k \(0\) must be in \[1, 3\]"),
    (lambda: cr.sort(cr.ones(2, 3), 2), cr.ShapeError, r"sort: dim 2 is out of range .*\(2, 3\)"),
    (lambda: cr.median(cr.ones(0)), cr.ShapeError, r"median: the median of an empty tensor"),
    (lambda: cr.histc(cr.tensor([1, 2]), 3), cr.DTypeError,
     r"histc: needs a floating-point tensor, got int64"),
    (lambda: cr.histc(cr.ones(3), 3, min=2, max=1), ValueError,
     r"histc: max \(1.0\) must be larger than min"),
    (lambda: cr.histogram(cr.ones(3), cr.tensor([1.0, 0.0])), cr.ShapeError, r"histogram: bin edges must be"),
    (lambda: cr.bincount(cr.tensor([1, -1])), ValueError, r"bincount: input must be non-negative"),
    (lambda: cr.bincount(cr.tensor([[1]])), cr.ShapeError, r"bincount: input must be 1-D"),
    (lambda: cr.searchsorted(cr.ones(2, 3), cr.ones(3, 1)), cr.ShapeError, r"searchsorted: values of shape"),
    (lambda: cr.linalg.vector_norm(cr.tensor([1, 2])), cr.DTypeError, r"vector_norm: needs a floating-point"),
    (lambda: cr.linalg.matrix_norm(cr.ones(3)), cr.ShapeError,
     r"matrix_norm: needs a tensor with at least 2"),
    (lambda: cr.linalg.norm(cr.ones(2, 2, 2), 1), cr.ShapeError, r"linalg.norm: with ord=1 and no dim"),
    (lambda: cr.linalg.vector_norm(cr.ones(0), float("inf")), cr.ShapeError,
     r"vector_norm: ord=inf of an empty"),
    (lambda: cr.ones(2, 3, 4).t(), cr.ShapeError,
     r"t: expects a tensor with at most 2 dims, got shape \(2, 3, 4\)"),
    (lambda: cr.cumsum(cr.ones(2), "x"), TypeError, r"cumsum: dim must be an integer"),
]


@pytest.mark.parametrize("make,error,message", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_bad_input_names_the_op(make, error, message):
    with pytest.raises(error, match=message):
        make()
