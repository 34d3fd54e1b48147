"""The element-wise losses (mse, l1, smooth L1, Huber, KL divergence) against PyTorch in float64:
values and gradients of input, target and weight for every reduction and option, targets of a
different shape (PyTorch's warning, then its broadcast), the losses that raise instead, PyTorch's
deprecated size_average/reduce flags, and finite-difference checks of first and second derivatives."""

import warnings

import numpy as np
import pytest
from tests.conftest import leaf

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
REDUCTIONS = ["none", "mean", "sum"]
SIZE_WARNING = "Using a target size .* that is different to the input size"


def values(*shape, seed=0, scale=1.5):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def compare(ours_fn, theirs_fn, arrays, grad_of=None, seed=0):
    """Both functions on the same float64 arrays: equal values and equal gradients of each input."""
    grad_of = range(len(arrays)) if grad_of is None else grad_of
    ours_in = [cr.tensor(a, dtype=cr.float64, requires_grad=i in grad_of) for i, a in enumerate(arrays)]
    theirs_in = [torch.tensor(a, dtype=torch.float64, requires_grad=i in grad_of)
                 for i, a in enumerate(arrays)]
    ours, theirs = ours_fn(*ours_in), theirs_fn(*theirs_in)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    if not grad_of:
        return
    v = np.random.default_rng(seed).standard_normal(theirs.shape)
    (ours * cr.tensor(v, dtype=cr.float64)).sum().backward()
    (theirs * torch.tensor(v)).sum().backward()
    for i in grad_of:
        np.testing.assert_allclose(ours_in[i].grad.numpy(), theirs_in[i].grad.numpy(), rtol=1e-12, atol=1e-14,
                                   equal_nan=True, err_msg=f"gradient of input {i}")


def quiet(fn):
    """fn with warnings silenced (for tests about values, not about the warning)."""
    def run(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args)
    return run


