"""Matrices, einsum, norms, rearranging and sorting: float64 gradchecks (second order where marked)
and forward values + gradients against torch 2.13, with broadcasting, negative dims, keepdim,
offsets, empty and one-element dims."""

import numpy as np
import pytest
from tests.core.ops_surface_harness import case, gradcheck_case, second_order_case, torch_case, uniform

import chainrule as cr

M34, M45, V4, V3 = uniform(3, 4, seed=1), uniform(4, 5, seed=2), uniform(4, seed=3), uniform(3, seed=4)
B234, B245 = uniform(2, 3, 4, seed=5), uniform(2, 4, 5, seed=6)
SQ = uniform(4, 4, seed=7)
T3 = uniform(2, 3, 4, seed=8)
ZERO_ROW = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])


def long(M, values):
    return M.tensor(values, dtype=M.int64)


CASES = [
    # triangles and diagonals
    case("tril", lambda M, x: M.tril(x), M34, second_order=True),
    case("tril_offsets", lambda M, x: M.tril(x, 1) + x.tril(-1), M34),
    case("triu_batched", lambda M, x: M.triu(x, -1) * x.triu(diagonal=2), T3, second_order=True),
    case("diagonal", lambda M, x: M.diagonal(x), SQ),
    case("diagonal_offset_dims", lambda M, x: M.diagonal(x, -1, 0, 2) + x.diagonal(1, -1, 0)[:, :2], T3),
    case("diagonal_offset_past_end", lambda M, x: M.diagonal(x, 5), M34),
    case("diag_embed", lambda M, x: M.diag_embed(x), M34),
    case("diag_embed_offset_dims", lambda M, x: M.diag_embed(x, 1, 0, 2), M34),
    case("diag_embed_neg_offset", lambda M, x: x.diag_embed(-2, dim1=-1, dim2=0), M34),
    case("diag_vector", lambda M, x: M.diag(x) + M.diag(x, 1)[1:, :-1], V4),
    case("diag_matrix", lambda M, x: M.diag(x, -1) * 2, M34),
    case("trace", lambda M, x: M.trace(x) + x.trace() * 2, M34, second_order=True),
    case("outer", lambda M, a, b: M.outer(a, b) + a.ger(b), V4, V3, second_order=True),
    case("kron_2d", lambda M, a, b: M.kron(a, b), M34, uniform(2, 3, seed=9)),
    case("kron_ranks", lambda M, a, b: M.kron(a, b), V3, uniform(2, 2, seed=10)),
    # strict matrix products
    case("mm", lambda M, a, b: M.mm(a, b) + a.mm(b), M34, M45, second_order=True),
    case("bmm", lambda M, a, b: M.bmm(a, b), B234, B245),
    case("mv", lambda M, a, v: M.mv(a, v) + a.mv(v), M34, V4),
    case("dot", lambda M, a, b: M.dot(a, b) + a.vdot(b), V4, V4 * 2),
    case("addmm", lambda M, x, a, b: M.addmm(x, a, b), uniform(5, seed=11), M34, M45),
    case("addmm_scaled", lambda M, x, a, b: M.addmm(x, a, b, beta=0.5, alpha=-2.0), uniform(3, 5, seed=12),
         M34, M45),
    case("addmm_beta0", lambda M, x, a, b: x.addmm(a, b, beta=0), uniform(3, 5, seed=13), M34, M45),
    case("addmv", lambda M, x, a, v: M.addmv(x, a, v, alpha=3.0), V3, M34, V4),
    case("baddbmm", lambda M, x, a, b: M.baddbmm(x, a, b, beta=2.0, alpha=0.5), uniform(3, 5, seed=14),
         B234, B245),
    case("addbmm", lambda M, x, a, b: M.addbmm(x, a, b), uniform(3, 5, seed=15), B234, B245),
    # einsum
    case("einsum_matmul", lambda M, a, b: M.einsum("ij,jk->ik", a, b), M34, M45, second_order=True),
    case("einsum_batched", lambda M, a, b: M.einsum("bij,bjk->bik", a, b), B234, B245),
    case("einsum_attention", lambda M, q, k: M.einsum("bhqd,bhkd->bhqk", q, k),
         uniform(2, 2, 3, 4, seed=16), uniform(2, 2, 5, 4, seed=17)),
    case("einsum_implicit", lambda M, a, b: M.einsum("ij,jk", a, b) + M.einsum("ba,ab", a.T, a), M34, M45),
    case("einsum_implicit_order", lambda M, a, b: M.einsum("ba,Ab", a, b), uniform(2, 3, seed=18),
         uniform(4, 2, seed=19)),
    case("einsum_diagonal", lambda M, x: M.einsum("ii->i", x), SQ, second_order=True),
    case("einsum_trace", lambda M, x: M.einsum("ii", x), SQ),
    case("einsum_sum_and_diag", lambda M, x: M.einsum("iij->j", x), uniform(3, 3, 2, seed=20)),
    case("einsum_reduce_only", lambda M, x: M.einsum("ijk->i", x) + M.einsum("ij->", x[0]), T3,
         second_order=True),
    case("einsum_outer", lambda M, a, b: M.einsum("i,j->ij", a, b), V4, V3),
    case("einsum_same_operand", lambda M, a: M.einsum("ij,ij->i", a, a), M34, second_order=True),
    case("einsum_three", lambda M, a, b, c: M.einsum("ij,jk,kl->il", a, b, c), M34, M45,
         uniform(5, 2, seed=21), second_order=True),
    case("einsum_ellipsis_bcast", lambda M, a, b: M.einsum("...ij,...jk->...ik", a, b),
         uniform(2, 1, 3, 4, seed=22), uniform(5, 4, 2, seed=23)),
    case("einsum_ellipsis_middle", lambda M, x: M.einsum("i...i", x), uniform(3, 2, 3, seed=24)),
    case("einsum_size1_bcast", lambda M, a, b: M.einsum("ij,jk->ik", a, b), uniform(3, 1, seed=25), M45),
    case("einsum_list_spaces", lambda M, a, b: M.einsum("i j , j -> i", [a, b]), M34, V4),
    case("einsum_transpose", lambda M, x: M.einsum("ijk->kji", x), T3),
    # norms
    case("vector_norm_2", lambda M, x: M.linalg.vector_norm(x), M34, second_order=True),
    case("vector_norm_dims", lambda M, x: M.linalg.vector_norm(x, 2, (0, -1), keepdim=True), T3),
    case("vector_norm_1", lambda M, x: M.linalg.vector_norm(x, 1, -1), M34),
    case("vector_norm_inf", lambda M, x: M.linalg.vector_norm(x, float("inf"), 1) +
         M.linalg.vector_norm(x, -float("inf"), 1), M34),
    case("vector_norm_p3", lambda M, x: M.linalg.vector_norm(x, 3, 0), M34, second_order=True),
    case("vector_norm_p_half", lambda M, x: M.linalg.vector_norm(x, 0.5), M34),
    case("vector_norm_0", lambda M, x: M.linalg.vector_norm(x, 0, 1) + x.sum(), M34),
    case("vector_norm_zero_row", lambda M, x: M.linalg.vector_norm(x, dim=1), ZERO_ROW,
         finite_differences=False),  # the norm has a kink at 0: PyTorch picks the subgradient 0
    case("vector_norm_p3_zero_row", lambda M, x: M.linalg.vector_norm(x, 3, dim=1), ZERO_ROW),
    case("vector_norm_empty", lambda M, x: M.linalg.vector_norm(x, 2, 0), np.zeros((0, 3))),
    case("vector_norm_0d", lambda M, x: M.linalg.vector_norm(x), np.array(-1.5)),
    case("matrix_norm_fro", lambda M, x: M.linalg.matrix_norm(x), T3, second_order=True),
    case("matrix_norm_ords", lambda M, x: (M.linalg.matrix_norm(x, 1), M.linalg.matrix_norm(x, -1),
                                           M.linalg.matrix_norm(x, float("inf"), keepdim=True),
                                           M.linalg.matrix_norm(x, -float("inf"))), T3),
    case("matrix_norm_dims", lambda M, x: M.linalg.matrix_norm(x, "fro", dim=(2, 0)), T3),
    case("linalg_norm", lambda M, x: M.linalg.norm(x) + M.linalg.norm(x, dim=1).sum() +
         M.linalg.norm(x, 1) + M.linalg.norm(x, float("inf"), dim=0).sum() + M.linalg.norm(x[0], 3), M34),
    case("linalg_norm_matrix_dims", lambda M, x: M.linalg.norm(x, dim=(1, 2), keepdim=True), T3),
    case("tensor_norm", lambda M, x: x.norm() + M.norm(x, dim=1).sum() + x.norm(p=1, dim=(0, 1), keepdim=True)
         .sum() + x.norm(3, 0).sum() + M.norm(x, "fro", dim=(0, 1)), M34),
    case("linalg_vecdot", lambda M, a, b: M.linalg.vecdot(a, b) + M.linalg.vecdot(a, b, dim=0).sum(), M34,
         uniform(3, 4, seed=26)),
    # rearranging
    case("flip", lambda M, x: M.flip(x, (0, 2)) + x.flip(-1), T3, second_order=True),
    case("flip_list_method", lambda M, x: x.flip([0, 1]) * x.flip(1), M34),
    case("fliplr_flipud", lambda M, x: M.fliplr(x) + M.flipud(x) * 2, M34),
    case("rot90", lambda M, x: M.rot90(x).sum() + M.rot90(x, 2).sum(0) + M.rot90(x, -1, (1, 0)).sum(1) +
         x.rot90(3, [0, 1])[0, 0], M34),
    case("roll", lambda M, x: M.roll(x, 1, 0) + x.roll((2, -1), (2, 0)), T3, second_order=True),
    case("roll_flat", lambda M, x: M.roll(x, 5) * x, M34),
    case("repeat", lambda M, x: x.repeat(2, 1, 3), M34, second_order=True),
    case("repeat_tuple", lambda M, x: x.repeat((3, 2)), V4),
    case("tile", lambda M, x: (M.tile(x, (2,)), x.tile(1, 2), M.tile(x, (2, 1, 1))), M34),
    case("narrow", lambda M, x: M.narrow(x, 1, 1, 2) + x.narrow(-1, -3, 2), M34),
    case("select", lambda M, x: M.select(x, 1, -1) * x.select(-2, 0), T3),
    case("unbind", lambda M, x: M.unbind(x, 1), M34),
    case("index_select", lambda M, x: (M.index_select(x, 1, long(M, [3, 0, 3])),
                                       x.index_select(0, long(M, [1]))), M34, second_order=True),
    case("take", lambda M, x: M.take(x, long(M, [[0, 11], [5, 5]])), M34),
    case("repeat_interleave", lambda M, x: M.repeat_interleave(x, 2), M34),
    case("repeat_interleave_dim", lambda M, x: x.repeat_interleave(long(M, [1, 0, 3]), dim=0), M34),
    case("repeat_interleave_neg_dim", lambda M, x: M.repeat_interleave(x, 3, dim=-1), M34),
    case("masked_select", lambda M, x: M.masked_select(x, x > 0), M34),
    case("masked_select_bcast", lambda M, x: x.masked_select(M.tensor([True, False, False, True])), M34),
    case("take_along_dim", lambda M, x: M.take_along_dim(x, long(M, [[0, 3], [1, 1], [2, 0]]), 1), M34),
    case("take_along_dim_bcast", lambda M, x: M.take_along_dim(x, long(M, [[0, 2]]), dim=-1), M34),
    case("take_along_dim_flat", lambda M, x: x.take_along_dim(long(M, [11, 0, 5])), M34),
    case("take_along_dim_argsort", lambda M, x: M.take_along_dim(x, x.argsort(0), 0), M34),
    case("movedim", lambda M, x: (M.movedim(x, (0, 1), (2, 0)), M.moveaxis(x, 0, -1), x.movedim(-1, 0)), T3),
    case("swapdims", lambda M, x: M.swapdims(x, 0, 2), T3),
    case("meshgrid_ij", lambda M, a, b: M.meshgrid(a, b, indexing="ij"), V4, V3),
    case("meshgrid_xy", lambda M, a, b, c: M.meshgrid([a, b, c], indexing="xy"), V4, V3, uniform(2, seed=27)),
    case("unflatten", lambda M, x: x.unflatten(1, (2, 2)) + M.unflatten(x, -1, (2, -1)), M34),
    case("rearrange_empty", lambda M, x: M.flip(x, (0,)).repeat(2, 1).roll(1, 1), np.zeros((0, 3))),
    case("rearrange_one_element", lambda M, x: M.flip(x, (0,)).roll(3, 0).repeat(3) + x.narrow(0, 0, 1),
         uniform(1)),
    # sorting
    case("sort", lambda M, x: M.sort(x), M34, second_order=True),
    case("sort_dim0_desc", lambda M, x: x.sort(0, descending=True), M34),
    case("sort_0d", lambda M, x: M.sort(x), np.array(2.0)),
    case("sort_empty", lambda M, x: M.sort(x, 1), np.zeros((2, 0))),
    case("topk", lambda M, x: M.topk(x, 2), M34),
    case("topk_smallest_dim0", lambda M, x: x.topk(2, 0, largest=False), M34),
    case("kthvalue", lambda M, x: M.kthvalue(x, 2, 1) + (x.kthvalue(3, 0, keepdim=True)[0].sum(),), M34),
    case("median_all", lambda M, x: M.median(x) + x.median() * 2, M34),
    case("median_dim", lambda M, x: M.median(x, 1), M34),
    case("median_keepdim_even", lambda M, x: x.median(0, keepdim=True), uniform(4, 3, seed=28)),
    case("nanmedian_dim", lambda M, x: M.nanmedian(x, -1), M34),
    case("msort", lambda M, x: M.msort(x), M34),
]


