"""repr(tensor) reads exactly as torch 2.13 prints the same values and dtype.

The torch side is normalised only for the dtype spelling: torch writes ``dtype=torch.float64``,
chainrule ``dtype=float64``. Every test restores both libraries' print options.
"""

import itertools
import re

import numpy as np
import pytest

import chainrule as cr
import chainrule.forward_ad as cr_fwad
from chainrule.errors import ArgumentError

torch = pytest.importorskip("torch")
torch_fwad = torch.autograd.forward_ad

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


@pytest.fixture(autouse=True)
def _default_options():
    yield
    torch.set_printoptions(profile="default")
    cr.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)
    cr.set_default_dtype(cr.float32)


def torch_text(array, **kwargs):
    text = repr(torch.tensor(array, **kwargs))
    return re.sub(r"dtype=torch\.(\w+)", r"dtype=\1", text)


def same(array, **kwargs):
    ours = repr(cr.tensor(array, **kwargs))
    theirs = torch_text(array, **kwargs)
    assert ours == theirs, f"\nchainrule:\n{ours}\ntorch:\n{theirs}"


def values(kind, shape, rng):
    """Arrays of many characters: plain, tiny, huge, whole, wide-ranged, with inf/nan/-0."""
    size = int(np.prod(shape))
    if kind == "normal":
        data = rng.standard_normal(size)
    elif kind == "tiny":
        data = rng.standard_normal(size) * 1e-6
    elif kind == "huge":
        data = rng.standard_normal(size) * 1e9
    elif kind == "whole":
        data = rng.integers(-50, 50, size).astype(float)
    elif kind == "whole_wide":
        data = rng.integers(-5, 5, size) * 10.0 ** rng.integers(0, 6, size)
    elif kind == "wide":
        data = rng.standard_normal(size) * 10.0 ** rng.integers(-3, 3, size)
    elif kind == "special":
        data = rng.choice([0.0, -0.0, np.inf, -np.inf, np.nan, 1.5, -2.0, 3.0], size)
    elif kind == "zeros":
        data = np.zeros(size)
    else:
        raise AssertionError(kind)
    return data.reshape(shape)


SHAPES = [(), (1,), (5,), (30,), (2, 3), (4, 5, 6), (1, 1, 1, 2), (3, 0), (0,), (2, 0, 3),
          (1001,), (2000,), (40, 40), (11, 11, 11), (3, 400), (400, 3)]
KINDS = ["normal", "tiny", "huge", "whole", "whole_wide", "wide", "special", "zeros"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_float_values_and_shapes(kind, shape):
    rng = np.random.default_rng(hash((kind, shape)) % 2**32)
    data = values(kind, shape, rng)
    for dtype in ("float32", "float64"):
        same(data.astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (7,), (3, 4), (2, 3, 4), (0,), (0, 2), (1500,), (50, 50)], ids=str)
def test_every_dtype(dtype, shape):
    rng = np.random.default_rng(len(shape) * 17 + DTYPES.index(dtype))
    if dtype == "bool":
        data = rng.random(shape) > 0.5
    elif dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        data = rng.integers(max(info.min, -1000), min(info.max, 1000), shape, endpoint=True).astype(dtype)
    else:
        data = (rng.standard_normal(shape) * 30).astype(dtype)
    same(data)


def test_the_examples_from_the_issue():
    assert repr(cr.tensor([[1.5, -2.25], [3, 4]])) == ("tensor([[ 1.5000, -2.2500],\n"
                                                      "        [ 3.0000,  4.0000]])")
    assert repr(cr.arange(2000.)) == ("tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, "
                                      "1.9980e+03,\n        1.9990e+03])")
    assert repr(cr.tensor([1.0, 2.0], dtype=cr.float64)) == "tensor([1., 2.], dtype=float64)"
    assert repr(cr.tensor([], dtype=cr.int64)) == "tensor([], dtype=int64)"
    assert repr(cr.zeros(0, 3)) == "tensor([], size=(0, 3))"


@pytest.mark.parametrize("data", [
    [1.0, -0.0], [-0.0], [0.0, 0.0], [np.inf, 1.0], [np.nan], [np.inf, -np.inf, np.nan],
    [1e-4, 1.0], [9.9e-5, 1.0], [1.0, 1000.0], [1.0, 1001.0], [1e8], [1.1e8], [123456789.0],
    [0.1, 100.0], [0.1, 100.01], [-1e-10, 5.0, np.nan], [1e300, 1e-300], [65504.0, 1.0],
    [[1.0, 2.5], [np.inf, -0.0]], [0.5, 0.25, -0.125], 3.0, -0.0, np.nan, 1e-7, 12345.678,
])
def test_edge_values(data):
    for dtype in ("float32", "float64", "float16"):
        with np.errstate(over="ignore"):   # 1e8 and up are inf in float16, in both libraries
            array = np.asarray(data, dtype="float64").astype(dtype)
        same(array)


