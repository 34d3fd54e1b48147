"""nn.init: gains and fans as PyTorch computes them, the statistics of every initialiser, PyTorch's
default initialisation of each layer, and reproducibility under cr.manual_seed."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import init


@pytest.mark.parametrize("name,param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                                        ("selu", None)])
def test_gains_match_pytorch(name, param):
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_unknown_nonlinearity_is_refused():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_fans_of_linear_and_conv_weights():
    assert init._calculate_fan_in_and_fan_out(cr.zeros(4, 3)) == (3, 4)
    assert init._calculate_fan_in_and_fan_out(cr.zeros(8, 2, 3, 5)) == (30, 120)
    with pytest.raises(cr.ShapeError, match="at least 2 dims"):
        init.kaiming_uniform_(cr.zeros(5))


BIG = (400, 500)  # 200,000 samples: the sample std is within ~0.5% of the true one


@pytest.mark.parametrize("fn,kwargs,std,uniform", [
    (init.kaiming_uniform_, {}, math.sqrt(2 / (1 + 0.0)) / math.sqrt(500), True),
    (init.kaiming_uniform_, {"a": math.sqrt(5)}, 1 / math.sqrt(3 * 500), True),
    (init.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / 400), True),
    (init.kaiming_normal_, {"nonlinearity": "relu"}, math.sqrt(2 / 500), False),
    (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "tanh"}, 5 / 3 / math.sqrt(400), False),
    (init.xavier_uniform_, {}, math.sqrt(2 / 900), True),
    (init.xavier_uniform_, {"gain": 2.0}, 2 * math.sqrt(2 / 900), True),
    (init.xavier_normal_, {}, math.sqrt(2 / 900), False),
])
def test_initialiser_statistics(fn, kwargs, std, uniform):
    weight = cr.zeros(*BIG)
    assert fn(weight, **kwargs) is weight
    assert abs(weight.numpy().mean()) < 0.02 * std * 5
    assert weight.numpy().std() == pytest.approx(std, rel=0.01)
    if uniform:
        bound = math.sqrt(3) * std
        assert np.abs(weight.numpy()).max() <= bound * (1 + 1e-6)
        assert np.abs(weight.numpy()).max() > 0.99 * bound


def test_simple_fills_and_dtype_kept():
    t = cr.zeros(300, 300, dtype=cr.float64)
    init.uniform_(t, -2.0, 3.0)
    assert t.dtype == np.float64 and -2 <= t.numpy().min() and t.numpy().max() < 3
    assert t.numpy().mean() == pytest.approx(0.5, abs=0.02)
    init.normal_(t, 1.0, 0.5)
    assert t.numpy().mean() == pytest.approx(1.0, abs=0.01)
    assert t.numpy().std() == pytest.approx(0.5, rel=0.01)
    init.trunc_normal_(t, 0.0, 1.0, -1.0, 1.5)
    assert t.numpy().min() >= -1.0 and t.numpy().max() <= 1.5
    assert float(init.constant_(t, 0.25).numpy().max()) == 0.25
    assert float(init.zeros_(t).sum()) == 0 and float(init.ones_(t).sum()) == 90000
    np.testing.assert_array_equal(init.eye_(cr.zeros(2, 3)).numpy(), np.eye(2, 3))


def test_initialisation_modifies_in_place_without_recording():
    p = nn.Parameter(cr.zeros(3, 4))
    version = p._version
    init.kaiming_normal_(p)
    assert p.is_leaf and p.grad_fn is None and p._version == version + 1


def test_manual_seed_makes_layers_reproducible():
    cr.manual_seed(42)
    a = nn.Linear(5, 3)
    cr.manual_seed(42)
    b = nn.Linear(5, 3)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    np.testing.assert_array_equal(a.bias.numpy(), b.bias.numpy())


def test_layer_defaults_follow_pytorch():
    cr.manual_seed(0)
    layer = nn.Linear(250, 400)
    bound = 1 / math.sqrt(250)  # kaiming_uniform_(a=sqrt(5)) and the bias rule give the same bound
    assert np.abs(layer.weight.numpy()).max() <= bound and np.abs(layer.weight.numpy()).max() > 0.99 * bound
    assert layer.weight.numpy().std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    assert np.abs(layer.bias.numpy()).max() <= bound and layer.weight.dtype == np.float32
    norm = nn.BatchNorm2d(6)
    np.testing.assert_array_equal(norm.weight.numpy(), np.ones(6))
    np.testing.assert_array_equal(norm.bias.numpy(), np.zeros(6))
    np.testing.assert_array_equal(norm.running_var.numpy(), np.ones(6))
    embedding = nn.Embedding(300, 200, padding_idx=3)
    assert embedding.weight.numpy().std() == pytest.approx(1.0, rel=0.01)
    assert not embedding.weight.numpy()[3].any()
    ln = nn.LayerNorm((2, 3))
    assert ln.weight.shape == (2, 3) and float(ln.weight.sum()) == 6
