"""Every nn layer compiled in mode="check": each replay is compared with eager execution -- the
outputs, the buffers it changed, the random stream, and (through the backward) every gradient --
and CompileCheckError is raised on any difference. A layer whose Python reads its inputs' values
must say so: it runs eagerly, with one CompileWarning naming the reason."""

import warnings

import pytest
from zoo import CASES

import chainrule as cr
from chainrule.compiler import CompileWarning
from chainrule.tensor import Tensor

# These read values in Python (a replay could not repeat that) and must fall back, naming why.
EAGER = {
    "BatchNorm2d momentum=None": "read by Python",     # 1 / num_batches_tracked, a Python float
    "BCELoss": "read by Python",                       # the [0, 1] check of the input's values
    "CrossEntropyLoss smoothing": "computed by Python",  # coefficients made from the targets
    "NLLLoss": "computed by Python",
    "CosineEmbeddingLoss": "computed by Python",
}


def _tensors(value) -> list:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    return []


def _three_steps(compiled, make_inputs):
    outputs = []
    for _ in range(3):
        args = make_inputs()
        out = compiled(*args)
        differentiable = [t for t in _tensors(out) if t.requires_grad]
        if differentiable:
            sum(t.sum() for t in differentiable).backward()
        outputs.append(out)
    return outputs


@pytest.mark.parametrize("name,make,make_inputs", CASES, ids=[case[0] for case in CASES])
def test_layer_replays_as_eager_in_check_mode(name, make, make_inputs):
    module = make()
    compiled = cr.compile(module, mode="check")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _three_steps(compiled, make_inputs)
    reasons = [str(w.message) for w in caught if issubclass(w.category, CompileWarning)]
    if name in EAGER:
        assert len(reasons) == 1 and EAGER[name] in reasons[0], reasons
        assert compiled.stats.eager == 2 and compiled.stats.recorded == 0
    else:
        assert reasons == []
        assert compiled.stats.recorded == 1 and compiled.stats.checked == 2


@pytest.mark.parametrize("name,make,make_inputs", [c for c in CASES if c[0] not in EAGER][:12],
                         ids=[c[0] for c in CASES if c[0] not in EAGER][:12])
def test_layer_gradients_equal_eager_under_default_mode(name, make, make_inputs):
    """Default mode (checked once, then trusted): the parameters' gradients after a replayed
    backward are those of an eager twin, bitwise."""
    cr.manual_seed(3)
    twin = make()
    cr.manual_seed(3)
    module = make()
    compiled = cr.compile(module)
    for step in range(3):
        cr.manual_seed(10 + step)
        args = make_inputs()
        eager_args = [a.detach().requires_grad_(a.requires_grad) if isinstance(a, Tensor) else a
                      for a in args]
        out, eager_out = compiled(*args), twin(*eager_args)
        for mine, theirs in zip(_tensors(out), _tensors(eager_out)):
            assert (mine.numpy() == theirs.numpy()).all()
        differentiable = [t for t in _tensors(out) if t.requires_grad]
        if differentiable:
            sum(t.sum() for t in differentiable).backward()
            sum(t.sum() for t in _tensors(eager_out) if t.requires_grad).backward()
        for (name_a, a), (_, b) in zip(module.named_parameters(), twin.named_parameters()):
            assert (a.grad.numpy() == b.grad.numpy()).all(), name_a
        module.zero_grad()
        twin.zero_grad()
    assert compiled.stats.replayed == 1