OPTION_SETS = [
    dict(precision=2), dict(precision=8), dict(precision=0), dict(threshold=5), dict(threshold=50),
    dict(edgeitems=0), dict(edgeitems=1), dict(edgeitems=2, threshold=10), dict(linewidth=20),
    dict(linewidth=40), dict(linewidth=120), dict(linewidth=3), dict(profile="short"),
    dict(profile="full"), dict(profile="short", precision=5), dict(sci_mode=True),
    dict(sci_mode=False), dict(profile="full", sci_mode=True, linewidth=50),
    dict(edgeitems=0, threshold=3),
]


@pytest.mark.parametrize("options", OPTION_SETS, ids=str)
def test_print_options(options):
    torch.set_printoptions(**options)
    cr.set_printoptions(**options)
    rng = np.random.default_rng(len(str(options)))
    for shape, kind in itertools.product([(), (4,), (12,), (3, 5), (2, 3, 4), (1200,), (30, 40)],
                                         ["normal", "whole", "tiny", "huge", "zeros", "special"]):
        same(values(kind, shape, rng).astype("float32"))
    same(rng.integers(-99, 99, (5, 30)))
    same(rng.random(20) > 0.5)
    same(np.zeros((0, 3)))
    same(rng.standard_normal((20, 3)), requires_grad=True)
    same(rng.standard_normal((3, 5)).astype("float64"), requires_grad=True)


def test_options_are_kept_until_changed_and_sci_mode_resets():
    cr.set_printoptions(precision=2, sci_mode=True)
    assert repr(cr.tensor([1.5])) == "tensor([1.50e+00])"
    cr.set_printoptions(linewidth=100)   # sci_mode returns to None; precision stays
    assert repr(cr.tensor([1.5])) == "tensor([1.50])"
    cr.set_printoptions(profile="default")
    assert repr(cr.tensor([1.5])) == "tensor([1.5000])"


def test_an_unknown_profile_is_named():
    with pytest.raises(ArgumentError, match="profile 'lng'"):
        cr.set_printoptions(profile="lng")


@pytest.mark.parametrize("shape", [(), (3,), (2, 2), (9, 9), (1200,)], ids=str)
def test_suffixes_requires_grad_and_wrapping(shape):
    rng = np.random.default_rng(3)
    data = rng.standard_normal(shape)
    for dtype in ("float32", "float64", "float16"):
        same(data.astype(dtype), requires_grad=True)
    torch.set_printoptions(linewidth=30)
    cr.set_printoptions(linewidth=30)
    for dtype in ("float32", "float64", "float16"):
        same(data.astype(dtype), requires_grad=True)


def test_grad_fn_suffix_in_torch_layout():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=cr.float64, requires_grad=True)
    tx = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64, requires_grad=True)
    ours = repr(x * 2).replace("MulBackward", "MulBackward0")
    assert ours == torch_text((tx * 2).detach().numpy()).replace(
        "dtype=float64)", "dtype=float64, grad_fn=<MulBackward0>)")
    assert repr((x * 2).sum()) == "tensor(20., dtype=float64, grad_fn=<SumBackward>)"


def test_default_dtype_float64_drops_its_suffix_and_shows_float32():
    torch.set_default_dtype(torch.float64)
    cr.set_default_dtype(cr.float64)
    same(np.array([1.5, 2.0]))
    same(np.array([1.5, 2.0], dtype="float32"))
    same(np.zeros((0,), dtype="float32"))
    same(np.zeros((0,), dtype="float64"))


def test_parameter_and_dual_tensors():
    ours = cr.nn.Parameter(cr.tensor([1.5, -2.0]))
    assert repr(ours) == repr(torch.nn.Parameter(torch.tensor([1.5, -2.0])))
    with cr_fwad.dual_level(), torch_fwad.dual_level():
        ours = cr_fwad.make_dual(cr.tensor([1.0, 2.5]), cr.tensor([1e-5, 2.0]))
        theirs = torch_fwad.make_dual(torch.tensor([1.0, 2.5]), torch.tensor([1e-5, 2.0]))
        assert repr(ours) == repr(theirs)


def test_str_and_print_are_the_repr(capsys):
    t = cr.tensor([[1.0, 2.0], [3.0, 40000.0]])
    print(t)
    assert capsys.readouterr().out == repr(t) + "\n" == str(t) + "\n"
    assert f"{t}" == repr(t)
