"""Run PyTorch scripts unchanged on chainrule: ``chainrule run script.py [args]``.

    hook.py     the import hook: ``import torch`` / ``torch.nn`` ... answered by chainrule, and
                UnsupportedTorchAPI, the one-line error for a torch name chainrule lacks
    table.py    which chainrule module answers for which torch module
    runner.py   the script runner behind ``chainrule run``

From Python: ``with torch_as_chainrule(): import torch`` gives the same modules in-process.
"""

from .hook import (
    TorchModule,
    UnsupportedTorchAPI,
    UnsupportedTorchAttribute,
    UnsupportedTorchModule,
    torch_as_chainrule,
)
from .runner import run_script

__all__ = ["TorchModule", "UnsupportedTorchAPI", "UnsupportedTorchAttribute", "UnsupportedTorchModule",
           "run_script", "torch_as_chainrule"]
