"""Every layer against PyTorch in float64: the same weights (copied through load_state_dict, which
also proves the state_dict keys match PyTorch's), then the output, the input gradient and every
parameter gradient must agree. BatchNorm is also compared over several training steps (running
statistics) and in eval mode."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

torch = pytest.importorskip("torch")
TNN = torch.nn


def copy_weights(ours, theirs):
    theirs.double()
    ours.double()
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def run_both(ours, theirs, x, seed=0, index_input=False):
    """Forward both on x, backward sum(out * v) for a fixed random v; return both sides' results."""
    if index_input:
        ours_in, theirs_in = cr.tensor(x), torch.tensor(x)
    else:
        ours_in = cr.tensor(x, dtype=cr.float64, requires_grad=True)
        theirs_in = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ours_out, theirs_out = ours(ours_in), theirs(theirs_in)
    v = np.random.default_rng(seed).standard_normal(theirs_out.shape)
    (ours_out * cr.tensor(v, dtype=cr.float64)).sum().backward()
    (theirs_out * torch.tensor(v)).sum().backward()
    return ours_in, theirs_in, ours_out, theirs_out


def assert_same(ours, theirs, x, seed=0, index_input=False, rtol=1e-10, atol=1e-12):
    ours_in, theirs_in, ours_out, theirs_out = run_both(ours, theirs, x, seed, index_input)
    np.testing.assert_allclose(ours_out.numpy(), theirs_out.detach().numpy(), rtol=rtol, atol=atol)
    if not index_input:
        np.testing.assert_allclose(ours_in.grad.numpy(), theirs_in.grad.numpy(), rtol=rtol, atol=atol)
    their_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        expected = their_params[name].grad
        assert (p.grad is None) == (expected is None), name
        if expected is not None:
            np.testing.assert_allclose(p.grad.numpy(), expected.numpy(), rtol=rtol, atol=atol, err_msg=name)
    return ours_out


def data(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("in_f,out_f,bias,shape", [
    (3, 4, True, (5, 3)), (3, 4, False, (5, 3)), (6, 2, True, (2, 3, 6)), (4, 1, True, (4,)),
    (1, 7, True, (9, 1)),
])
def test_linear(in_f, out_f, bias, shape):
    ours, theirs = copy_weights(nn.Linear(in_f, out_f, bias=bias), TNN.Linear(in_f, out_f, bias=bias))
    assert_same(ours, theirs, data(*shape))


@pytest.mark.parametrize("make", [
    lambda M: M.ReLU(), lambda M: M.LeakyReLU(0.1), lambda M: M.Sigmoid(), lambda M: M.Tanh(),
    lambda M: M.GELU(),
    lambda M: M.GELU(approximate="tanh"), lambda M: M.Softplus(beta=2.0, threshold=5.0), lambda M: M.SiLU(),
    lambda M: M.ELU(alpha=0.7), lambda M: M.Softmax(dim=1), lambda M: M.Softmax(dim=-1),
    lambda M: M.LogSoftmax(dim=1), lambda M: M.Flatten(), lambda M: M.Flatten(0, 1), lambda M: M.Identity(),
    lambda M: M.Unflatten(1, (2, 2)),
])
def test_activation_and_shape_modules(make):
    ours, theirs = make(nn), make(TNN)
    assert_same(ours, theirs, data(3, 4, 2) * 3)


@pytest.mark.parametrize("cls,shape,kwargs", [
    ("BatchNorm1d", (8, 3), {}),
    ("BatchNorm1d", (4, 3, 5), {"momentum": 0.3}),
    ("BatchNorm1d", (6, 3), {"momentum": None}),
    ("BatchNorm1d", (6, 3), {"affine": False}),
    ("BatchNorm1d", (6, 3), {"bias": False}),
    ("BatchNorm2d", (4, 3, 5, 2), {}),
    ("BatchNorm2d", (2, 3, 4, 4), {"eps": 1e-3, "momentum": 0.5}),
])
def test_batch_norm_train_steps_then_eval(cls, shape, kwargs):
    ours, theirs = copy_weights(getattr(nn, cls)(shape[1], **kwargs), getattr(TNN, cls)(shape[1], **kwargs))
    if ours.affine:  # non-trivial affine parameters
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
        ours.weight.numpy()[...] = theirs.weight.detach().numpy()
    for step in range(3):  # training: batch statistics, running statistics updated each step
        ours.zero_grad(), theirs.zero_grad()
        assert_same(ours, theirs, data(*shape, seed=step) * 2 + 1, seed=step)
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy(), rtol=1e-12)
    ours.eval(), theirs.eval()
    ours.zero_grad(), theirs.zero_grad()
    assert_same(ours, theirs, data(*shape, seed=9))


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (5, 3)), ("BatchNorm2d", (3, 3, 2, 2))])
def test_batch_norm_without_running_stats_uses_batch_statistics(cls, shape):
    kwargs = {"track_running_stats": False}
    ours, theirs = copy_weights(getattr(nn, cls)(3, **kwargs), getattr(TNN, cls)(3, **kwargs))
    assert ours.running_mean is None and list(ours.state_dict()) == ["weight", "bias"]
    assert_same(ours, theirs, data(*shape))
    ours.eval(), theirs.eval()
    ours.zero_grad(), theirs.zero_grad()
    assert_same(ours, theirs, data(*shape, seed=3))


