"""chainrule: a readable backpropagation engine.

    import chainrule as cr
    w = cr.tensor(2.0, requires_grad=True)
    loss = (w * 3.0 - 10.0) ** 2         # the lesson's worked example: L = 16
    loss.backward()                       # dL/dw = -24
"""

import importlib
from math import e, inf, nan, pi
from typing import TYPE_CHECKING, Any

from . import accelerator, autograd, backends, cuda, nn, ops
from .autograd import grad
from .backend import (
    Generator,
    default_generator,
    finfo,
    float16,
    float32,
    float64,
    get_default_dtype,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    manual_seed,
    set_default_dtype,
    uint8,
)
from .backend import bool_ as bool  # noqa: A001 - PyTorch's name
from .creation import (
    arange,
    as_tensor,
    asarray,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    is_floating_point,
    is_tensor,
    linspace,
    logspace,
    numel,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from .device import device, get_default_device, set_default_device
from .errors import (
    AnomalyError,
    ArgumentError,
    ChainruleError,
    DeviceError,
    DTypeError,
    GraphError,
    SerializationError,
    ShapeError,
)
from .function import Function, FunctionCtx
from .grad_mode import (
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .ops import *  # noqa: F401,F403 - every op is a top-level function, as in PyTorch
from .printing import set_printoptions
from .random import (
    bernoulli,
    fork_rng,
    get_rng_state,
    initial_seed,
    multinomial,
    normal,
    poisson,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    seed,
    set_rng_state,
)
from .tensor import Tensor

autograd.Function, autograd.FunctionCtx = Function, FunctionCtx  # type: ignore[misc]  # torch.autograd.Function's path

# PyTorch's dtype aliases (torch.float is float32, torch.int is int32, torch.long is int64 ...)
float = float32  # noqa: A001
double = float64
half = float16
short = int16
int = int32  # noqa: A001
long = int64
__version__ = "0.1.0"

# Loaded on first use (PEP 562): `cr.optim`, `cr.data`, `cr.save`, `cr.explain` ... work as always,
# but `import chainrule` pays only for the engine and nn until a program asks for more (W5).
_LAZY = {"explain": ".insight.explain", "gradcheck": ".insight.gradcheck",
         "GradcheckError": ".insight.gradcheck", "save": ".serialization", "load": ".serialization",
         "insight": ".insight", "serialization": ".serialization", "optim": ".optim", "data": ".data",
         "utils": ".utils", "compile": ".compiler", "compiler": ".compiler",
         "func": ".func", "forward_ad": ".forward_ad", "testing": ".testing",
         **{name: ".runtime" for name in (
             "set_float32_matmul_precision", "get_float32_matmul_precision", "use_deterministic_algorithms",
             "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
             "set_num_threads", "get_num_threads", "set_num_interop_threads", "get_num_interop_threads")}}


if TYPE_CHECKING:   # what the lazy names below are, for type checkers (nothing is imported at run time)
    from . import compiler, data, forward_ad, func, insight, optim, serialization, testing, utils
    from .compiler import compile
    from .insight.explain import explain
    from .insight.gradcheck import GradcheckError, gradcheck
    from .runtime import (
        are_deterministic_algorithms_enabled,
        get_float32_matmul_precision,
        get_num_interop_threads,
        get_num_threads,
        is_deterministic_algorithms_warn_only_enabled,
        set_float32_matmul_precision,
        set_num_interop_threads,
        set_num_threads,
        use_deterministic_algorithms,
    )
    from .serialization import load, save


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name], __name__)
    value = module if module.__name__ == f"{__name__}.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
