"""The compiled callable: signatures, the cache of plans, guards, eager fallback, checking.

A call is keyed on its signature -- the arguments' structure, each tensor's (shape, dtype,
requires_grad), every other argument's value, and grad mode. Under one key there may be several
plans, each with a guard on what the key does not hold: the training flag of every module the
forward called, that each parameter and buffer is still the object that was recorded (and its
requires_grad, shape and dtype). The first plan whose guard passes is replayed; if none does, the
call is recorded as a new plan (``stats.recorded`` counts them, ``cache_limit`` bounds them).

A recording the tracer refused (trace.py lists why) leaves its signature eager, with one warning
naming the reason (``fullgraph=True`` raises it instead). The first replay of every plan is
checked against eager (check.py); ``mode="check"`` checks every call, gradients included.
"""

from __future__ import annotations

import os
import sys
import warnings

from ..errors import ChainruleError
from ..grad_mode import _mode
from ..tensor import Tensor
from . import block, check
from .codegen import Emitter
from .plan import Plan, ShapeChanged
from .trace import Tracer
from .tree import LEAF, Unkeyable, flatten, key_of, unflatten
from .watch import data_of

_SINGLE = "single"   # the structure of a result that is one leaf (no unflatten needed)
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep   # .../chainrule/


class CompileWarning(UserWarning):
    """A compiled function runs eagerly for some calls (the message says why)."""


class CompileError(ChainruleError):
    """fullgraph=True and the function cannot be replayed (the message says why)."""


class CompileStats:
    """What a compiled function did: plans ``recorded``, calls ``replayed``, calls run ``eager``
    (with the reasons in ``eager_reasons``), calls ``checked`` against eager."""

    def __init__(self):
        self.recorded = self.replayed = self.eager = self.checked = 0
        self.eager_reasons: dict[str, int] = {}

    def __repr__(self):
        return (f"CompileStats(recorded={self.recorded}, replayed={self.replayed}, eager={self.eager}, "
                f"checked={self.checked})")


class _Entry:
    """A plan, the guard that says it applies, and how to rebuild its results."""

    __slots__ = ("plan", "guard", "structure", "checks_left", "modules")

    def __init__(self, plan, guard, structure, checks_left, modules):
        self.plan, self.guard, self.structure = plan, guard, structure
        self.checks_left, self.modules = checks_left, modules


