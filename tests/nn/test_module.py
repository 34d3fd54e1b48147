"""Module, Parameter and the containers: registration, traversal, modes, state_dict round trips and
their errors, hooks, dtype casts and PyTorch-style reprs."""

from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 4)
        self.norm = nn.BatchNorm1d(4)
        self.out = nn.Linear(4, 1)
        self.scale = nn.Parameter(cr.ones(1))
        self.register_buffer("steps", cr.zeros(1))
        self.register_buffer("scratch", cr.zeros(2), persistent=False)

    def forward(self, x):
        return self.out(self.norm(self.hidden(x)).relu()) * self.scale


def test_parameter_is_a_leaf_tensor_that_requires_grad():
    p = nn.Parameter(cr.tensor([1.0, 2.0]))
    assert isinstance(p, cr.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert not nn.Parameter(cr.zeros(2), requires_grad=False).requires_grad
    source = cr.zeros(3)
    nn.Parameter(source).numpy()[0] = 5  # shares memory, as torch.nn.Parameter does
    assert source.numpy()[0] == 5


def test_registration_and_traversal_order():
    model = TwoLayer()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["scale", "hidden.weight", "hidden.bias", "norm.weight", "norm.bias", "out.weight",
                     "out.bias"]
    assert [n for n, _ in model.named_buffers()] == [
        "steps", "scratch", "norm.running_mean", "norm.running_var", "norm.num_batches_tracked"]
    assert [n for n, _ in model.named_children()] == ["hidden", "norm", "out"]
    assert [n for n, _ in model.named_modules()] == ["", "hidden", "norm", "out"]
    assert len(list(model.parameters(recurse=False))) == 1
    assert model.get_submodule("norm") is model.norm
    assert model.get_parameter("out.bias") is model.out.bias
    assert "hidden" in dir(model)


def test_shared_modules_and_parameters_are_listed_once():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert len(list(model.modules())) == 3
    tied = nn.Module()
    tied.a, tied.b = nn.Linear(2, 2), nn.Linear(2, 2)
    tied.b.weight = tied.a.weight
    assert len(list(tied.parameters())) == 3


def test_reassignment_and_deletion():
    model = nn.Module()
    model.layer = nn.Linear(2, 2)
    model.layer = None
    assert model.layer is None and list(model.parameters()) == []
    model.w = nn.Parameter(cr.zeros(2))
    with pytest.raises(TypeError, match="nn.Parameter"):
        model.w = cr.zeros(2)
    del model.w
    assert not hasattr(model, "w")
    model.plain = 3
    assert model.plain == 3 and list(model.state_dict()) == []


def test_assignment_before_init_is_explained():
    class Forgetful(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Forgetful()


def test_train_eval_apply_and_zero_grad():
    model = TwoLayer()
    assert model.training and model.norm.training
    model.eval()
    assert not model.training and not model.norm.training
    model.train()
    assert model.norm.training
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "Linear", "TwoLayer"]
    model(cr.randn(5, 2)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(float(abs(p.grad).sum()) == 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_state_dict_round_trip_includes_buffers():
    cr.manual_seed(1)
    source = TwoLayer()
    source(cr.randn(6, 2))  # moves the running statistics
    state = source.state_dict()
    assert list(state) == ["scale", "steps", "hidden.weight", "hidden.bias", "norm.weight", "norm.bias",
                           "norm.running_mean", "norm.running_var", "norm.num_batches_tracked",
                           "out.weight", "out.bias"]
    assert not any(t.requires_grad for t in state.values())
    cr.manual_seed(2)
    target = TwoLayer()
    result = target.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for key, value in target.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), state[key].numpy())
    assert int(target.norm.num_batches_tracked.item()) == 1
    x = cr.randn(3, 2)
    source.eval(), target.eval()
    np.testing.assert_array_equal(source(x).numpy(), target(x).numpy())
    # loading copies: changing the source afterwards leaves the target alone
    source.hidden.weight.numpy()[...] = 0
    assert np.abs(target.hidden.weight.numpy()).sum() > 0


def test_load_state_dict_errors_name_every_bad_key_and_write_nothing():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    state = OrderedDict((k, v.numpy().copy() + 1) for k, v in model.state_dict().items())
    del state["0.bias"]
    state["2.weight"] = np.zeros(3)
    state["1.weight"] = np.zeros((2, 3))
    with pytest.raises(cr.ChainruleError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert 'Missing key(s) in state_dict: "0.bias"' in message
    assert 'Unexpected key(s) in state_dict: "2.weight"' in message
    assert ("size mismatch for 1.weight: copying a value of shape (2, 3) into a parameter of shape (1, 3)"
            in message)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key])
    # strict=False tolerates missing/unexpected keys but never a wrong shape
    with pytest.raises(cr.ShapeError, match="size mismatch for 1.weight"):
        model.load_state_dict(state, strict=False)
    del state["1.weight"]
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["0.bias", "1.weight"] and result.unexpected_keys == ["2.weight"]
    np.testing.assert_array_equal(model[0].weight.numpy(), before["0.weight"] + 1)


