"""conv1d / conv2d and the Conv layers: values and all three gradients against PyTorch (float64),
finite differences, gradients of gradients, dtype policy, and the errors users see."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.ops.convolution import conv1d, conv2d

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# (batch, in_channels, out_channels, spatial size, kernel, stride, padding, dilation, groups, bias)
CONV2D_CASES = [
    (2, 3, 4, (7, 9), (3, 3), 1, 0, 1, 1, True),
    (1, 1, 8, (28, 28), (3, 3), 1, 1, 1, 1, True),          # the W4 layer, batch 1
    (2, 4, 6, (7, 9), (3, 2), (2, 1), (1, 2), (1, 2), 2, True),
    (3, 2, 4, (8, 6), (2, 2), 2, 0, 1, 1, False),
    (2, 3, 6, (5, 5), (3, 3), 1, "same", 1, 3, True),        # depthwise, channel multiplier 2
    (1, 4, 4, (6, 7), (1, 1), 1, 0, 1, 4, True),             # depthwise 1x1
    (2, 2, 3, (9, 8), (4, 3), (3, 2), (2, 1), 1, 1, True),   # even kernel, uncovered right edge
    (2, 2, 4, (8, 8), (3, 3), 1, "same", 2, 1, True),
    (1, 6, 4, (5, 4), (2, 3), 1, "valid", (2, 1), 2, False),
]

CONV1D_CASES = [
    (2, 3, 4, (11,), (3,), 1, 0, 1, 1, True),
    (2, 4, 8, (11,), (3,), 2, 1, 2, 2, True),
    (1, 2, 4, (10,), (4,), 1, "same", 1, 1, False),
    (3, 4, 4, (9,), (5,), 3, 2, 1, 4, True),
]


def _data(case, seed):
    batch, c_in, c_out, size, kernel, *_, groups, _ = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, c_in) + size)
    w = rng.standard_normal((c_out, c_in // groups) + kernel)
    b = rng.standard_normal(c_out)
    return x, w, b


def _compare(case, ours, theirs, seed=0):
    *_, stride, padding, dilation, groups, with_bias = case
    x, w, b = _data(case, seed)
    xs, ws, bs = (cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in (x, w, b))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = ours(xs, ws, bs if with_bias else None, stride, padding, dilation, groups)
    yt = theirs(xt, wt, bt if with_bias else None, stride, padding, dilation, groups)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    upstream = np.random.default_rng(seed + 1).standard_normal(y.shape)
    (y * cr.tensor(upstream, dtype=cr.float64)).sum().backward()
    (yt * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ws.grad.numpy(), wt.grad.numpy(), rtol=1e-10, atol=1e-10)
    if with_bias:
        np.testing.assert_allclose(bs.grad.numpy(), bt.grad.numpy(), rtol=1e-10, atol=1e-10)
    else:
        assert bs.grad is None


@pytest.mark.parametrize("case", CONV2D_CASES)
def test_conv2d_matches_torch(case):
    _compare(case, conv2d, TF.conv2d)


@pytest.mark.parametrize("case", CONV1D_CASES)
def test_conv1d_matches_torch(case):
    _compare(case, conv1d, TF.conv1d)


@pytest.mark.parametrize("case", [CONV2D_CASES[2], CONV2D_CASES[6], CONV1D_CASES[1]])
def test_conv_gradcheck(case):
    *_, stride, padding, dilation, groups, _ = case
    x, w, b = _data(case, 3)
    function = conv1d if x.ndim == 3 else conv2d
    inputs = [cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in (x, w, b)]
    assert cr.gradcheck(lambda x, w, b: function(x, w, b, stride, padding, dilation, groups), inputs)


@pytest.mark.parametrize("case", [CONV2D_CASES[2], CONV1D_CASES[1]])
def test_conv_double_backward_matches_torch(case):
    """Gradients of (a function of) the conv's gradients: the VJPs are convolutions again."""
    *_, stride, padding, dilation, groups, _ = case
    x, w, b = _data(case, 5)
    ours, theirs = (conv1d, TF.conv1d) if x.ndim == 3 else (conv2d, TF.conv2d)

    def second_order(module, grad, function, x, w, b):
        y = function(x, w, b, stride, padding, dilation, groups)
        gx, gw = grad((y * y * y).sum(), [x, w], create_graph=True)
        return (gx * gx).sum() + (gw * gw * y.sum()).sum()

    xs, ws, bs = (cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in (x, w, b))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    second_order(cr, cr.grad, ours, xs, ws, bs).backward()
    second_order(torch, torch.autograd.grad, theirs, xt, wt, bt).backward()
    for mine, reference in ((xs, xt), (ws, wt), (bs, bt)):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-9, atol=1e-9)
    small = [cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in (x, w, b)]
    assert cr.gradcheck(lambda *t: second_order(cr, cr.grad, ours, *t), small, atol=1e-4)


def test_unbatched_input():
    x, w = cr.randn(3, 6, 5, dtype=cr.float64), cr.randn(4, 3, 2, 2, dtype=cr.float64)
    y = conv2d(x, w, padding=1)
    expected = TF.conv2d(torch.tensor(x.numpy()), torch.tensor(w.numpy()), padding=1)
    assert y.shape == (4, 7, 6)
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-12)
    assert conv1d(cr.randn(3, 7), cr.randn(2, 3, 3)).shape == (2, 5)


