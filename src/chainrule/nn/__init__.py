"""chainrule.nn: modules, layers, losses, initialisation and the functional API (PyTorch's names).

    from chainrule import nn
    import chainrule.nn.functional as F
"""

from .containers import ModuleDict, ModuleList, Sequential
from .module import Module, Parameter, RemovableHandle