FIRST = [c for c in CASES if c[3]["finite_differences"]]
SECOND = [c for c in CASES if c[3]["second_order"]]


@pytest.mark.parametrize("name,function,arrays,flags", FIRST, ids=[c[0] for c in FIRST])
def test_gradcheck(name, function, arrays, flags):
    gradcheck_case(function, arrays)


@pytest.mark.parametrize("name,function,arrays,flags", SECOND, ids=[c[0] for c in SECOND])
def test_second_order_gradcheck(name, function, arrays, flags):
    second_order_case(function, arrays)


@pytest.mark.parametrize("name,function,arrays,flags", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, function, arrays, flags):
    torch = pytest.importorskip("torch")
    torch_case(torch, function, arrays)


def test_causal_mask_pattern_of_nanogpt():
    """tril(ones) as a buffer, masked_fill with it, softmax: the attention pattern of nanoGPT."""
    torch = pytest.importorskip("torch")
    scores = np.random.default_rng(0).standard_normal((2, 4, 4))
    results = []
    for M in (cr, torch):
        mask = M.tril(M.ones(4, 4))
        x = M.tensor(scores, dtype=M.float64, requires_grad=True)
        attention = x.masked_fill(mask[:4, :4] == 0, float("-inf")).softmax(-1)
        (attention * M.tensor(scores, dtype=M.float64)).sum().backward()
        results.append((attention.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10, atol=1e-14)


def test_norm_gradient_at_zero_is_zero_as_torch():
    x = cr.zeros(3, dtype=cr.float64, requires_grad=True)
    cr.linalg.vector_norm(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


def test_unsupported_matrix_norms_say_so():
    with pytest.raises(NotImplementedError, match="matrix_norm: ord='nuc' needs singular values"):
        cr.linalg.matrix_norm(cr.ones(2, 2), "nuc")
    with pytest.raises(NotImplementedError, match="ord=2"):
        cr.linalg.matrix_norm(cr.ones(2, 2), 2)


def test_float32_stays_float32():
    x = cr.randn(3, 4, requires_grad=True)
    for y in (cr.einsum("ij,kj->ik", x, x), cr.tril(x), cr.diagonal(x), x.norm(), cr.flip(x, 0),
              x.repeat(2, 1), cr.sort(x).values, cr.linalg.matrix_norm(x, 1)):
        assert y.dtype == cr.float32
        x.grad = None
        y.sum().backward()
        assert x.grad.dtype == cr.float32
