"""chainrule: a readable backpropagation engine.

    import chainrule as cr
    w = cr.tensor(2.0, requires_grad=True)
    loss = (w * 3.0 - 10.0) ** 2         # the lesson's worked example: L = 16
    loss.backward()                       # dL/dw = -24
"""

import importlib

from . import nn, ops
from .autograd import grad
from .backend import bool_ as bool  # noqa: A001 - PyTorch's name
from .backend import Generator, default_generator, float16, float32, float64, int32, int64, manual_seed
from .errors import AnomalyError, ChainruleError, DTypeError, GraphError, SerializationError, ShapeError
from .grad_mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import *  # noqa: F401,F403 - every op is a top-level function, as in PyTorch
from .tensor import (
    Tensor,
    arange,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    is_tensor,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    tensor,
    zeros,
    zeros_like,
)

long = int64
double = float64
half = float16
__version__ = "0.1.0"

# Loaded on first use (PEP 562): `cr.optim`, `cr.data`, `cr.save`, `cr.explain` ... work as always,
# but `import chainrule` pays only for the engine and nn until a program asks for more (W5).
_LAZY = {"explain": ".insight.explain", "gradcheck": ".insight.gradcheck",
         "GradcheckError": ".insight.gradcheck", "save": ".serialization", "load": ".serialization",
         "insight": ".insight", "serialization": ".serialization", "optim": ".optim", "data": ".data",
         "utils": ".utils"}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name], __name__)
    value = module if module.__name__ == f"{__name__}.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
