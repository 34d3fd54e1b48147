"""backend.erf (behind erf and the exact GELU) against Python's math.erf: within 2 ulp in
float64 over the whole line, tiny arguments included; float32 results correctly rounded to 1 ulp;
odd, ±1 at ±inf, NaN kept, the input's shape and float dtype kept."""

import math

import numpy as np
import pytest

from chainrule.backend import erf


def ulps(ours, reference):
    return np.abs(ours - reference) / np.spacing(np.abs(reference).astype(ours.dtype))


def test_float64_within_two_ulp_everywhere():
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-7, 7, 20000), rng.standard_normal(5000) * 1e-3,
                        10.0 ** rng.uniform(-300, 0, 500), np.arange(-6 * 64, 6 * 64 + 1) / 64,
                        np.arange(-6 * 64, 6 * 64) / 64 + 1 / 128, [5.999999, 6.0, 6.000001, 1e-320]])
    reference = np.array([math.erf(v) for v in x])
    assert ulps(erf(x), reference).max() <= 2


def test_float32_within_one_ulp():
    x = np.random.default_rng(8).uniform(-5, 5, 20000).astype(np.float32)
    reference = np.array([math.erf(float(v)) for v in x]).astype(np.float32)
    result = erf(x)
    assert result.dtype == np.float32 and ulps(result, reference).max() <= 1


def test_special_values_shape_and_dtype():
    x = np.array([[np.nan, -np.inf], [np.inf, -0.0]])
    result = erf(x)
    assert result.shape == (2, 2) and np.isnan(result[0, 0])
    assert result[0, 1] == -1.0 and result[1, 0] == 1.0 and math.copysign(1, result[1, 1]) == -1
    assert erf(np.float32(0.5)).dtype == np.float32 and erf(np.array(0.5)).shape == ()
    assert erf(np.array([1, 2])).dtype == np.float64


@pytest.mark.parametrize("value", [0.1, 1.0, 2.5, 4.0])
def test_odd(value):
    assert erf(np.array(-value)) == -erf(np.array(value))