def test_float32_stays_float32():
    x = cr.randn(2, 3, 8, 8, requires_grad=True)
    layer = nn.Conv2d(3, 4, 3, padding=1)
    y = layer(x)
    assert y.dtype == cr.float32
    y.sum().backward()
    assert x.grad.dtype == layer.weight.grad.dtype == layer.bias.grad.dtype == cr.float32


def test_errors_name_op_and_shapes():
    w = cr.randn(8, 1, 3, 3)
    with pytest.raises(cr.ShapeError, match=r"conv2d.*\(8, 1, 3, 3\).*\(2, 3, 8, 8\)"):
        conv2d(cr.randn(2, 3, 8, 8), w)
    with pytest.raises(cr.ShapeError, match=r"conv2d.*smaller than the kernel"):
        conv2d(cr.randn(1, 1, 2, 2), w)
    with pytest.raises(cr.DTypeError, match="same dtype"):
        conv2d(cr.randn(1, 1, 5, 5, dtype=cr.float64), w)
    with pytest.raises(cr.ShapeError, match="groups"):
        conv2d(cr.randn(1, 4, 5, 5), cr.randn(3, 2, 3, 3), groups=2)
    with pytest.raises(cr.ShapeError, match="bias"):
        conv2d(cr.randn(1, 1, 5, 5), w, cr.randn(3))
    with pytest.raises(ValueError, match="strided"):
        conv2d(cr.randn(1, 1, 5, 5), w, padding="same", stride=2)
    with pytest.raises(cr.ShapeError, match="conv1d"):
        conv1d(cr.randn(1, 2, 3, 4), cr.randn(2, 2, 3))


def test_layer_rejects_wrong_channel_count_naming_the_layer():
    layer = nn.Conv2d(1, 8, 3)
    with pytest.raises(cr.ShapeError, match=r"Conv2d\(1, 8.*\(N, 1, H, W\).*\(32, 3, 28, 28\)"):
        layer(cr.zeros(32, 3, 28, 28))
    with pytest.raises(cr.ShapeError, match=r"Conv1d\(2, 4.*\(N, 2, L\)"):
        nn.Conv1d(2, 4, 3)(cr.zeros(5, 3, 10))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)


@pytest.mark.parametrize("layer_cls, reference_cls, args, kwargs", [
    (nn.Conv2d, torch.nn.Conv2d, (1, 8, 3), {}),
    (nn.Conv2d, torch.nn.Conv2d, (4, 8, (3, 2)),
     dict(stride=2, padding=1, dilation=(1, 2), groups=2, bias=False)),
    (nn.Conv2d, torch.nn.Conv2d, (2, 4, 3), dict(padding="same")),
    (nn.Conv1d, torch.nn.Conv1d, (2, 4, 3), dict(stride=2, padding=1)),
])
def test_layer_matches_torch_with_copied_weights(layer_cls, reference_cls, args, kwargs):
    layer, reference = layer_cls(*args, **kwargs).double(), reference_cls(*args, **kwargs).double()
    assert repr(layer) == repr(reference)
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(layer.weight.numpy()))
        if reference.bias is not None:
            reference.bias.copy_(torch.tensor(layer.bias.numpy()))
    spatial = (9, 10) if layer_cls is nn.Conv2d else (12,)
    x = np.random.default_rng(0).standard_normal((2, args[0]) + spatial)
    y = layer(cr.tensor(x, dtype=cr.float64))
    expected = reference(torch.tensor(x))
    np.testing.assert_allclose(y.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    y.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), reference.weight.grad.numpy(), rtol=1e-10)
    assert [name for name, _ in layer.named_parameters()] == [n for n, _ in reference.named_parameters()]


def test_default_init_follows_pytorch_bounds():
    cr.manual_seed(0)
    layer = nn.Conv2d(4, 64, (3, 5), groups=2)
    fan_in = 2 * 3 * 5
    bound = 1 / math.sqrt(fan_in)   # kaiming_uniform_(a=sqrt(5)) gives the same bound as the bias
    for values in (layer.weight.numpy(), layer.bias.numpy()):
        assert values.dtype == np.float32
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.7 * bound   # the whole range is used
    assert layer.weight.shape == (64, 2, 3, 5)
    assert set(dict(layer.named_parameters())) == {"weight", "bias"}


def test_functional_and_top_level_names():
    import chainrule.nn.functional as F
    assert F.conv2d is cr.conv2d is conv2d and F.conv1d is cr.conv1d
    assert F.max_pool2d is cr.max_pool2d and F.avg_pool2d is cr.avg_pool2d


def test_small_cnn_step_matches_torch():
    """W4's network end to end: conv 3x3x8 + ReLU + max-pool 2 + linear 10 + cross-entropy."""
    cr.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(8 * 5 * 5, 10)).double()
    reference = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                    torch.nn.Flatten(), torch.nn.Linear(8 * 5 * 5, 10)).double()
    with torch.no_grad():
        for (_, mine), (_, theirs) in zip(model.named_parameters(), reference.named_parameters()):
            theirs.copy_(torch.tensor(mine.numpy()))
    rng = np.random.default_rng(0)
    images, labels = rng.standard_normal((4, 1, 12, 12)), rng.integers(0, 10, 4)
    loss = nn.CrossEntropyLoss()(model(cr.tensor(images, dtype=cr.float64)), cr.tensor(labels))
    expected = torch.nn.CrossEntropyLoss()(reference(torch.tensor(images)), torch.tensor(labels))
    loss.backward()
    expected.backward()
    assert abs(loss.item() - expected.item()) < 1e-12
    for (name, mine), (_, theirs) in zip(model.named_parameters(), reference.named_parameters()):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)
