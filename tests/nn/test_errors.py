"""Bad input gets an error that names the layer or op and the shapes/dtypes involved."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F


def test_linear_wrong_feature_count_names_layer_and_shapes():
    with pytest.raises(cr.ShapeError) as info:
        nn.Linear(784, 10)(cr.randn(32, 100))
    assert str(info.value) == ("Linear(in_features=784, out_features=10, bias=True): expected input with "
                               "last dim 784, got shape (32, 100)")
    with pytest.raises(cr.ShapeError, match=r"linear: input of shape \(2, 3\) does not fit weight of shape"):
        F.linear(cr.randn(2, 3), cr.randn(4, 5))


def test_linear_dtype_mismatch_is_explained():
    with pytest.raises(cr.DTypeError, match=r"input is float64 \(shape \(2, 3\)\) but the layer's weights "
                                            r"are float32"):
        nn.Linear(3, 1)(cr.randn(2, 3, dtype=cr.float64))


def test_cross_entropy_float_targets():
    with pytest.raises(cr.DTypeError) as info:
        F.cross_entropy(cr.randn(4, 3), cr.tensor([0.0, 1.0, 2.0, 1.0]))
    message = str(info.value)
    assert "cross_entropy" in message and "float32" in message and "(4,)" in message and "(4, 3)" in message
    assert "target.long()" in message


def test_cross_entropy_out_of_range_class_names_the_value_and_position():
    with pytest.raises(cr.ShapeError) as info:
        nn.CrossEntropyLoss()(cr.randn(4, 10), cr.tensor([1, 2, 10, 3]))
    assert str(info.value) == ("cross_entropy: target 10 at position (2,) is out of range for 10 classes "
                               "(input of shape (4, 10)); targets must be in [0, 9] or ignore_index=-100")
    with pytest.raises(cr.ShapeError, match="target -1 at position"):
        F.cross_entropy(cr.randn(2, 3), cr.tensor([0, -1]))


@pytest.mark.parametrize("dtype", ["int8", "int32", "uint8", "uint64"])
def test_cross_entropy_range_check_for_every_integer_dtype(dtype):
    """The range check reads the indices as unsigned: any integer dtype, both ends."""
    x = cr.randn(3, 4)
    assert np.isfinite(F.cross_entropy(x, cr.tensor(np.array([0, 3, 2], dtype))).item())
    with pytest.raises(cr.ShapeError, match="target 4 at position"):
        F.cross_entropy(x, cr.tensor(np.array([0, 4, 2], dtype)))
    if dtype.startswith("int"):
        with pytest.raises(cr.ShapeError, match="target -2 at position"):
            F.cross_entropy(x, cr.tensor(np.array([0, 1, -2], dtype)))


def test_cross_entropy_wrong_shapes_and_options():
    with pytest.raises(cr.ShapeError, match=r"target of shape \(3,\) does not fit input of shape \(4, 5\)"):
        F.cross_entropy(cr.randn(4, 5), cr.tensor([0, 1, 2]))
    with pytest.raises(cr.ShapeError, match=r"expected target shape \(2, 7\)"):
        F.cross_entropy(cr.randn(2, 5, 7), cr.tensor(np.zeros((2, 5), dtype=np.int64)))
    with pytest.raises(cr.ShapeError, match=r"weight must have one entry per class, shape \(5,\)"):
        F.cross_entropy(cr.randn(2, 5), cr.tensor([0, 1]), weight=cr.ones(3))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(cr.randn(2, 5), cr.tensor([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(cr.randn(2, 5), cr.tensor([0, 1]), label_smoothing=1.5)
    with pytest.raises(cr.DTypeError, match="floating-point logits"):
        F.cross_entropy(cr.tensor([[1, 2]]), cr.tensor([0]))


def test_nan_loss_is_an_error_naming_the_loss_and_shapes():
    x = cr.tensor([[0.5, float("nan")]], requires_grad=True)
    with pytest.raises(cr.ChainruleError) as info:
        nn.CrossEntropyLoss()(x, cr.tensor([1]))
    message = str(info.value)
    assert "CrossEntropyLoss: the loss is NaN" in message and "(1, 2) float32" in message
    assert "input already holds NaN" in message
    quiet = nn.MSELoss()
    quiet.check_finite = False
    assert np.isnan(quiet(cr.tensor([float("inf")]), cr.tensor([float("inf")])).item())


def test_bce_errors():
    with pytest.raises(cr.ShapeError, match=r"target of shape \(3,\) must have the input's shape \(3, 1\)"):
        F.binary_cross_entropy_with_logits(cr.randn(3, 1), cr.ones(3))
    with pytest.raises(cr.DTypeError, match="target must be floating-point"):
        F.binary_cross_entropy_with_logits(cr.randn(3), cr.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match=r"must hold probabilities in \[0, 1\]"):
        F.binary_cross_entropy(cr.tensor([0.5, 1.5]), cr.tensor([0.0, 1.0]))
    with pytest.raises(cr.ShapeError, match="pos_weight of shape"):
        F.binary_cross_entropy_with_logits(cr.randn(3, 2), cr.ones(3, 2), pos_weight=cr.ones(3))


def test_mse_shapes_that_do_not_broadcast():
    with pytest.raises(cr.ShapeError, match=r"mse_loss: input of shape \(3, 2\) and target of shape \(3,\)"):
        F.mse_loss(cr.randn(3, 2), cr.randn(3))


def test_batch_norm_errors_name_the_layer():
    with pytest.raises(cr.ShapeError, match=r"BatchNorm1d\(4, .*\): expected 4 channels in dim 1, got input "
                                            r"of shape \(2, 3\)"):
        nn.BatchNorm1d(4)(cr.randn(2, 3))
    with pytest.raises(cr.ShapeError, match=r"BatchNorm2d\(3, .*\): expected 4D input, got 3D input"):
        nn.BatchNorm2d(3)(cr.randn(2, 3, 4))
    with pytest.raises(cr.ShapeError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(cr.randn(1, 3))
    layer = nn.BatchNorm1d(3).eval()
    assert layer(cr.randn(1, 3)).shape == (1, 3)  # one sample is fine in eval mode


def test_layer_norm_and_embedding_errors():
    with pytest.raises(cr.ShapeError, match=r"LayerNorm\(\(4,\).*expected input ending with dims \(4,\), got "
                                            r"shape \(2, 3\)"):
        nn.LayerNorm(4)(cr.randn(2, 3))
    with pytest.raises(cr.ShapeError, match="index 7 is out of range for 5 embeddings"):
        nn.Embedding(5, 2)(cr.tensor([1, 7]))
    with pytest.raises(cr.DTypeError, match="indices must be integers"):
        nn.Embedding(5, 2)(cr.tensor([1.0]))


def test_module_errors():
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(cr.zeros(1))
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'wieght'"):
        _ = nn.Linear(2, 2).wieght
    with pytest.raises(TypeError, match="expected an nn.Parameter"):
        nn.Module().register_parameter("w", cr.zeros(1))
    with pytest.raises(KeyError, match="without '.'"):
        nn.Module().register_buffer("a.b", cr.zeros(1))
