"""Shorter code for the commonest primitives, where the recorded shapes allow it.

A plan calls each op's own forward and VJPs (the derivative table in ``chainrule.ops``). For the
few ops small models are made of, the call and its shape handling cost more than the arithmetic
on small arrays, so the plan writes the same NumPy operations out in place -- the same operations
in the same order, so the values are bitwise the same:

    linear, 2-D input    s = x @ W.T;  s += b                          (ops/linear.py)
                         g @ W     g.T @ x     add.reduce(g, axis=0)
    relu                 max(x, zeros of one row's shape)     g * (y != 0)    (activations.py)
    x[index], basic      x[index]                             zeros, then [index] = g  (indexing.py)
    mse_loss, mean       d = x - y;  sum(d * d) / n           g * (d * 2.0) / n  (regression_losses.py)

relu's VJP is written ``g * ~(y <= 0)`` in the table (a NaN passes g on); y = max(x, 0) is never
negative, so ``y != 0`` is the same mask with one pass fewer. ``ndarray.sum(axis)`` is
``np.add.reduce`` underneath; calling it directly skips NumPy's Python wrapper.

Where the values are large the forms write into arrays kept from call to call (``out=``): a
value's pool (buffers.py), a parameter gradient's home (leaves.py); and relu's VJP multiplies in
place when the incoming gradient is a temporary of the plan's own.

A form is a list of lines that set ``{out}``. ``exact``: the result already has the input's shape
and dtype (the plan skips the engine's checks on it); ``fresh``: it is a new array (or one of the
plan's), held by nothing else -- a later form may write over it.
"""

from __future__ import annotations

from ..backend import np
from ..ops.activations import relu_p
from ..ops.indexing import getitem_p, is_advanced
from ..ops.linear import linear_p
from ..ops.regression_losses import mse_p

NAMESPACE = {"_maximum": np.maximum, "_matmul": np.matmul, "_multiply": np.multiply,
             "_not_equal": np.not_equal, "_add_reduce": np.add.reduce, "_zeros": np.zeros}


class Form:
    """Lines computing one value (``{out}`` in them is where it goes), and what is known of it."""

    __slots__ = ("lines", "exact", "fresh")

    def __init__(self, lines, exact=True, fresh=True):
        self.lines, self.exact, self.fresh = lines, exact, fresh


class Context:
    """What a form may use: the op, its operands' names, and the plan's pools and constants."""

    def __init__(self, op, operands, plan, emitter):
        self.op, self.operands, self.plan, self.emitter = op, operands, plan, emitter

    def pool(self, shape, dtype) -> str:
        """An ``out=`` argument for a value of this shape: a kept array, or None (allocate)."""
        number = self.plan.buffers.request(shape, dtype)
        return "None" if number is None else f"_take({number})"

    def input_shape(self, position: int):
        return self.plan.shape_dtype(self.op.inputs[position])


def _basic_index(op) -> bool:
    index = op.params.get("index")
    return index is not None and index[0] == "const" and not is_advanced(index[1])


def _plain_mse(context) -> bool:
    """mse_loss with the mean, input and target of one shape and dtype."""
    op = context.op
    if op.params.get("reduction") != ("const", "mean") or len(op.params) != 1:
        return False
    (shape_x, dtype_x), (shape_y, dtype_y) = context.input_shape(0), context.input_shape(1)
    return shape_x == shape_y and dtype_x == dtype_y == op.dtype


def _one_dtype(context) -> bool:
    return all(context.plan.shape_dtype(b)[1] == context.op.dtype for b in context.op.inputs)


def forward_form(context) -> Form | None:
    """The op's forward as lines setting ``{out}``, or None for the generic call."""
    op, operands = context.op, context.operands
    prim = op.prim
    if prim is linear_p and len(op.shape) == 2 and len(operands) == 3 and _one_dtype(context):
        x, weight, bias = operands
        return Form([f"{{out}} = _matmul({x}, {weight}.T, out={context.pool(op.shape, op.dtype)})",
                     f"{{out}} += {bias}"])
    if prim is relu_p and len(op.shape) >= 1:
        zeros = np.zeros(op.shape[1:] if len(op.shape) > 1 else op.shape, op.dtype)
        out = context.pool(op.shape, op.dtype)
        return Form([f"{{out}} = _maximum({operands[0]}, {context.emitter.constant(zeros, 'z')}, out={out})"])
    if prim is getitem_p and _basic_index(op):
        index = context.emitter.constant(op.params["index"][1], "i")
        return Form([f"{{out}} = {operands[0]}[{index}]"], fresh=False)
    if prim is mse_p and _plain_mse(context):
        x, y = operands
        size = int(np.prod(context.input_shape(0)[0]))
        dtype = context.emitter.constant(op.dtype, "d")
        return Form([f"d = {x} - {y}",
                     f"{{out}} = _asarray(_add_reduce(d * d, axis=None) / {size}, dtype={dtype})"])
    return None


def vjp_form(context, position: int, grad: str, grad_is_fresh: bool, output: str, home: str) -> Form | None:
    """dL/d(input ``position``) as lines setting ``{out}``, or None for the generic VJP. ``home``
    names an array a parameter's gradient may be written into, or is "None"; ``grad_is_fresh``:
    the incoming gradient is a temporary of the plan's own (a form may write over it)."""
    op, operands = context.op, context.operands
    prim = op.prim
    if prim is linear_p and len(op.shape) == 2 and _one_dtype(context):
        x, weight = operands[0], operands[1]
        if position == 0:
            shape, dtype = context.input_shape(0)
            return Form([f"{{out}} = _matmul({grad}, {weight}, out={context.pool(shape, dtype)})"])
        if position == 1:
            return Form([f"{{out}} = _matmul({grad}.T, {x}, out={home})"])
        return Form([f"{{out}} = _add_reduce({grad}, axis=0, out={home})"])
    if prim is relu_p and len(op.shape) >= 1:
        if grad_is_fresh:   # the incoming gradient is ours and used only here: multiply it in place
            return Form([f"{{out}} = _multiply({grad}, _not_equal({output}, 0), out={grad})"])
        return Form([f"{{out}} = {grad} * _not_equal({output}, 0)"])
    if prim is getitem_p and _basic_index(op):
        shape, dtype = context.input_shape(0)
        if dtype != op.dtype:
            return None
        emitter = context.emitter
        index = emitter.constant(op.params["index"][1], "i")
        return Form([f"{{out}} = _zeros({emitter.constant(shape, 'k')}, {emitter.constant(dtype, 'd')})",
                     f"{{out}}[{index}] = {grad}"])
    if prim is mse_p and _plain_mse(context):
        x, y = operands
        size = int(np.prod(context.input_shape(0)[0]))
        slope = f"({grad} * (({x} - {y}) * 2.0)) / {size}"
        return Form([f"{{out}} = {slope}" if position == 0 else f"{{out}} = -({slope})"])
    return None
