"""chainrule with ``cr.compile``: the chainrule peer's models and loops, the model compiled and the
optimiser fused (``fused=True``), as a PyTorch user writes ``model = torch.compile(model)``.

``COMPILE_SCOPE=loss`` compiles the whole loss computation (model, loss function) instead of the
model alone: what ``torch.compile`` users do when they compile a step function.
"""

from __future__ import annotations

import os

import chainrule as cr
from chainrule import nn
from chainrule.optim import SGD, AdamW

from . import Infeasible, chainrule_peer


def version() -> str:
    return f"{cr.__version__} (cr.compile, scope {os.environ.get('COMPILE_SCOPE', 'model')})"


class _Fused:
    """The peer's optimisers with fused=True."""

    @staticmethod
    def sgd(params, lr):
        return SGD(params, lr=lr, fused=True)

    @staticmethod
    def adamw(params, lr):
        return AdamW(params, lr=lr, fused=True)


def _training_step(model, optimizer, compute_loss):
    if os.environ.get("COMPILE_SCOPE", "model") == "loss":
        loss_of = cr.compile(compute_loss)
        return chainrule_peer.training_step(model, optimizer, loss_of)
    if isinstance(model, nn.ModuleDict):   # LSTM: the layer and the head, each compiled
        compiled = nn.ModuleDict({name: cr.compile(module) for name, module in model.items()})
    else:
        compiled = cr.compile(model)
    return chainrule_peer.training_step(compiled, optimizer, compute_loss)


def build(workload, problem):
    if workload == "W3":
        raise Infeasible("W3 is a chain of scalar ops in a Python loop, not a model: nothing to compile")
    return chainrule_peer.build(workload, problem, step=_training_step, optimizers=_Fused)
