"""Shorter code for the commonest primitives, where the recorded shapes allow it.

A plan calls each op's own forward and VJPs (the derivative table in ``chainrule.ops``). For the
few ops small models are made of, the call and its shape handling cost more than the arithmetic
on small arrays, so the plan writes the same NumPy operations out in place -- the same operations
in the same order, so the values are bitwise the same:

    linear, 2-D input    s = x @ W.T;  s += b                   (ops/linear.py)
                         g @ W     g.T @ x     add.reduce(g, axis=0)   (the last two written into
                         the parameter's gradient home when it has one: leaves.py)
    relu                 max(x, zeros of one row's shape)        g * ~(y <= 0)      (activations.py)
    x[index], basic      x[index]                                zeros, then [index] = g (indexing.py)
    mse_loss, mean       d = x - y;  sum(d * d) / n              g * (d * 2.0) / n  (regression_losses.py)

``ndarray.sum(axis)`` is ``np.add.reduce`` underneath; calling that directly skips NumPy's Python
wrapper. A form's lines set ``{out}``; a VJP form whose result is known to have the input's shape
and dtype already is marked exact: the plan then skips the engine's checks on it.
"""

from __future__ import annotations

from ..backend import np
from ..ops.activations import relu_p
from ..ops.indexing import getitem_p, is_advanced
from ..ops.linear import linear_p
from ..ops.regression_losses import mse_p

NAMESPACE = {"_maximum": np.maximum, "_matmul": np.matmul, "_add_reduce": np.add.reduce, "_zeros": np.zeros}


def _basic_index(op):
    index = op.params.get("index")
    return index is not None and index[0] == "const" and not is_advanced(index[1])


def _plain_mse(op, plan) -> bool:
    """mse_loss with the mean, input and target of one shape and dtype."""
    reduction = op.params.get("reduction")
    if reduction != ("const", "mean") or len(op.params) != 1:
        return False
    (shape_x, dtype_x), (shape_y, dtype_y) = (plan.shape_dtype(b) for b in op.inputs)
    return shape_x == shape_y and dtype_x == dtype_y == op.dtype


def forward_form(op, target: str, operands: list, emitter, plan) -> list | None:
    """Lines that set ``target`` to the op's forward, or None for the generic call."""
    prim = op.prim
    if prim is linear_p and len(op.shape) == 2 and len(operands) == 3:
        x, weight, bias = operands
        return [f"{target} = {x} @ {weight}.T", f"{target} += {bias}"]
    if prim is relu_p and len(op.shape) >= 1:
        zeros = np.zeros(op.shape[1:] if len(op.shape) > 1 else op.shape, op.dtype)
        return [f"{target} = _maximum({operands[0]}, {emitter.constant(zeros, 'z')})"]
    if prim is getitem_p and _basic_index(op):
        return [f"{target} = {operands[0]}[{emitter.constant(op.params['index'][1], 'i')}]"]
    if prim is mse_p and _plain_mse(op, plan):
        x, y = operands
        size = int(np.prod(plan.shape_dtype(op.inputs[0])[0]))
        dtype = emitter.constant(op.dtype, "d")
        return [f"d = {x} - {y}",
                f"{target} = _asarray(_add_reduce(d * d, axis=None) / {size}, dtype={dtype})"]
    return None


def vjp_form(op, position: int, grad: str, output: str, operands: list, plan, home: str, emitter):
    """(lines setting ``{out}`` to dL/d(input ``position``), exact) or None for the generic VJP.
    ``home`` names an array the gradient may be written into (``out=``), or is "None"."""
    prim = op.prim
    if prim is linear_p and len(op.shape) == 2 and all(plan.shape_dtype(b)[1] == op.dtype for b in op.inputs):
        x, weight = operands[0], operands[1]
        if position == 0:
            return [f"{{out}} = {grad} @ {weight}"], True
        if position == 1:
            return [f"{{out}} = _matmul({grad}.T, {x}, out={home})"], True
        return [f"{{out}} = _add_reduce({grad}, axis=0, out={home})"], True
    if prim is relu_p and len(op.shape) >= 1:
        return [f"{{out}} = {grad} * ~({output} <= 0)"], True
    if prim is getitem_p and _basic_index(op):
        shape, dtype = plan.shape_dtype(op.inputs[0])
        if dtype != op.dtype:
            return None
        index = emitter.constant(op.params["index"][1], "i")
        return [f"{{out}} = _zeros({emitter.constant(shape, 'k')}, {emitter.constant(dtype, 'd')})",
                f"{{out}}[{index}] = {grad}"], True
    if prim is mse_p and _plain_mse(op, plan):
        x, y = operands
        size = int(np.prod(plan.shape_dtype(op.inputs[0])[0]))
        slope = f"({grad} * (({x} - {y}) * 2.0)) / {size}"
        return [f"{{out}} = {slope}" if position == 0 else f"{{out}} = -({slope})"], True
    return None