class CompiledFunction:
    """``fn`` recorded once per signature and replayed afterwards (see the module docstring)."""

    def __init__(self, fn, name: str, mode: str = "default", fullgraph: bool = False, cache_limit: int = 8):
        self._fn = fn
        self.__name__ = name
        self.mode, self.fullgraph, self.cache_limit = mode, fullgraph, cache_limit
        self.stats = CompileStats()
        self._entries: dict[tuple, list] = {}
        self._eager: dict[tuple, str] = {}
        self._warned: set[str] = set()

    def __call__(self, *args, **kwargs):
        if Tracer.active is not None or _mode.anomaly:   # inside another recording: run the ops there
            return self._fn(*args, **kwargs)
        if not kwargs:   # the common call, f(x) or f(x, y) with tensors: a flat key without flatten()
            key = [_mode.grad_enabled]
            for arg in args:
                if arg.__class__ is not Tensor and not isinstance(arg, Tensor):
                    break
                data = arg._data
                key += (data.shape, data.dtype, arg._requires_grad)
            else:
                return self._dispatch(tuple(key), args, kwargs, args)
        leaves = []
        structure = flatten((args, kwargs), leaves)
        try:
            key = (structure, key_of(leaves), _mode.grad_enabled)
        except Unkeyable as err:
            return self._run_eagerly(None, str(err), args, kwargs)
        return self._dispatch(key, args, kwargs, leaves)

    def _dispatch(self, key, args, kwargs, leaves):
        entries = self._entries.get(key)
        if entries:
            for entry in entries:
                if entry.guard():
                    if entry.checks_left:
                        return self._checked(key, entry, args, kwargs, leaves)
                    self.stats.replayed += 1
                    try:
                        results, _ = block.call(entry.plan, leaves)
                    except ShapeChanged as err:
                        return self._drop(key, entry, str(err), args, kwargs)
                    if entry.structure is _SINGLE:
                        return results[0]
                    return unflatten(entry.structure, iter(results))
        if key in self._eager:
            return self._run_eagerly(key, self._eager[key], args, kwargs)
        recorded = sum(len(e) for e in self._entries.values())
        if recorded >= self.cache_limit:
            return self._run_eagerly(key, f"cache_limit={self.cache_limit} reached ({recorded} signatures "
                                     "recorded already): shapes, dtypes or modes keep changing", args, kwargs)
        return self._record(key, args, kwargs, list(leaves))

    # --- recording ------------------------------------------------------------------------------
    def _record(self, key, args, kwargs, leaves):
        tracer = Tracer(leaves)
        with tracer:
            result = self._fn(*args, **kwargs)
            out_leaves = []
            structure = flatten(result, out_leaves)
            bindings = tracer.finish(out_leaves)
        if tracer.reason is not None:
            self._give_up(key, tracer.reason)
            return result
        plan = Plan(tracer, bindings, leaves, self.__name__)
        if structure == LEAF:
            structure = _SINGLE
        checks = 1 if self.mode != "check" else -1
        modules = list(tracer.modules)
        entry = _Entry(plan, _guard(tracer, plan), structure, checks, modules)
        self._entries.setdefault(key, []).append(entry)
        self.stats.recorded += 1
        return result

    def _give_up(self, key, reason: str) -> None:
        if self.fullgraph:
            raise CompileError(f"cr.compile({self.__name__}, fullgraph=True): {reason}")
        if key is not None:
            self._eager[key] = reason
        if reason not in self._warned:
            self._warned.add(reason)
            warnings.warn(f"cr.compile: {self.__name__} runs eagerly for this signature: {reason}",
                          CompileWarning, stacklevel=_callers_level())

    def _run_eagerly(self, key, reason, args, kwargs):
        if key is None or key not in self._eager:
            self._give_up(key, reason)
        self.stats.eager += 1
        self.stats.eager_reasons[reason] = self.stats.eager_reasons.get(reason, 0) + 1
        return self._fn(*args, **kwargs)

    def _drop(self, key, entry, reason, args, kwargs):
        self._entries[key].remove(entry)
        self._give_up(key, reason)
        self.stats.eager += 1
        return self._fn(*args, **kwargs)

    # --- checking against eager -----------------------------------------------------------------
    def _checked(self, key, entry, args, kwargs, leaves):
        self.stats.checked += 1
        if entry.checks_left > 0:
            entry.checks_left -= 1
        before = check.state_of(entry.modules)
        eager_result = self._fn(*args, **kwargs)
        eager_leaves = []
        flatten(eager_result, eager_leaves)
        after_eager = check.state_of(entry.modules)
        check.restore(before)
        try:
            results, frame = block.call(entry.plan, leaves)
        except ShapeChanged as err:
            check.restore(after_eager)
            return self._mismatch(key, entry, str(err), eager_result)
        problem = check.state_difference(check.state_of(entry.modules), after_eager)
        for n, (mine, theirs) in enumerate(zip(results, eager_leaves)):
            problem = problem or check.difference(f"output {n}", mine, theirs)
        if problem is not None:
            check.restore(after_eager)
            return self._mismatch(key, entry, problem, eager_result)
        if self.mode == "check":
            frame.eager = eager_leaves
        return results[0] if entry.structure is _SINGLE else unflatten(entry.structure, iter(results))

    def _mismatch(self, key, entry, problem, eager_result):
        if self.mode == "check":
            raise check.CompileCheckError(f"cr.compile({self.__name__}, mode='check'): the replayed forward "
                                          f"differs from eager: {problem}")
        self._entries[key].remove(entry)
        self._give_up(key, f"its replay differed from eager ({problem}): the forward depends on something "
                      "the recording cannot see")
        return eager_result

    def plans(self) -> list:
        """The recorded plans (``plan.source`` shows each one's generated code)."""
        return [entry.plan for entries in self._entries.values() for entry in entries]


def _callers_level() -> int:
    """The ``stacklevel`` at which a warning raised by our caller names the user's line: the first
    frame outside the chainrule package (the call of the compiled function or module, however many
    of chainrule's frames -- CompiledModule, Module.__call__, a Sequential -- lie between)."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def _guard(tracer, plan):
    """``guard() -> bool``: the recording's modules are in the same modes, without hooks (one added
    later must run, so the call records again and, refused, runs eagerly), their parameters and
    buffers the same objects, and every tensor the plan reads by reference still has the recorded
    requires_grad, and its array is the recorded one -- or one of the same shape and dtype (a fused
    optimiser replaces parameters' arrays by views of one buffer), which becomes the expected one."""
    emitter = Emitter()
    checks = []
    for module in tracer.modules:
        name = emitter.constant(module, "m")
        checks.append(f"{name}.training is {module.training}")
        checks.append(f"not ({name}._forward_pre_hooks or {name}._forward_hooks or {name}._backward_hooks)")
        for table in ("_parameters", "_buffers"):
            for key, value in getattr(module, table).items():
                checks.append(f"{name}.{table}[{key!r}] is {emitter.constant(value, 't')}")
    namespace = emitter.namespace

    def same_kind(j, name):
        """A ref's array was replaced: fine if the shape and dtype are the recorded ones."""
        ref, expected = plan.refs[j], namespace[name]
        data = ref._data
        if data.shape != expected.shape or data.dtype != expected.dtype:
            return False
        namespace[name] = data
        return True

    namespace["_same_kind"] = same_kind
    for j, ref in enumerate(plan.refs):
        name = emitter.constant(ref, "r")
        array = f"e{j}"
        namespace[array] = data_of(ref)
        checks.append(f"{name}._requires_grad is {ref._requires_grad}")
        checks.append(f"({name}._data is {array} or _same_kind({j}, {array!r}))")
    body = " and \\\n        ".join(checks) or "True"
    return emitter.build(f"def guard():\n    return ({body})\n", "guard")