@pytest.mark.parametrize("normalized,shape,kwargs", [
    (4, (3, 4), {}), ((2, 3), (2, 5, 2, 3), {}), (5, (5,), {"eps": 1e-3}),
    (4, (2, 4), {"elementwise_affine": False}), (4, (3, 2, 4), {"bias": False}),
])
def test_layer_norm(normalized, shape, kwargs):
    ours, theirs = copy_weights(nn.LayerNorm(normalized, **kwargs), TNN.LayerNorm(normalized, **kwargs))
    if ours.weight is not None:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
        ours.weight.numpy()[...] = theirs.weight.detach().numpy()
    assert_same(ours, theirs, data(*shape) * 3 + 2)


@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_embedding_with_repeated_indices(padding_idx):
    ours, theirs = copy_weights(nn.Embedding(6, 3, padding_idx=padding_idx),
                                TNN.Embedding(6, 3, padding_idx=padding_idx))
    index = np.array([[0, 2, 2, 5], [1, 0, 5, 5]])
    assert_same(ours, theirs, index, index_input=True)


def test_residual_adds_the_skip_path():
    class TorchResidual(TNN.Module):
        def __init__(self):
            super().__init__()
            self.module = TNN.Sequential(TNN.Linear(4, 4), TNN.Tanh())

        def forward(self, x):
            return x + self.module(x)

    ours, theirs = copy_weights(nn.Residual(nn.Sequential(nn.Linear(4, 4), nn.Tanh())), TorchResidual())
    assert_same(ours, theirs, data(5, 4))
    with pytest.raises(cr.ShapeError, match="Residual: the wrapped Linear maps shape"):
        nn.Residual(nn.Linear(4, 3))(cr.randn(2, 4))


def test_dropout_statistics_and_eval_identity():
    cr.manual_seed(0)
    layer = nn.Dropout(p=0.3)
    x = cr.ones(200, 500, requires_grad=True)
    y = layer(x)
    kept = y.numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())  # dL/dx = mask / (1 - p)
    layer.eval()
    z = cr.randn(3, 4)
    assert layer(z) is z
    assert nn.Dropout(0.0)(z) is z
    assert float(abs(nn.Dropout(1.0)(z)).sum()) == 0
    with pytest.raises(ValueError, match="p must be in"):
        nn.Dropout(1.5)


def test_dropout_is_reproducible_under_manual_seed():
    cr.manual_seed(3)
    a = nn.functional.dropout(cr.ones(10, 10), 0.5)
    cr.manual_seed(3)
    b = nn.functional.dropout(cr.ones(10, 10), 0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm):
    grads = [data(3, 4, seed=1), data(5, seed=2)]
    ours = [cr.tensor(np.zeros_like(g), requires_grad=True, dtype=cr.float64) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for o, t, g in zip(ours, theirs, grads):
        o.grad, t.grad = cr.tensor(g, dtype=cr.float64), torch.tensor(g)
    total = nn.utils.clip_grad_norm_(iter(ours), max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, cr.Tensor)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_and_vectors():
    p = nn.Parameter(cr.zeros(2, 2))
    p.grad = cr.tensor([[-3.0, 0.5], [2.0, -0.1]])
    nn.utils.clip_grad_value_([p], 1.0)
    np.testing.assert_allclose(p.grad.numpy(), [[-1.0, 0.5], [1.0, -0.1]])
    assert nn.utils.clip_grad_norm_([nn.Parameter(cr.zeros(2))], 1.0).item() == 0.0
    model = nn.Linear(3, 2)
    vector = nn.utils.parameters_to_vector(model.parameters())
    assert vector.shape == (8,)
    nn.utils.vector_to_parameters(vector * 0 + 1, model.parameters())
    assert float(model.weight.sum()) == 6 and float(model.bias.sum()) == 2


def test_functional_helpers_match_pytorch():
    TF = torch.nn.functional
    labels = np.array([[0, 3], [2, 1]])
    np.testing.assert_array_equal(nn.functional.one_hot(cr.tensor(labels), 5).numpy(),
                                  TF.one_hot(torch.tensor(labels), 5).numpy())
    assert nn.functional.one_hot(cr.tensor(labels)).shape == (2, 2, 4)
    x = data(2, 3, 4)
    np.testing.assert_allclose(nn.functional.softmax(cr.tensor(x), dim=1).numpy(),
                               TF.softmax(torch.tensor(x), 1))
    np.testing.assert_allclose(nn.functional.pad(cr.tensor(x), (1, 2)).numpy(),
                               TF.pad(torch.tensor(x), (1, 2)))
    with pytest.raises(cr.ShapeError, match="out of range"):
        nn.functional.one_hot(cr.tensor([0, 5]), 3)
