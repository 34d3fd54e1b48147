"""ConvTranspose1d/2d, GroupNorm, Upsample/F.interpolate, the added activations and Embedding's
max_norm against PyTorch 2.13 in float64 (same weights through load_state_dict; output, input
gradient, every parameter gradient), plus first- and second-order finite-difference checks."""

import numpy as np
import pytest
from tests.conftest import leaf

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.errors import ShapeError

torch = pytest.importorskip("torch")
TNN = torch.nn


pytestmark = pytest.mark.usefixtures("torch_on_one_thread")   # tests/conftest.py


def copy_weights(ours, theirs):
    theirs.double()
    ours.double()
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def assert_same(ours, theirs, x, train=True, forward=None, seed=0, grad_rtol=1e-10):
    forward = forward or {}
    if not train:
        ours.eval(), theirs.eval()
    ours_in = cr.tensor(x, dtype=cr.float64, requires_grad=True)
    their_in = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out, t_out = ours(ours_in, **forward), theirs(their_in, **forward)
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    direction = np.random.default_rng(seed).standard_normal(tuple(t_out.shape))
    (out * cr.tensor(direction)).sum().backward()
    (t_out * torch.tensor(direction)).sum().backward()
    np.testing.assert_allclose(ours_in.grad.numpy(), their_in.grad.numpy(), rtol=grad_rtol, atol=1e-12)
    their_params = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(their_params)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), their_params[name].grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)
    return out


def data(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


def second_order(fn, inputs, seed=7):
    """gradcheck of the first gradient: the second derivatives are right."""
    out_shape = fn(*inputs).shape
    direction = cr.tensor(np.random.default_rng(seed).standard_normal(out_shape))
    return cr.gradcheck(lambda *xs: cr.grad((fn(*xs) * direction).sum(), list(xs), create_graph=True), inputs)


# --- ConvTranspose ----------------------------------------------------------------------------
@pytest.mark.parametrize("args,kwargs,shape", [
    ((4, 6, 3), {}, (2, 4, 5, 6)),
    ((4, 6, 3), dict(stride=2, padding=1, output_padding=1), (2, 4, 5, 6)),
    ((4, 6, (3, 2)), dict(stride=(2, 3), padding=(1, 0), output_padding=(0, 2), groups=2, dilation=(1, 2)),
     (2, 4, 4, 5)),
    ((4, 2, 2), dict(stride=2, bias=False, groups=2), (4, 3, 3)),
])
def test_conv_transpose2d(args, kwargs, shape):
    ours, theirs = copy_weights(nn.ConvTranspose2d(*args, **kwargs), TNN.ConvTranspose2d(*args, **kwargs))
    assert_same(ours, theirs, data(*shape))
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("args,kwargs,shape", [
    ((3, 4, 3), dict(stride=3, padding=2, output_padding=2, dilation=2), (2, 3, 7)),
    ((4, 4, 2), dict(groups=4), (4, 5)),
])
def test_conv_transpose1d(args, kwargs, shape):
    ours, theirs = copy_weights(nn.ConvTranspose1d(*args, **kwargs), TNN.ConvTranspose1d(*args, **kwargs))
    assert_same(ours, theirs, data(*shape))


def test_conv_transpose_output_size_picks_output_padding():
    ours, theirs = copy_weights(nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1),
                                TNN.ConvTranspose2d(2, 3, 3, stride=2, padding=1))
    x = data(1, 2, 4, 5)
    out = assert_same(ours, theirs, x, forward=dict(output_size=(8, 10)))
    assert out.shape == (1, 3, 8, 10)
    with pytest.raises(ValueError, match="valid sizes range from"):
        ours(cr.tensor(x), output_size=(10, 10))


