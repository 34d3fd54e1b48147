"""Every example model, compiled in mode="check" and trained a few steps beside an eager twin:
each replayed step is checked against eager inside (outputs, buffers, random stream, gradients),
and the two models end with the same weights. Then a plain compiled training loop (default mode,
with and without a fused optimiser) follows the eager trajectory."""

import ast
import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn, optim
from chainrule.compiler import CompileWarning

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _example(name):
    """examples/<name>.py as a module (the examples import each other by name, as run from there)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    return module


def _pytorch_script_net():
    """The Net class of examples/pytorch_script.py (the script trains when imported: only the
    class is taken from its source)."""
    tree = ast.parse((EXAMPLES / "pytorch_script.py").read_text())
    source = ast.unparse(next(node for node in tree.body if isinstance(node, ast.ClassDef)))
    namespace = {"nn": cr.nn, "F": F}
    exec(source, namespace)  # noqa: S102 - the repository's own example
    return namespace["Net"]()


def _digits_batch(images=False):
    x = cr.rand(16, 1, 8, 8) if images else cr.rand(16, 64)
    return x, cr.randint(0, 10, (16,))


def _char_batch():
    return cr.randint(0, 12, (7, 3)), cr.randint(0, 12, (7 * 3,))


def _char_loss(outputs, targets):
    logits, _ = outputs
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets)


def _plain_loss(outputs, targets):
    return F.cross_entropy(outputs, targets)


MODELS = {
    "digits_mlp": (lambda: _example("digits_mlp").build_mlp(), lambda: _digits_batch(), _plain_loss),
    "digits_cnn": (lambda: _example("digits_cnn").build_cnn(), lambda: _digits_batch(images=True),
                   _plain_loss),
    "char_lstm": (lambda: _example("char_lstm").CharLM(12), _char_batch, _char_loss),
    "pytorch_script": (_pytorch_script_net, lambda: _digits_batch(), _plain_loss),
}
for _variant in ("sigmoid (plain)", "relu (He init)", "sigmoid + residual + batch norm",
                 "relu + residual + batch norm"):
    MODELS[f"deep_sigmoid_rescue: {_variant}"] = (
        lambda v=_variant: _rescue(v),
        lambda: _digits_batch(), _plain_loss)


def _rescue(variant):
    example = _example("deep_sigmoid_rescue")
    return example.build(6, 16, **example.VARIANTS[variant])


def _twins(make):
    cr.manual_seed(5)
    eager = make()
    cr.manual_seed(5)
    return eager, make()


@pytest.mark.parametrize("name", list(MODELS))
def test_example_model_trains_compiled_in_check_mode(name):
    make, batch, loss_of = MODELS[name]
    eager, model = _twins(make)
    compiled = cr.compile(model, mode="check")
    opt_eager = optim.Adam(eager.parameters(), lr=1e-2)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        for step in range(4):
            cr.manual_seed(100 + step)
            x, y = batch()
            state = cr.get_rng_state()
            loss = loss_of(compiled(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            cr.set_rng_state(state)   # the eager twin draws the same dropout masks
            eager_loss = loss_of(eager(x), y)
            opt_eager.zero_grad()
            eager_loss.backward()
            opt_eager.step()
            assert np.allclose(loss.item(), eager_loss.item(), rtol=1e-5)
    assert compiled.stats.recorded == 1 and compiled.stats.checked == 3
    for (key, a), (_, b) in zip(model.state_dict().items(), eager.state_dict().items()):
        assert np.allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6), key


@pytest.mark.parametrize("fused", [False, True])
def test_compiled_training_follows_the_eager_trajectory(fused):
    """Default mode, the benchmark's loop: same losses and weights as eager, step after step."""
    make, batch, loss_of = MODELS["digits_mlp"]
    eager, model = _twins(lambda: nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)))
    compiled = cr.compile(model)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, fused=fused)
    opt_eager = optim.SGD(eager.parameters(), lr=0.1, momentum=0.9)
    x, y = batch()
    for _ in range(8):
        opt.zero_grad()
        loss = loss_of(compiled(x), y)
        loss.backward()
        opt.step()
        opt_eager.zero_grad()
        eager_loss = loss_of(eager(x), y)
        eager_loss.backward()
        opt_eager.step()
        assert loss.item() == eager_loss.item()
    for a, b in zip(model.parameters(), eager.parameters()):
        assert np.array_equal(a.numpy(), b.numpy())
    assert compiled.stats.replayed == 6