# the same losses by name in both libraries, with options that cross each kink
POINTWISE = {
    "mse": ({}, "mse_loss"),
    "l1": ({}, "l1_loss"),
    "smooth_l1": ({}, "smooth_l1_loss"),
    "smooth_l1_beta": ({"beta": 0.4}, "smooth_l1_loss"),
    "smooth_l1_beta0": ({"beta": 0.0}, "smooth_l1_loss"),
    "smooth_l1_wide": ({"beta": 3.0}, "smooth_l1_loss"),
    "huber": ({}, "huber_loss"),
    "huber_delta": ({"delta": 0.3}, "huber_loss"),
    "huber_wide": ({"delta": 2.5}, "huber_loss"),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_losses_match_torch(name, reduction):
    options, function = POINTWISE[name]
    x, y = values(6, 5), values(6, 5, seed=1)
    y[0, :2] = x[0, :2]  # d = 0 exactly: the kink of |d|
    compare(lambda a, b: getattr(F, function)(a, b, reduction=reduction, **options),
            lambda a, b: getattr(TF, function)(a, b, reduction=reduction, **options), [x, y])


MODULES = [
    (lambda m: m.MSELoss(reduction="sum"), None),
    (lambda m: m.L1Loss(), None),
    (lambda m: m.SmoothL1Loss(beta=0.5, reduction="none"), None),
    (lambda m: m.SmoothL1Loss(beta=0.0), None),
    (lambda m: m.HuberLoss(delta=0.7), None),
    (lambda m: m.HuberLoss(reduction="sum", delta=2.0), None),
    (lambda m: m.KLDivLoss(reduction="batchmean"), "kl"),
    (lambda m: m.KLDivLoss(reduction="sum", log_target=True), "kl_log"),
]


@pytest.mark.parametrize("number", range(len(MODULES)))
def test_loss_modules_match_torch(number):
    make, kind = MODULES[number]
    x, y = values(4, 3), values(4, 3, seed=2)
    if kind == "kl":
        x, y = TF.log_softmax(torch.tensor(x), 1).numpy(), TF.softmax(torch.tensor(y), 1).numpy()
    elif kind == "kl_log":
        x, y = TF.log_softmax(torch.tensor(x), 1).numpy(), TF.log_softmax(torch.tensor(y), 1).numpy()
    ours, theirs = make(nn), make(torch.nn)
    compare(lambda a, b: ours(a, b), lambda a, b: theirs(a, b), [x, y])
    assert repr(ours) == repr(theirs)


# --- targets of another shape ---------------------------------------------------------------
SHAPES = [((5, 1), (5,)), ((4, 3), (3,)), ((3,), (4, 3)), ((2, 1, 3), (4, 1))]


@pytest.mark.parametrize("input_shape,target_shape", SHAPES)
@pytest.mark.parametrize("name", ["mse", "l1", "smooth_l1_beta", "huber_delta"])
def test_a_target_of_another_shape_warns_and_broadcasts_like_torch(name, input_shape, target_shape):
    options, function = POINTWISE[name]
    x, y = values(*input_shape), values(*target_shape, seed=3)
    for reduction in REDUCTIONS:
        with pytest.warns(UserWarning, match=SIZE_WARNING) as caught:
            compare(lambda a, b, r=reduction: getattr(F, function)(a, b, reduction=r, **options),
                    quiet(lambda a, b, r=reduction: getattr(TF, function)(a, b, reduction=r, **options)),
                    [x, y])
        assert caught[0].filename == __file__   # the warning points at the caller's line, as PyTorch's
    expected = np.broadcast_shapes(input_shape, target_shape)
    with pytest.warns(UserWarning, match=r"target size \(5,\) that is different to the input size \(5, 1\)"):
        F.mse_loss(cr.zeros(5, 1), cr.zeros(5))
    with pytest.warns(UserWarning):
        assert F.mse_loss(cr.tensor(x), cr.tensor(y), reduction="none").shape == expected


def test_same_shapes_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.mse_loss(cr.zeros(5, 1), cr.zeros(5, 1))
        F.kl_div(cr.zeros(4, 3), cr.ones(3), reduction="sum")  # kl_div broadcasts silently, as PyTorch
        nn.SmoothL1Loss()(cr.zeros(3), cr.zeros(3))


def test_binary_cross_entropies_raise_on_another_shape_as_torch_does():
    p, y = np.full((5, 1), 0.3), np.full(5, 1.0)
    for ours, theirs in [(F.binary_cross_entropy, TF.binary_cross_entropy),
                         (F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits)]:
        with pytest.raises(ValueError):
            theirs(torch.tensor(p), torch.tensor(y))
        with pytest.raises(ValueError, match=r"target of shape \(5,\) must have the input's shape \(5, 1\)"):
            ours(cr.tensor(p), cr.tensor(y))


def test_shapes_that_do_not_broadcast_raise_a_shape_error():
    with pytest.raises(cr.ShapeError, match=r"smooth_l1_loss: input of shape \(3, 2\) and target of shape"):
        F.smooth_l1_loss(cr.randn(3, 2), cr.randn(3))
    with pytest.raises(cr.ShapeError, match="kl_div"):
        F.kl_div(cr.randn(3, 2), cr.rand(3), reduction="sum")


# --- weights ---------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("function", ["mse_loss", "l1_loss", "huber_loss"])
def test_weighted_losses_match_torch_including_the_weight_gradient(function, reduction):
    x, y = values(4, 3), values(4, 3, seed=4)
    w = np.random.default_rng(5).uniform(0.1, 2.0, (4, 3))
    compare(lambda a, b, c: getattr(F, function)(a, b, reduction=reduction, weight=c),
            lambda a, b, c: getattr(TF, function)(a, b, reduction=reduction, weight=c), [x, y, w])


def test_weight_must_have_the_input_shape():
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        TF.mse_loss(torch.zeros(4, 3), torch.zeros(4, 3), weight=torch.ones(3))
    with pytest.raises(cr.ShapeError, match=r"mse_loss: weight of shape \(3,\) must have the input's shape"):
        F.mse_loss(cr.zeros(4, 3), cr.zeros(4, 3), weight=cr.ones(3))


@pytest.mark.parametrize("weight_shape", [(3,), (5, 1), (1,), (), (5, 3)])
def test_bce_weights_broadcast_to_the_input_like_torch(weight_shape):
    p = np.random.default_rng(6).uniform(0.05, 0.95, (5, 3))
    y = np.random.default_rng(7).uniform(0, 1, (5, 3))
    w = np.random.default_rng(8).uniform(0.2, 2.0, weight_shape)
    ours_w, theirs_w = cr.tensor(w, dtype=cr.float64), torch.tensor(w)
    for r in REDUCTIONS:
        compare(lambda a, b, r=r: F.binary_cross_entropy(a, b, weight=ours_w, reduction=r),
                lambda a, b, r=r: TF.binary_cross_entropy(a, b, weight=theirs_w, reduction=r), [p, y])
        compare(lambda a, b, r=r: nn.BCEWithLogitsLoss(weight=ours_w, reduction=r)(a, b),
                lambda a, b, r=r: torch.nn.BCEWithLogitsLoss(weight=theirs_w, reduction=r)(a, b),
                [p * 6 - 3, y])


@pytest.mark.parametrize("weight_shape", [(2, 5, 3), (4,)])
def test_bce_weights_that_would_grow_the_loss_are_refused(weight_shape):
    p, w = cr.full((5, 3), 0.5), cr.ones(*weight_shape)
    for function in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
        with pytest.raises(cr.ShapeError, match=r"weight of shape .* does not broadcast to input shape"):
            function(p, p, weight=w)


# --- KL divergence ---------------------------------------------------------------------------
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean", "mean"])
def test_kl_div_matches_torch(reduction, log_target):
    log_q = TF.log_softmax(torch.tensor(values(5, 4)), 1).numpy()
    p = TF.softmax(torch.tensor(values(5, 4, seed=9)), 1).numpy()
    p[1, 2], p[3, 0] = 0.0, 0.0   # p = 0 contributes 0 (and its own derivative is NaN in both)
    target = np.log(p, where=p > 0, out=np.full_like(p, -np.inf)) if log_target else p
    compare(quiet(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target)),
            quiet(lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target)),
            [log_q, target], grad_of=[0] if log_target else [0, 1])


