"""The pieces the recurrence cells of ``recurrent.py`` share: the order of the time steps, the
rows of a packed batch still running, joining parts on arrays or on Tensors (create_graph,
nested transforms), and the sums that need no time order (the hidden weights' gradients in
backward, the tangents' input shares in forward mode). See ``recurrent.py`` for the math."""

from __future__ import annotations

from ..backend import np
from ..tensor import Tensor
from .indexing import cat, pad, stack


def _steps(length: int, reverse: bool) -> range:
    """The time indices in the order the recurrence visits them."""
    return range(length - 1, -1, -1) if reverse else range(length)


def _running(batch_sizes, t: int, batch: int) -> int:
    """How many rows (sequences) step at time t; the rows after them rest."""
    return batch if batch_sizes is None else int(batch_sizes[t])


def _join(parts, axis: int):
    """np.concatenate on arrays; the differentiable cat on Tensors (create_graph)."""
    if isinstance(parts[0], Tensor):
        return cat(parts, axis)
    return np.concatenate(parts, axis=axis)


def _stack(parts):
    if isinstance(parts[0], Tensor):
        return stack(parts)
    return np.stack(parts)


def _with_zero_rows(x, rows: int):
    """x (n, k) completed with zero rows to (rows, k): resting rows get no gradient."""
    if x.shape[0] == rows:
        return x
    if isinstance(x, Tensor):
        return pad(x, (0, 0, 0, rows - x.shape[0]))
    return np.concatenate([x, np.zeros((rows - x.shape[0],) + x.shape[1:], x.dtype)])


def _then_resting(running, everyone, n: int):
    """Rows [:n] from ``running``, the others from ``everyone`` (what resting rows keep)."""
    return running if n == everyone.shape[0] else _join([running, everyone[n:]], 0)


def _previous(states, first, reverse: bool):
    """The state before each step: ``states`` shifted one step along the visiting order."""
    first = first.reshape((1,) + first.shape)
    return _join([states[1:], first], 0) if reverse else _join([first, states[:-1]], 0)


def _sigmoid_(a):
    """a <- 1 / (1 + e^-a), in place (e^-a overflows to inf for very negative a: the result is 0)."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    return np.reciprocal(a, out=a)


def _gates_unread(g, first: int) -> bool:
    """True when the gradient of Y's gate components (first..) is an array of zeros, as it is
    unless something reads them (gradcheck of the op does); never on Tensors (create_graph)."""
    return isinstance(g, np.ndarray) and not g[first:].any()


def _optional(extra, bias: bool, proj: bool = False):
    """(b_hh, w_hr) from the inputs after the required ones; None where absent."""
    extra = list(extra)
    b_hh = extra.pop(0) if bias else None
    w_hr = extra.pop(0) if proj else None
    return b_hh, w_hr


def _hidden_grads(da_steps, h_prev, needs_w: bool, needs_b: bool):
    """dL/dW_hh = sum over steps and rows of da^T h_{t-1}; dL/db_hh = sum of da."""
    rows = da_steps.shape[-1]
    grad_w = (da_steps.reshape(-1, rows).swapaxes(0, 1) @ h_prev.reshape(-1, h_prev.shape[-1])
              if needs_w else None)
    grad_b = da_steps.sum(axis=(0, 1)) if needs_b else None
    return grad_w, grad_b


def _input_shares(du, h_prev, dw_hh):
    """du_t + h_{t-1} dW_hh^T for every step at once (T, B, G): the part of the pre-activations'
    tangent that does not wait for the previous step's tangent; None when neither has one."""
    share = None if dw_hh is None else h_prev @ dw_hh.T
    if du is not None:
        share = du if share is None else share + du
    return share


def _carried(dh_prev, w_hh, shares, db_hh, t: int, n: int):
    """The pre-activations' tangent at step t for the n running rows: dh_{t-1} W_hh^T + the rest."""
    da = dh_prev[:n] @ w_hh.T
    if shares is not None:
        da = da + shares[t, :n]
    return da if db_hh is None else da + db_hh


def _zero_columns_to(x, width: int):
    """x (..., k) completed with zero columns to (..., width) (the LSTM's h with proj_size)."""
    if x.shape[-1] == width:
        return x
    if isinstance(x, Tensor):
        return pad(x, (0, width - x.shape[-1]))
    return np.concatenate([x, np.zeros(x.shape[:-1] + (width - x.shape[-1],), x.dtype)], -1)
