"""chainrule.onnx.export on whole models: onnxruntime computes what chainrule computes, the batch
axis can be left dynamic, the file is written like every chainrule file, and what cannot be
exported is refused naming the module."""

import io
import os
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.serialization import atomic

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
chainrule_onnx = pytest.importorskip("chainrule.onnx")
ONNXExportError = chainrule_onnx.ONNXExportError


def _session(path_or_bytes):
    return ort.InferenceSession(str(path_or_bytes) if isinstance(path_or_bytes, Path) else path_or_bytes,
                                providers=["CPUExecutionProvider"])


def _ours(model, x):
    model.eval()
    with cr.no_grad():
        return model(cr.from_numpy(x)).numpy()


def _warm_up(model, x):
    """Training-mode passes, so BatchNorm's running statistics are the data's, not 0 and 1."""
    model.train()
    with cr.no_grad():
        for _ in range(3):
            model(cr.from_numpy(x))


def mlp():
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 16), nn.Tanh(),
                         nn.Linear(16, 3), nn.LogSoftmax(dim=1))


def cnn():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, groups=2), nn.BatchNorm2d(16), nn.LeakyReLU(0.1),
        nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True),
        nn.Residual(nn.Sequential(nn.Conv2d(16, 16, 3, padding="same"), nn.BatchNorm2d(16), nn.SiLU())),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(16, 10), nn.Softmax(dim=1))


def conv1d_net():
    return nn.Sequential(nn.Conv1d(4, 8, 5, padding="same"), nn.BatchNorm1d(8), nn.ELU(), nn.MaxPool1d(2),
                         nn.Conv1d(8, 8, 3, dilation=2), nn.AdaptiveAvgPool1d(1), nn.Flatten(),
                         nn.Linear(8, 5), nn.BatchNorm1d(5), nn.Sigmoid())


def embedding_net(tokens=6):
    return nn.Sequential(
        nn.Embedding(50, 16, padding_idx=0), nn.LayerNorm(16), nn.Linear(16, 16), nn.GELU(),
        nn.Residual(nn.Sequential(nn.LayerNorm(16), nn.Linear(16, 16), nn.GELU(approximate="tanh"))),
        nn.Flatten(), nn.Linear(16 * tokens, 4))


def _inputs(name, batch, rng):
    shapes = {"mlp": (batch, 8), "cnn": (batch, 3, 12, 12), "conv1d_net": (batch, 4, 20)}
    if name == "embedding_net":
        return rng.integers(0, 50, (batch, 6))
    return rng.standard_normal(shapes[name]).astype(np.float32)


MODELS = {"mlp": mlp, "cnn": cnn, "conv1d_net": conv1d_net, "embedding_net": embedding_net}


