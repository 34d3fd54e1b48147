"""Tensor: an ndarray, its gradient, and the graph node that produced it.

This file holds the data structure and the creation functions. The math (operators and
methods such as ``t.exp()``) is attached by ``chainrule.ops.methods`` from the derivative
table, and ``backward`` by the engine, so that each lives in exactly one place.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, overload

from . import backend as B
from . import display, printing
from .backend import np
from .device import CPU, check_device, device
from .errors import ArgumentError, DTypeError, GraphError, ShapeError

if TYPE_CHECKING:

    from ._tensor_methods import TensorMethods
    from ._typing import ArrayLike, DeviceLike, DTypeLike
    from .primitive import Primitive
else:
    TensorMethods = object   # what ops/methods.py attaches, declared for type checkers (_tensor_methods.pyi)


def _extra_field(key: str, doc: str) -> property:
    """A rarely used tensor field kept in the shared ``_extra`` dict (see Tensor's docstring)."""

    def get(self: Tensor) -> Any:
        extra = self._extra
        return None if extra is None else extra.get(key)

    def set(self: Tensor, value: Any) -> None:
        if self._extra is None:
            if value is None:
                return
            self._extra = {}
        self._extra[key] = value

    return property(get, set, doc=doc)


class Tensor(TensorMethods):
    """An n-dimensional array that can record the operations applied to it.

    data           as in PyTorch: the same values as a Tensor outside the graph, sharing memory
                   (``p.data += -lr * p.grad`` updates p); ``numpy()`` gives the ndarray itself
    grad           dL/d(this tensor) after ``backward()`` (a Tensor of this shape and dtype), or None
    requires_grad  whether operations on it are recorded for backward
    grad_fn        the graph node that made it (None for a leaf)

    A tensor made by an op is itself the graph's node for that op: it records the primitive
    (``_prim``), its params, and its inputs -- one or two in slots (``_first``, ``_second``),
    more in a tuple (``_many``) -- plus the inputs' version counters at forward time
    (``_first_version``, ``_second_version``, or a tuple in ``_many_versions``) and their sum
    ``_version_sum`` (versions only grow, so an equal sum later means no input was changed in
    place; a different one sends the walk to the input's version history, see in_place.py).
    One object per op instead of a tensor, a node and a tuple: every object kept is one more
    for Python's cycle collector to scan, and on deep graphs those scans cost more than the
    arithmetic. ``grad_fn`` shows the record as a ``Node``. For the same reason the fields
    most tensors never use (name, hooks, retain_grad, anomaly trace, the Node view, forward
    mode's tangents) share one slot, ``_extra``: None, or a small dict of those that are set.

    Inside chainrule the values are the ndarray in ``_data`` (always an ndarray, never a NumPy
    scalar, so in-place updates reach it) and the gradient is ``_grad`` (the ``grad`` property
    checks what a user assigns).
    """

    __slots__ = ("_data", "_grad", "_requires_grad", "_version", "_prim", "_params", "_first", "_second",
                 "_many", "_first_version", "_second_version", "_many_versions", "_version_sum", "_extra",
                 "__weakref__")
    _data: np.ndarray
    _grad: Tensor | None
    _requires_grad: bool
    _version: int
    _prim: Primitive | None
    _params: dict[str, Any] | None
    _first: Tensor | None
    _second: Tensor | None
    _many: tuple[Tensor, ...] | None
    _first_version: int
    _second_version: int
    _many_versions: tuple[int, ...]
    _version_sum: int
    _extra: dict[str, Any] | None
    __array_ufunc__ = None  # `ndarray * Tensor` defers to Tensor.__rmul__ instead of unwrapping it

    def __init__(self, data: ArrayLike, requires_grad: bool = False, dtype: DTypeLike | None = None,
                 name: str | None = None) -> None:
        if isinstance(data, Tensor):
            data = data._data
        self._data = B.as_array(data, dtype)
        self._grad = self._extra = None
        self._prim = self._params = self._first = self._second = self._many = None
        self._version = self._version_sum = 0
        self.name = name
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data: np.ndarray, requires_grad: bool = False) -> Tensor:
        """Fast constructor used by the engine: no checks, and no copy of an ndarray. NumPy hands
        back scalars (np.float32(3.0)) for 0-d results; those become 0-d arrays here, in one place,
        so that in-place updates of any tensor's values (optimizer state, ``.data``) reach them."""
        if data.__class__ is not np.ndarray:
            data = np.asarray(data)
        t = object.__new__(cls)
        t._data = data
        t._requires_grad = requires_grad
        t._grad = t._extra = None
        t._prim = t._params = t._first = t._second = t._many = None
        t._version = t._version_sum = 0
        return t

    name = _extra_field("name", "A label for explain() and graph drawings (e.g. 'w'), or None.")
    _hooks = _extra_field("hooks", "Gradient hooks (register_hook), or None.")
    _post_hooks = _extra_field("post_hooks", "Hooks run after a leaf's .grad is accumulated, or None.")
    _retained = _extra_field("retained", "True when retain_grad() asked to keep a non-leaf's grad.")
    _trace = _extra_field("trace", "Where the op was called (recorded in detect_anomaly mode).")
    _view = _extra_field("view", "A weak reference to the Node that grad_fn returned (see _node).")
    _history = _extra_field("history", "{version: node}: this tensor's records before in-place ops.")
    _overwritten = _extra_field("overwritten", "True for a history node whose values an in-place op "
                                "wrote over (its backward may not read them).")
    _tangents = _extra_field("tangents", "Forward mode's tangents, {dual level: tangent} (forward_ad.py).")
    _viewed = _extra_field("viewed", "Forward mode: a weak reference to the tensor whose values this one "
                           "views (an in-place write into it is refused, see forward_ad.py).")

    # --- values and gradient as PyTorch shows them ------------------------------------------------
    @property
    def data(self) -> Tensor:
        """The values as a new Tensor outside the graph that shares this tensor's memory.

        ``p.data.zero_()`` and ``p.data += -lr * p.grad`` change ``p`` itself without being
        recorded; ``p.data = other`` replaces p's values by other's (shape and dtype may change).
        """
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise ArgumentError(f"data must be set to a Tensor (with the new values), got "
                                f"{type(value).__name__}")
        self._data = value._data

    @property
    def grad(self) -> Tensor | None:
        """dL/d(this tensor) accumulated by ``backward()``: a Tensor of this shape and dtype, or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise ArgumentError(f"assigned grad must be a Tensor or None, got {type(value).__name__} "
                                f"(for a tensor of shape {self.shape} {self.dtype})")
            if value.shape != self.shape:
                raise ShapeError(f"assigned grad has shape {value.shape}, but the tensor has shape "
                                 f"{self.shape}")
            if value.dtype != self.dtype:
                raise DTypeError(f"assigned grad has dtype {value.dtype}, but the tensor has dtype "
                                 f"{self.dtype} (shape {self.shape})")
        self._grad = value

    # --- the graph record (see the class docstring) --------------------------------------------
    def _inputs(self) -> tuple[Tensor, ...] | None:
        """The op's inputs as a tuple; None for a leaf or once backward has freed the record."""
        if self._many is not None:
            return self._many
        if self._first is None:
            return None
        return (self._first,) if self._second is None else (self._first, self._second)

    def _input_versions(self) -> tuple[int, ...]:
        """The inputs' version counters when this op ran, in the order of ``_inputs()``."""
        if self._many is not None:
            return self._many_versions
        if self._second is None:
            return (self._first_version,)
        return (self._first_version, self._second_version)

    def _free(self) -> None:
        """Drop the references to the inputs: the graph below this tensor is released. An op whose
        backward reads no values (add, reshape...) keeps them, so another backward can pass through
        it, as in PyTorch."""
        if not self._prim.reads_nothing:  # type: ignore[union-attr]  # called on op-made tensors only
            self._first = self._second = self._many = None

    @property
    def _node(self) -> Node | None:
        """The record of the op that made this tensor, as a Node (None for a leaf).

        The Node holds the tensor and the tensor holds the Node weakly, so ``f(x).grad_fn`` of a
        temporary keeps what it shows, no cycle forms, and ``t.grad_fn is t.grad_fn`` while
        someone holds it."""
        if self._prim is None:
            return None
        node = self._view() if self._view is not None else None
        if node is None:
            node = Node(self)
            self._view = weakref.ref(node)
        return node

    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded so that backward() can reach it."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, requires_grad: bool) -> None:
        self.requires_grad_(requires_grad)

    # --- gradient bookkeeping ---------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not B.is_float(self._data.dtype):
            raise DTypeError(
                f"only floating-point tensors can require gradients; this tensor is {self._data.dtype} "
                f"with shape {self.shape} (convert it with .float() first)"
            )
        if not requires_grad and self._prim is not None:
            raise GraphError(f"requires_grad can only be changed on leaf tensors; this one (shape "
                             f"{self.shape}) was made by '{self._prim.name}': use .detach() for a copy "
                             "outside the graph")
        self._requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same values, cut from the graph (shares memory, like PyTorch)."""
        return Tensor._wrap(self._data)

    @property
    def is_leaf(self) -> bool:
        return self._prim is None

    @property
    def grad_fn(self) -> Node | None:
        return self._node

    # --- array facts ------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype[Any]:
        return self._data.dtype

    @property
    def device(self) -> device:
        """Always the CPU (``device('cpu')``, equal to the string 'cpu')."""
        return CPU

    is_cuda = False
    is_mps = False
    is_sparse = False
    is_quantized = False
    is_meta = False

    def cuda(self, device: DeviceLike | None = None, non_blocking: bool = False,
             memory_format: object = None) -> Tensor:
        """There is no GPU: raises, saying that chainrule runs on the CPU."""
        check_device("cuda" if device is None else device, "Tensor.cuda")
        return self

    def pin_memory(self, device: DeviceLike | None = None) -> Tensor:
        return self

    def is_pinned(self, device: DeviceLike | None = None) -> bool:
        return False

    def share_memory_(self) -> Tensor:
        return self

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def element_size(self) -> int:
        return self._data.itemsize

    def get_device(self) -> int:
        return -1

    @overload
    def size(self, dim: None = None) -> tuple[int, ...]: ...
    @overload
    def size(self, dim: int) -> int: ...

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        return self._data.shape if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def numpy(self) -> np.ndarray:
        return self._data

    def item(self) -> float:
        """The one value as a Python number (a float, or an int or bool for those dtypes)."""
        if self._data.size != 1:
            raise ArgumentError(f"item() needs a tensor with one element; this one has shape {self.shape}")
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def cpu(self, memory_format: object = None) -> Tensor:
        return self

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise ArgumentError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ArgumentError(f"the truth value of a tensor with shape {self.shape} is ambiguous")
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise ArgumentError("only integer tensors of a single element can be used as an index")
        return int(self._data)

    __hash__ = object.__hash__

    def __array__(self, dtype: DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        return self._data if dtype is None else self._data.astype(dtype)

    def __format__(self, format_spec: str) -> str:
        """``f"{loss:.4f}"`` formats a 0-d tensor's value, as in PyTorch; other tensors take only ``{}``."""
        if self._data.ndim == 0:
            return self._data.item().__format__(format_spec)
        if format_spec:
            raise ArgumentError(f"format spec {format_spec!r} needs a 0-d tensor; this one has shape "
                            f"{self.shape} (format t.item() or t.tolist() instead)")
        return repr(self)

    def __repr__(self) -> str:
        """PyTorch's layout (printing.py): ``tensor([[ 1.5000, -2.2500],\n        [ 3.0000,  4.0000]])``."""
        kind = type(self)   # chainrule's own (Parameter) print as tensor(...), a user's subclass by name
        prefix = "tensor(" if kind.__module__.startswith("chainrule.") else kind.__name__ + "("
        indent = len(prefix)
        suffixes = printing.size_and_dtype(self._data, B.DEFAULT_FLOAT)
        if self._prim is not None:
            suffixes.append(f"grad_fn=<{self._node.name}>")  # type: ignore[union-attr]
        elif self.requires_grad:
            suffixes.append("requires_grad=True")
        tangents = self._tangents
        if tangents:
            suffixes.append(f"tangent={tangents[max(tangents, key=lambda level: level.depth)]!r}")
        if self.name:
            suffixes.append(f"name={self.name!r}")
        return printing.with_suffixes(prefix + printing.values_text(self._data, indent), suffixes, indent)

    def _repr_html_(self) -> str:
        """What a notebook shows: shape, dtype, grad_fn and grad above the values (display.py)."""
        return display.tensor_html(self)


