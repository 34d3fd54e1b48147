"""Optimizer: the base every update rule (SGD, Adam, AdamW, RMSprop) builds on.

An optimizer holds *parameter groups*: lists of tensors that share options (learning rate,
momentum, ...). ``step()`` reads each parameter's ``.grad`` and changes ``.data`` in place,
outside the graph; ``zero_grad()`` clears the gradients before the next ``backward()``::

    optimizer = optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()                 # w_new = w_old - lr * dL/dw

Per-group options, as in PyTorch::

    optim.SGD([{"params": model.body.parameters()},
               {"params": model.head.parameters(), "lr": 1e-3}], lr=1e-2, momentum=0.9)

``state_dict()`` gives PyTorch's layout, parameters named by their index across the groups::

    {"state": {0: {"momentum_buffer": Tensor}, ...},
     "param_groups": [{"lr": 0.01, "momentum": 0.9, ..., "params": [0, 1, 2]}, ...]}
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..autograd import enable_grad
from ..backend import np
from ..errors import ArgumentError, ChainruleError
from ..tensor import Tensor
from . import fused

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from .._typing import ParamsT


class _RequiredOption:
    """Marks an option that has no default and must be given (per group or for all)."""

    def _restored_state(self, value: Any, param: Tensor, key: str, index: Any) -> Any:
        """One saved state entry as this optimizer keeps it (a buffer: a fresh ndarray of the
        parameter's dtype and shape)."""
        return _restored_value(value, param, key, type(self).__name__, index)

    def __repr__(self) -> str:
        return "<required option>"


required = _RequiredOption()


class Optimizer:
    """Base class. Subclasses define ``_update_parameter(param, grad, state, group)``.

    params    an iterable of Tensors, or of dicts ``{"params": [...], option: value, ...}``
    defaults  the options every group gets unless it sets its own
    """

    _opt_called = False   # set by the first step(): a scheduler stepped before it warns, as in PyTorch
    _flat: list[list[fused.FlatGroup]] | None = None   # foreach/fused: the flat groups (fused.py), else None

    def __init__(self, params: ParamsT, defaults: dict) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict] = {}   # per-parameter buffers, keyed by the parameter itself
        self.param_groups: list[dict] = []
        self._scratch: dict[tuple, np.ndarray] = {}   # reusable work buffers, never part of the state
        if isinstance(params, Tensor):
            raise ArgumentError(f"{type(self).__name__}: params should be an iterable of Tensors or dicts, "
                            f"got a single Tensor of shape {params.shape} (wrap it in a list)")
        groups: list[Any] = list(params)
        if not groups:
            raise ArgumentError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # --- groups -----------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (missing options take the defaults)."""
        if not isinstance(param_group, dict):
            raise ArgumentError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise ArgumentError("parameters must be given in an ordered collection (a set's order changes "
                            "between runs); use a list")
        elif params is None:
            raise ArgumentError("a parameter group needs a 'params' entry")
        group["params"] = list(params)
        for index, param in enumerate(group["params"]):
            if not isinstance(param, Tensor):
                raise ArgumentError(f"{type(self).__name__} can only optimize Tensors; group entry {index} "
                                f"is a {type(param).__name__}")
            if not param.is_leaf:
                raise ArgumentError(f"{type(self).__name__} can't optimize a non-leaf Tensor "
                                 f"(entry {index}, shape {param.shape}); use .detach().requires_grad_()")
            if param.dtype.kind != "f":
                raise ArgumentError(f"{type(self).__name__} can only optimize floating-point tensors; "
                                f"entry {index} is {param.dtype} with shape {param.shape}")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ArgumentError(f"parameter group didn't specify a value of required option {name!r}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        ids_here = [id(p) for p in group["params"]]
        if len(set(ids_here)) != len(ids_here) or seen.intersection(ids_here):
            raise ArgumentError("some parameters appear in more than one parameter group (or twice in one)")
        self.param_groups.append(group)

    def _parameters(self) -> Iterator[Tensor]:
        for group in self.param_groups:
            yield from group["params"]

    # --- the training-loop verbs ------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set each ``.grad`` to None (default) or fill it with zeros."""
        for param in self._parameters():
            if param._grad is None:
                continue
            if set_to_none:
                param._grad = None
            else:
                param._grad = param._grad.detach()
                param._grad._data[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; ``closure`` (re)computes and returns the loss."""
        if self._flat is not None:
            return fused.step(self, closure)
        self._opt_called = True
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param._grad is None:
                    continue
                grad = param._grad._data   # .grad only ever holds a Tensor (its setter checks)
                if grad.shape != param.shape:
                    raise ChainruleError(f"{type(self).__name__}.step: gradient of shape {grad.shape} does "
                                         f"not match its parameter of shape {param.shape}")
                state = self.state.get(param)
                if state is None:
                    state = self.state[param] = {}
                self._update_parameter(param._data, grad, state, group)
                param._version += 1   # an in-place change: graphs that saved the old value must notice
        return loss

    def _update_parameter(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        raise NotImplementedError

    def _use_flat_buffers(self, foreach: bool | None, fused_step: bool | None) -> None:
        """foreach=True / fused=True: the parameters become views of flat buffers (fused.py)."""
        if fused.check_options(type(self).__name__, foreach, fused_step):
            self._flat = fused.flatten(self)

    def _work_array(self, like: np.ndarray, slot: int = 0) -> np.ndarray:
        """A scratch array shaped like ``like``; its contents are garbage.

        Every parameter's work array in a slot is a view of one flat buffer (as long as the
        largest parameter): one block of memory stays warm in cache across the whole step,
        instead of one cold block per parameter shape (W1's SGD step: ~10% faster)."""
        key = (like.dtype.str, slot)
        buffer = self._scratch.get(key)
        if buffer is None or buffer.size < like.size:
            buffer = self._scratch[key] = np.empty(like.size, like.dtype)
        return buffer[:like.size].reshape(like.shape)

    def _effective_grad(self, param: np.ndarray, grad: np.ndarray, weight_decay: float,
                        maximize: bool) -> np.ndarray:
        """g = (-grad if maximize else grad) + weight_decay * param, without touching ``grad``."""
        if not weight_decay and not maximize:
            return grad
        work = self._work_array(param, 0)
        if maximize:
            np.negative(grad, out=work)
        else:
            work[...] = grad
        if weight_decay:
            work += weight_decay * param
        return work

    # --- saving and restoring ---------------------------------------------------------------
    def state_dict(self) -> dict:
        """PyTorch's layout: state keyed by parameter index, groups listing their indices (copies)."""
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            saved = {key: value for key, value in group.items() if key != "params"}
            saved["params"] = []
            for param in group["params"]:
                index_of[id(param)] = len(index_of)
                saved["params"].append(index_of[id(param)])
            groups.append(saved)
        state: dict[int, dict[str, Any]] = {}
        for param in self._parameters():
            if self.state.get(param):
                state[index_of[id(param)]] = {key: _saved_value(value)
                                              for key, value in self.state[param].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore buffers and options saved by ``state_dict()`` (arrays are copied, cast to each
        parameter's dtype, and checked against its shape)."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ChainruleError(f"{name}.load_state_dict expects a dict with 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ChainruleError(f"{name}.load_state_dict: the saved state has {len(saved_groups)} parameter "
                                 f"group(s), this optimizer has {len(self.param_groups)}")
        param_of_index: dict[int, Tensor] = {}
        for number, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ChainruleError(f"{name}.load_state_dict: group {number} has {len(saved['params'])} "
                                     f"saved parameters, this optimizer's has {len(group['params'])}")
            param_of_index.update(zip((int(i) for i in saved["params"]), group["params"]))
        new_state: dict[Tensor, dict[str, Any]] = {}
        for index, saved_buffers in state_dict["state"].items():
            param = param_of_index.get(int(index))
            if param is None:
                raise ChainruleError(f"{name}.load_state_dict: state for parameter {index}, "
                                     "which no group lists")
            new_state[param] = {key: self._restored_state(value, param, key, index)
                                for key, value in saved_buffers.items()}
        self.state = new_state
        for group, saved in zip(self.param_groups, saved_groups):
            group.update({key: value for key, value in saved.items() if key != "params"})

    def _restored_state(self, value: Any, param: Tensor, key: str, index: Any) -> Any:
        """One saved state entry as this optimizer keeps it (a buffer: a fresh ndarray of the
        parameter's dtype and shape)."""
        return _restored_value(value, param, key, type(self).__name__, index)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines + [")"])


def _saved_value(value: Any) -> Any:
    """A state entry as ``state_dict()`` hands it out: arrays (also inside lists) as Tensor copies."""
    if isinstance(value, np.ndarray):
        return Tensor._wrap(value.copy())
    if isinstance(value, list):
        return [_saved_value(item) for item in value]
    return value


def _restored_value(value: Any, param: Tensor, key: str, optimizer_name: str, index: Any) -> Any:
    """A saved buffer as this optimizer keeps it: a fresh ndarray of the parameter's dtype."""
    if isinstance(value, Tensor):
        value = value._data
    if not isinstance(value, np.ndarray):
        return value.item() if isinstance(value, np.generic) else value
    if key == "step":
        return int(value)
    if value.shape != param.shape:
        raise ChainruleError(f"{optimizer_name}.load_state_dict: buffer {key!r} of parameter {index} "
                             f"has shape {value.shape}, the parameter has shape {param.shape}")
    return np.array(value, dtype=param.dtype if value.dtype.kind == "f" else value.dtype, copy=True)
