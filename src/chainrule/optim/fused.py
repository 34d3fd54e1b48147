"""Fused optimiser steps (PyTorch's ``foreach=True`` / ``fused=True``): a group's parameters laid end
to end in one flat buffer, their gradients in another, the update a few whole-buffer ufunc calls.

    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, fused=True)

When the optimiser is made, each parameter group's tensors (per dtype) are copied into one flat
array and every parameter's values become a view of its slice: ``p`` holds the same values as
before, and the model does not notice. A flat gradient buffer with the same layout is registered
for the parameters (``grad_view``): a compiled model's backward writes their gradients straight
into it (compiler/leaves.py), so with ``cr.compile`` nothing is copied at all.

``step()``, per flat group:

- every parameter has a gradient that already lives in the flat buffer: the update rule runs once
  on the flat arrays (parameters, gradients, state). For SGD that is two ufunc calls in all;
- every parameter has a gradient, some made elsewhere (an eager backward allocates them): they are
  copied into the buffer first when the group is small (a copy is cheaper than a loop of calls),
  otherwise each parameter is updated on its own views (a copy would cost more than the calls);
- some have none: each parameter that has one is updated on its own views, as PyTorch skips the
  others (their momentum is not decayed, their step not counted).

The update rule is the optimiser's own ``_update_parameter``, run on the flat arrays as if they
were one parameter: elementwise math, so the values are bitwise those of the per-parameter loop.
``optimizer.state[p]`` (and so ``state_dict()``) holds views of the flat state.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from ..backend import np
from ..errors import ArgumentError
from ..grad_mode import enable_grad

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..optim.optimizer import Optimizer
    from ..tensor import Tensor

# id(parameter) -> (a weak reference to it, its gradient slice). Keyed by id: tensors compare by
# value (== makes a tensor), so they cannot be the keys of a WeakKeyDictionary.
_GRAD_VIEWS: dict[int, tuple[weakref.ref[Tensor], np.ndarray]] = {}
SMALL = 1 << 16   # below this many gradient values to copy, copy them in and take the flat path
generation = 0    # counts the flat layouts made: a compiled backward then looks for new gradient homes


def grad_view(param: Tensor) -> np.ndarray | None:
    """``param``'s slice of a fused optimiser's flat gradient buffer (shaped like it), or None."""
    entry = _GRAD_VIEWS.get(id(param))
    return entry[1] if entry is not None and entry[0]() is param else None


def _register(param: Tensor, view: np.ndarray) -> None:
    key = id(param)
    _GRAD_VIEWS[key] = (weakref.ref(param, lambda _, key=key: _GRAD_VIEWS.pop(key, None)), view)  # type: ignore[misc]


class FlatGroup:
    """Some parameters of one group and one dtype, end to end: values, gradients, state."""

    def __init__(self, params: list[Tensor]) -> None:
        dtype = params[0]._data.dtype
        sizes = [p._data.size for p in params]
        self.params = params
        self.param = np.empty(sum(sizes), dtype)
        self.grad = np.zeros(sum(sizes), dtype)
        self.slices: list[slice] = []
        offset = 0
        for size in sizes:
            self.slices.append(slice(offset, offset + size))
            offset += size
        self.views: list[np.ndarray] = []
        self.grad_views: list[np.ndarray] = []
        for p, part in zip(params, self.slices):
            view = self.param[part].reshape(p._data.shape)
            view[...] = p._data
            p._data = view
            self.views.append(view)
            grad = self.grad[part].reshape(view.shape)
            self.grad_views.append(grad)
            _register(p, grad)
        self.state: dict[str, Any] | None = None   # the flat state; None until built from the parameters'
        self.owner: dict[Tensor, dict[str, Any]] | None = None   # the optimizer.state it was shared into

    def intact(self) -> bool:
        """Whether every parameter's values are still its view (``p.data = ...`` replaces them)."""
        for p, view in zip(self.params, self.views):
            if p._data is not view:
                return False
        return True

    def take_grads(self) -> bool:
        """Make the flat gradient buffer hold every parameter's gradient; False if one has none or
        copying in would cost more than updating one by one."""
        outside: list[tuple[np.ndarray, np.ndarray]] | None = None
        for p, view in zip(self.params, self.grad_views):
            grad = p._grad
            if grad is None:
                return False
            if grad._data is not view:
                outside = [] if outside is None else outside
                outside.append((view, grad._data))
        if outside is None:
            return True
        if sum(view.size for view, _ in outside) > SMALL:
            return False
        for view, values in outside:
            view[...] = values
        return True


