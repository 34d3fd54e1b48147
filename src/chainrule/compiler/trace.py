"""Recording one forward pass: which ops ran on which values, and whether replaying them is sound.

While a compiled function runs for a new signature, the engine's tracer seam (``primitive._tracer``)
routes every op through ``Tracer.record``: the op runs as usual -- so the recording call is an
ordinary eager call with a real graph -- and is written down as

    Op(prim, inputs=[binding, ...], params={name: binding}, output slot = the op's index)

A binding says where a value comes from when the plan is replayed:

    ("arg", k)     the k-th tensor argument's array
    ("ref", j)     the array of a tensor held by reference: a parameter, a buffer, or a constant
                   tensor the forward made (read again at every replay, so updates are seen)
    ("slot", i)    the output of the i-th recorded op
    ("const", v)   a value fixed at recording: an axis, a shape, a constant array
    ("tuple", [b]) / ("list", [b])   a sequence of bindings (an index with arrays in it)

Replaying the list is right only if the forward is a pure function of its tensor arguments, the
parameters and buffers and the random stream: the same ops with the same params every time. The
tracer watches for what breaks that and records the first reason (``refuse``), after which the call
simply finishes eagerly and the signature stays eager (see watch.py for how values are watched):

- a tensor's value read by Python outside an op -- ``if x.sum() > 0`` (Tensor.__bool__),
  ``.item()``, ``.numpy()``, ``float(t)`` -- or NumPy work on ``t._data`` whose result is not handed
  to an op unchanged (an op parameter computed from values would be frozen at this call's values);
- a tensor's values written outside an op (in-place operations);
- random numbers drawn outside an op (draws inside an op's forward, as dropout's mask, are simply
  drawn again at every replay);
- a custom autograd.Function, gradient hooks put on values inside forward, hooks on the modules.
"""

from __future__ import annotations

import threading
import types

from .. import primitive
from ..backend import default_generator, np
from ..function import _forward as _custom_function_forward
from ..tensor import Tensor
from . import watch

_STATIC = (int, float, bool, str, bytes, type(None), slice, type(Ellipsis), np.dtype, type)


class Op:
    """One recorded op: the primitive, where its inputs and params come from, what it made."""

    __slots__ = ("prim", "inputs", "input_grads", "params", "index", "needs_grad", "shape", "dtype",
                 "tensor")

    def __init__(self, prim, inputs, input_grads, params, index, result):
        self.prim, self.inputs, self.input_grads, self.params = prim, inputs, input_grads, params
        self.index, self.needs_grad = index, result._requires_grad
        data = watch.data_of(result)
        self.shape, self.dtype = data.shape, data.dtype
        self.tensor = result   # the eager result (its graph node gives the backward order)

    def __repr__(self):
        return f"<op {self.index}: {self.prim.name} {self.shape}>"