class Node:
    """What ``t.grad_fn`` shows: the op that made ``t``, read from the tensor's own record.

    prim    the primitive (its forward and VJPs are in ``chainrule.ops``)
    params  the op's non-tensor arguments (axis, shape, index...)
    inputs  the input tensors, or None once backward has freed the graph
    output  the tensor's values, or None once freed
    """

    __slots__ = ("_tensor", "__weakref__")

    def __init__(self, tensor: Tensor) -> None:
        # Held strongly, as PyTorch's grad_fn holds its graph: `f(x).grad_fn` outlives the temporary
        # f(x). The tensor keeps only a weak reference back (Tensor._node), so there is no cycle.
        self._tensor = tensor

    @property
    def prim(self) -> Primitive:
        return self._tensor._prim  # type: ignore[return-value]  # a Node is made only for an op's result

    @property
    def params(self) -> dict[str, Any] | None:
        return self._tensor._params

    @property
    def inputs(self) -> tuple[Tensor, ...] | None:
        return self._tensor._inputs()

    @property
    def output(self) -> np.ndarray | None:
        tensor = self._tensor
        return None if tensor._inputs() is None else tensor._data

    @property
    def name(self) -> str:
        """'MulBackward' for mul, 'LogSoftmaxBackward' for log_softmax, a custom Function's class name
        as written ('LegendreP3Backward')."""
        name = self.prim.name
        if name[:1].isupper():
            return name + "Backward"
        return "".join(part.capitalize() for part in name.split("_")) + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name}>"
