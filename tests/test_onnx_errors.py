"""What chainrule.onnx.export refuses, and how it says so: the module's path and type, the option."""

import subprocess
import sys
from pathlib import Path

import pytest

import chainrule as cr
from chainrule import nn
from chainrule.errors import ShapeError

pytest.importorskip("onnx")
chainrule_onnx = pytest.importorskip("chainrule.onnx")
ONNXExportError = chainrule_onnx.ONNXExportError
SRC = Path(cr.__file__).resolve().parents[1]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(4, 4), nn.ReLU())

    def forward(self, x):
        return self.layers(x) * 2


class Scale(nn.Module):
    def forward(self, x):
        return x * 3


class LoudLinear(nn.Linear):
    def forward(self, x):
        return super().forward(x) + 1


def _export(model, x=None, path=None, **options):
    x = cr.randn(2, 4) if x is None else x
    return chainrule_onnx.export(model, x, path or Path("unused.onnx"), **options)


@pytest.mark.parametrize("model, match", [
    (Net(), r"the model is a Net, which has no ONNX conversion\. Supported: .*Linear.*not trace forward\(\)"),
    (nn.Sequential(nn.Linear(4, 4), nn.Sequential(Scale())), r"module '1\.0' is a Scale, which has no ONNX"),
    (nn.Sequential(LoudLinear(4, 4)), r"module '0' is a LoudLinear, a subclass of Linear with its own"),
    (nn.Sequential(nn.Linear(4, 4), nn.ModuleDict({"a": nn.ReLU()})), r"module '1' is a ModuleDict"),
    (nn.Residual(nn.Sequential(nn.Linear(4, 4), Scale())), r"module 'module\.1' is a Scale"),
])
def test_unsupported_modules_are_named_by_path_and_type(model, match, tmp_path):
    with pytest.raises(ONNXExportError, match=match):
        _export(model, path=tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("model, x, match", [
    (nn.Sequential(nn.MaxPool2d(2, return_indices=True)), cr.randn(1, 1, 4, 4), r"'0' .*return_indices"),
    (nn.AvgPool2d(2, divisor_override=3), cr.randn(1, 1, 4, 4), r"the model .*divisor_override"),
    (nn.Sequential(nn.BatchNorm1d(4, track_running_stats=False)), None, r"module '0' .*track_running_stats"),
    (nn.AdaptiveAvgPool2d(3), cr.randn(1, 1, 8, 8), r"averages spatial size \(8, 8\) to \(3, 3\)"),
])
def test_layer_options_onnx_cannot_express_are_refused(model, x, match, tmp_path):
    with pytest.raises(ONNXExportError, match=match):
        _export(model, x, tmp_path / "m.onnx")


def test_option_errors(tmp_path):
    path = tmp_path / "m.onnx"
    cases = [
        (dict(opset_version=12), r"opset_version=12; chainrule writes opsets 13 to \d+"),
        (dict(opset_version=10**3), r"opset_version=1000"),
        (dict(input_names=["a", "b"]), r"input_names must be a list of one non-empty name"),
        (dict(output_names="y"), r"output_names must be a list of one"),
        (dict(input_names=["z"], output_names=["z"]), r"both named 'z'"),
        (dict(dynamic_axes={"images": [0]}), r"dynamic_axes names 'images', which is neither the input"),
        (dict(dynamic_axes={"input": 0}), r"must be a list of axes or a dict axis -> name"),
        (dict(dynamic_axes={"input": {"0": "b"}}), r"must map int axes to str names"),
    ]
    for options, match in cases:
        with pytest.raises(ONNXExportError, match=match):
            _export(nn.Linear(4, 4), path=path, **options)
    with pytest.raises(ONNXExportError, match=r"LayerNormalization needs opset_version >= 17 \(got 13\)"):
        _export(nn.LayerNorm(4), path=path, opset_version=13)
    with pytest.raises(ONNXExportError, match="one example input, got 2"):
        _export(nn.Linear(4, 4), (cr.randn(2, 4), cr.randn(2, 4)), path)
    with pytest.raises(ONNXExportError, match="example_input must be a Tensor or ndarray, got list"):
        _export(nn.Linear(4, 4), [[1.0, 2.0, 3.0, 4.0]], path)
    with pytest.raises(ONNXExportError, match="model must be an nn.Module, got function"):
        _export(lambda x: x, path=path)
    with pytest.raises(ONNXExportError, match="f must be a file name or a binary file object, got int"):
        _export(nn.Linear(4, 4), path=3)
    assert list(tmp_path.iterdir()) == []


def test_a_shape_error_of_the_model_itself_is_chainrules_own(tmp_path):
    with pytest.raises(ShapeError, match="Linear"):
        _export(nn.Linear(5, 4), cr.randn(2, 4), tmp_path / "m.onnx")


def test_without_the_onnx_package_the_import_says_how_to_install_it():
    code = "import sys; sys.modules['onnx'] = None; import chainrule.onnx"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.returncode != 0
    assert "chainrule.onnx needs the onnx package" in result.stderr
    assert "pip install 'chainrule[onnx]'" in result.stderr
