"""Custom differentiable functions: PyTorch's ``torch.autograd.Function``, forward and backward
written by the user, recorded in the graph as one node.

    class LegendreP3(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 0.5 * (5 * x ** 3 - 3 * x)           # P3(x)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * x ** 2 - 1)   # dL/dx = dL/dP3 * P3'(x)

    y = LegendreP3.apply(x)

``forward`` runs without recording (its ops are not in the graph); the output records the class
as its op, and ``backward`` is that op's vector-Jacobian product: it gets dL/d(each output) and
returns dL/d(each input of forward), None for inputs that are not tensors or need no gradient.
Under ``create_graph=True`` backward runs recorded, so it is differentiable when written with
chainrule's ops on the saved tensors. PyTorch's newer style works too: ``forward(x)`` without
ctx plus ``setup_context(ctx, inputs, output)``.

The ctx: ``save_for_backward(*tensors)`` / ``saved_tensors`` (refused if a saved tensor was
changed in place since), ``needs_input_grad``, ``mark_non_differentiable(*outputs)``,
``set_materialize_grads(False)`` (None instead of zeros for outputs without a gradient), and any
attribute you set (``ctx.constant = 2``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .backend import np
from .errors import ArgumentError, GraphError, ShapeError
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .primitive import Primitive, apply
from .tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Sequence


class FunctionCtx:
    """What forward stores for backward (PyTorch's ``ctx``)."""

    _function: type[Function]

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self._saved: tuple[Tensor | None, ...] = ()
        self._saved_versions: tuple[int | None, ...] = ()
        self._non_differentiable: set[int] = set()

    if TYPE_CHECKING:   # any attribute forward sets for backward (ctx.constant = 2), as in PyTorch
        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise ArgumentError(f"save_for_backward can only save tensors (or None), got "
                                    f"{type(t).__name__}; keep other values as attributes: ctx.value = ...")
        self._saved = tensors
        self._saved_versions = tuple(None if t is None else t._version for t in tensors)

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        for t, version in zip(self._saved, self._saved_versions):
            if t is not None and t._version != version:
                raise GraphError(f"a tensor saved for backward (shape {t.shape}) was modified by an in-place "
                                 "operation after save_for_backward")
        return self._saved

    def mark_non_differentiable(self, *outputs: Tensor) -> None:
        self._non_differentiable.update(id(t) for t in outputs)

    def mark_dirty(self, *tensors: Tensor) -> None:
        """Accepted for PyTorch's API; chainrule records the outputs of a Function as new tensors."""

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)


class Function:
    """Subclass with ``forward`` and ``backward`` static methods; call ``YourFunction.apply(...)``."""

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a Function subclass must define forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("a Function subclass must define backward(ctx, *grad_outputs)")

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple[Any, ...], output: Any) -> None:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        tensors = [a for a in args if isinstance(a, Tensor)]
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        ctx._function = cls
        with no_grad():
            if _overrides(cls, "setup_context"):
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        if not (is_grad_enabled() and any(t.requires_grad for t in tensors)):
            return output
        differentiable = [i for i, o in enumerate(outputs)
                          if isinstance(o, Tensor) and id(o) not in ctx._non_differentiable
                          and o.dtype.kind == "f"]
        if not differentiable:
            return output
        prim = _primitive_of(cls)
        shapes = [(o.shape, o.dtype) if isinstance(o, Tensor) else None for o in outputs]
        params = {"ctx": ctx, "args": args, "positions": differentiable, "shapes": shapes,
                  "count": len(outputs)}
        if len(differentiable) == 1:
            i = differentiable[0]
            params["outputs"] = (outputs[i]._data,)
            recorded = list(outputs)
            recorded[i] = apply(prim, tuple(tensors), params)
        else:
            params["outputs"] = tuple(outputs[i]._data for i in differentiable)
            packed = apply(prim, tuple(tensors), params)   # one node; each output picks its part
            recorded = list(outputs)
            for slot, i in enumerate(differentiable):
                recorded[i] = apply(_PICK, (packed,), {"slot": slot, "count": len(differentiable)})
        return recorded[0] if single else tuple(recorded)


