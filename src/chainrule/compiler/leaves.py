"""Where a compiled backward puts the parameters' gradients.

Handed to the engine's walk, each gradient costs a dict entry, checks and an accumulation step per
leaf. During ``backward()`` (``autograd.IntoGrad.now``; never under ``cr.grad``, which must not
touch ``.grad``) the block instead delivers them itself, as the walk would at its end:

    p.grad is None     p.grad = the gradient                (no copy: the array is the block's own)
    p.grad exists      p.grad = p.grad + the gradient       (in place when p.grad is the home below,
                                                             as PyTorch accumulates)

and writes them, where the plan's code allows (``out=``), into a *home*: an array kept for that
parameter from step to step -- its slice of a fused optimiser's flat gradient buffer
(optim/fused.py) if it has one, else an array of the plan's own. So a training step allocates no
gradient arrays, and a fused optimiser finds the gradients already in its buffer.

A home is written only when nothing else holds it: ``optimizer.zero_grad()`` dropped the tensor
that wrapped it. A gradient a user kept (``history.append(p.grad)``) still holds it -- the
reference count says so -- and then the backward writes a fresh array instead. Parameters with
hooks (``register_hook``, post-accumulate hooks) go through the walk as always.
"""

from __future__ import annotations

import sys

from ..backend import np
from ..optim import fused
from ..optim.fused import grad_view
from ..tensor import Tensor


class LeafGradients:
    """The homes and the delivery of one plan's leaf gradients (one per block input)."""

    def __init__(self, tensors: list):
        self.tensors = tensors            # the block's input tensors that are parameters (None: an argument)
        self.none = [None] * len(tensors)
        self._own: list = [None] * len(tensors)     # each parameter's home
        self._free_count = [0] * len(tensors)       # its reference count when nothing else holds it
        self._generation = -1                       # fused.generation when the homes were chosen

    def homes(self) -> list:
        """For each block input, the array its gradient may be written into, or None."""
        if self._generation != fused.generation:   # a fused optimiser laid out new gradient buffers
            self._generation = fused.generation
            self._own = [None] * len(self.tensors)
        homes = []
        for n, t in enumerate(self.tensors):
            home = self._own[n]
            if t is None or t._grad is not None or t._extra is not None and _hooked(t):
                home = None
            elif home is None or home.shape != t._data.shape or home.dtype != t._data.dtype:
                home = self._new_home(n, t)
            elif sys.getrefcount(home) > self._free_count[n]:   # someone still holds the last one
                home = None
            homes.append(home)
        return homes

    def _new_home(self, n, t):
        data = t._data
        home = grad_view(t)
        if home is None or home.shape != data.shape or home.dtype != data.dtype:
            home = np.empty(data.shape, data.dtype)
        self._own[n] = home
        self._free_count[n] = sys.getrefcount(home)   # what holds it now: the same names as in homes()
        return home

    def deliver(self, grads: list) -> list:
        """Put each parameter's gradient into its ``.grad``; what is left goes to the walk."""
        delivered = set()
        own = self._own
        for n, t in enumerate(self.tensors):
            grad = grads[n]
            if t is None or grad is None or t._extra is not None and _hooked(t):
                continue
            held = t._grad
            if grad is own[n]:
                if held is None:
                    t._grad = Tensor._wrap(grad)
                    grads[n] = None
                    continue
            elif id(grad) in delivered or not (grad.flags.owndata and grad.flags.writeable):
                grad = grad.copy()   # a view, or an array another parameter got: never share it
            delivered.add(id(grad))
            if held is None:
                t._grad = Tensor._wrap(grad)
            elif held._data is own[n]:
                np.add(held._data, grad, out=held._data)
            else:
                t._grad = Tensor._wrap(held._data + grad)
            grads[n] = None
        return grads


def _hooked(t) -> bool:
    extra = t._extra
    return bool(extra.get("hooks") or extra.get("post_hooks"))