def test_conv_transpose_is_the_adjoint_of_conv_and_gradchecks():
    x, w, b = leaf(1, 2, 3, 4, seed=1), leaf(2, 3, 3, 2, seed=2), leaf(3, seed=3)
    kwargs = dict(stride=2, padding=1, output_padding=1, dilation=1)
    y = F.conv_transpose2d(x, w, None, **kwargs)
    z = cr.tensor(np.random.default_rng(4).standard_normal(y.shape))
    # <conv_transpose(x, W), z> = <x, conv(z, W)>
    lhs = (y * z).sum().item()
    rhs = (x * F.conv2d(z, w, None, stride=2, padding=1)).sum().item()
    assert abs(lhs - rhs) < 1e-10 * max(1.0, abs(lhs))
    fn = lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs)  # noqa: E731
    assert cr.gradcheck(fn, [x, w, b])
    assert second_order(fn, [x, w, b])
    assert cr.gradcheck(lambda x, w: F.conv_transpose1d(x, w, stride=2, groups=2), [leaf(1, 4, 3, seed=5),
                                                                                  leaf(4, 1, 2, seed=6)])


def test_conv_transpose_errors_and_init():
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose2d(cr.randn(1, 2, 3, 3), cr.randn(2, 3, 3, 3), stride=1, output_padding=1)
    with pytest.raises(ShapeError, match="expects input with 2 channels"):
        F.conv_transpose2d(cr.randn(1, 3, 3, 3), cr.randn(2, 3, 3, 3))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.ConvTranspose2d(3, 4, 3, groups=2)
    with pytest.raises(ShapeError, match="expected input of shape"):
        nn.ConvTranspose2d(3, 4, 3)(cr.randn(1, 2, 5, 5))
    cr.manual_seed(0)
    layer = nn.ConvTranspose2d(8, 16, 3)
    bound = 1 / np.sqrt(16 * 9)   # fan_in = weight.shape[1] * k*k, as PyTorch computes it
    assert layer.weight.shape == (8, 16, 3, 3)
    assert bound * 0.9 < np.abs(layer.weight.numpy()).max() <= bound


# --- GroupNorm ------------------------------------------------------------------------------
@pytest.mark.parametrize("groups,channels,shape,kwargs", [
    (2, 4, (3, 4, 5, 6), {}), (1, 4, (3, 4, 5), {}), (4, 4, (2, 4, 3, 3), {}), (3, 6, (2, 6), {}),
    (2, 4, (3, 4, 5), dict(affine=False)), (2, 4, (3, 4, 5), dict(bias=False, eps=1e-3)),
])
def test_group_norm(groups, channels, shape, kwargs):
    ours, theirs = copy_weights(nn.GroupNorm(groups, channels, **kwargs),
                                TNN.GroupNorm(groups, channels, **kwargs))
    with torch.no_grad():   # non-trivial affine parameters
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, dtype=torch.float64))
    copy_weights(ours, theirs)
    for train in (True, False):
        assert_same(ours, theirs, data(*shape) * 2 + 1, train=train)
    assert repr(ours) == repr(theirs)


def test_group_norm_gradchecks():
    x, w, b = leaf(2, 4, 3, seed=1), leaf(4, seed=2), leaf(4, seed=3)
    fn = lambda x, w, b: F.group_norm(x, 2, w, b)  # noqa: E731
    assert cr.gradcheck(fn, [x, w, b])
    assert second_order(fn, [x, w, b])
    with pytest.raises(ShapeError, match="cannot be split into 3 groups"):
        F.group_norm(cr.randn(2, 4, 3), 3)
    with pytest.raises(ShapeError, match="divisible"):
        nn.GroupNorm(3, 4)


