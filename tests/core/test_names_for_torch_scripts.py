"""Names the PyTorch scripts needed (issue 14): index_add / Tensor.index_add_ (makemore part 4's
embedding gradient), Tensor.view_as (the MNIST example's accuracy count), F.normalize, and
torch.pi / e / inf / nan. Gradchecked in float64 and compared with torch 2.13."""

import math

import pytest
from tests.core.ops_surface_harness import case, gradcheck_case, second_order_case, torch_case, uniform

import chainrule as cr


def long(M, values):
    return M.tensor(values, dtype=M.int64)


CASES = [
    case("index_add_rows_repeated", lambda M, x, s: M.index_add(x, 0, long(M, [2, 0, 2]), s),
         uniform(4, 3, seed=1), uniform(3, 3, seed=2), second_order=True),
    case("index_add_last_dim_alpha", lambda M, x, s: x.index_add(-1, long(M, [1, 1]), s, alpha=-2.5),
         uniform(2, 3, 4, seed=3), uniform(2, 3, 2, seed=4)),
    case("index_add_empty_index", lambda M, x, s: M.index_add(x, 1, long(M, []), s),
         uniform(2, 3, seed=5), uniform(2, 0, seed=6)),
    case("view_as", lambda M, x, y: x.view_as(y) * y, uniform(2, 6, seed=7), uniform(3, 4, seed=8)),
    case("normalize_rows", lambda M, x: M.nn.functional.normalize(x), uniform(3, 4, seed=9),
         second_order=True),
    case("normalize_l1_last_dim", lambda M, x: M.nn.functional.normalize(x, p=1.0, dim=-1),
         uniform(2, 3, 4, seed=10)),
    case("normalize_a_zero_vector", lambda M, x: M.nn.functional.normalize(x, dim=0),
         [[0.0, 1.0], [0.0, -2.0]], finite_differences=False),
]


@pytest.mark.parametrize("name,function,arrays,flags", [c for c in CASES if c[3]["finite_differences"]],
                         ids=[c[0] for c in CASES if c[3]["finite_differences"]])
def test_gradcheck(name, function, arrays, flags):
    gradcheck_case(function, arrays)
    if flags["second_order"]:
        second_order_case(function, arrays)


@pytest.mark.parametrize("name,function,arrays,flags", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, function, arrays, flags):
    torch = pytest.importorskip("torch")
    torch_case(torch, function, arrays)


def test_index_add_in_place_outside_the_graph_as_makemore_uses_it():
    d_embedding = cr.ones(5, 2)
    with cr.no_grad():
        gradient = cr.zeros(4, 2)
        same = gradient.index_add_(0, cr.tensor([3, 0, 3, 3, 1]), d_embedding)
    assert same is gradient and gradient.tolist() == [[1, 1], [1, 1], [0, 0], [3, 3]]


def test_index_add_in_place_refuses_a_graph_it_cannot_record():
    source = cr.ones(2, 2, requires_grad=True)
    with pytest.raises(cr.GraphError, match=r"index_add_: in-place .* \(x = x.index_add"):
        cr.zeros(3, 2).index_add_(0, cr.tensor([0, 1]), source)


@pytest.mark.parametrize("call, error, words", [
    (lambda: cr.index_add(cr.zeros(3, 2), 0, cr.tensor([0, 3]), cr.ones(2, 2)), IndexError, "index 3"),
    (lambda: cr.index_add(cr.zeros(3, 2), 0, cr.tensor([0, 1]), cr.ones(3, 2)), cr.ShapeError,
     r"source of shape \(3, 2\) does not fit x of shape \(3, 2\) with 2 indices along dim 0"),
    (lambda: cr.index_add(cr.zeros(3, 2), 0, cr.tensor([[0]]), cr.ones(1, 2)), cr.ShapeError, "must be 1-D"),
    (lambda: cr.index_add(cr.zeros(3, 2), 0, cr.tensor([0.0]), cr.ones(1, 2)), cr.DTypeError, "integer"),
    (lambda: cr.zeros(6).view_as(cr.zeros(4)), cr.ShapeError, r"\(6,\) float32.*\(4,\)"),
])
def test_bad_arguments_name_the_op(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_the_math_constants_are_torchs():
    assert (cr.pi, cr.e, cr.inf) == (math.pi, math.e, math.inf) and math.isnan(cr.nan)
