"""chainrule: a readable backpropagation engine.

    import chainrule as cr
    w = cr.tensor(2.0, requires_grad=True)
    loss = (w * 3.0 - 10.0) ** 2         # the lesson's worked example: L = 16
    loss.backward()                       # dL/dw = -24
"""

from . import data, nn, ops, optim, utils
from .autograd import grad
from .backend import bool_ as bool  # noqa: A001 - PyTorch's name
from .backend import float16, float32, float64, int32, int64, manual_seed
from .errors import AnomalyError, ChainruleError, DTypeError, GraphError, SerializationError, ShapeError
from .grad_mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .insight.explain import explain
from .insight.gradcheck import GradcheckError, gradcheck
from .ops import *  # noqa: F401,F403 - every op is a top-level function, as in PyTorch
from .serialization import load, save
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