# --- Upsample / interpolate -----------------------------------------------------------------
@pytest.mark.parametrize("shape,kwargs", [
    ((2, 3, 5), dict(scale_factor=2)), ((2, 3, 5), dict(size=7)),
    ((2, 3, 5, 4), dict(scale_factor=(1.7, 2.3))), ((2, 3, 5, 4), dict(size=(3, 9), mode="nearest-exact")),
    ((2, 3, 5, 4), dict(scale_factor=2, mode="bilinear")),
    ((2, 3, 5, 4), dict(size=(7, 3), mode="bilinear", align_corners=True)),
    ((2, 3, 5, 4), dict(scale_factor=1.5, mode="bilinear")),
    ((2, 3, 9, 7), dict(size=(4, 3), mode="bilinear")),
    ((2, 3, 5, 4), dict(size=(8, 9), mode="bicubic")),
    ((2, 3, 5, 4), dict(scale_factor=2.5, mode="bicubic", align_corners=True)),
    ((2, 3, 9, 7), dict(size=(4, 3), mode="area")), ((2, 3, 9, 7), dict(scale_factor=0.6, mode="area")),
    ((2, 3, 9), dict(scale_factor=0.6, mode="linear")),
    ((1, 2, 3, 4, 5), dict(scale_factor=2, mode="trilinear")),
    ((1, 2, 3, 4, 5), dict(size=(5, 3, 7))),
    ((2, 3, 5, 4), dict(scale_factor=1.5, mode="bilinear", recompute_scale_factor=True)),
])
def test_interpolate_matches_torch(shape, kwargs):
    x = data(*shape)
    ours, theirs = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, t_out = F.interpolate(ours, **kwargs), TNN.functional.interpolate(theirs, **kwargs)
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    direction = data(*t_out.shape, seed=2)
    (out * cr.tensor(direction)).sum().backward()
    (t_out * torch.tensor(direction)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda M: M.Upsample(scale_factor=2), lambda M: M.Upsample(size=(3, 7), mode="bilinear"),
    lambda M: M.Upsample(scale_factor=(2, 1.5), mode="bicubic", align_corners=True),
    lambda M: M.UpsamplingNearest2d(scale_factor=3), lambda M: M.UpsamplingBilinear2d(size=(6, 6)),
])
def test_upsample_modules(make):
    ours, theirs = make(nn), make(TNN)
    assert_same(ours, theirs, data(2, 3, 4, 5))
    assert repr(ours) == repr(theirs)


def test_interpolate_gradchecks_and_errors():
    x = leaf(1, 2, 3, 4, seed=1)
    for kwargs in (dict(scale_factor=2), dict(size=(5, 3), mode="bilinear", align_corners=True),
                   dict(size=(4, 6), mode="bicubic"), dict(size=(2, 3), mode="area")):
        fn = lambda x, kwargs=kwargs: F.interpolate(x, **kwargs)  # noqa: E731
        assert cr.gradcheck(fn, [x])
        assert second_order(lambda x, fn=fn: fn(x) ** 2, [x])
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(cr.randn(1, 1, 4), size=3, scale_factor=2)
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(cr.randn(1, 1, 4), scale_factor=2, align_corners=True)
    with pytest.raises(ShapeError, match="'bilinear' needs 4-D"):
        F.interpolate(cr.randn(1, 1, 4), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="mode must be one of"):
        F.interpolate(cr.randn(1, 1, 4), scale_factor=2, mode="lanczos")


# --- activations ----------------------------------------------------------------------------
MODULES = [
    lambda M: M.Hardtanh(), lambda M: M.Hardtanh(-2.0, 0.5), lambda M: M.ReLU6(), lambda M: M.Hardswish(),
    lambda M: M.SELU(), lambda M: M.CELU(), lambda M: M.Mish(), lambda M: M.Softsign(),
    lambda M: M.Tanhshrink(), lambda M: M.LogSigmoid(), lambda M: M.GELU(approximate="tanh"),
    lambda M: M.SiLU(), lambda M: M.Identity(), lambda M: M.Unflatten(1, (2, 3)),
]
# PyTorch's float64 backward of these two rounds a constant to float32 (hardsigmoid's 1/6, and
# celu's 1/alpha): they agree with ours (the exact value) to ~1e-7 only.
FLOAT32_CONSTANT_IN_TORCH = [lambda M: M.Hardsigmoid(), lambda M: M.CELU(alpha=0.4)]