def test_kl_div_target_gradient_and_broadcast_match_torch():
    log_q = values(3, 4) * 0.3 - 2
    p = np.random.default_rng(10).uniform(0.05, 1.0, (4,))
    for log_target in (False, True):
        target = np.log(p) if log_target else p
        compare(lambda a, b, log=log_target: F.kl_div(a, b, reduction="batchmean", log_target=log),
                lambda a, b, log=log_target: TF.kl_div(a, b, reduction="batchmean", log_target=log),
                [log_q, target])


def test_kl_div_warns_about_mean_and_batchmean_is_the_true_divergence():
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(cr.zeros(2, 3), cr.ones(2, 3))
    q = cr.tensor([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]], dtype=cr.float64)
    p = cr.tensor([[0.25, 0.5, 0.25], [0.3, 0.3, 0.4]], dtype=cr.float64)
    true_kl = (p.numpy() * np.log(p.numpy() / q.numpy())).sum(axis=1).mean()
    assert F.kl_div(q.log(), p, reduction="batchmean").item() == pytest.approx(true_kl, rel=1e-14)
    assert F.kl_div(q.log(), p.log(), reduction="batchmean", log_target=True).item() == pytest.approx(true_kl)
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.kl_div(q, p, reduction="batch")
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="batchmean")


# --- PyTorch's deprecated flags --------------------------------------------------------------
@pytest.mark.parametrize("size_average,reduce", [(False, None), (None, False), (True, True), (False, True)])
def test_size_average_and_reduce_map_to_a_reduction_as_torch(size_average, reduce):
    x, y = values(3, 4), values(3, 4, seed=11)
    flags = {"size_average": size_average, "reduce": reduce}
    for function in ("mse_loss", "l1_loss", "smooth_l1_loss"):
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            compare(lambda a, b, f=function: getattr(F, f)(a, b, **flags),
                    quiet(lambda a, b, f=function: getattr(TF, f)(a, b, **flags)), [x, y])
    with pytest.warns(UserWarning, match="deprecated"):
        ours = nn.SmoothL1Loss(**flags)
    with pytest.warns(UserWarning, match="deprecated"):
        assert ours.reduction == torch.nn.SmoothL1Loss(**flags).reduction
    probabilities = np.random.default_rng(12).uniform(0.05, 0.95, (3, 4))
    compare(quiet(lambda a, b: F.binary_cross_entropy(a, b, **flags)),
            quiet(lambda a, b: TF.binary_cross_entropy(a, b, **flags)),
            [probabilities, probabilities[::-1].copy()])
    labels = np.array([0, 3, 1])
    compare(quiet(lambda a: F.cross_entropy(a, cr.tensor(labels), **flags)),
            quiet(lambda a: TF.cross_entropy(a, torch.tensor(labels), **flags)), [x])


