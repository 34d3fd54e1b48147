"""Pooling windows under onnxruntime, swept over sizes, strides, padding and ceil_mode: PyTorch's
rule of dropping a last window that would start in the padding is kept, and the one case ONNX
cannot express (axes that disagree) is refused by name."""

import io
import itertools

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
chainrule_onnx = pytest.importorskip("chainrule.onnx")


def _compare(model, x):
    buffer = io.BytesIO()
    chainrule_onnx.export(model, cr.from_numpy(x), buffer)
    theirs = ort.InferenceSession(buffer.getvalue()).run(None, {"input": x})[0]
    ours = model(cr.from_numpy(x)).numpy()
    assert theirs.shape == ours.shape, (model, x.shape)
    np.testing.assert_allclose(theirs, ours, rtol=1e-5, atol=1e-6, err_msg=f"{model!r} on {x.shape}")


@pytest.mark.parametrize("kind", ["max", "avg_include_pad", "avg_exclude_pad"])
def test_1d_pooling_matches_for_every_size_stride_padding_and_ceil_mode(kind):
    rng = np.random.default_rng(0)
    for length, kernel, stride, padding, ceil_mode in itertools.product(range(4, 10), (2, 3, 4), (1, 2, 3),
                                                                        (0, 1, 2), (False, True)):
        if padding > kernel // 2:
            continue
        if kind == "max":
            model = nn.MaxPool1d(kernel, stride, padding, dilation=1 + length % 2, ceil_mode=ceil_mode)
        else:
            include_pad = kind == "avg_include_pad"
            model = nn.AvgPool1d(kernel, stride, padding, ceil_mode, count_include_pad=include_pad)
        x = rng.standard_normal((1, 2, length)).astype(np.float32)
        try:
            model(cr.from_numpy(x))
        except ValueError:            # no window fits (dilated kernel longer than the padded input)
            continue
        _compare(model, x)


def test_2d_pooling_with_ceil_mode_matches_or_is_refused_when_the_axes_disagree():
    rng = np.random.default_rng(1)
    exported = refused = 0
    for height, width, kernel, stride, padding in itertools.product(range(4, 9), range(4, 9), (2, 3), (2, 3),
                                                                    (0, 1)):
        if padding > kernel // 2:
            continue
        model = nn.AvgPool2d(kernel, stride, padding, ceil_mode=True) if (height + width) % 2 \
            else nn.MaxPool2d(kernel, stride, padding, ceil_mode=True)
        x = rng.standard_normal((1, 2, height, width)).astype(np.float32)
        try:
            _compare(model, x)
            exported += 1
        except chainrule_onnx.ONNXExportError as err:
            assert "ceil_mode=True" in str(err) and f"({height}, {width})" in str(err)
            assert type(model).__name__ in str(err)
            refused += 1
    assert exported > 10 * refused > 0
