"""chainrule.nn: modules, layers, losses, initialisation and the functional API (PyTorch's names).

    from chainrule import nn
    import chainrule.nn.functional as F
"""

from .containers import ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d
from .module import Module, Parameter, RemovableHandle
from .pooling import AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
