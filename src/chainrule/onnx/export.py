"""``export``: a chainrule model as an ONNX file, built from its module tree.

The exporter walks the modules, not the Python code: a supported layer becomes the ONNX nodes
that compute what its forward() computes (layers.py, activations.py); ``Sequential`` and
``ModuleList`` become their modules applied in order, ``Residual(f)`` becomes ``x + f(x)``. To
know each layer's input rank and sizes (a Flatten's dims, a softmax's default axis, an adaptive
pool's window) the example input is run through the layers one by one, in evaluation mode.
"""

from __future__ import annotations

import io
import os

import numpy as np
import onnx
from onnx import helper

from .. import nn
from ..grad_mode import no_grad
from ..serialization.atomic import write_atomically
from ..tensor import Tensor
from .graph import GraphBuilder, ONNXExportError, value_info, where
from .layers import CONVERTERS, supported_names

MIN_OPSET = 13
PROTOBUF_LIMIT = 2**31 - 1      # a single ONNX protobuf file cannot be larger
_UNTRACED = ("the exporter builds the graph from the module tree and does not trace forward() code, so a "
             "model with its own forward() must be built from nn.Sequential, nn.ModuleList and nn.Residual "
             "around these layers (or export its supported sub-module, e.g. model.features)")


def export(model, example_input, f, input_names=None, output_names=None, dynamic_axes=None,
           opset_version: int = 17, *, export_params: bool = True, verbose: bool = False,
           do_constant_folding: bool = True):
    """Write ``model`` (in evaluation mode) to ``f`` as ONNX; returns the ``onnx.ModelProto``.

    model          an nn.Module built from the supported layers (see chainrule.onnx's docstring)
    example_input  a Tensor (or ndarray, or a 1-tuple of one) of the shape the model takes; it fixes
                   every axis not named in ``dynamic_axes``, and its dtype is the model input's
    f              a path (written atomically) or a binary file object
    input_names, output_names  one name each (default "input", "output")
    dynamic_axes   as torch.onnx.export: {"input": {0: "batch"}, "output": {0: "batch"}} or
                   {"input": [0], "output": [0]} (then named "<name>_dynamic_axes_<k>")
    opset_version  13 to the installed onnx package's newest (17 by default; LayerNorm needs 17,
                   and from 20 GELU is ONNX's own Gelu)
    export_params, verbose, do_constant_folding: torch.onnx.export's keywords; the weights are
                   always stored in the file (export_params=False is refused) and nothing is folded.
    """
    if not export_params:
        raise ONNXExportError("chainrule.onnx.export: export_params=False (a model without its weights) is "
                              "not supported; the weights are always stored in the file")
    if not isinstance(model, nn.Module):
        raise ONNXExportError(f"chainrule.onnx.export: model must be an nn.Module, got "
                              f"{type(model).__name__}")
    newest = onnx.defs.onnx_opset_version()
    if not isinstance(opset_version, int) or not MIN_OPSET <= opset_version <= newest:
        raise ONNXExportError(f"chainrule.onnx.export: opset_version={opset_version!r}; chainrule writes "
                              f"opsets {MIN_OPSET} to {newest} (the newest the installed onnx "
                              f"{onnx.__version__} knows)")
    example = _example_tensor(example_input)
    input_name = _one_name(input_names, "input", "input_names")
    output_name = _one_name(output_names, "output", "output_names")
    if input_name == output_name:
        raise ONNXExportError(f"chainrule.onnx.export: the input and the output are both named "
                              f"{input_name!r}")
    dynamic = _dynamic_axes(dynamic_axes, input_name, output_name)

    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with no_grad():
            builder = GraphBuilder(opset_version, _float_dtype(model, example))
            builder.fresh(input_name)
            builder.fresh(output_name)
            result, output = _convert(builder, model, input_name, example, "")
    finally:
        for module, training in modes:
            object.__setattr__(module, "training", training)

    _name_output(builder, result, output_name)
    inputs = [value_info(input_name, example._data.dtype, example.shape, dynamic[input_name])]
    outputs = [value_info(output_name, output._data.dtype, output.shape, dynamic[output_name])]
    graph = builder.graph(type(model).__name__, inputs, outputs)
    opsets = [helper.make_opsetid("", opset_version)]
    proto = helper.make_model(graph, opset_imports=opsets, producer_name="chainrule")
    proto.ir_version = helper.find_min_ir_version_for(opsets)   # readable by older runtimes too
    if proto.ByteSize() > PROTOBUF_LIMIT:
        raise ONNXExportError(f"chainrule.onnx.export: the model is {proto.ByteSize()} bytes, over the 2 GiB "
                              "limit of one ONNX protobuf file")
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as err:   # a graph the checker refuses is an exporter bug: say which model made it
        raise ONNXExportError(f"chainrule.onnx.export: the ONNX checker refused the graph built for "
                              f"{type(model).__name__} ({err}); please report this") from err
    if verbose:
        print(onnx.printer.to_text(proto.graph))
    _write(proto.SerializeToString(), f)
    return proto