def test_positional_arguments_follow_torch_signatures():
    x, labels = values(3, 4), np.array([0, 3, 1])
    compare(lambda a: F.cross_entropy(a, cr.tensor(labels), None, None, 3, None, "sum"),
            lambda a: TF.cross_entropy(a, torch.tensor(labels), None, None, 3, None, "sum"), [x])
    compare(lambda a, b: F.mse_loss(a, b, None, None, "sum"),
            lambda a, b: TF.mse_loss(a, b, None, None, "sum"), [x, x[::-1].copy()])


# --- finite differences ----------------------------------------------------------------------
def second_order(fn, *inputs):
    def gradient(*xs):
        out = fn(*xs)
        weights = cr.tensor(np.random.default_rng(7).standard_normal(out.shape), dtype=cr.float64)
        return cr.grad((out * weights).sum(), list(xs), create_graph=True)
    return cr.gradcheck(gradient, list(inputs))


GRADCHECKED = [
    lambda a, b, r: F.mse_loss(a, b, reduction=r),
    lambda a, b, r: F.l1_loss(a, b, reduction=r),
    lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.6),
    lambda a, b, r: F.huber_loss(a, b, reduction=r, delta=0.4),
    lambda a, b, r: F.mse_loss(a, b, reduction=r, weight=cr.tensor(np.linspace(0.5, 2, 12).reshape(3, 4),
                                                                    dtype=cr.float64)),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("number", range(len(GRADCHECKED)))
def test_gradcheck_with_a_broadcast_target(number, reduction):
    x, y = leaf(3, 4, seed=13, low=-2, high=2), leaf(4, seed=14, low=-2, high=2)
    fn = lambda a, b: GRADCHECKED[number](a, b, reduction)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cr.gradcheck(fn, [x, y])
        if number != 1:   # |d|'' is 0 away from the kink: nothing to check for l1
            assert second_order(fn, x, y)


@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean"])
def test_kl_div_gradcheck(reduction, log_target):
    x = leaf(3, 4, seed=15, low=-3, high=-0.5)
    p = leaf(4, seed=16, low=-2, high=-0.2) if log_target else leaf(4, seed=16, low=0.1, high=1.0)
    fn = lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target)  # noqa: E731
    assert cr.gradcheck(fn, [x, p])
    assert second_order(fn, x, p)


def test_float32_stays_float32():
    x, y = cr.randn(4, 3, requires_grad=True), cr.randn(4, 3)
    for loss in (F.smooth_l1_loss(x, y, beta=0.5), F.huber_loss(x, y), F.l1_loss(x, y),
                 F.kl_div(x, y.abs(), reduction="batchmean"), F.mse_loss(x, y, weight=cr.ones(4, 3))):
        loss.backward()
        assert loss.dtype == np.float32 and x.grad.dtype == np.float32


def test_bad_options():
    with pytest.raises(ValueError, match="beta must be non-negative"):
        F.smooth_l1_loss(cr.zeros(2), cr.zeros(2), beta=-1.0)
    with pytest.raises(ValueError, match="delta must be positive"):
        nn.HuberLoss(delta=0.0)(cr.zeros(2), cr.zeros(2))
    with pytest.raises(cr.DTypeError, match="l1_loss: input must be a floating-point Tensor"):
        F.l1_loss(cr.tensor([1, 2]), cr.tensor([1.0, 2.0]))


def test_loss_modules_take_keyword_arguments_as_torch():
    x, y = values(3, 2), values(3, 2, seed=17)
    compare(lambda a, b: nn.SmoothL1Loss(beta=0.5)(input=a, target=b),
            lambda a, b: torch.nn.SmoothL1Loss(beta=0.5)(input=a, target=b), [x, y])
    with pytest.raises(cr.ChainruleError, match="HuberLoss: the loss is NaN for input \\(1,\\)"):
        nn.HuberLoss()(input=cr.tensor([float("nan")]), target=cr.zeros(1))
