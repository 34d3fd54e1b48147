"""Watching a forward pass while it is recorded: tensor values read or written by Python, modules
called. Installed only for the recording call (trace.py), so compiled and eager code pay nothing.

Values: ``Tensor._data`` is a slot; for the recording its descriptor is swapped for one that
reports every access made outside an op to a tensor whose values change between calls (the
arguments, the values ops computed, parameters and buffers). A read is harmless when only the
array's metadata is used -- ``t._data.shape``, ``.dtype``, ``.ndim``, ``.size`` are fixed by the
signature -- which the bytecode tells: the instruction after the read is ``LOAD_ATTR shape``.
A read through one of Tensor's conversions (``__bool__``, ``item``, ``numpy`` ...) puts the value
into Python: refused at once. Any other read is *pending*: fine if the very array is later handed
to an op as a parameter (``embedding`` passes ``indices._data`` on; the replay passes the new one),
refused if the pass ends with it still pending (Python computed something from it).

Modules: ``Module.__call__`` is wrapped so that every module called is seen (its training flag,
parameters and hooks become the plan's guards and references).
"""

from __future__ import annotations

import dis
import os
import sys

from ..in_place import record_in_place
from ..nn.module import Module
from ..ops import methods
from ..tensor import Tensor

_DATA = Tensor.__dict__["_data"]   # the slot's own descriptor
data_of = _DATA.__get__            # data_of(t): t's array, never watched
_METADATA = frozenset({"shape", "dtype", "ndim", "size", "itemsize", "nbytes", "strides", "flags"})
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Tensor's conversions of values to Python (what `if x > 0:` and `float(loss)` call)
_CONVERSIONS = {
    "__bool__": "Tensor.__bool__: Python control flow on a tensor's value (if x.sum() > 0: ...)",
    "item": "Tensor.item(): a tensor's value read into Python",
    "tolist": "Tensor.tolist(): a tensor's values read into Python",
    "numpy": "Tensor.numpy(): a tensor's values handed to NumPy outside an op",
    "__array__": "np.asarray(tensor): a tensor's values handed to NumPy outside an op",
    "__index__": "Tensor.__index__: a tensor's value used as a Python index",
    "__format__": "formatting a tensor's value (f-string or print)",
    "__repr__": "printing a tensor's values",
}
_CONVERSION_CODES = {getattr(Tensor, name).__code__: text for name, text in _CONVERSIONS.items()}
_IN_PLACE = ("an in-place operation (x.add_(y), x[i] = v, x += y, ...): a replay recomputes values, it does "
             "not change tensors")
for _code in (record_in_place.__code__, Tensor.add_.__code__, Tensor.relu_.__code__,
              methods._write.__code__, methods._write_at.__code__, methods._setitem.__code__):
    _CONVERSION_CODES[_code] = _IN_PLACE
_ALIAS_CODES = {Tensor.detach.__code__, Tensor.data.fget.__code__}   # same array, no values used
_next_instruction: dict = {}   # code object -> {offset: (opname, argval) of the next instruction}


def _following(code, offset):
    table = _next_instruction.get(code)
    if table is None:
        instructions = list(dis.get_instructions(code))
        table = {a.offset: (b.opname, b.argval) for a, b in zip(instructions, instructions[1:])}
        _next_instruction[code] = table
    return table.get(offset, (None, None))


def where(frame) -> str:
    """'layer_norm (ops/normalization.py:120), from model.py:12 in forward': the function that did
    it and, when that is inside chainrule, the first line outside it (the user's)."""
    def place(f):
        return f"{os.path.relpath(f.f_code.co_filename, _PACKAGE)}:{f.f_lineno}"

    inner = frame
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    if frame is inner or frame is None:
        return f"{os.path.basename(inner.f_code.co_filename)}:{inner.f_lineno} in {inner.f_code.co_name}"
    outer = f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno} in {frame.f_code.co_name}"
    return f"{inner.f_code.co_name} ({place(inner)}), from {outer}"


class _WatchedData:
    """Stands in for ``Tensor._data`` while a pass is recorded."""

    def __init__(self, tracer):
        self.tracer = tracer

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = _DATA.__get__(obj, owner)
        tracer = self.tracer
        if tracer.watches(obj):
            frame = sys._getframe(1)
            code = frame.f_code
            if code in _CONVERSION_CODES:
                tracer.refuse(f"{_CONVERSION_CODES[code]} (at {where(frame)})")
            elif code not in _ALIAS_CODES:
                opname, argval = _following(code, frame.f_lasti)
                if not (opname == "LOAD_ATTR" and argval in _METADATA):
                    tracer.value_read(value, where(frame))
        return value

    def __set__(self, obj, value):
        if self.tracer.watches(obj):
            frame = sys._getframe(1)
            self.tracer.refuse(f"a tensor's values were replaced outside an op (at {where(frame)})")
        _DATA.__set__(obj, value)


_original_call = Module.__call__


def install(tracer) -> None:
    def observed_call(module, *args, **kwargs):
        tracer.observe_module(module)
        return _original_call(module, *args, **kwargs)

    Tensor._data = _WatchedData(tracer)
    Module.__call__ = observed_call


def uninstall() -> None:
    Tensor._data = _DATA
    Module.__call__ = _original_call