def _example_tensor(example_input) -> Tensor:
    if isinstance(example_input, (tuple, list)):
        if len(example_input) != 1:
            raise ONNXExportError(f"chainrule.onnx.export: the exporter takes one example input, got "
                                  f"{len(example_input)}; models of several inputs are not supported")
        example_input = example_input[0]
    if isinstance(example_input, Tensor):
        return example_input.detach()
    if isinstance(example_input, np.ndarray):
        return Tensor(example_input)
    raise ONNXExportError(f"chainrule.onnx.export: example_input must be a Tensor or ndarray, got "
                          f"{type(example_input).__name__}")


def _one_name(names, default: str, keyword: str) -> str:
    if names is None:
        return default
    if isinstance(names, (list, tuple)) and len(names) == 1 and isinstance(names[0], str) and names[0]:
        return names[0]
    raise ONNXExportError(f"chainrule.onnx.export: {keyword} must be a list of one non-empty name (the model "
                          f"has one {default}), got {names!r}")


def _dynamic_axes(dynamic_axes, input_name: str, output_name: str) -> dict:
    """{value name: {axis: symbolic name}} from torch.onnx.export's two spellings."""
    result = {input_name: {}, output_name: {}}
    for name, axes in (dynamic_axes or {}).items():
        if name not in result:
            raise ONNXExportError(f"chainrule.onnx.export: dynamic_axes names {name!r}, which is neither the "
                                  f"input {input_name!r} nor the output {output_name!r}")
        if isinstance(axes, dict):
            pairs = list(axes.items())
        elif isinstance(axes, (list, tuple)):
            pairs = [(axis, f"{name}_dynamic_axes_{k + 1}") for k, axis in enumerate(axes)]
        else:
            raise ONNXExportError(f"chainrule.onnx.export: dynamic_axes[{name!r}] must be a list of axes or "
                                  f"a dict axis -> name, got {axes!r}")
        for axis, symbol in pairs:
            if not isinstance(axis, int) or not isinstance(symbol, str):
                raise ONNXExportError(f"chainrule.onnx.export: dynamic_axes[{name!r}] must map int axes to "
                                      f"str names, got {axis!r}: {symbol!r}")
            result[name][axis] = symbol
    return result


def _float_dtype(model, example: Tensor):
    for tensor in list(model.parameters()) + list(model.buffers()):
        if tensor._data.dtype.kind == "f":
            return tensor._data.dtype
    return example._data.dtype if example._data.dtype.kind == "f" else np.dtype(np.float32)


# --- the walk ---------------------------------------------------------------------------------
def _child(scope: str, name: str) -> str:
    return f"{scope}.{name}" if scope else name


def _keeps_forward(module, base) -> bool:
    return type(module).forward is base.forward


def _convert(g, module, x: str, example: Tensor, scope: str):
    """Add ``module`` to the graph on input ``x``; (its output's name, its output on ``example``)."""
    if isinstance(module, nn.Sequential) and _keeps_forward(module, nn.Sequential) \
            or isinstance(module, nn.ModuleList) and _keeps_forward(module, nn.ModuleList):
        for name, child in module._modules.items():
            x, example = _convert(g, child, x, example, _child(scope, name))
        return x, example
    if isinstance(module, nn.Residual) and _keeps_forward(module, nn.Residual):
        inner, _ = _convert(g, module.module, x, example, _child(scope, "module"))
        output = module(example)        # its own shape check, so a mismatch fails as it would in forward()
        return g.node("Add", [x, inner], scope), output
    convert = _converter(module, scope)
    output = module(example)
    result = convert(g, module, x, tuple(example.shape), scope)
    if not isinstance(output, Tensor):
        raise ONNXExportError(f"chainrule.onnx.export: {where(scope)} ({type(module).__name__}) returns a "
                              f"{type(output).__name__}, not one tensor")
    return result, output


def _converter(module, scope: str):
    kind = type(module)
    for base in kind.__mro__:
        if base in CONVERTERS:
            if not _keeps_forward(module, base):
                raise ONNXExportError(f"chainrule.onnx.export: {where(scope)} is a {kind.__name__}, a "
                                      f"subclass of {base.__name__} with its own forward(); {_UNTRACED}")
            return CONVERTERS[base]
    containers = "ModuleList, Residual, Sequential"
    raise ONNXExportError(f"chainrule.onnx.export: {where(scope)} is a {kind.__name__}, which has no ONNX "
                          f"conversion. Supported: {supported_names()}, and the containers {containers}; "
                          f"{_UNTRACED}")


def _name_output(g, result: str, output_name: str) -> None:
    """Give the graph's last value the output's name (an Identity when that value is the input itself)."""
    if not any(result in node.output for node in g.nodes):     # an empty Sequential computes nothing
        g.nodes.append(helper.make_node("Identity", [result], [output_name], name=g.fresh("Identity")))
        return
    for node in g.nodes:
        for names in (node.input, node.output):
            for i, name in enumerate(names):
                if name == result:
                    names[i] = output_name


def _write(blob: bytes, f) -> None:
    if hasattr(f, "write"):
        if isinstance(f, io.TextIOBase):
            raise ONNXExportError("chainrule.onnx.export: the file object is open in text mode; open it "
                                  "with 'wb'")
        f.write(blob)
        return
    try:
        target = os.path.abspath(os.fspath(f))
    except TypeError:
        raise ONNXExportError(f"chainrule.onnx.export: f must be a file name or a binary file object, got "
                              f"{type(f).__name__}") from None
    write_atomically(target, lambda handle: handle.write(blob))
