"""One step of a recurrent layer: RNNCell, LSTMCell, GRUCell (PyTorch's names, parameters and math).

    h = nn.RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh')(x, h)
    h, c = nn.LSTMCell(input_size, hidden_size)(x, (h, c))
    h = nn.GRUCell(input_size, hidden_size)(x, h)

x is (B, input_size) or unbatched (input_size,); the states (B, hidden_size) or (hidden_size,),
zeros when not given. The math is the layers' (nn/rnn.py, chainrule/ops/recurrent.py) for one
step: a cell is u = x W_ih^T + b_ih (one linear node) and the recurrence op run over a
one-step sequence, so a loop of cells records a handful of nodes per step. Parameters:
weight_ih (G * hidden, input_size), weight_hh (G * hidden, hidden), bias_ih, bias_hh (G * hidden,)
with G = 1, 4 (i, f, g, o), 3 (r, z, n); all U(-1/sqrt(hidden), 1/sqrt(hidden)), as PyTorch.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .. import backend as B
from ..backend import np
from ..device import check_device
from ..errors import DTypeError, ShapeError
from ..ops import recurrent
from ..ops.linear import linear
from ..tensor import Tensor
from . import init
from .module import Module, Parameter

if TYPE_CHECKING:
    from .._typing import DeviceLike, DTypeLike


class RNNCellBase(Module):
    """The parameters, checks and step shared by the three cells."""

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        check_device(device, type(self).__name__)
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bool(bias)
        dtype = B.DEFAULT_FLOAT if dtype is None else B.to_dtype(dtype)
        rows = self.gates * self.hidden_size
        self.weight_ih = Parameter(np.empty((rows, self.input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((rows, self.hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(np.empty((rows,), dtype=dtype))
            self.bias_hh = Parameter(np.empty((rows,), dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input: Tensor, states: list) -> tuple:
        """(u (1, B, G), batched, states as (B, hidden)): checks shapes and dtypes, adds the batch dim
        to unbatched input, and makes zero states for the ones not given."""
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.ndim not in (1, 2):
            got = f"{input.ndim}D" if isinstance(input, Tensor) else type(input).__name__
            raise ShapeError(f"{name}: Expected input to be 1D or 2D, got {got} instead")
        if input.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input has inconsistent input_size: got {input.shape[-1]} expected "
                             f"{self.input_size} (input of shape {tuple(input.shape)})")
        if input.dtype != self.weight_ih.dtype:
            weights = self.weight_ih.dtype
            raise DTypeError(f"{name}: input is {input.dtype} (shape {tuple(input.shape)}) but the cell's "
                             f"weights are {weights}; convert one, e.g. x.to({weights.name!r})")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        batch = x.shape[0]
        prepared = []
        for i, state in enumerate(states):
            if state is None:
                prepared.append(Tensor._wrap(np.zeros((batch, self.hidden_size), x.dtype)))
                continue
            expected = (batch, self.hidden_size) if batched else (self.hidden_size,)
            if not isinstance(state, Tensor) or tuple(state.shape) != expected or state.dtype != x.dtype:
                got = (f"{tuple(state.shape)} {state.dtype}" if isinstance(state, Tensor)
                       else type(state).__name__)
                raise ShapeError(f"{name}: hidden state {i} must be {expected} {x.dtype} for an input of "
                                 f"shape {tuple(input.shape)}, got {got}")
            prepared.append(state if batched else state.unsqueeze(0))
        u = linear(x, self.weight_ih, self.bias_ih).unsqueeze(0)
        return u, batched, prepared

    @staticmethod
    def _unbatch(state: Tensor, batched: bool) -> Tensor:
        return state if batched else state.squeeze(0)


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (relu with nonlinearity='relu')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: DeviceLike | None = None, dtype: DTypeLike | None = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}. Select from 'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor,  # noqa: A002 - PyTorch's name
                hx: Tensor | tuple[Tensor, Tensor] | None = None) -> Tensor:
        u, batched, (h,) = self._prepare(input, [hx])
        states = recurrent.rnn_layer(u, h, self.weight_hh, self.bias_hh, nonlinearity=self.nonlinearity)
        return self._unbatch(states[0, 0], batched)


class LSTMCell(RNNCellBase):
    """i, f, g, o from x W_ih^T + b_ih + h W_hh^T + b_hh;  c' = f c + i g,  h' = o tanh(c')."""

    gates = 4

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor,  # noqa: A002 - PyTorch's name
                hx: Tensor | tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ShapeError(f"LSTMCell: hx must be a tuple (h, c) of two tensors, got {type(hx).__name__}"
                             + (f" of {len(hx)}" if isinstance(hx, (tuple, list)) else ""))
        u, batched, (h, c) = self._prepare(input, [None, None] if hx is None else list(hx))
        states = recurrent.lstm_layer(u, h, c, self.weight_hh, self.bias_hh)
        return self._unbatch(states[0, 0], batched), self._unbatch(states[1, 0], batched)


class GRUCell(RNNCellBase):
    """r, z = sigmoid(...), n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn)),  h' = (1 - z) n + z h."""

    gates = 3

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor,  # noqa: A002 - PyTorch's name
                hx: Tensor | tuple[Tensor, Tensor] | None = None) -> Tensor:
        u, batched, (h,) = self._prepare(input, [hx])
        states = recurrent.gru_layer(u, h, self.weight_hh, self.bias_hh)
        return self._unbatch(states[0, 0], batched)