@pytest.mark.parametrize("name", list(MODELS))
def test_combined_models_match_chainrule_and_the_batch_axis_is_dynamic(name, tmp_path):
    rng = np.random.default_rng(0)
    model = MODELS[name]()
    if name != "embedding_net":
        _warm_up(model, _inputs(name, 8, rng))
    path = tmp_path / f"{name}.onnx"
    chainrule_onnx.export(model, cr.from_numpy(_inputs(name, 2, rng)), path, input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    session = _session(path)
    assert [i.name for i in session.get_inputs()] == ["x"]
    assert [o.name for o in session.get_outputs()] == ["y"]
    assert session.get_inputs()[0].shape[0] == "batch" and session.get_outputs()[0].shape[0] == "batch"
    for batch in (1, 2, 7):
        x = _inputs(name, batch, rng)
        theirs = session.run(None, {"x": x})[0]
        np.testing.assert_allclose(theirs, _ours(model, x), rtol=1e-5, atol=1e-6)


def test_a_dynamic_sequence_axis_and_the_list_spelling_of_dynamic_axes(tmp_path):
    model = nn.Sequential(nn.Embedding(30, 8), nn.LayerNorm(8), nn.Linear(8, 5), nn.Softmax(dim=-1))
    path = tmp_path / "tokens.onnx"
    chainrule_onnx.export(model, cr.tensor([[1, 2, 3]]), path,
                          dynamic_axes={"input": [0, 1], "output": [0, 1]})
    session = _session(path)
    assert session.get_inputs()[0].shape == ["input_dynamic_axes_1", "input_dynamic_axes_2"]
    rng = np.random.default_rng(1)
    for shape in ((1, 3), (4, 11)):
        tokens = rng.integers(0, 30, shape)
        np.testing.assert_allclose(session.run(None, {"input": tokens})[0], _ours(model, tokens), rtol=1e-5,
                                   atol=1e-6)


def test_without_dynamic_axes_the_example_shape_is_fixed(tmp_path):
    chainrule_onnx.export(mlp(), cr.randn(2, 8), tmp_path / "m.onnx")
    session = _session(tmp_path / "m.onnx")
    assert session.get_inputs()[0].shape == [2, 8] and session.get_outputs()[0].shape == [2, 3]
    with pytest.raises(Exception, match="dimension|Got invalid dimensions"):
        session.run(None, {"input": np.zeros((3, 8), np.float32)})


def test_the_file_holds_the_returned_model_with_state_dict_names_and_passes_the_checker(tmp_path):
    model = cnn()
    proto = chainrule_onnx.export(model, cr.randn(1, 3, 12, 12), tmp_path / "cnn.onnx")
    loaded = onnx.load(str(tmp_path / "cnn.onnx"))
    assert loaded == proto
    onnx.checker.check_model(loaded, full_check=True)
    assert loaded.opset_import[0].version == 17 and loaded.producer_name == "chainrule"
    stored = {tensor.name for tensor in loaded.graph.initializer}
    assert {"0.weight", "0.bias", "1.running_mean", "1.running_var", "8.module.0.weight",
            "12.weight"} <= stored
    assert loaded.ir_version <= onnx.IR_VERSION


def test_a_module_used_twice_stores_its_weights_once(tmp_path):
    shared = nn.Linear(4, 4)
    proto = chainrule_onnx.export(nn.Sequential(shared, nn.Tanh(), shared), cr.randn(2, 4), io.BytesIO())
    assert len(proto.graph.initializer) == 2


def test_export_uses_evaluation_mode_and_restores_the_training_flags(tmp_path):
    model = cnn()
    model.train()
    model[2].eval()                                       # a mixed state comes back as it was
    before = {name: value.numpy().copy() for name, value in model.state_dict().items()}
    chainrule_onnx.export(model, cr.randn(4, 3, 12, 12), tmp_path / "m.onnx")
    assert model.training and model[1].training and not model[2].training
    for name, value in model.state_dict().items():       # the running statistics were not updated
        np.testing.assert_array_equal(value.numpy(), before[name], err_msg=name)


def test_file_objects_and_atomic_files(tmp_path, monkeypatch):
    buffer = io.BytesIO()
    chainrule_onnx.export(mlp(), cr.randn(2, 8), buffer)
    assert _session(buffer.getvalue()).run(None, {"input": np.zeros((2, 8), np.float32)})[0].shape == (2, 3)
    with open(tmp_path / "text.onnx", "w") as handle, pytest.raises(ONNXExportError, match="text mode"):
        chainrule_onnx.export(mlp(), cr.randn(2, 8), handle)

    path = tmp_path / "model.onnx"
    chainrule_onnx.export(mlp(), cr.randn(2, 8), path)
    before = path.read_bytes()

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(OSError, match="No space left"):
        chainrule_onnx.export(cnn(), cr.randn(1, 3, 12, 12), path)
    assert path.read_bytes() == before
    assert not [p for p in os.listdir(tmp_path) if p.endswith(atomic.TEMPORARY_SUFFIX)]


def test_torch_onnx_export_keywords_are_accepted(tmp_path, capsys):
    chainrule_onnx.export(mlp(), (cr.randn(2, 8),), tmp_path / "m.onnx", export_params=True, verbose=True,
                          do_constant_folding=True, opset_version=13)
    assert "Gemm" in capsys.readouterr().out
    with pytest.raises(ONNXExportError, match="export_params=False"):
        chainrule_onnx.export(mlp(), cr.randn(2, 8), tmp_path / "n.onnx", export_params=False)