def test_load_state_dict_keeps_dtype_and_bumps_version():
    layer = nn.Linear(2, 2)
    version = layer.weight._version
    layer.load_state_dict({"weight": np.ones((2, 2), dtype=np.float64), "bias": [0.5, 0.5]})
    assert layer.weight.dtype == np.float32 and layer.weight._version == version + 1
    np.testing.assert_array_equal(layer.bias.numpy(), [0.5, 0.5])


def test_to_double_casts_parameters_and_buffers():
    model = TwoLayer().double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model.norm.running_mean.dtype == np.float64
    assert model.norm.num_batches_tracked.dtype == np.int64
    assert model.to("cpu") is model and model.to(cr.float32).out.weight.dtype == np.float32
    with pytest.raises(cr.ChainruleError, match="CPU"):
        model.to("cuda")


def test_repr_matches_pytorch_layout():
    inner = nn.Sequential(nn.Linear(16, 1, bias=False), nn.Sigmoid())
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), inner)
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=16, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Linear(in_features=16, out_features=1, bias=False)\n"
        "    (1): Sigmoid()\n"
        "  )\n"
        ")")


def test_repr_against_pytorch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.LeakyReLU(0.2), nn.Dropout(0.25),
                         nn.LayerNorm(4), nn.GELU(), nn.Flatten(), nn.Embedding(5, 4, padding_idx=0),
                         nn.Softmax(dim=1), nn.CrossEntropyLoss(), nn.Identity())
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.LeakyReLU(0.2),
                                 torch.nn.Dropout(0.25), torch.nn.LayerNorm(4), torch.nn.GELU(),
                                 torch.nn.Flatten(), torch.nn.Embedding(5, 4, padding_idx=0),
                                 torch.nn.Softmax(dim=1), torch.nn.CrossEntropyLoss(), torch.nn.Identity())
    assert repr(ours) == repr(theirs)


def test_sequential_indexing_and_editing():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    model = nn.Sequential(a, b)
    model.append(c)
    assert len(model) == 3 and model[-1] is c and list(model) == [a, b, c]
    assert isinstance(model[1:], nn.Sequential) and list(model[1:]) == [b, c]
    assert model(cr.randn(4, 2)).shape == (4, 1)
    del model[1]
    assert list(model._modules) == ["0", "1"] and model[1] is c
    model[0] = nn.Linear(2, 3)
    assert model[0] is not a
    with pytest.raises(IndexError, match="out of range"):
        model[5]
    named = nn.Sequential(OrderedDict([("first", a), ("act", b)]))
    assert [n for n, _ in named.named_children()] == ["first", "act"]


def test_module_list_and_dict_register_their_modules():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.Linear(2, 1))
    assert len(layers) == 4 and len(list(layers.parameters())) == 8
    assert [n for n, _ in layers.named_parameters()][:2] == ["0.weight", "0.bias"]
    layers.insert(0, nn.ReLU())
    assert isinstance(layers[0], nn.ReLU) and isinstance(layers[-1], nn.Linear)
    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 2)})
    assert list(heads.keys()) == ["a", "b"] and "a" in heads and len(list(heads.parameters())) == 4
    with pytest.raises(NotImplementedError):
        layers(cr.zeros(1))


def test_forward_hooks_can_replace_inputs_and_outputs():
    layer = nn.Linear(2, 2)
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = layer.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = layer(cr.ones(3, 2))
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(layer.bias.numpy() + 1, (3, 2)), rtol=1e-6)
    assert calls == [(3, 2)]
    pre.remove(), post.remove()
    assert layer(cr.zeros(1, 2)).shape == (1, 2) and calls == [(3, 2)]


def test_full_backward_hook_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Linear(3, 2).double(), torch.nn.Linear(3, 2).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    seen = {}
    ours.register_full_backward_hook(lambda m, gi, go: seen.update(ours=(gi[0].numpy(), go[0].numpy())))
    theirs.register_full_backward_hook(lambda m, gi, go: seen.update(theirs=(gi[0].numpy(), go[0].numpy())))
    x = np.random.default_rng(0).standard_normal((4, 3))
    (ours(cr.tensor(x, requires_grad=True)) ** 2).sum().backward()
    (theirs(torch.tensor(x, requires_grad=True)) ** 2).sum().backward()
    for a, b in zip(seen["ours"], seen["theirs"]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    # a hook may rescale grad_input
    scaled = nn.Linear(3, 2).double()
    scaled.register_full_backward_hook(lambda m, gi, go: (gi[0] * 2,))
    x1 = cr.tensor(x, requires_grad=True)
    scaled(x1).sum().backward()
    np.testing.assert_allclose(x1.grad.numpy(), 2 * np.tile(scaled.weight.numpy().sum(0), (4, 1)), rtol=1e-12)