def kinked_data():
    x = data(3, 6, 2) * 4
    x[0, :4, 0] = [-3.0, 3.0, 0.0, 6.0]   # the kinks: PyTorch's one-sided gradients there
    return x


@pytest.mark.parametrize("make", MODULES)
def test_activation_modules_match_torch(make):
    ours, theirs = make(nn), make(TNN)
    assert_same(ours, theirs, kinked_data())
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("make", FLOAT32_CONSTANT_IN_TORCH)
def test_activation_modules_where_torch_rounds_a_constant(make):
    ours, theirs = make(nn), make(TNN)
    assert_same(ours, theirs, kinked_data(), grad_rtol=1e-6)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", ["hardtanh", "relu6", "hardsigmoid", "hardswish", "selu", "celu", "mish",
                                  "softsign", "tanhshrink", "logsigmoid"])
def test_activation_functions_gradcheck_first_and_second_order(name):
    fn = getattr(F, name)
    x = leaf(4, 5, seed=3, low=-5, high=5)
    assert cr.gradcheck(fn, [x])
    assert second_order(fn, [x])
    x32 = cr.randn(3, 4)
    assert fn(x32).dtype == cr.float32


def test_repr_with_inplace_like_torch():
    for make in (lambda M: M.Hardtanh(-2, 3, inplace=True), lambda M: M.ReLU6(inplace=True),
                 lambda M: M.SELU(inplace=True), lambda M: M.CELU(0.5, inplace=True),
                 lambda M: M.Mish(inplace=True), lambda M: M.Hardswish(inplace=True),
                 lambda M: M.SiLU(inplace=True), lambda M: M.ELU(inplace=True)):
        assert repr(make(nn)) == repr(make(TNN))


# --- Embedding: padding_idx and max_norm ------------------------------------------------------
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_embedding_max_norm_and_padding_idx_like_torch(norm_type):
    kwargs = dict(padding_idx=1, max_norm=1.2, norm_type=norm_type)
    ours, theirs = copy_weights(nn.Embedding(6, 4, **kwargs), TNN.Embedding(6, 4, **kwargs))
    index = np.array([[0, 1, 1, 3], [5, 3, 1, 0]])
    for _ in range(2):   # the second lookup finds the rows already renormalised
        out, t_out = ours(cr.tensor(index)), theirs(torch.tensor(index))
        np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-12)
        direction = data(2, 4, 4, seed=2)
        (out * cr.tensor(direction)).sum().backward()
        (t_out * torch.tensor(direction)).sum().backward()
        np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)
    assert np.all(ours.weight.grad.numpy()[1] == 0)          # the padding row learns nothing
    assert np.all(ours.weight.numpy()[[2, 4]] == theirs.weight.detach().numpy()[[2, 4]])   # untouched rows
    assert repr(ours) == repr(theirs)


def test_embedding_max_norm_functional_and_from_pretrained():
    weight = cr.tensor(np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]]))
    out = F.embedding(cr.tensor([0, 0, 1]), weight, max_norm=1.0)
    np.testing.assert_allclose(np.linalg.norm(out.numpy(), axis=1), [1.0, 1.0, 0.5], rtol=1e-6)
    np.testing.assert_allclose(weight.numpy()[2], [6.0, 8.0])   # row 2 was not looked up: unchanged
    layer = nn.Embedding.from_pretrained(weight, max_norm=2.0, padding_idx=0)
    assert repr(layer) == "Embedding(3, 2, padding_idx=0, max_norm=2.0)" and not layer.weight.requires_grad
    with pytest.raises(NotImplementedError, match="scale_grad_by_freq"):
        nn.Embedding(3, 2, scale_grad_by_freq=True)