def flatten(optimizer: Optimizer) -> list:
    """Lay each group's parameters (per dtype) into flat groups; the list, one entry per group."""
    global generation
    generation += 1
    groups = []
    for group in optimizer.param_groups:
        by_dtype: dict = {}
        for p in group["params"]:
            by_dtype.setdefault(p._data.dtype, []).append(p)
        groups.append([FlatGroup(params) for params in by_dtype.values()])
    return groups


def check_options(name: str, foreach: bool | None, fused: bool | None) -> bool:
    for option, value in (("foreach", foreach), ("fused", fused)):
        if value not in (None, True, False):
            raise ArgumentError(f"{name}: {option} must be None, True or False, got {value!r}")
    return bool(foreach or fused)


def step(optimizer: Optimizer, closure: Callable[[], Any] | None = None) -> Any:
    """The fused ``optimizer.step()`` (see the module docstring)."""
    optimizer._opt_called = True
    loss = None
    if closure is not None:
        with enable_grad():
            loss = closure()
    flat_groups: list[list[FlatGroup]] = optimizer._flat  # type: ignore[assignment]  # set when this runs
    if len(flat_groups) != len(optimizer.param_groups) or not all(
            f.intact() for fs in flat_groups for f in fs):
        flat_groups = optimizer._flat = flatten(optimizer)   # groups added, or values replaced
    for group, flats in zip(optimizer.param_groups, flat_groups):
        for flat in flats:
            state = _flat_state(optimizer, flat)
            if state is not None and flat.take_grads():
                optimizer._update_parameter(flat.param, flat.grad, state, group)
                if state:
                    _share_state(optimizer, flat)
                for p in flat.params:
                    p._version += 1
            else:
                _step_each(optimizer, flat, group)
    return loss


def _step_each(optimizer: Optimizer, flat: FlatGroup, group: dict[str, Any]) -> None:
    for p, view in zip(flat.params, flat.views):
        if p._grad is None:
            continue
        state = optimizer.state.get(p)
        if state is None:
            state = optimizer.state[p] = {}
        optimizer._update_parameter(view, p._grad._data, state, group)
        p._version += 1
    flat.state = None


def _flat_state(optimizer: Optimizer, flat: FlatGroup) -> dict[str, Any] | None:
    """The flat state; rebuilt from the per-parameter states when they moved on alone (a step with
    missing gradients, load_state_dict). None when the parameters disagree: a buffer some have and
    others not yet, or different step counts."""
    if flat.state is not None and flat.owner is optimizer.state:
        return flat.state
    states = [optimizer.state.get(p) or {} for p in flat.params]
    keys = set(states[0])
    if any(set(s) != keys for s in states):
        return None
    rebuilt = {}
    for key in keys:
        values = [s[key] for s in states]
        if isinstance(values[0], np.ndarray):
            flat_value = np.concatenate([v.reshape(-1) for v in values])
            rebuilt[key] = flat_value.astype(flat.param.dtype, copy=False)
        elif all(v == values[0] for v in values):
            rebuilt[key] = values[0]
        else:
            return None
    flat.state = rebuilt
    _share_state(optimizer, flat)
    flat.owner = optimizer.state
    return rebuilt


def _share_state(optimizer: Optimizer, flat: FlatGroup) -> None:
    """Each parameter's state: views of the flat arrays, copies of the counters."""
    flat.owner = optimizer.state
    for p, part, view in zip(flat.params, flat.slices, flat.views):
        state = optimizer.state.get(p)
        if state is None:
            state = optimizer.state[p] = {}
        for key, value in flat.state.items():  # type: ignore[union-attr]  # built just before
            if isinstance(value, np.ndarray):
                if not (isinstance(state.get(key), np.ndarray) and state[key].base is value):
                    state[key] = value[part].reshape(view.shape)
            else:
                state[key] = value
