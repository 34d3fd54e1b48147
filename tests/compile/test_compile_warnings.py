"""A CompileWarning names the user's line -- the call of the compiled function or module -- not a
line inside chainrule, whichever path led to the eager fallback and however many of chainrule's
frames (a CompiledModule, Module.__call__ with hooks, a Sequential) lie between; and the
cache_limit message counts what was recorded."""

import sys
import warnings

import chainrule as cr
from chainrule import nn
from chainrule.compiler import CompileWarning


def _caught(call):
    """Run ``call`` (a lambda written on the caller's line); the CompileWarnings and that line."""
    line = sys._getframe(1).f_lineno
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [w for w in caught if issubclass(w.category, CompileWarning)], line


def _names_this_line(found, line):
    assert found, "no CompileWarning"
    for warning in found:
        assert (warning.filename, warning.lineno) == (__file__, line), str(warning.message)


def _reads_a_value(x):
    return x * float(x.sum())                 # a tensor's value read into Python: not replayable


def test_a_refused_recording_warns_at_the_call_of_a_compiled_function():
    compiled = cr.compile(_reads_a_value)
    found, line = _caught(lambda: compiled(cr.randn(3)))
    _names_this_line(found, line)
    assert "Tensor.item()" in str(found[0].message)


class ReadsAValue(nn.Module):
    def forward(self, x):
        return _reads_a_value(x)


def test_a_compiled_module_warns_at_its_call_even_inside_a_sequential_or_with_hooks():
    compiled = cr.compile(ReadsAValue())
    found, line = _caught(lambda: compiled(cr.randn(3)))
    _names_this_line(found, line)
    outer = nn.Sequential(nn.Identity(), cr.compile(ReadsAValue()))
    found, line = _caught(lambda: outer(cr.randn(3)))
    _names_this_line(found, line)
    hooked = cr.compile(ReadsAValue())
    hooked.register_forward_hook(lambda module, args, output: None)
    found, line = _caught(lambda: hooked(cr.randn(3)))
    _names_this_line(found, line)


def test_a_replay_that_differs_from_eager_warns_at_the_call():
    scale = {"value": 2.0}
    compiled = cr.compile(lambda x: x * scale["value"])   # a Python number, frozen at recording
    x = cr.randn(3)
    compiled(x)
    scale["value"] = 3.0
    found, line = _caught(lambda: compiled(x))            # the first replay is checked against eager
    _names_this_line(found, line)
    assert "differed from eager" in str(found[0].message)


def test_the_cache_limit_message_says_how_many_were_recorded():
    compiled = cr.compile(lambda x: x * 2, cache_limit=2)
    compiled(cr.randn(1))
    compiled(cr.randn(2))
    found, line = _caught(lambda: compiled(cr.randn(3)))
    _names_this_line(found, line)
    assert compiled.stats.recorded == 2
    assert "cache_limit=2 reached (2 signatures recorded already)" in str(found[0].message)
    assert "more than" not in str(found[0].message)
