"""Module and Parameter: the building blocks every layer, model and loss is made of.

A ``Parameter`` is a Tensor that a Module learns (requires_grad=True by default). A ``Module``
holds Parameters, buffers (tensors it keeps but does not learn, such as BatchNorm's running
mean) and sub-Modules, registered simply by assigning them as attributes::

    class TwoLayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(2, 16)      # a sub-module: its parameters become ours
            self.out = nn.Linear(16, 1)

        def forward(self, x):
            return self.out(self.hidden(x).relu())

``model(x)`` runs ``forward`` (with any hooks); ``model.parameters()`` walks the tree;
``state_dict()`` / ``load_state_dict()`` save and restore every parameter and buffer by name.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from typing import TYPE_CHECKING, Any

from .. import backend as B
from .. import display
from ..autograd import no_grad
from ..backend import np
from ..device import check_device, dtype_of_to_call
from ..errors import ArgumentError, ChainruleError, ShapeError
from ..tensor import Tensor
from .hooks import RemovableHandle, call_with_backward_hooks

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from typing import NamedTuple

    from typing_extensions import Self

    from .._typing import ArrayLike, DeviceLike, DTypeLike, HasForward, P, R_co


class Parameter(Tensor):
    """A Tensor registered as learnable when assigned to a Module attribute.

    ``Parameter(tensor)`` shares the tensor's memory; ``requires_grad`` is True by default.
    """

    def __init__(self, data: ArrayLike | None = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.zeros((0,), dtype=B.DEFAULT_FLOAT)
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


if TYPE_CHECKING:  # the fields' types, for type checkers; at run time a plain namedtuple
    class IncompatibleKeys(NamedTuple):
        """What load_state_dict returns: the keys the module has and the dict lacks, and the reverse."""

        missing_keys: list[str]
        unexpected_keys: list[str]
else:
    IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _indent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    return lines[0] if len(lines) == 1 else "\n".join([lines[0]] + [" " * spaces + s for s in lines[1:]])


def _as_array(value: object, key: str) -> np.ndarray:
    if isinstance(value, Tensor):
        return value._data
    try:
        return np.asarray(value)
    except Exception as err:  # noqa: BLE001 - reported with the key
        raise ChainruleError(f"load_state_dict: value for {key!r} is not an array ({err})") from None


class Module:
    """Base class of every layer and model. Subclasses define ``forward`` and call
    ``super().__init__()`` before assigning parameters or sub-modules."""

    training: bool
    _parameters: OrderedDict[str, Parameter | None]
    _buffers: OrderedDict[str, Tensor | None]
    _non_persistent: set[str]
    _modules: OrderedDict[str, Module | None]
    _forward_pre_hooks: OrderedDict[int, Callable[..., Any]]
    _forward_hooks: OrderedDict[int, Callable[..., Any]]
    _backward_hooks: OrderedDict[int, Callable[..., Any]]

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define forward(self, ...)")

    # --- registration through attributes --------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__() is called "
                                 f"(call super().__init__() first in {type(self).__name__}.__init__)")
        params, modules, buffers = self._parameters, self._modules, self._buffers
        if isinstance(value, Parameter):
            self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise ArgumentError(f"cannot assign {type(value).__name__} to {type(self).__name__}.{name}: "
                                "a parameter must be an nn.Parameter (or None)")
            params[name] = None
        elif name in modules:
            if value is not None:
                raise ArgumentError(f"cannot assign {type(value).__name__} to {type(self).__name__}.{name}: "
                                "a sub-module must be an nn.Module (or None)")
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise ArgumentError(f"cannot assign {type(value).__name__} to buffer "
                                f"{type(self).__name__}.{name}: expected a Tensor or None")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        self.__dict__.pop(name, None)
        for table in (self._parameters, self._modules, self._buffers):
            table.pop(name, None)
        self._non_persistent.discard(name)

    def __getattr__(self, name: str) -> Any:   # a registered Parameter, buffer or sub-module
        # called only when normal lookup fails: look in the three registries
        registries = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if table in registries and name in registries[table]:
                return registries[table][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        names = set(self._parameters) | set(self._buffers) | set(self._modules)
        return sorted(set(super().__dir__()) | names)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is not None and not isinstance(param, Parameter):
            raise ArgumentError(f"register_parameter({name!r}): expected an nn.Parameter or None, "
                            f"got {type(param).__name__}")
        self._check_name(name, "parameter")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Keep ``tensor`` with the module (moved by .to(), saved in state_dict unless not persistent)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise ArgumentError(f"register_buffer({name!r}): expected a Tensor or None, "
                            f"got {type(tensor).__name__}")
        self._check_name(name, "buffer")
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise ArgumentError(f"add_module({name!r}): {type(module).__name__} is not a Module")
        self._check_name(name, "module")
        self._forget(name)
        self._modules[name] = module

    register_module = add_module

    def _check_name(self, name: object, kind: str) -> None:
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{kind} name must be a non-empty string without '.', got {name!r}")

    # --- walking the tree ----------------------------------------------------------------------
    def named_modules(self, memo: set[int] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(qualified name, module) for this module and every descendant, each once."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                qualified = f"{prefix}.{name}" if prefix else name
                yield from module.named_modules(memo, qualified, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, table: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        owners: Iterable[tuple[str, Module]] = (self.named_modules(prefix=prefix) if recurse
                                                else [(prefix, self)])
        for owner_name, owner in owners:
            for name, value in getattr(owner, table).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{owner_name}.{name}" if owner_name else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(qualified name, Parameter) pairs, e.g. ('0.weight', ...); a shared parameter appears once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target: str) -> Module:
        module: Module = self
        for part in target.split(".") if target else []:
            if part not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no sub-module {part!r} "
                                     f"(looking up {target!r})")
            module = module._modules[part]  # type: ignore[assignment]  # (a slot set to None: as PyTorch)
        return module

    def get_parameter(self, target: str) -> Parameter:
        owner, _, name = target.rpartition(".")
        module = self.get_submodule(owner)
        if name not in module._parameters:
            raise AttributeError(f"{type(module).__name__} has no parameter {name!r} (looking up {target!r})")
        return module._parameters[name]  # type: ignore[return-value]

    def apply(self, fn: Callable[[Module], object]) -> Self:
        """Call ``fn(module)`` on every sub-module (children first) and then on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # --- modes and gradients -------------------------------------------------------------------
    def train(self, mode: bool = True) -> Self:
        if not isinstance(mode, bool):
            raise ArgumentError(f"train(mode): mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Self:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Self:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget accumulated gradients: ``.grad = None`` (or zeros with set_to_none=False)."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad = Tensor._wrap(np.zeros_like(param._data))

    # --- dtype and device ----------------------------------------------------------------------
    def _cast(self, dtype: DTypeLike) -> Self:
        dtype = B.to_dtype(dtype)
        for module in self.modules():
            for table in (module._parameters, module._buffers):
                for value in table.values():
                    if value is not None and value._data.dtype.kind == "f" and value._data.dtype != dtype:
                        value._data = value._data.astype(dtype)
                        value._version += 1
                        if value.grad is not None:
                            value.grad = Tensor._wrap(value.grad._data.astype(dtype))
        return self

    def to(self, *args: DTypeLike | DeviceLike | Tensor | bool | None, dtype: DTypeLike | None = None,
           device: DeviceLike | None = None, non_blocking: bool = False,
           memory_format: object = None) -> Self:
        """``to(dtype)`` casts floating parameters and buffers; ``to(device)`` accepts the CPU only
        (any other device fails with one line: chainrule runs on the CPU)."""
        dtype = dtype_of_to_call(args, dtype, device, f"{type(self).__name__}.to")
        return self if dtype is None else self._cast(dtype)

    def cuda(self, device: DeviceLike | None = None) -> Self:
        check_device("cuda" if device is None else device, f"{type(self).__name__}.cuda")
        return self

    def float(self) -> Self:
        return self._cast("float32")

    def double(self) -> Self:
        return self._cast("float64")

    def half(self) -> Self:
        return self._cast("float16")

    def cpu(self) -> Self:
        return self

    def type(self, dst_type: DTypeLike) -> Self:  # noqa: A003
        return self._cast(dst_type)

    # --- saving and restoring ------------------------------------------------------------------
    def state_dict(self, destination: OrderedDict[str, Tensor] | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict[str, Tensor]:
        """An ordered dict of qualified name -> Tensor for every parameter and persistent buffer.

        The tensors share memory with the module (detached unless ``keep_vars``)."""
        destination = OrderedDict() if destination is None else destination
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def _state_targets(self) -> OrderedDict[str, Tensor]:
        return self.state_dict(keep_vars=True)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy the values of ``state_dict`` into this module's parameters and buffers, in place.

        Mis-shaped values are always an error; with ``strict`` so are missing and unexpected
        keys. Nothing is written unless every check passes. Returns (missing_keys, unexpected_keys).
        """
        targets = self._state_targets()
        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets]
        problems: list[str] = []
        arrays: dict[str, np.ndarray] = {}
        for key, target in targets.items():
            if key not in state_dict:
                continue
            array = _as_array(state_dict[key], key)
            if array.shape != target._data.shape:
                problems.append(f"size mismatch for {key}: copying a value of shape {array.shape} into a "
                                f"{type(target).__name__.lower()} of shape {target._data.shape}")
            arrays[key] = array
        if strict:
            if missing:
                problems.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing))
            if unexpected:
                problems.insert(len(missing) > 0,
                                "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected))
        if problems:
            error = ShapeError if all(p.startswith("size mismatch") for p in problems) else ChainruleError
            raise error(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                        + "\n\t".join(problems))
        with no_grad():
            for key, array in arrays.items():
                target = targets[key]
                target._data[...] = array.astype(target._data.dtype, copy=False)
                target._version += 1
        return IncompatibleKeys(missing, unexpected)

    # --- calling and hooks ---------------------------------------------------------------------
    if TYPE_CHECKING:   # model(x) has the parameters and result type of the model's forward
        def __call__(self: HasForward[P, R_co], *args: P.args, **kwargs: P.kwargs) -> R_co: ...

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[no-redef]
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks):
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        if self._backward_hooks:
            output = call_with_backward_hooks(self, args, kwargs)
        else:
            output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    def register_forward_pre_hook(self, hook: Callable[[Module, tuple[Any, ...]], Any]) -> RemovableHandle:
        """``hook(module, args)`` runs before forward; returning a value replaces the args."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook: Callable[[Module, tuple[Any, ...], Any], Any]) -> RemovableHandle:
        """``hook(module, args, output)`` runs after forward; returning a value replaces the output."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_full_backward_hook(
            self, hook: Callable[[Module, tuple[Any, ...], tuple[Any, ...]], Any]) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` runs when the gradients with respect to the
        module's tensor inputs have been computed; returning a tuple replaces grad_input."""
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        return handle

    # --- repr ----------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr, e.g. 'in_features=2, ...'."""
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _indent(repr(module), 2))
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def _repr_html_(self) -> str:
        """What a notebook shows: the parameter table (name, shape, count, requires_grad) and
        the totals, with the structure folded below (display.py)."""
        return display.module_html(self)
