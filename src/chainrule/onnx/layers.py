"""One converter per chainrule layer: the ONNX nodes that compute what the layer's forward computes.

Each converter is ``convert(g, module, x, shape, scope) -> output name``: ``g`` the GraphBuilder,
``x`` the name of the layer's input in the graph, ``shape`` that input's shape in the example
run (for its rank and static sizes), ``scope`` the layer's path in the model ("0", "features.3")
that prefixes its node and weight names. The ONNX operators (opset 13 or later):

    Linear          Gemm(x, W, b, transB=1) on 2-D input; MatMul(x, W^T) + b on more dims
    Conv1d/2d       Conv (pads, strides, dilations, group; 'same' pads extra on the right, as PyTorch)
    MaxPool1d/2d    MaxPool (pads, strides, dilations, ceil_mode)
    AvgPool1d/2d    AveragePool (pads, strides, ceil_mode, count_include_pad)
    AdaptiveAvgPool GlobalAveragePool to size 1; AveragePool when each size divides the input's
    BatchNorm1d/2d  BatchNormalization with the running statistics (evaluation mode)
    LayerNorm       LayerNormalization(axis = -len(normalized_shape))  (opset 17)
    Embedding       Gather(W, indices, axis=0)
    Flatten         Flatten(axis=1) for PyTorch's default; else
                    Reshape to Shape[:start] ++ [-1] ++ Shape[end+1:]
    Unflatten       Reshape to Shape[:dim] ++ sizes ++ Shape[dim+1:]
    Dropout, Identity   Identity (dropout does nothing in evaluation)
    activations     activations.py
"""

from __future__ import annotations

from .. import nn
from ..ops.windows import pair
from .activations import ACTIVATIONS
from .graph import ONNXExportError, where


def _tuple(value, spatial: int, name: str, module) -> tuple:
    return pair(value, name, type(module).__name__, spatial)


def _batched(g, x, shape, spatial, scope, build):
    """Run ``build(x)`` on (N, C, *spatial) input; unbatched (C, *spatial) input gets a batch of one."""
    if len(shape) == spatial + 2:
        return build(x)
    axes = g.ints([0], "axis_0")
    return g.node("Squeeze", [build(g.node("Unsqueeze", [x, axes], scope)), axes], scope)


# --- dense layers -----------------------------------------------------------------------------
def linear(g, module, x, shape, scope):
    bias = g.weight(module.bias._data, f"{scope}.bias") if module.bias is not None else ""
    if len(shape) == 2:
        return g.node("Gemm", [x, g.weight(module.weight._data, f"{scope}.weight"), bias], scope, transB=1)
    product = g.node("MatMul", [x, g.weight(module.weight._data.T, f"{scope}.weight_t")], scope)
    return g.node("Add", [product, bias], scope) if bias else product


def conv(g, module, x, shape, scope):
    spatial = module._spatial
    kernel, dilation, stride = module.kernel_size, module.dilation, module.stride
    if isinstance(module.padding, str):
        totals = [0] * spatial if module.padding == "valid" \
            else [d * (k - 1) for k, d in zip(kernel, dilation)]
        before, after = [t // 2 for t in totals], [t - t // 2 for t in totals]
    else:
        before = after = list(module.padding)
    inputs = [g.weight(module.weight._data, f"{scope}.weight")]
    if module.bias is not None:
        inputs.append(g.weight(module.bias._data, f"{scope}.bias"))
    return _batched(g, x, shape, spatial, scope, lambda batched: g.node(
        "Conv", [batched] + inputs, scope, kernel_shape=list(kernel), strides=list(stride),
        pads=list(before) + list(after), dilations=list(dilation), group=module.groups))


# --- pooling ----------------------------------------------------------------------------------
def _spatial_of(module) -> int:
    return 2 if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)) else 1


def max_pool(g, module, x, shape, scope):
    if module.return_indices:
        raise ONNXExportError(f"chainrule.onnx.export: {where(scope)} ({module!r}) returns indices as well; "
                              "only return_indices=False can be exported")
    spatial = _spatial_of(module)
    dilation = _tuple(module.dilation, spatial, "dilation", module)
    return _pool(g, module, x, shape, scope, "MaxPool", dilation, dilations=list(dilation))


