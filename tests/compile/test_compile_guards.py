"""Signatures, guards and the eager fallback: a new signature records a new plan; what a replay
could get wrong (Python control flow on a value, values read or written by Python, random numbers
drawn outside an op, custom Functions, hooks inside) runs eagerly with one warning naming it."""

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.compiler import CompileError, CompileWarning


def _mlp():
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))


def _warnings(fn, *args, times=3):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = [fn(*args) for _ in range(times)]
    return results, [str(w.message) for w in caught if issubclass(w.category, CompileWarning)]


def test_a_new_shape_records_a_new_plan_and_the_old_one_is_kept():
    compiled = cr.compile(_mlp().eval())
    for batch in (4, 4, 4, 7, 7, 4):
        compiled(cr.randn(batch, 3))
    assert compiled.stats.recorded == 2
    assert compiled.stats.replayed + compiled.stats.checked == 4
    assert {plan.ops[0].shape for plan in compiled.plans()} == {(4, 8), (7, 8)}


def test_train_and_eval_are_separate_plans():
    model = _mlp()
    compiled = cr.compile(model, mode="check")
    x = cr.randn(5, 3)
    compiled(x), compiled(x)
    model.eval()
    out_eval = compiled(x)
    assert compiled.stats.recorded == 2
    assert "dropout_mask" not in [op.prim.name for op in compiled.plans()[1].ops]
    model.train()
    compiled(x)
    assert compiled.stats.recorded == 2          # the training plan is found again
    assert np.array_equal(out_eval.numpy(), model(x).numpy() if not model.train(False) else model(x).numpy())


def test_grad_mode_and_requires_grad_are_part_of_the_signature():
    model = nn.Linear(3, 2)
    compiled = cr.compile(model)
    x = cr.randn(4, 3)
    compiled(x)
    with cr.no_grad():
        out = compiled(x)
    assert not out.requires_grad
    compiled(x.requires_grad_())
    model.bias.requires_grad_(False)
    compiled(x)
    assert compiled.stats.recorded == 4
    assert [b for kind, b in compiled.plans()[3].node_bindings if kind == "ref"].__len__() == 1


