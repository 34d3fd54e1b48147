"""Differential test against PyTorch: random ops on random shapes, magnitudes and dtypes.

Each case (see fuzz_cases.py) runs under chainrule and torch 2.13. The rules:

- torch raises       -> chainrule raises too, and its exception is chainrule's own (ChainruleError);
- torch computes     -> chainrule computes the same shape, dtype and values (NaN where torch has
                        NaN, inf where it has inf), and after ``backward`` with the same upstream
                        gradient the same input gradients;
- tolerance: float64 rtol 1e-7, float32 rtol 2e-4, plus an absolute slack scaled by the largest
  input (different summation orders cancel differently);
- allowances, where the two answers are both defensible: with inputs of 1e300 and more or 1e-300
  and less ("extreme"), any answer where torch's is inf/NaN (an intermediate overflowed; the sum
  order decides which non-finite value comes out, and chainrule's var/std/norm rescale huge and
  tiny values where torch overflows or underflows) and torch's 0 against chainrule's tiny value;
  var/std of inputs holding inf (torch's Welford update returns inf, -inf or NaN by layout; the
  mathematical answer is NaN); with infinite inputs, torch's NaN against chainrule's inf (infinity
  times a value torch rounded to 0 and chainrule kept subnormal); the gradient of an elementwise op
  at a NaN input (torch's depends on
  whether its vectorised or scalar loop handled the element). Gradients are not compared behind an
  allowed forward difference.

CI runs a fixed seed (CHAINRULE_FUZZ_CASES cases, 2,500 by default). A longer run, as documented
in the README: ``CHAINRULE_FUZZ_CASES=100000 CHAINRULE_FUZZ_SEED=7 pytest
tests/core/test_differential_fuzz.py``.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from tests.core.fuzz_cases import make_case

import chainrule as cr
import chainrule.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

CASES = int(os.environ.get("CHAINRULE_FUZZ_CASES", "2500"))
ELEMENTWISE = ("unary", "functional", "power", "clamp")
SEED = int(os.environ.get("CHAINRULE_FUZZ_SEED", "20261201"))


def _run(lib, functional, case):
    """(output array, [input gradient arrays or None]) or the exception raised."""
    dtype = getattr(lib, case.dtype)
    leaves = [lib.tensor(a, dtype=dtype, requires_grad=True) for a in case.arrays]
    try:
        out = case.build(lib, functional, leaves)
        if out.requires_grad:
            ramp = np.linspace(-1.0, 1.5, max(out.numel(), 1))[:out.numel()]
            upstream = lib.tensor(ramp.reshape(out.shape),
                                  dtype=out.dtype)
            out.backward(upstream)
    except Exception as err:   # noqa: BLE001 - the comparison decides what is acceptable
        return err
    values = out.detach().numpy() if lib is torch else out.numpy()
    grads = [None if t.grad is None else (t.grad.numpy() if lib is cr else t.grad.detach().numpy())
             for t in leaves]
    return np.array(values, copy=True), grads, str(out.dtype).replace("torch.", "")


def _compare(ours, theirs, case, what):
    """(problem or None, allowance used?) for one output or gradient."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape:
        return f"{what}: shape {ours.shape} vs torch {theirs.shape}", False
    if ours.size == 0:
        return None, False
    finite_inputs = [np.abs(a[np.isfinite(a)]) for a in case.arrays]
    scale = max([1.0] + [float(a.max()) for a in finite_inputs if a.size])
    rtol = 2e-4 if case.dtype == "float32" else 1e-7
    atol = scale * (1e-5 if case.dtype == "float32" else 1e-12)
    with np.errstate(all="ignore"):
        same = np.isclose(ours, theirs, rtol=rtol, atol=atol, equal_nan=True)
        same |= np.isinf(ours) & np.isinf(theirs) & (np.sign(ours) == np.sign(theirs))
        same |= (np.abs(theirs) > 1e300) & (np.abs(ours) > 1e300) & (np.sign(ours) == np.sign(theirs))
        allowed = np.zeros_like(same)
        if case.extreme:
            # overflow/underflow in an intermediate: the two libraries add in different orders (any
            # two non-finite answers), and chainrule's var/std/norm rescale where torch overflows
            allowed = ~same & (~np.isfinite(theirs) | (theirs == 0) & (np.abs(ours) < 1e-290))
        if case.inexact_with_infinities:
            allowed |= ~same & ~np.isfinite(theirs)
        if case.non_finite:   # inf times a number torch rounded to 0 (sigmoid(-719)) where chainrule did not
            allowed |= ~same & np.isnan(theirs) & np.isinf(ours)
    if (same | allowed).all():
        if case.extreme:   # close only through the absolute slack: an underflow, not the same value
            with np.errstate(all="ignore"):
                strict = np.isclose(ours, theirs, rtol=rtol, atol=0, equal_nan=True)
                strict |= np.isinf(ours) & np.isinf(theirs) & (np.sign(ours) == np.sign(theirs))
            allowed |= ~strict
        return None, bool(allowed.any())
    index = tuple(int(i) for i in np.argwhere(~(same | allowed))[0])
    return f"{what}: at {index} chainrule {ours[index]!r} vs torch {theirs[index]!r}", False


def check(case) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _run(torch, TF, case)
        ours = _run(cr, F, case)
    if isinstance(theirs, Exception):
        if isinstance(ours, cr.ChainruleError):
            return None
        if isinstance(ours, Exception):
            return (f"torch refused ({theirs!s:.80}); chainrule raised a foreign "
                    f"{type(ours).__name__}: {ours!s:.200}")
        return f"torch refused ({type(theirs).__name__}: {theirs!s:.120}); chainrule computed a result"
    if isinstance(ours, Exception):
        return f"torch computed; chainrule raised {type(ours).__name__}: {ours!s:.200}"
    (ours_value, ours_grads, ours_dtype), (theirs_value, theirs_grads, theirs_dtype) = ours, theirs
    if ours_dtype != theirs_dtype:
        return f"dtype {ours_dtype} vs torch {theirs_dtype}"
    problem, allowed = _compare(ours_value, theirs_value, case, "forward")
    if problem or allowed:   # gradients downstream of an allowed difference are not comparable
        return problem
    for i, (mine, reference) in enumerate(zip(ours_grads, theirs_grads)):
        if (mine is None) != (reference is None):
            return f"grad {i}: {'missing' if mine is None else 'present'} in chainrule, not in torch"
        if mine is not None:
            if case.kind in ELEMENTWISE and mine.shape == case.arrays[i].shape:
                nan_input = np.isnan(case.arrays[i])   # torch's answer there depends on its loop
                mine, reference = np.where(nan_input, 0, mine), np.where(nan_input, 0, reference)
            problem, allowed = _compare(mine, reference, case, f"grad {i}")
            if problem:
                return problem
    return None


def test_random_ops_agree_with_torch():
    rng = np.random.default_rng(SEED)
    failures = []
    for number in range(CASES):
        case = make_case(rng)
        problem = check(case)
        if problem:
            failures.append(f"case {number} {case!r}: {problem}")
    assert not failures, f"{len(failures)} of {CASES} cases differ from torch:\n" + "\n".join(failures[:25])
