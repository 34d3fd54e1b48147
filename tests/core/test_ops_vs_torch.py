"""Forward values and gradients of every op against PyTorch (float64, tight tolerance)."""

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def F(M, name):
    """The function ``name`` of chainrule, or torch.nn.functional's for torch."""
    return getattr(torch.nn.functional, name) if M is torch else getattr(cr, name)


CASES = [
    ("add_bcast", lambda M, a, b: a + b, [(2, 1, 4), (3, 1)]),
    ("sub_bcast", lambda M, a, b: a - b, [(3, 4), (4,)]),
    ("mul_bcast", lambda M, a, b: a * b, [(5, 1), (1, 5)]),
    ("div_bcast", lambda M, a, b: a / (b * b + 1), [(3, 4), (4,)]),
    ("pow_tensor", lambda M, a, b: (a * a + 0.5) ** b, [(3, 4), (4,)]),
    ("pow_scalar", lambda M, a: a ** 3 + (a * a + 0.1) ** 0.5 + (a * a + 1) ** -1.5, [(3, 4)]),
    ("rpow", lambda M, a: 2.0 ** a, [(3,)]),
    ("rdiv_rsub", lambda M, a: 1.0 / (a * a + 1) - 3.0, [(3,)]),
    ("matmul", lambda M, a, b: a @ b, [(3, 4), (4, 5)]),
    ("matmul_batched_bcast", lambda M, a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)]),
    ("matmul_mv", lambda M, a, b: a @ b, [(2, 3, 4), (4,)]),
    ("matmul_vm", lambda M, a, b: a @ b, [(4,), (2, 4, 3)]),
    ("maximum_minimum", lambda M, a, b: M.maximum(a, b) * M.minimum(a, b), [(3, 4), (4,)]),
    ("clamp", lambda M, a: a.clamp(-0.3, 0.4), [(4, 5)]),
    ("where", lambda M, a, b: M.where(a > 0, a, b), [(3, 4), (4,)]),
    ("exp_log", lambda M, a: M.exp(a) + M.log(a * a + 1) + M.log1p(a * a), [(3, 4)]),
    ("sqrt_abs", lambda M, a: M.sqrt(a * a + 1) + M.abs(a), [(3, 4)]),
    ("trig", lambda M, a: M.sin(a) * M.cos(a), [(3, 4)]),
    ("erf", lambda M, a: M.erf(a * 3), [(3, 4)]),
    ("relu", lambda M, a: M.relu(a), [(3, 4)]),
    ("leaky_relu", lambda M, a: F(M, "leaky_relu")(a, 0.2), [(3, 4)]),
    ("sigmoid_tanh", lambda M, a: M.sigmoid(a * 10) + M.tanh(a * 3), [(3, 4)]),
    ("gelu", lambda M, a: F(M, "gelu")(a * 3), [(3, 4)]),
    ("gelu_tanh", lambda M, a: F(M, "gelu")(a * 3, approximate="tanh"), [(3, 4)]),
    ("softplus", lambda M, a: F(M, "softplus")(a * 30), [(3, 4)]),
    ("softplus_beta", lambda M, a: F(M, "softplus")(a * 5, beta=2.0, threshold=3.0), [(3, 4)]),
    ("softmax", lambda M, a: M.softmax(a * 10, 1), [(3, 4, 2)]),
    ("log_softmax", lambda M, a: M.log_softmax(a * 50, -1), [(3, 4)]),
    ("logsumexp", lambda M, a: M.logsumexp(a * 50, 1, keepdim=True) + M.logsumexp(a, (0, 1)), [(3, 4)]),
    ("sum_mean", lambda M, a: a.sum(0) * a.mean(1, keepdim=True) + a.sum() + a.mean(), [(3, 4)]),
    ("max_min_all", lambda M, a: a.max() - a.min(), [(3, 4)]),
    ("max_dim", lambda M, a: a.max(1).values + a.min(0, keepdim=True)[0].sum(), [(3, 4)]),
    ("amax", lambda M, a: a.amax(dim=(0, 2)), [(3, 4, 2)]),
    ("var_std", lambda M, a: a.var(1) + a.std(1, keepdim=True).sum() + a.var(0, unbiased=False).sum(),
     [(3, 4)]),
    ("reshape_view", lambda M, a: a.reshape(4, -1).view(-1) * 2, [(2, 3, 2)]),
    ("transpose_permute", lambda M, a: a.transpose(0, 2).permute(1, 0, 2).sum(0).T, [(2, 3, 4)]),
    ("squeeze_unsqueeze", lambda M, a: a.squeeze(1).unsqueeze(0).flatten(), [(3, 1, 2)]),
    ("expand", lambda M, a: a.expand(2, 3, 4) * 2, [(3, 1)]),
    ("getitem_mix", lambda M, a: a[1:, ::2] * 2 + a[[0, 2, 0], 1:2].sum(), [(4, 5)]),
    ("getitem_mask", lambda M, a: a[a > 0] * 3, [(4, 5)]),
    ("getitem_pairs", lambda M, a: a[[0, 1, 1, 1], [2, 2, 3, 2]], [(4, 5)]),
    ("gather", lambda M, a: a.gather(1, M.tensor([[0, 0], [1, 3], [2, 2]])), [(3, 4)]),
    ("cat_stack", lambda M, a, b: M.cat([a, b], 1).sum(0) + M.stack([a, a], 2).sum(), [(2, 3), (2, 5)]),
    ("split_chunk", lambda M, a: a.split(2, 1)[1].sum() * a.chunk(2, 0)[0], [(4, 5)]),
    ("pad", lambda M, a: F(M, "pad")(a, (1, 2, 0, 1), value=0.5) * 2, [(2, 3)]),
]


def _run(M, function, arrays):
    if M is torch:
        inputs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    else:
        inputs = [cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in arrays]
    out = function(M, *inputs)
    weights = np.random.default_rng(1).standard_normal(tuple(out.shape))
    (out * M.tensor(weights, dtype=inputs[0].dtype)).sum().backward()
    values = out.detach().numpy() if M is torch else out.numpy()
    return values, [t.grad.numpy() if M is torch else t.grad.numpy() for t in inputs]


@pytest.mark.parametrize("name,function,shapes", CASES, ids=[c[0] for c in CASES])
def test_matches_pytorch(name, function, shapes):
    rng = np.random.default_rng(3)
    arrays = [rng.uniform(-1, 1, s) for s in shapes]
    ours, our_grads = _run(cr, function, arrays)
    theirs, their_grads = _run(torch, function, arrays)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    for i, (g_ours, g_theirs) in enumerate(zip(our_grads, their_grads)):
        np.testing.assert_allclose(g_ours, g_theirs, rtol=1e-9, atol=1e-12, err_msg=f"input {i}")


def test_second_derivatives_match_pytorch():
    data = np.array([0.3, -1.2, 2.0])
    results = []
    for M in (cr, torch):
        x = M.tensor(data, dtype=M.float64, requires_grad=True)
        y = (M.tanh(x) * x ** 3).sum()
        (g,) = (M.autograd.grad if M is torch else cr.grad)(y, x, create_graph=True)
        (h,) = (M.autograd.grad if M is torch else cr.grad)(g.sum(), x)
        results.append((g.detach().numpy(), h.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_float32_results_match_pytorch_dtype():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 3)).astype(np.float32)
    ours = cr.softmax(cr.tensor(a) * 2.0 + 1, 1)
    theirs = torch.softmax(torch.tensor(a) * 2.0 + 1, 1)
    assert ours.dtype == cr.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
