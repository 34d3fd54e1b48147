"""``t.grad_fn``: the Node that shows the op which made ``t``. It holds its tensor, as PyTorch's
grad_fn holds its graph, so the grad_fn of a temporary (``lin(x).grad_fn``) is usable; the tensor
holds it only weakly, so no reference cycle keeps a graph alive."""

import gc
import weakref

import numpy as np

import chainrule as cr
from chainrule import nn


def test_the_grad_fn_of_a_temporary_shows_its_op():
    cr.manual_seed(0)
    lin = nn.Linear(2, 3)
    x = cr.randn(4, 2)
    node = lin(x).grad_fn                    # the output itself is gone after this line
    assert repr(node) == "<LinearBackward>" and node.name == "LinearBackward"
    assert node.inputs[0] is x and node.inputs[1] is lin.weight and node.inputs[2] is lin.bias
    np.testing.assert_allclose(node.output, lin(x).detach().numpy())
    assert repr(nn.Linear(2, 3)(cr.randn(4, 2)).grad_fn) == "<LinearBackward>"
    assert (cr.randn(3, requires_grad=True) * 2).grad_fn.name == "MulBackward"


def test_the_grad_fn_of_a_compiled_models_temporary_output():
    model = cr.compile(nn.Sequential(nn.Linear(2, 3), nn.Tanh()))
    names = [model(cr.randn(4, 2)).grad_fn.name for _ in range(3)]   # recorded, then replayed
    assert names[0] == "TanhBackward" and names[1:] == ["CompiledFunctionBackward"] * 2


def test_a_held_grad_fn_keeps_its_tensor_and_dropping_it_frees_everything_without_gc():
    x = cr.tensor(np.ones(8), requires_grad=True)
    hidden = x * 2
    probe = weakref.ref(hidden.numpy())
    node = hidden.grad_fn
    assert node is hidden.grad_fn            # the same object while someone holds it
    del hidden
    assert probe() is not None and node.output is not None
    gc.disable()                             # reference counting alone must free it: no cycle
    try:
        del node
        assert probe() is None
    finally:
        gc.enable()


def test_a_grad_fn_taken_before_an_in_place_op_keeps_showing_the_earlier_op():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    before = y.grad_fn
    y.add_(1)
    assert before.name == "MulBackward" and y.grad_fn.name == "AddBackward"
    assert before.inputs[0] is x and y.grad_fn is not before