def test_python_if_on_a_tensor_value_falls_back_once_with_the_reason():
    class Gate(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            h = self.fc(x)
            if h.sum() > 0:   # Tensor.__bool__: the branch depends on the values
                return h * 2
            return -h

    model = Gate()
    compiled = cr.compile(model)
    xs = [cr.full((2, 3), 5.0), cr.full((2, 3), -5.0), cr.full((2, 3), 5.0)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outs = [compiled(x) for x in xs]
    reasons = [str(w.message) for w in caught if issubclass(w.category, CompileWarning)]
    assert len(reasons) == 1 and "Tensor.__bool__" in reasons[0] and "if x.sum() > 0" in reasons[0]
    assert "test_compile_guards.py" in reasons[0]        # the line in the user's forward
    for x, out in zip(xs, outs):
        assert np.array_equal(out.numpy(), model(x).numpy())   # eager: each branch taken as it should be
    assert compiled.stats.eager == 2 and compiled.stats.recorded == 0   # the first call was the attempt


@pytest.mark.parametrize("body,reason", [
    (lambda x: x * float(x.max()), "Tensor.item()"),
    (lambda x: x * x.numpy().mean(), "Tensor.numpy()"),
    (lambda x: x + cr.randn(*x.shape), "random numbers were drawn outside an op"),
    (lambda x: x.add_(1.0) * 2, "in-place operation"),
    (lambda x: x * cr.tensor(x.numpy().argmax()), "Tensor.numpy()"),
])
def test_what_a_replay_cannot_repeat_is_named(body, reason):
    compiled = cr.compile(body)
    _, reasons = _warnings(compiled, cr.randn(4, 3))
    assert len(reasons) == 1 and reason in reasons[0], reasons


def test_fullgraph_raises_instead_of_falling_back():
    compiled = cr.compile(lambda x: x * float(x.sum()), fullgraph=True)
    with pytest.raises(CompileError, match="Tensor.item"):
        compiled(cr.randn(3))


def test_custom_function_runs_eagerly():
    class Square(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    compiled = cr.compile(lambda x: Square.apply(x).sum())
    x = cr.randn(3, requires_grad=True)
    (results, reasons) = _warnings(compiled, x)
    results[-1].backward()
    assert "custom autograd.Function (Square)" in reasons[0]
    assert np.allclose(x.grad.numpy(), 2 * x.numpy())


def test_hooks_inside_fall_back_and_hooks_on_the_compiled_module_run():
    model = _mlp().eval()
    seen = []
    compiled = cr.compile(model)
    compiled.register_forward_hook(lambda module, args, out: seen.append(out.shape))
    x = cr.randn(2, 3)
    _, reasons = _warnings(compiled, x)
    assert reasons == [] and seen == [(2, 2)] * 3
    model[0].register_forward_hook(lambda module, args, out: None)
    _, reasons = _warnings(compiled, x)
    assert len(reasons) == 1 and "Linear has module hooks" in reasons[0]


def test_a_replaced_parameter_is_seen():
    model = nn.Linear(3, 2)
    compiled = cr.compile(model)
    x = cr.randn(4, 3)
    compiled(x), compiled(x), compiled(x)
    model.weight = nn.Parameter(cr.zeros(2, 3))
    assert np.array_equal(compiled(x).numpy(), np.broadcast_to(model.bias.numpy(), (4, 2)))
    assert compiled.stats.recorded == 2


def test_values_replaced_in_place_are_read_at_every_replay():
    model = nn.Linear(3, 2)
    compiled = cr.compile(model)
    x = cr.randn(4, 3)
    compiled(x), compiled(x)
    with cr.no_grad():
        model.weight.copy_(cr.ones(2, 3))
    model.bias.data = cr.zeros(2)   # a new array of the same shape: read from the parameter
    assert np.allclose(compiled(x).numpy(), x.numpy().sum(axis=1, keepdims=True) * np.ones((1, 2)))
    assert compiled.stats.recorded == 1


def test_cache_limit_then_eager_with_one_warning():
    compiled = cr.compile(lambda x: x * 2, cache_limit=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(1, 6):
            compiled(cr.randn(n))
    reasons = [str(w.message) for w in caught if issubclass(w.category, CompileWarning)]
    assert compiled.stats.recorded == 2 and compiled.stats.eager == 3
    assert len(reasons) == 1 and "cache_limit" in reasons[0]


def test_non_tensor_arguments_are_part_of_the_key_and_keywords_work():
    def scaled(x, factor, *, shift=0.0):
        return x * factor + shift

    compiled = cr.compile(scaled)
    x = cr.randn(3)
    for factor, shift in [(2.0, 0.0), (2.0, 0.0), (3.0, 0.0), (2.0, 1.0), (2.0, 1.0)]:
        assert np.allclose(compiled(x, factor, shift=shift).numpy(), x.numpy() * factor + shift)
    assert compiled.stats.recorded == 3


def test_containers_are_walked_and_an_unhashable_argument_runs_eagerly():
    compiled = cr.compile(lambda x, options: x * options["k"] + options["t"][0])
    x = cr.randn(2)
    _, reasons = _warnings(compiled, x, {"k": 2.0, "t": (cr.ones(2),)})
    assert reasons == [] and compiled.stats.recorded == 1
    scaled = cr.compile(lambda x, factor: x * factor)
    results, reasons = _warnings(scaled, x, np.array(3.0))
    assert "ndarray (not a tensor, and not hashable)" in reasons[0]
    assert np.allclose(results[0].numpy(), 3 * x.numpy())


def test_anomaly_mode_and_nested_compiles_run_eagerly_inside():
    inner = cr.compile(nn.Linear(3, 3))
    outer = cr.compile(lambda x: inner(x).relu().sum(), mode="check")
    x = cr.randn(2, 3)
    for _ in range(3):
        outer(x)
    assert [op.prim.name for op in outer.plans()[0].ops] == ["linear", "relu", "sum"]
    with cr.detect_anomaly():
        outer(x)
    assert outer.stats.recorded == 1


def test_decorator_disable_and_bad_mode():
    @cr.compile(mode="check")
    def double(x):
        return x * 2

    assert np.array_equal(double(cr.ones(2)).numpy(), [2.0, 2.0])
    model = nn.Linear(2, 2)
    assert cr.compile(model, disable=True) is model
    with pytest.raises(ValueError, match="unknown mode"):
        cr.compile(model, mode="fastest")


def test_compiled_module_looks_like_the_model():
    model = _mlp()
    compiled = cr.compile(model)
    assert list(compiled.parameters()) == list(model.parameters())
    assert list(compiled.state_dict()) == ["_orig_mod." + k for k in model.state_dict()]
    model.note = "forwarded"
    assert compiled._orig_mod is model and compiled.note == "forwarded"   # as torch's OptimizedModule
    assert getattr(compiled, "0") is model[0] and "CompiledModule(Sequential(" in repr(compiled)
    compiled.eval()
    assert not model.training and not model[2].training


def test_an_output_shape_that_depends_on_the_values_is_caught_at_replay():
    compiled = cr.compile(lambda x: x[x > 0].sum() + x[x > 0].shape[0])
    results, reasons = _warnings(compiled, cr.tensor([1.0, -2.0, 3.0]))
    assert reasons == [] and results[-1].item() == 6.0
    results, reasons = _warnings(compiled, cr.tensor([1.0, 2.0, 3.0]), times=2)
    assert [r.item() for r in results] == [9.0, 9.0]
    assert len(reasons) == 1 and "depends on the values" in reasons[0]


def test_import_chainrule_does_not_load_the_compiler():
    import subprocess
    import sys
    code = ("import sys, chainrule; "
            "print('chainrule.compiler' in sys.modules, 'chainrule.optim' in sys.modules)")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.split() == ["False", "False"]
    assert F.relu is not None and callable(cr.compile)
