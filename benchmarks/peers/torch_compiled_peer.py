"""PyTorch with ``torch.compile``: the torch peer's models and loops, the model compiled (the
inductor backend generates and builds C++ with the machine's compiler) and the optimiser fused
where PyTorch offers it on the CPU. The first steps compile; the worker's warm-up absorbs them.
"""

from __future__ import annotations

import torch

from . import Infeasible, torch_peer


def version() -> str:
    return f"{torch_peer.version()} (torch.compile)"


class _Fused:
    @staticmethod
    def sgd(params, lr):
        return torch.optim.SGD(params, lr=lr, fused=True)

    @staticmethod
    def adamw(params, lr):
        return torch.optim.AdamW(params, lr=lr, fused=True)


def _training_step(model, optimizer, compute_loss):
    if isinstance(model, torch.nn.ModuleDict):
        compiled = torch.nn.ModuleDict({name: torch.compile(module) for name, module in model.items()})
    else:
        compiled = torch.compile(model)
    return torch_peer.training_step(compiled, optimizer, compute_loss)


def build(workload, problem):
    if workload == "W3":
        raise Infeasible("W3 is a chain of scalar ops in a Python loop, not a model: nothing to compile")
    return torch_peer.build(workload, problem, step=_training_step, optimizers=_Fused)