def _overrides(cls: type[Function], name: str) -> bool:
    return getattr(cls, name) is not getattr(Function, name)


def _primitive_of(cls: type[Function]) -> Primitive:
    """One Primitive per Function class, named by the class (what explain and graphs show)."""
    prim = cls.__dict__.get("_chainrule_primitive")
    if prim is None:
        prim = Primitive(cls.__name__, _forward, vjp_all=_custom_vjp)
        cls._chainrule_primitive = prim  # type: ignore[attr-defined]
    return prim


def _forward(*arrays: np.ndarray, ctx: FunctionCtx, args: tuple[Any, ...], positions: list[int],
             shapes: list[Any], count: int, outputs: tuple[np.ndarray, ...]) -> np.ndarray:
    """The values forward computed: one output as is; several packed in an object array."""
    if len(outputs) == 1:
        return outputs[0]
    packed = np.empty(len(outputs), dtype=object)
    packed[:] = list(outputs)
    return packed


def _custom_vjp(xp: Any, g: Any, y: Any, inputs: Sequence[Tensor], needs: Sequence[bool], ctx: FunctionCtx,
                args: tuple[Any, ...], positions: list[int], shapes: list[Any], count: int,
                outputs: tuple[np.ndarray, ...]) -> list[Any]:
    """Call the user's backward with dL/d(each output) and hand back dL/d(each tensor input)."""
    grads_by_slot = [g] if len(outputs) == 1 else list(g)
    grad_outputs: list[Tensor | None] = []
    slot = 0
    for position in range(count):
        if position in positions:
            grad = grads_by_slot[slot]
            slot += 1
            if isinstance(grad, (int, float)) and grad == 0:   # this output got no gradient
                grad = None
        else:
            grad = None
        if grad is None and ctx.materialize_grads and shapes[position] is not None:
            shape, dtype = shapes[position]
            grad = np.zeros(shape, dtype)
        if grad is not None and not isinstance(grad, Tensor):
            grad = Tensor._wrap(np.asarray(grad))
        grad_outputs.append(grad)
    with (enable_grad() if isinstance(g, Tensor) else no_grad()):
        returned = ctx_backward(ctx, grad_outputs)
    returned = returned if isinstance(returned, tuple) else (returned,)
    tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    if len(returned) < len(tensor_positions) and len(returned) != len(args):
        raise ShapeError(f"{ctx._function.__name__}.backward returned {len(returned)} gradients for "
                         f"{len(args)} inputs of forward")
    picked = [returned[i] if len(returned) == len(args) else returned[k]
              for k, i in enumerate(tensor_positions)]
    grads: list[Any] = []
    for grad, t, need in zip(picked, inputs, needs):
        if grad is None or not need:
            grads.append(None)
            continue
        if not isinstance(grad, Tensor):
            grad = Tensor._wrap(np.asarray(grad, dtype=t.dtype))
        if grad.shape != t.shape:
            raise ShapeError(f"{ctx._function.__name__}.backward returned a gradient of shape {grad.shape} "
                             f"for an input of shape {t.shape}")
        grads.append(grad if isinstance(g, Tensor) else grad._data)
    return grads


def ctx_backward(ctx: FunctionCtx, grad_outputs: list[Tensor | None]) -> Any:
    return ctx._function.backward(ctx, *grad_outputs)


def _pick_vjp(xp: Any, g: Any, y: Any, packed: Any, slot: int, count: int) -> np.ndarray:
    """dL/d(packed) from dL/d(output slot): the gradient in its slot, 0 in the others."""
    if isinstance(g, Tensor):
        raise GraphError("create_graph through a custom Function with several differentiable outputs is "
                         "not supported; return one differentiable output (mark the others "
                         "non-differentiable)")
    out = np.zeros(count, dtype=object)
    out[slot] = g
    return out


_PICK = Primitive("output", lambda packed, slot, count: packed[slot], _pick_vjp)
