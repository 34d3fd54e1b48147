"""Every layer chainrule.onnx.export supports, run by onnxruntime: the same outputs as chainrule's."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
chainrule_onnx = pytest.importorskip("chainrule.onnx")


def randomize(model, seed=0):
    """Random weights and running statistics (variances positive), so no layer is at its defaults."""
    rng = np.random.default_rng(seed)
    for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
        array = tensor._data
        if array.dtype.kind != "f":
            continue
        values = rng.uniform(0.5, 1.5, array.shape) if name.endswith("running_var") \
            else rng.standard_normal(array.shape)
        array[...] = values.astype(array.dtype)
    return model


def run_both(model, x, tmp_path, opset_version=17, **options):
    """(onnxruntime's output, chainrule's output) for ``model`` exported on input ``x``."""
    path = tmp_path / "model.onnx"
    chainrule_onnx.export(model, cr.from_numpy(x), path, opset_version=opset_version, **options)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    theirs = session.run(None, {session.get_inputs()[0].name: x})[0]
    model.eval()
    with cr.no_grad():
        ours = model(cr.from_numpy(x)).numpy()
    return theirs, ours


def floats(*shape, scale=1.0):
    return (np.random.default_rng(sum(shape)).standard_normal(shape) * scale).astype(np.float32)


LAYERS = {
    "linear": (lambda: nn.Linear(5, 3), floats(4, 5)),
    "linear_no_bias": (lambda: nn.Linear(5, 3, bias=False), floats(4, 5)),
    "linear_3d": (lambda: nn.Linear(5, 3), floats(2, 4, 5)),
    "linear_3d_no_bias": (lambda: nn.Linear(5, 3, bias=False), floats(2, 4, 5)),
    "conv1d": (lambda: nn.Conv1d(3, 6, 3), floats(2, 3, 10)),
    "conv1d_options": (lambda: nn.Conv1d(3, 6, 3, stride=2, padding=1, dilation=2, groups=3),
                       floats(2, 3, 11)),
    "conv1d_same_even_kernel": (lambda: nn.Conv1d(2, 4, 4, padding="same"), floats(2, 2, 9)),
    "conv1d_unbatched": (lambda: nn.Conv1d(3, 4, 3), floats(3, 10)),
    "conv2d": (lambda: nn.Conv2d(3, 6, 3), floats(2, 3, 8, 8)),
    "conv2d_options": (lambda: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(2, 1),
                                         groups=2, bias=False), floats(2, 4, 9, 7)),
    "conv2d_same": (lambda: nn.Conv2d(2, 3, (4, 3), padding="same", dilation=(1, 2)), floats(1, 2, 7, 8)),
    "conv2d_valid": (lambda: nn.Conv2d(2, 3, 3, padding="valid"), floats(1, 2, 6, 6)),
    "conv2d_depthwise": (lambda: nn.Conv2d(4, 8, 3, padding=1, groups=4), floats(2, 4, 5, 5)),
    "maxpool1d": (lambda: nn.MaxPool1d(2), floats(2, 3, 10)),
    "maxpool1d_options": (lambda: nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True),
                          floats(2, 3, 12)),
    "maxpool2d": (lambda: nn.MaxPool2d(2), floats(2, 3, 8, 8)),
    "maxpool2d_ceil_padding": (lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
                               floats(2, 3, 8, 9)),
    "maxpool2d_rectangular": (lambda: nn.MaxPool2d((3, 2), stride=(2, 1), dilation=(1, 2)),
                              floats(1, 2, 9, 8)),
    "avgpool1d": (lambda: nn.AvgPool1d(2), floats(2, 3, 10)),
    "avgpool1d_exclude_pad": (lambda: nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False),
                              floats(2, 3, 10)),
    "avgpool1d_ceil": (lambda: nn.AvgPool1d(3, stride=2, ceil_mode=True), floats(2, 3, 10)),
    "avgpool2d": (lambda: nn.AvgPool2d(2), floats(2, 3, 8, 8)),
    "avgpool2d_ceil_include_pad": (lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True),
                                   floats(2, 3, 8, 9)),
    "avgpool2d_ceil_exclude_pad": (lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True,
                                                        count_include_pad=False), floats(2, 3, 8, 9)),
    "adaptive_avgpool2d_1": (lambda: nn.AdaptiveAvgPool2d(1), floats(2, 3, 7, 5)),
    "adaptive_avgpool2d_1x1": (lambda: nn.AdaptiveAvgPool2d((1, 1)), floats(2, 3, 4, 6)),
    "adaptive_avgpool2d_divides": (lambda: nn.AdaptiveAvgPool2d((2, 3)), floats(2, 3, 8, 9)),
    "adaptive_avgpool2d_none": (lambda: nn.AdaptiveAvgPool2d((None, 1)), floats(2, 3, 4, 6)),
    "adaptive_avgpool1d_1": (lambda: nn.AdaptiveAvgPool1d(1), floats(2, 3, 7)),
    "batchnorm1d": (lambda: nn.BatchNorm1d(5), floats(4, 5)),
    "batchnorm1d_3d": (lambda: nn.BatchNorm1d(5, eps=1e-3), floats(4, 5, 7)),
    "batchnorm1d_no_affine": (lambda: nn.BatchNorm1d(5, affine=False), floats(4, 5)),
    "batchnorm2d": (lambda: nn.BatchNorm2d(3), floats(2, 3, 4, 4)),
    "layernorm": (lambda: nn.LayerNorm(6), floats(3, 6)),
    "layernorm_2d_shape": (lambda: nn.LayerNorm((4, 6), eps=1e-3), floats(2, 4, 6)),
    "layernorm_no_affine": (lambda: nn.LayerNorm(6, elementwise_affine=False), floats(2, 3, 6)),
    "layernorm_no_bias": (lambda: nn.LayerNorm(6, bias=False), floats(2, 3, 6)),
    "embedding": (lambda: nn.Embedding(10, 4, padding_idx=0),
                  np.random.default_rng(0).integers(0, 10, (3, 5))),
    "dropout": (lambda: nn.Dropout(0.5), floats(4, 5)),
    "identity": (lambda: nn.Identity(), floats(4, 5)),
    "flatten": (lambda: nn.Flatten(), floats(2, 3, 4, 5)),
    "flatten_middle": (lambda: nn.Flatten(1, 2), floats(2, 3, 4, 5)),
    "flatten_all": (lambda: nn.Flatten(0, -1), floats(2, 3, 4)),
    "flatten_tail": (lambda: nn.Flatten(2), floats(2, 3, 4, 5)),
    "unflatten": (lambda: nn.Unflatten(1, (2, 3)), floats(4, 6)),
    "unflatten_middle": (lambda: nn.Unflatten(1, (2, -1)), floats(4, 6, 5)),
    "relu": (lambda: nn.ReLU(), floats(4, 5)),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), floats(4, 5)),
    "sigmoid": (lambda: nn.Sigmoid(), floats(4, 5)),
    "tanh": (lambda: nn.Tanh(), floats(4, 5)),
    "gelu": (lambda: nn.GELU(), floats(4, 5, scale=3)),
    "gelu_tanh": (lambda: nn.GELU(approximate="tanh"), floats(4, 5, scale=3)),
    "elu": (lambda: nn.ELU(0.7), floats(4, 5)),
    "silu": (lambda: nn.SiLU(), floats(4, 5)),
    "softplus": (lambda: nn.Softplus(), floats(4, 5, scale=10)),
    "softplus_beta_threshold": (lambda: nn.Softplus(beta=2.0, threshold=5.0), floats(4, 5, scale=4)),
    "softmax": (lambda: nn.Softmax(dim=1), floats(4, 5)),
    "softmax_last": (lambda: nn.Softmax(dim=-1), floats(2, 4, 5)),
    "softmax_implicit_dim": (lambda: nn.Softmax(), floats(2, 4, 5)),
    "log_softmax": (lambda: nn.LogSoftmax(dim=1), floats(4, 5)),
    "residual": (lambda: nn.Residual(nn.Sequential(nn.Linear(5, 5), nn.Tanh())), floats(4, 5)),
    "module_list": (lambda: nn.ModuleList([nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2)]), floats(3, 5)),
    "empty_sequential": (lambda: nn.Sequential(), floats(3, 5)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_each_layer_matches_chainrule_under_onnxruntime(name, tmp_path):
    make, x = LAYERS[name]
    model = randomize(make())
    if name == "module_list":        # a ModuleList has no forward(): compare with its layers in order
        path = tmp_path / "list.onnx"
        chainrule_onnx.export(model, cr.from_numpy(x), path)
        theirs = ort.InferenceSession(str(path)).run(None, {"input": x})[0]
        ours = cr.from_numpy(x)
        for layer in model:
            ours = layer(ours)
        ours = ours.detach().numpy()
    else:
        theirs, ours = run_both(model, x, tmp_path)
    assert theirs.shape == ours.shape and theirs.dtype == ours.dtype
    np.testing.assert_allclose(theirs, ours, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("opset_version", [13, 17, 20])
def test_gelu_is_the_formula_before_opset_20_and_onnx_gelu_from_it(approximate, opset_version, tmp_path):
    model = nn.Sequential(nn.Linear(4, 6), nn.GELU(approximate=approximate))
    theirs, ours = run_both(randomize(model), floats(3, 4, scale=3), tmp_path, opset_version=opset_version)
    np.testing.assert_allclose(theirs, ours, rtol=1e-5, atol=1e-6)
    ops = {node.op_type for node in __import__("onnx").load(str(tmp_path / "model.onnx")).graph.node}
    assert ("Gelu" in ops) == (opset_version >= 20)


def test_float64_models_export_in_float64(tmp_path):
    # (onnxruntime's CPU kernels for Erf and Softplus are float32 only, so GELU and Softplus are left out)
    model = randomize(nn.Sequential(nn.Linear(4, 3), nn.LayerNorm(3), nn.Tanh(), nn.Linear(3, 2))).double()
    theirs, ours = run_both(model, floats(5, 4).astype(np.float64), tmp_path)
    assert theirs.dtype == np.float64
    np.testing.assert_allclose(theirs, ours, rtol=1e-12, atol=1e-12)
