"""Loss functions and loss modules against PyTorch in float64: values and gradients for every
reduction, class weights, ignore_index, label smoothing, K-dimensional inputs, probability targets,
pos_weight, and gradients with respect to the target where PyTorch has them."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional
F = nn.functional


def pair(array, requires_grad=True):
    return (cr.tensor(array, dtype=cr.float64, requires_grad=requires_grad),
            torch.tensor(array, dtype=torch.float64, requires_grad=requires_grad))


def compare(ours_fn, theirs_fn, arrays, seed=0, grad_of=None):
    """Run both functions on the same float64 inputs; compare values and input gradients."""
    grad_of = range(len(arrays)) if grad_of is None else grad_of
    ours_in, theirs_in = zip(*[pair(a, i in grad_of) for i, a in enumerate(arrays)])
    ours_out, theirs_out = ours_fn(*ours_in), theirs_fn(*theirs_in)
    np.testing.assert_allclose(ours_out.numpy(), theirs_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    v = np.random.default_rng(seed).standard_normal(theirs_out.shape)
    (ours_out * cr.tensor(v, dtype=cr.float64)).sum().backward()
    (theirs_out * torch.tensor(v)).sum().backward()
    for i in grad_of:
        np.testing.assert_allclose(ours_in[i].grad.numpy(), theirs_in[i].grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"gradient of input {i}")


def logits(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape) * 3


def labels(shape, classes, seed=1, ignore=()):
    t = np.random.default_rng(seed).integers(0, classes, shape)
    for position in ignore:
        t[position] = -100
    return t


CLASS_WEIGHT = np.array([0.2, 1.0, 3.0, 0.7])
CE_CASES = [
    ((6, 4), {}),
    ((6, 4), {"reduction": "sum"}),
    ((6, 4), {"reduction": "none"}),
    ((6, 4), {"weight": CLASS_WEIGHT}),
    ((6, 4), {"weight": CLASS_WEIGHT, "reduction": "none"}),
    ((6, 4), {"label_smoothing": 0.2}),
    ((6, 4), {"label_smoothing": 0.1, "weight": CLASS_WEIGHT}),
    ((6, 4), {"label_smoothing": 0.3, "weight": CLASS_WEIGHT, "reduction": "sum", "ignore": [(1,)]}),
    ((6, 4), {"ignore": [(0,), (4,)]}),
    ((6, 4), {"ignore": [(0,)], "weight": CLASS_WEIGHT, "reduction": "none", "label_smoothing": 0.2}),
    ((3, 4, 5), {}),
    ((2, 4, 3, 2), {"weight": CLASS_WEIGHT, "label_smoothing": 0.15, "ignore": [(0, 1, 1)]}),
    ((2, 4, 3), {"reduction": "none", "ignore": [(1, 2)]}),
    ((4,), {}),
    ((4,), {"reduction": "none", "label_smoothing": 0.1}),
]


@pytest.mark.parametrize("shape,options", CE_CASES)
def test_cross_entropy_with_class_indices(shape, options):
    options = dict(options)
    ignore = options.pop("ignore", [])
    target_shape = () if len(shape) == 1 else shape[:1] + shape[2:]
    target = labels(target_shape, shape[-1] if len(shape) == 1 else shape[1], ignore=ignore)
    weight = options.pop("weight", None)
    ours_kw = dict(options, weight=None if weight is None else cr.tensor(weight, dtype=cr.float64))
    theirs_kw = dict(options, weight=None if weight is None else torch.tensor(weight))
    compare(lambda x: F.cross_entropy(x, cr.tensor(target), **ours_kw),
            lambda x: TF.cross_entropy(x, torch.tensor(target), **theirs_kw), [logits(*shape)])
    module = nn.CrossEntropyLoss(**ours_kw)
    compare(lambda x: module(x, cr.tensor(target)),
            lambda x: TF.cross_entropy(x, torch.tensor(target), **theirs_kw), [logits(*shape, seed=5)])


@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.25}, {"reduction": "none"},
                                     {"weight": CLASS_WEIGHT, "reduction": "sum"}])
def test_cross_entropy_with_class_probabilities(options):
    probabilities = np.random.default_rng(2).dirichlet(np.ones(4), size=(3, 5)).transpose(0, 2, 1)
    weight = options.get("weight")
    ours_kw = dict(options, weight=None if weight is None else cr.tensor(weight, dtype=cr.float64))
    theirs_kw = dict(options, weight=None if weight is None else torch.tensor(weight))
    compare(lambda x: F.cross_entropy(x, cr.tensor(probabilities, dtype=cr.float64), **ours_kw),
            lambda x: TF.cross_entropy(x, torch.tensor(probabilities), **theirs_kw), [logits(3, 4, 5)])


def test_cross_entropy_is_stable_for_huge_logits_and_keeps_float32():
    x = cr.tensor([[1000.0, -1000.0, 0.0], [-5e4, 5e4, 1.0]], requires_grad=True)
    loss = F.cross_entropy(x, cr.tensor([0, 1]))
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()
    assert loss.item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("options", [{}, {"reduction": "sum"}, {"reduction": "none"},
                                     {"weight": CLASS_WEIGHT}, {"weight": CLASS_WEIGHT, "ignore": True}])
def test_nll_loss(options):
    options = dict(options)
    target = labels((7,), 4, ignore=[(2,)] if options.pop("ignore", False) else [])
    weight = options.pop("weight", None)
    log_p = TF.log_softmax(torch.tensor(logits(7, 4)), 1).numpy()
    compare(lambda x: nn.NLLLoss(None if weight is None else cr.tensor(weight, dtype=cr.float64), **options)(
                x, cr.tensor(target)),
            lambda x: TF.nll_loss(x, torch.tensor(target), None if weight is None else torch.tensor(weight),
                                  **options), [log_p])


def test_nll_of_log_softmax_equals_cross_entropy():
    x = cr.tensor(logits(5, 3), dtype=cr.float64)
    t = cr.tensor(labels((5,), 3))
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(x, dim=1), t).item(), F.cross_entropy(x, t).item())


BCE_CASES = [
    {}, {"reduction": "sum"}, {"reduction": "none"},
    {"weight": np.array([0.5, 2.0, 1.0])},
    {"pos_weight": np.array([3.0, 0.5, 1.0])},
    {"weight": np.array([[0.5], [2.0], [1.0], [0.1]]), "pos_weight": np.array([2.0, 1.0, 4.0]),
     "reduction": "sum"},
]


def split_options(options):
    """The same keyword arguments for both libraries, arrays turned into each one's tensors."""
    ours = {k: cr.tensor(v, dtype=cr.float64) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    theirs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    return ours, theirs


@pytest.mark.parametrize("options", BCE_CASES)
def test_bce_with_logits_input_and_target_gradients(options):
    ours_kw, theirs_kw = split_options(options)
    x = logits(4, 3) * 10  # includes large |x|: the stable form matters
    y = np.random.default_rng(3).uniform(0, 1, (4, 3))
    compare(lambda a, b: F.binary_cross_entropy_with_logits(a, b, **ours_kw),
            lambda a, b: TF.binary_cross_entropy_with_logits(a, b, **theirs_kw), [x, y])
    module = nn.BCEWithLogitsLoss(**ours_kw)
    compare(lambda a: module(a, cr.tensor(y, dtype=cr.float64)),
            lambda a: TF.binary_cross_entropy_with_logits(a, torch.tensor(y), **theirs_kw), [x])


@pytest.mark.parametrize("options", [{}, {"reduction": "none"}, {"weight": np.array([0.5, 2.0, 1.0]),
                                                                 "reduction": "sum"}])
def test_bce_on_probabilities(options):
    ours_kw, theirs_kw = split_options(options)
    p = np.random.default_rng(4).uniform(0.02, 0.98, (5, 3))
    y = (np.random.default_rng(5).uniform(0, 1, (5, 3)) > 0.5).astype(float)
    compare(lambda a, b: F.binary_cross_entropy(a, b, **ours_kw),
            lambda a, b: TF.binary_cross_entropy(a, b, **theirs_kw), [p, y])
    compare(lambda a: nn.BCELoss(**ours_kw)(a, cr.tensor(y, dtype=cr.float64)),
            lambda a: TF.binary_cross_entropy(a, torch.tensor(y), **theirs_kw), [p])


def test_bce_clamps_logs_at_minus_100_like_pytorch():
    p = np.array([0.0, 1.0, 0.5])
    y = np.array([1.0, 0.0, 1.0])
    ours = F.binary_cross_entropy(cr.tensor(p, dtype=cr.float64), cr.tensor(y, dtype=cr.float64),
                                  reduction="none")
    theirs = TF.binary_cross_entropy(torch.tensor(p), torch.tensor(y), reduction="none")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("target_shape", [(4, 3), (3,)])
def test_mse_and_l1(reduction, target_shape):
    x, y = logits(4, 3), logits(*target_shape, seed=7)
    grad_of = [0, 1]
    with pytest.warns(UserWarning) if target_shape != (4, 3) else _no_warning():
        compare(lambda a, b: nn.MSELoss(reduction=reduction)(a, b),
                lambda a, b: TF.mse_loss(a, b, reduction=reduction), [x, y], grad_of=grad_of)
    if target_shape == (4, 3):
        compare(lambda a, b: nn.L1Loss(reduction=reduction)(a, b),
                lambda a, b: TF.l1_loss(a, b, reduction=reduction), [x, y], grad_of=grad_of)


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_loss_modules_keep_weights_as_buffers():
    loss = nn.CrossEntropyLoss(weight=cr.tensor([1.0, 2.0]))
    assert list(loss.state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=cr.tensor([2.0])).state_dict()) == ["pos_weight"]
    assert repr(nn.MSELoss()) == "MSELoss()"