def avg_pool(g, module, x, shape, scope):
    if getattr(module, "divisor_override", None) is not None:
        raise ONNXExportError(f"chainrule.onnx.export: {where(scope)} ({module!r}) sets divisor_override, "
                              "which ONNX's AveragePool has no attribute for")
    return _pool(g, module, x, shape, scope, "AveragePool", (1,) * _spatial_of(module),
                 count_include_pad=int(module.count_include_pad))


def _pool(g, module, x, shape, scope, op_type, dilation, **attributes):
    spatial = _spatial_of(module)
    kernel = _tuple(module.kernel_size, spatial, "kernel_size", module)
    stride = _tuple(module.stride, spatial, "stride", module)
    padding = _tuple(module.padding, spatial, "padding", module)
    ceil_mode = _ceil_mode(module, shape[-spatial:], kernel, stride, padding, dilation, scope)
    return _batched(g, x, shape, spatial, scope, lambda batched: g.node(
        op_type, [batched], scope, kernel_shape=list(kernel), strides=list(stride), pads=list(padding) * 2,
        ceil_mode=ceil_mode, **attributes))


def _ceil_mode(module, sizes, kernel, stride, padding, dilation, scope) -> int:
    """ONNX's ceil_mode that gives PyTorch's window count on every axis of this input.

    With ceil_mode PyTorch counts ceil((L + 2p - d(k-1) - 1) / s) + 1 windows, less the last one
    when it would start in the right padding; ONNX never drops it. Where PyTorch drops it, its
    count is the floor count, so ceil_mode=0 gives the same windows; an input where one axis
    drops and another keeps a partial window has no single ONNX ceil_mode, and is refused."""
    if not module.ceil_mode:
        return 0
    floors, ceils, torch_counts = [], [], []
    for size, k, s, p, d in zip(sizes, kernel, stride, padding, dilation):
        span = size + 2 * p - d * (k - 1) - 1
        floors.append(span // s + 1)
        ceils.append(-(-span // s) + 1)
        torch_counts.append(ceils[-1] - 1 if (ceils[-1] - 1) * s >= size + p else ceils[-1])
    if torch_counts == ceils:
        return 1
    if torch_counts == floors:
        return 0
    raise ONNXExportError(f"chainrule.onnx.export: {where(scope)} ({module!r}) with ceil_mode=True on "
                          f"spatial size {tuple(sizes)} drops the last window on one axis (it would start in "
                          "the padding) and keeps a partial one on another; ONNX's single ceil_mode cannot "
                          "say both. Choose a padding or input size where the axes agree")


def adaptive_avg_pool(g, module, x, shape, scope):
    spatial = _spatial_of(module)
    wanted = module.output_size
    wanted = (wanted,) * spatial if isinstance(wanted, int) or wanted is None else tuple(wanted)
    sizes = shape[-spatial:]
    wanted = tuple(size if out is None else out for out, size in zip(wanted, sizes))
    if all(out == 1 for out in wanted):
        return _batched(g, x, shape, spatial, scope,
                        lambda batched: g.node("GlobalAveragePool", [batched], scope))
    if any(size % out for out, size in zip(wanted, sizes)):
        raise ONNXExportError(f"chainrule.onnx.export: {where(scope)} ({module!r}) averages "
                              f"spatial size {tuple(sizes)} to {wanted}; ONNX has no adaptive pooling, and "
                              "only output size 1 or sizes that divide the input's are exported (as "
                              "AveragePool)")
    kernel = [size // out for out, size in zip(wanted, sizes)]
    return _batched(g, x, shape, spatial, scope, lambda batched: g.node(
        "AveragePool", [batched], scope, kernel_shape=kernel, strides=kernel))


# --- normalisation and lookup -----------------------------------------------------------------
def batch_norm(g, module, x, shape, scope):
    if module.running_mean is None or module.running_var is None:
        raise ONNXExportError(f"chainrule.onnx.export: {where(scope)} ({module!r}) has "
                              "track_running_stats=False, so it normalises with each batch's own statistics "
                              "even in evaluation; only BatchNorm with running statistics is exported")
    dtype = module.running_mean._data.dtype
    scale = g.weight(module.weight._data, f"{scope}.weight") if module.weight is not None \
        else g.constant([1.0] * module.num_features, dtype, f"{scope}.ones")
    bias = g.weight(module.bias._data, f"{scope}.bias") if module.bias is not None \
        else g.constant([0.0] * module.num_features, dtype, f"{scope}.zeros")
    mean = g.weight(module.running_mean._data, f"{scope}.running_mean")
    var = g.weight(module.running_var._data, f"{scope}.running_var")
    return g.node("BatchNormalization", [x, scale, bias, mean, var], scope, epsilon=float(module.eps))


def layer_norm(g, module, x, shape, scope):
    if g.opset_version < 17:
        raise ONNXExportError(f"chainrule.onnx.export: {where(scope)} is a LayerNorm, whose ONNX "
                              f"operator LayerNormalization needs opset_version >= 17 (got "
                              f"{g.opset_version})")
    normalized = module.normalized_shape
    scale = g.weight(module.weight._data, f"{scope}.weight") if module.weight is not None \
        else g.constant(_ones(normalized), g.float_dtype, f"{scope}.ones")
    inputs = [x, scale]
    if module.bias is not None:
        inputs.append(g.weight(module.bias._data, f"{scope}.bias"))
    return g.node("LayerNormalization", inputs, scope, axis=-len(normalized), epsilon=float(module.eps))


def _ones(shape):
    return [1.0] * shape[0] if len(shape) == 1 else [_ones(shape[1:]) for _ in range(shape[0])]


def embedding(g, module, x, shape, scope):
    return g.node("Gather", [g.weight(module.weight._data, f"{scope}.weight"), x], scope, axis=0)


# --- reshaping --------------------------------------------------------------------------------
def _dims(g, x, start, end, scope):
    """The sizes of dims start..end-1 of ``x``, read at run time (so dynamic axes stay dynamic)."""
    shape = g.node("Shape", [x], scope)
    return g.node("Slice", [shape, g.ints([start], "start"), g.ints([end], "end")], scope)


def flatten(g, module, x, shape, scope):
    rank = len(shape)
    start, end = module.start_dim % max(rank, 1), module.end_dim % max(rank, 1)
    if rank == 0 or start >= end:
        return g.node("Identity", [x], scope)
    if start == 1 and end == rank - 1:
        return g.node("Flatten", [x], scope, axis=1)
    pieces = [_dims(g, x, 0, start, scope), g.ints([-1], "minus_one"), _dims(g, x, end + 1, rank, scope)]
    return g.node("Reshape", [x, g.node("Concat", pieces, scope, axis=0)], scope)


def unflatten(g, module, x, shape, scope):
    rank = len(shape)
    dim = module.dim % rank
    pieces = [_dims(g, x, 0, dim, scope), g.ints(module.unflattened_size, "sizes"),
              _dims(g, x, dim + 1, rank, scope)]
    return g.node("Reshape", [x, g.node("Concat", pieces, scope, axis=0)], scope)


def identity(g, module, x, shape, scope):
    return g.node("Identity", [x], scope)


CONVERTERS = {
    nn.Linear: linear, nn.Conv1d: conv, nn.Conv2d: conv,
    nn.MaxPool1d: max_pool, nn.MaxPool2d: max_pool, nn.AvgPool1d: avg_pool, nn.AvgPool2d: avg_pool,
    nn.AdaptiveAvgPool1d: adaptive_avg_pool, nn.AdaptiveAvgPool2d: adaptive_avg_pool,
    nn.BatchNorm1d: batch_norm, nn.BatchNorm2d: batch_norm, nn.LayerNorm: layer_norm,
    nn.Embedding: embedding, nn.Flatten: flatten, nn.Unflatten: unflatten,
    nn.Dropout: identity, nn.Identity: identity,
    **ACTIVATIONS,
}


def supported_names() -> str:
    return ", ".join(sorted(kind.__name__ for kind in CONVERTERS))

