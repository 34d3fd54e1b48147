"""``chainrule.onnx.export``: a trained model as an ONNX file, for onnxruntime and the other runtimes.

    import chainrule.onnx
    chainrule.onnx.export(model, cr.randn(1, 3, 32, 32), "model.onnx",
                          input_names=["image"], output_names=["logits"],
                          dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})

    import onnxruntime
    session = onnxruntime.InferenceSession("model.onnx")
    logits = session.run(None, {"image": images})[0]

The model is exported in evaluation mode (dropout off, BatchNorm with its running statistics)
and its training flags are restored afterwards. The protobuf messages, the file and its check
(``onnx.checker.check_model``) are the ``onnx`` package's; chainrule only chooses the operators.

What can be exported: models built from these modules, nested in nn.Sequential, nn.ModuleList
(its modules applied in order, as ``for layer in layers: x = layer(x)``) and nn.Residual
(``x + f(x)``):

    Linear, Conv1d, Conv2d (stride, padding incl. 'same'/'valid', dilation, groups),
    MaxPool1d/2d and AvgPool1d/2d (padding, dilation, ceil_mode, count_include_pad),
    AdaptiveAvgPool1d/2d (to size 1, or to sizes that divide the input's), BatchNorm1d/2d,
    LayerNorm, Embedding, Dropout, Identity, Flatten, Unflatten, ReLU, LeakyReLU, Sigmoid, Tanh,
    GELU, ELU, SiLU, Softplus, Softmax, LogSoftmax

(the operators each becomes: layers.py and activations.py). One input, one output.

What cannot: the exporter reads the module tree and does not trace Python code, so a module
with its own ``forward()`` (a subclass of nn.Module, or of a supported layer, that computes
something in Python) is refused with an error naming its path and type; build such a model from
the containers above, or export its supported part. Forward hooks are not part of the graph
either (they run on the example pass, but what they change is not exported). Not supported:
several inputs or outputs, MaxPool's return_indices, AvgPool2d's divisor_override, BatchNorm
with track_running_stats=False, adaptive pooling to sizes that do not divide the input's,
ceil_mode pooling where one axis keeps a partial last window and another drops one (ONNX has
one ceil_mode for all axes), opsets before 13, and models over 2 GiB (one protobuf file's
limit). Sizes other than the batch are those of the example input unless named in
``dynamic_axes``; pooling's ceil_mode and adaptive pooling are worked out for the example's
spatial sizes.

Needs the optional extra ``pip install 'chainrule[onnx]'`` (onnx, and onnxruntime to run the
file).
"""

try:
    import onnx  # noqa: F401 - only to say clearly when it is missing
except ImportError as err:  # pragma: no cover - exercised by hiding the package in the tests
    raise ImportError("chainrule.onnx needs the onnx package, an optional extra: "
                      "pip install 'chainrule[onnx]'  (or: pip install onnx onnxruntime)") from err

from .export import MIN_OPSET, export
from .graph import ONNXExportError

__all__ = ["export", "ONNXExportError", "MIN_OPSET"]
