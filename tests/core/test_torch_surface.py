"""PyTorch's creation, random, device and mode surface: the forms scripts write, checked against torch."""

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _same_kind(ours, theirs):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")


@pytest.mark.parametrize("call", [
    lambda m: m.zeros(2, 3), lambda m: m.zeros((2, 3)), lambda m: m.zeros([2, 3]),
    lambda m: m.zeros(size=(2, 3)), lambda m: m.ones(4, dtype=m.float64), lambda m: m.empty(2, 2),
    lambda m: m.full((2,), 3), lambda m: m.full((2,), 3.5), lambda m: m.full((2,), True),
    lambda m: m.arange(5), lambda m: m.arange(1, 4),
    lambda m: m.arange(0, 1, 0.25), lambda m: m.arange(1.0, 4.0), lambda m: m.linspace(0, 1, 5),
    lambda m: m.logspace(0, 2, 3), lambda m: m.eye(3), lambda m: m.eye(2, 4),
    lambda m: m.zeros_like(m.ones(2, 3, dtype=m.int64)), lambda m: m.full_like(m.ones(2), 7.0),
    lambda m: m.rand(3, 2), lambda m: m.randn(size=(4,)), lambda m: m.randint(5, (100,)),
    lambda m: m.randint(2, 5, (3, 3)), lambda m: m.randint(low=1, high=3, size=(2,)), lambda m: m.randperm(6),
    lambda m: m.rand_like(m.ones(2, dtype=m.float64)), lambda m: m.randn_like(m.ones(3)),
    lambda m: m.randint_like(m.ones(3), 4), lambda m: m.normal(0.0, 1.0, size=(2, 2)),
    lambda m: m.normal(m.zeros(3), 2.0), lambda m: m.bernoulli(m.full((5,), 0.3)),
    lambda m: m.multinomial(m.tensor([0.2, 0.8]), 3, replacement=True),
    lambda m: m.zeros(2, device="cpu"), lambda m: m.ones(2, device=m.device("cpu")),
])
def test_factories_give_the_shapes_and_dtypes_torch_gives(call):
    _same_kind(call(cr), call(torch))


def test_randint_reads_pytorchs_argument_forms():
    draws = cr.randint(5, (100,))
    assert draws.shape == (100,) and draws.dtype == cr.int64 and draws.min() >= 0 and draws.max() < 5
    assert 2 <= cr.randint(2, 5, (50,)).min().item() and cr.randint(2, 5, (50,)).max().item() < 5
    with pytest.raises(cr.ArgumentError, match="needs a size tuple"):
        cr.randint(5, 100)
    with pytest.raises(cr.ArgumentError, match="less than"):
        cr.randint(5, 5, (3,))


def test_generators_give_reproducible_streams_independent_of_the_global_one():
    g = cr.Generator().manual_seed(2147483647)
    first = cr.randn(27, 27, generator=g)
    cr.manual_seed(0)
    cr.rand(10)                                 # the global stream moves; g's does not care
    again = cr.randn(27, 27, generator=cr.Generator().manual_seed(2147483647))
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert cr.Generator().initial_seed() == torch.Generator().initial_seed() == 67280421310721
    state = cr.get_rng_state()
    a = cr.rand(3)
    cr.set_rng_state(state)
    np.testing.assert_array_equal(a.numpy(), cr.rand(3).numpy())
    with cr.fork_rng():
        cr.rand(5)
    np.testing.assert_array_equal(cr.get_rng_state().numpy(), cr.get_rng_state().numpy())
    probs = cr.tensor([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    picks = cr.multinomial(probs, 1, generator=g)
    assert picks[0, 0].item() == 1 and picks[1, 0].item() in (0, 2)
    with pytest.raises(cr.ArgumentError, match="replacement=False"):
        cr.multinomial(cr.tensor([1.0, 0.0]), 2)


def test_devices_are_the_cpu_and_other_devices_refuse_in_one_line():
    device = cr.device("cuda" if cr.cuda.is_available() else "cpu")
    assert str(device) == "cpu" and device == "cpu" and cr.ones(2).device == device
    assert repr(cr.device("cuda", 1)) == repr(torch.device("cuda", 1)).replace("torch.", "")
    assert cr.tensor([1.0]).to(device) is not None
    assert cr.tensor([1.0]).to("cpu", cr.float64).dtype == cr.float64
    for move in (lambda: cr.tensor([1.0]).to("cuda"), lambda: cr.tensor([1.0]).cuda(),
                 lambda: cr.nn.Linear(2, 2).to(cr.device("cuda:0")), lambda: cr.zeros(2, device="mps")):
        with pytest.raises(cr.DeviceError, match="chainrule runs on the CPU only"):
            move()
    assert not cr.cuda.is_available() and cr.cuda.device_count() == 0 and not cr.backends.mps.is_available()
    cr.cuda.manual_seed_all(0)
    cr.cuda.synchronize()
    cr.backends.cudnn.benchmark = True
    assert cr.accelerator.current_accelerator() is None
    cr.set_default_device("cpu")
    assert cr.get_default_device() == "cpu"


def test_tensor_to_and_type_forms():
    x = cr.tensor([1, 2])
    assert x.type() == torch.tensor([1, 2]).type() == "torch.LongTensor"
    assert x.type(cr.float).dtype == cr.float32 and x.type("torch.DoubleTensor").dtype == cr.float64
    assert x.to(cr.zeros(1, dtype=cr.float64)).dtype == cr.float64
    assert x.to(dtype=cr.float16).dtype == cr.float16 and x.to("cpu") is x
    y = cr.ones(2, requires_grad=True)
    z = y.to(cr.float64)
    z.sum().backward()
    assert y.grad.dtype == cr.float32 and y.grad.tolist() == [1.0, 1.0]
    assert cr.float is cr.float32 and cr.double is cr.float64 and cr.long is cr.int64
    assert cr.half is cr.float16 and cr.int is cr.int32 and cr.short is cr.int16
    assert cr.finfo(cr.float32).eps == torch.finfo(torch.float32).eps


def test_grad_modes_as_contexts_and_decorators():
    x = cr.ones(2, requires_grad=True)

    @cr.no_grad
    def bare():
        return (x * 2).requires_grad

    @cr.no_grad()
    def called():
        return (x * 2).requires_grad

    @cr.inference_mode()
    def inference():
        return (x * 2).requires_grad

    assert not bare() and not called() and not inference() and (x * 2).requires_grad
    with cr.inference_mode():
        assert not (x * 2).requires_grad and cr.is_inference_mode_enabled()
    with cr.inference_mode(False):
        assert (x * 2).requires_grad
    cr.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        cr.set_grad_enabled(True)
    with cr.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_out_keyword_writes_into_the_given_tensor():
    out = cr.empty(3)
    result = cr.arange(3, out=out)
    assert result is out and out.tolist() == [0.0, 1.0, 2.0]
    cr.zeros(2, 2, out=out)
    assert out.shape == (2, 2)
