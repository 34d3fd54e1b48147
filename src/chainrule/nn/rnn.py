"""Recurrent layers over whole sequences: RNN, LSTM, GRU (PyTorch's names, parameters and math).

    out, h_n = nn.RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
                      batch_first=False, dropout=0.0, bidirectional=False)(x, h0)
    out, (h_n, c_n) = nn.LSTM(input_size, hidden_size, ..., proj_size=0)(x, (h0, c0))
    out, h_n = nn.GRU(input_size, hidden_size, ...)(x, h0)

Shapes, with D = 2 if bidirectional else 1, L = num_layers, H_out = proj_size or hidden_size:
    x     (T, B, input_size); (B, T, input_size) with batch_first; (T, input_size) unbatched;
          or a PackedSequence (nn.utils.rnn), in which each sequence runs to its own length
    out   (T, B, D * H_out): the last layer's state at every step, [forward | reverse]
    h_n   (D * L, B, H_out): every layer's and direction's final state (c_n: (D * L, B, hidden_size))
    h0, c0 like h_n and c_n; zeros when not given.

Each layer and direction is two graph nodes: u = x W_ih^T + b_ih for every step at once (one
linear node, one GEMM), then the recurrence over all steps (one node: chainrule/ops/recurrent.py
has the cells' math and their backpropagation through time), plus the views that pick the
states out of it. So the graph does not grow with the sequence's length, and a 1,000-step
sequence backpropagates like a 10-step one, only longer. The next layer reads the
[forward | reverse] states, through dropout while training (not after the last layer).

Parameters, for layer k (suffix '_reverse' for the second direction), in PyTorch's order so a
PyTorch state_dict loads as is (G = 1 for RNN, 4 for LSTM's i, f, g, o, 3 for GRU's r, z, n):
    weight_ih_l{k} (G * hidden, in_k)   weight_hh_l{k} (G * hidden, H_out)
    bias_ih_l{k}, bias_hh_l{k} (G * hidden,)   weight_hr_l{k} (proj_size, hidden) with proj_size
in_0 = input_size, in_k = D * H_out after. All start U(-1/sqrt(hidden), 1/sqrt(hidden)), as PyTorch.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

from .. import backend as B
from ..backend import np
from ..device import check_device
from ..errors import DTypeError, ShapeError
from ..ops import recurrent
from ..ops.indexing import cat, stack
from ..ops.linear import linear
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter
from .utils.rnn import PackedSequence, packed_positions, packed_to_padded_index

if TYPE_CHECKING:
    from .._typing import DeviceLike, DTypeLike

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters, the layer loop, the shapes and their checks."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        check_device(device, name)
        if not (isinstance(dropout, (int, float)) and not isinstance(dropout, bool) and 0 <= dropout <= 1):
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the "
                             f"probability of an element being zeroed, got {dropout!r}")
        if int(hidden_size) <= 0 or int(num_layers) <= 0 or int(input_size) < 0:
            raise ValueError(f"{name}: hidden_size and num_layers must be positive (input_size "
                             f"non-negative), got input_size={input_size}, hidden_size={hidden_size}, "
                             f"num_layers={num_layers}")
        if proj_size < 0 or (proj_size and proj_size >= hidden_size):
            raise ValueError(f"{name}: proj_size has to be a non-negative integer smaller than hidden_size "
                             f"({hidden_size}), got {proj_size}")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so non-zero "
                          f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                          "num_layers=1",
                          stacklevel=2)
        self.mode, self.input_size, self.hidden_size = mode, int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = int(num_layers), bool(bias), bool(batch_first)
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bool(bidirectional), int(proj_size)
        dtype = B.DEFAULT_FLOAT if dtype is None else B.to_dtype(dtype)
        directions = 2 if bidirectional else 1
        gate_size, out_size = GATES[mode] * self.hidden_size, self.proj_size or self.hidden_size
        self._all_weights = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else out_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes: dict[str, tuple[int, ...]] = {f"weight_ih{suffix}": (gate_size, layer_input),
                          f"weight_hh{suffix}": (gate_size, out_size)}
                if bias:
                    shapes.update({f"bias_ih{suffix}": (gate_size,), f"bias_hh{suffix}": (gate_size,)})
                if self.proj_size:
                    shapes[f"weight_hr{suffix}"] = (self.proj_size, self.hidden_size)
                for param_name, shape in shapes.items():
                    setattr(self, param_name, Parameter(np.empty(shape, dtype=dtype)))
                self._all_weights.append(list(shapes))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), PyTorch's default."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """Nothing to do: PyTorch packs the weights into one buffer for cuDNN; here they stay apart."""

    @property
    def _flat_weights_names(self) -> list:
        return [name for names in self._all_weights for name in names]

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters, one list per layer and direction (PyTorch's order)."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # --- the forward pass -------------------------------------------------------------------
    def forward(self, input: Tensor | PackedSequence,  # noqa: A002 - PyTorch's name
                hx: Tensor | tuple[Tensor, Tensor] | None = None) -> tuple[Any, Any]:
        """(output, h_n), or (output, (h_n, c_n)) for the LSTM; see the module docstring."""
        name, lstm = type(self).__name__, self.mode == "LSTM"
        batch_sizes: Any   # an int64 array for a PackedSequence, else None
        output: Tensor | PackedSequence
        c_n: Any
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes, sorted_indices, unsorted_indices = input
            batch_sizes = np.asarray(batch_sizes._data if isinstance(batch_sizes, Tensor) else batch_sizes)
            self._check_input(data, name)
            steps, batch, batched, x = len(batch_sizes), int(batch_sizes[0]), True, data
        else:
            if not isinstance(input, Tensor) or input.ndim not in (2, 3):
                got = f"{input.ndim}D" if isinstance(input, Tensor) else type(input).__name__
                raise ShapeError(f"{name}: Expected input to be 2D or 3D, got {got} instead")
            self._check_input(input, name)
            batched, batch_sizes = input.ndim == 3, None
            x = input if not batched else (input.transpose(0, 1) if self.batch_first else input)
            x = x if batched else x.unsqueeze(1)
            steps, batch = x.shape[:2]
            if steps == 0:
                raise ShapeError(f"{name}: Expected sequence length to be larger than 0 in RNN (input of "
                                 f"shape {tuple(input.shape)})")
        h0, c0 = self._initial_states(hx, batch, batched, x, name)
        if packed and sorted_indices is not None and hx is not None:  # hx is in the caller's batch order
            h0, c0 = h0[:, sorted_indices._data], (c0[:, sorted_indices._data] if lstm else None)
        if packed:
            times, rows = packed_positions(batch_sizes)
            # u's rows in (T, B) layout; a step a sequence does not have reads row 0, never used
            padded_rows = np.maximum(packed_to_padded_index(batch_sizes, batch), 0)
        finals_h, finals_c = [], []
        directions = 2 if self.bidirectional else 1
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                weights = self._weights(layer, direction)
                u = linear(x, weights["ih"], weights.get("b_ih"))           # (T, B, G) or packed (N, G)
                if packed:
                    u = u[padded_rows]                                       # (T, B, G)
                states = self._run(u, h0[k], c0[k] if lstm else None, weights, bool(direction), batch_sizes)
                width = self.proj_size or self.hidden_size
                last = 0 if direction else steps - 1
                finals_h.append(states[0, last, :, :width] if self.proj_size else states[0, last])
                if lstm:
                    finals_c.append(states[1, last])
                out = states[0, :, :, :width] if self.proj_size else states[0]   # (T, B, H_out)
                outputs.append(out[times, rows] if packed else out)
            x = outputs[0] if directions == 1 else cat(outputs, -1)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        h_n, c_n = stack(finals_h), (stack(finals_c) if lstm else None)
        if packed:
            if unsorted_indices is not None:
                h_n = h_n[:, unsorted_indices._data]
                c_n = c_n[:, unsorted_indices._data] if lstm else None
            output = PackedSequence(x, input.batch_sizes, sorted_indices, unsorted_indices)  # type: ignore[union-attr]
        elif not batched:
            output, h_n, c_n = x.squeeze(1), h_n.squeeze(1), (c_n.squeeze(1) if lstm else None)
        else:
            output = x.transpose(0, 1) if self.batch_first else x
        return (output, (h_n, c_n)) if lstm else (output, h_n)

    def _weights(self, layer: int, direction: int) -> dict:
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        params = self._parameters
        weights = {"ih": params[f"weight_ih{suffix}"], "hh": params[f"weight_hh{suffix}"]}
        if self.bias:
            weights.update(b_ih=params[f"bias_ih{suffix}"], b_hh=params[f"bias_hh{suffix}"])
        if self.proj_size:
            weights["hr"] = params[f"weight_hr{suffix}"]
        return weights

    def _run(self, u: Tensor, h0: Tensor, c0: Tensor | None, weights: dict[str, Any], reverse: bool,
             batch_sizes: np.ndarray | None) -> Tensor:
        """The recurrence of one layer and direction: the op's stacked states Y (see ops/recurrent.py)."""
        options: dict[str, Any] = {"reverse": reverse, "batch_sizes": batch_sizes}
        if self.mode == "LSTM":
            return recurrent.lstm_layer(u, h0, c0, weights["hh"], weights.get("b_hh"),  # type: ignore[arg-type]
                                        weights.get("hr"), **options)   # (an LSTM has c0)
        if self.mode == "GRU":
            return recurrent.gru_layer(u, h0, weights["hh"], weights.get("b_hh"), **options)
        return recurrent.rnn_layer(u, h0, weights["hh"], weights.get("b_hh"),
                                   nonlinearity="relu" if self.mode == "RNN_RELU" else "tanh", **options)

    # --- checks and defaults ----------------------------------------------------------------
    def _check_input(self, input: Tensor, name: str) -> None:  # noqa: A002 - PyTorch's name
        weight: Parameter = self._parameters["weight_ih_l0"]  # type: ignore[assignment]
        if input.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                             f"{self.input_size}, got {input.shape[-1]} (input of shape "
                             f"{tuple(input.shape)})")
        if input.dtype != weight.dtype:
            raise DTypeError(f"{name}: input is {input.dtype} (shape {tuple(input.shape)}) but the layer's "
                             f"weights are {weight.dtype}; convert one, e.g. x.to({weight.dtype.name!r}) or "
                             f"model.to({input.dtype.name!r})")

    def _initial_states(self, hx: Tensor | tuple[Tensor, Tensor] | None, batch: int, batched: bool, x: Tensor,
                        name: str) -> tuple:
        """(h0, c0) as (D * L, B, size) tensors: the given ones checked, or zeros."""
        directions = 2 if self.bidirectional else 1
        layers = self.num_layers * directions
        sizes = [self.proj_size or self.hidden_size] + ([self.hidden_size] if self.mode == "LSTM" else [])
        if hx is None:
            zeros = [Tensor._wrap(np.zeros((layers, batch, size), x.dtype)) for size in sizes]
            return zeros[0], (zeros[1] if len(zeros) > 1 else None)
        states = list(hx) if self.mode == "LSTM" else [hx]
        if self.mode == "LSTM" and (not isinstance(hx, (tuple, list)) or len(states) != 2):
            raise ShapeError(f"{name}: hx must be a tuple (h_0, c_0) of two tensors")
        checked = []
        for i, (state, size) in enumerate(zip(states, sizes)):
            which = f"hidden[{i}]" if self.mode == "LSTM" else "hidden"
            if not isinstance(state, Tensor):
                raise ShapeError(f"{name}: {which} must be a Tensor, got {type(state).__name__}")
            if not batched:
                if state.ndim != 2:
                    raise ShapeError(f"{name}: For unbatched 2-D input, hx should also be 2-D but got "
                                     f"{state.ndim}-D tensor")
                state = state.unsqueeze(1)
            expected = (layers, batch, size)
            if tuple(state.shape) != expected:
                raise ShapeError(f"{name}: Expected {which} size {expected}, got {list(state.shape)}")
            if state.dtype != x.dtype:
                raise DTypeError(f"{name}: {which} is {state.dtype} but the input is {x.dtype}")
            checked.append(state)
        return checked[0], (checked[1] if len(checked) > 1 else None)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (relu with nonlinearity='relu')."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o; c_t = f c_{t-1} + i g, h_t = o tanh(c_t)
    (times W_hr^T with proj_size)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: DeviceLike | None = None,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit: gates r, z; n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
    h_t = (1 - z) n + z h_{t-1}."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: DeviceLike | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)