class Tracer:
    """Records the ops of one forward pass (``record`` is installed as the engine's tracer)."""

    active = None   # the tracer recording now (one at a time; other threads are not traced)

    def __init__(self, arguments: list):
        self.ops: list[Op] = []
        self.refs: list[Tensor] = []
        self.reason: str | None = None
        self.modules: list = []            # modules called during the pass, first call first
        self._thread = threading.get_ident()
        self._in_op = 0
        self._slot_of: dict[int, int] = {}     # id(op result tensor) -> slot
        self._arg_of = {id(t): k for k, t in enumerate(arguments) if isinstance(t, Tensor)}
        self._ref_of: dict[int, int] = {}      # id(tensor) -> ref index
        self._binding_of_array: dict[int, tuple] = {}
        self._sensitive: set[int] = set(self._arg_of)   # tensors whose values change between calls
        self._pending: dict[int, str] = {}     # id(array read by Python) -> where it was read
        self._keep = list(arguments)           # everything whose id() is in a table stays alive
        for k, t in enumerate(arguments):
            if isinstance(t, Tensor):
                self._binding_of_array.setdefault(id(watch.data_of(t)), ("arg", k))
        self._rng_state = _rng_state()
        # apply with the seam cleared in its own globals: what other threads' ops run meanwhile
        # (clearing the module's seam for them would let this thread's ops pass unrecorded)
        untraced = dict(vars(primitive), _tracer=None)
        self._apply_elsewhere = types.FunctionType(primitive.apply.__code__, untraced, "apply")

    # --- the recording --------------------------------------------------------------------------
    def __enter__(self):
        if Tracer.active is not None:
            raise RuntimeError("chainrule.compiler: a trace is already running")
        Tracer.active = self
        watch.install(self)
        primitive._tracer = self.record
        return self

    def __exit__(self, *exc):
        primitive._tracer = None
        watch.uninstall()
        Tracer.active = None

    def record(self, prim, inputs, params):
        if threading.get_ident() != self._thread:   # another thread's op: never touch the seam
            return self._apply_elsewhere(prim, inputs, params)
        if self.reason is not None:
            return self._run(prim, inputs, params)
        self._check_rng()
        result = self._run(prim, inputs, params)
        self._rng_state = _rng_state()
        if prim.forward is _custom_function_forward:
            self.refuse(f"a custom autograd.Function ({prim.name}) runs Python code in its forward")
            return result
        bindings = tuple(self._bind_tensor(t) for t in inputs)
        wanted = tuple(t._requires_grad for t in inputs)
        bound_params = {name: self._bind_param(value, prim) for name, value in params.items()}
        if self.reason is not None:
            return result
        index = len(self.ops)
        self.ops.append(Op(prim, bindings, wanted, bound_params, index, result))
        self._slot_of[id(result)] = index
        self._binding_of_array.setdefault(id(watch.data_of(result)), ("slot", index))
        self._sensitive.add(id(result))
        self._keep.append(result)
        return result

    def _run(self, prim, inputs, params):
        """The op itself, with the seam cleared (so that it records nothing twice)."""
        primitive._tracer = None
        self._in_op += 1
        try:
            return primitive.apply(prim, inputs, params)
        finally:
            self._in_op -= 1
            primitive._tracer = self.record

    def refuse(self, reason: str) -> None:
        """Replaying this pass would not be sound: keep the first reason (the call goes on eagerly)."""
        if self.reason is None:
            self.reason = reason

    # --- where values come from -------------------------------------------------------------------
    def _bind_tensor(self, t: Tensor) -> tuple:
        key = id(t)
        if key in self._slot_of:
            return ("slot", self._slot_of[key])
        if key in self._arg_of:
            return ("arg", self._arg_of[key])
        if key in self._ref_of:
            return ("ref", self._ref_of[key])
        known = self._binding_of_array.get(id(watch.data_of(t)))
        if known is not None:      # an alias of a known value (t.detach(), t.data): same array
            return known
        return self.add_ref(t)

    def add_ref(self, t: Tensor, sensitive: bool = False) -> tuple:
        if id(t) in self._ref_of:
            index = self._ref_of[id(t)]
        else:
            index = self._ref_of[id(t)] = len(self.refs)
            self.refs.append(t)
            self._keep.append(t)
            self._binding_of_array.setdefault(id(watch.data_of(t)), ("ref", index))
        if sensitive:
            self._sensitive.add(id(t))
        return ("ref", index)

    def _bind_param(self, value, prim) -> tuple:
        if isinstance(value, _STATIC):
            return ("const", value)
        if isinstance(value, np.ndarray):
            known = self._binding_of_array.get(id(value))
            if known is not None:
                self._pending.pop(id(value), None)   # handed to the op unchanged: the op reads it
                return known
            if self._pending:
                where = next(iter(self._pending.values()))
                self.refuse(f"an argument of '{prim.name}' was computed by Python from a tensor's values "
                            f"outside an op (read in {where}): a replay would reuse this call's result")
            return ("const", value)
        if isinstance(value, Tensor):
            binding = self._bind_tensor(value)
            if binding[0] != "ref":
                self.refuse(f"'{prim.name}' takes a computed tensor as a parameter")
            return ("const", value)
        if type(value) in (tuple, list):
            parts = [self._bind_param(v, prim) for v in value]
            if all(p[0] == "const" for p in parts):
                return ("const", value)
            return (type(value).__name__, parts)
        if isinstance(value, np.generic) and self._pending:
            where = next(iter(self._pending.values()))
            self.refuse(f"an argument of '{prim.name}' is a number computed from a tensor's values "
                        f"(read in {where})")
        return ("const", value)

    # --- what the watchers report (watch.py) ------------------------------------------------------
    def watches(self, t: Tensor) -> bool:
        """Whether a read of ``t``'s values by Python matters (values that change between calls)."""
        return not self._in_op and id(t) in self._sensitive and threading.get_ident() == self._thread

    def value_read(self, array, where: str) -> None:
        self._pending.setdefault(id(array), where)

    def observe_module(self, module) -> None:
        if threading.get_ident() != self._thread or any(m is module for m in self.modules):
            return
        self.modules.append(module)
        if module._forward_pre_hooks or module._forward_hooks or module._backward_hooks:
            self.refuse(f"{type(module).__name__} has module hooks (they would run only while recording)")
        for table in (module._parameters, module._buffers):
            for t in table.values():
                if t is not None:
                    self.add_ref(t, sensitive=True)

    def _check_rng(self) -> None:
        if self.reason is None and _rng_state() != self._rng_state:
            self.refuse("random numbers were drawn outside an op (cr.rand/randn/... in forward): a replay "
                        "would reuse this call's numbers")

    # --- the end of the pass ------------------------------------------------------------------------
    def finish(self, outputs: list) -> list:
        """Bindings of the forward's result leaves; the last checks of the whole pass."""
        self._check_rng()
        if self._pending:
            self.refuse(f"a tensor's values were read by Python outside an op (in "
                        f"{next(iter(self._pending.values()))}): a replay would not repeat that")
        for op in self.ops:
            t = op.tensor
            if t._hooks or t._retained:
                self.refuse("a gradient hook or retain_grad() was put on a value inside forward")
        bindings = []
        for leaf in outputs:
            if isinstance(leaf, Tensor):
                bindings.append(self._bind_tensor(leaf))
            else:
                bindings.append(("const", leaf))
        return bindings


def _rng_state():
    state = default_generator._numpy.bit_generator.state
    return state["state"]["state"], state["has_uint32"], state["uinteger"], id(default_generator._numpy)
